/**
 * The on-disk store of one engine: a small facade over the cache directory (cache-dir.ts), packs
 * (packs.ts), the root's index (root-index.ts), the store lock (lock.ts) and the bound (bounds.ts).
 *
 * It never throws for the disk's sake: an unusable directory makes {@link DiskStore.open} answer
 * `{ store: null, warning }` (run in memory); an I/O error while writing loses that batch or index
 * save (counted in `writeErrors`, described in `warnings`); a missing pack or a corrupt record reads
 * as `null` (counted) and the engine rebuilds the entry from source.
 *
 * Several processes may share a directory. Packs are unique files, so their writes never collide.
 * Index saves are atomic renames taken under the store lock; the last writer wins: another
 * process's new records for the same root may be lost (and rebuilt later), never corrupted.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeEntry, type EntryRecord } from '../../shared/entry-format.js';
import { isStrataError } from '../../shared/errors.js';
import { enforceBounds, storeBytes, type BoundsReport } from './bounds.js';
import { prepareCacheDir, resolveCacheDir, type CacheDirSource } from './cache-dir.js';
import { INDEXES_DIR, isMissing, MARKER_FILE, PACKS_DIR, stampUsed, STORE_LOCK_NAME } from './layout.js';
import { FileLock } from './lock.js';
import { PackReader, PackWriter, type PackLocation, type PackRead } from './packs.js';
import { indexIdFor, RootIndexFile, rootPathRelativeTo, type IndexLoad, type IndexLoadStatus } from './root-index.js';
import type { IndexRecord, RootIndex } from './root-index-format.js';
import type { DirectorySnapshot } from '../discovery/discovery.js';

/** How long an index save waits for the store lock before writing anyway (the write is atomic). */
const INDEX_LOCK_WAIT_MS = 2_000;
/** Warnings kept (the most recent ones). */
const MAX_WARNINGS = 20;

export interface DiskStoreOptions {
  /** The root (absolute). */
  readonly root: string;
  /** The `cacheDir` option, or null for the default (see cache-dir.ts). */
  readonly cacheDir: string | null;
  /** Environment (STRATA_CACHE_DIR, XDG_CACHE_HOME, HOME). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Identity of the entry format and parser (e.g. `astKeyPrefix(...)`): an index of another prefix loads empty. */
  readonly keyPrefix: string;
  /** Size bound of the directory's packs and indexes, in bytes. */
  readonly maxBytes: number;
  /** Age bound: files unused for longer are removed, in ms. */
  readonly maxAgeMs: number;
  /** Pack descriptors kept open for reads. @default 16 */
  readonly maxOpenPacks?: number;
}

export type DiskStoreOpen = { readonly store: DiskStore; readonly warning?: undefined } | { readonly store: null; readonly warning: string };

/** What the store has seen since it was opened. */
export interface DiskStoreCounters {
  /** Records that failed validation (checksum, length, key) or ranges outside their pack. */
  corruptEntries: number;
  /** Index files found corrupt (and moved aside). */
  corruptIndexes: number;
  /** Reads whose pack no longer exists (evicted or cleared). */
  missingPacks: number;
  packsWritten: number;
  /** Bytes of packs and indexes written. */
  bytesWritten: number;
  /** Batches or index saves lost to an I/O error. */
  writeErrors: number;
  /** Stale or unreadable lock files recovered (their owner died, or they held garbage). */
  locksRecovered: number;
  /** Marker files found present but invalid (rewritten when the directory was opened). */
  corruptMarkers: number;
}

function describe(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}

export class DiskStore {
  /** The cache directory in use. */
  readonly dir: string;
  /** Where {@link dir} came from. */
  readonly source: CacheDirSource;
  /** This root's index id (xxh64 of the root's path relative to the cache directory). */
  readonly indexId: string;
  /** The root's path relative to the cache directory. */
  readonly rootPath: string;
  readonly #keyPrefix: string;
  readonly #maxBytes: number;
  readonly #maxAgeMs: number;
  readonly #writer: PackWriter;
  readonly #reader: PackReader;
  readonly #index: RootIndexFile;
  readonly #lock: FileLock;
  readonly #counters: DiskStoreCounters = { corruptEntries: 0, corruptIndexes: 0, missingPacks: 0, packsWritten: 0, bytesWritten: 0, writeErrors: 0, locksRecovered: 0, corruptMarkers: 0 };
  readonly #warnings: string[] = [];
  #lastIndexStatus: IndexLoadStatus | null = null;
  #loadedDirectories: DirectorySnapshot | null = null;
  #closed = false;

  private constructor(dir: string, source: { source: CacheDirSource; markerRepaired: boolean }, options: DiskStoreOptions) {
    this.dir = dir;
    this.source = source.source;
    this.rootPath = rootPathRelativeTo(dir, options.root);
    this.indexId = indexIdFor(dir, options.root);
    this.#keyPrefix = options.keyPrefix;
    this.#maxBytes = options.maxBytes;
    this.#maxAgeMs = options.maxAgeMs;
    this.#writer = new PackWriter(path.join(dir, PACKS_DIR));
    this.#reader = new PackReader(path.join(dir, PACKS_DIR), options.maxOpenPacks === undefined ? {} : { maxOpen: options.maxOpenPacks });
    this.#index = new RootIndexFile(path.join(dir, INDEXES_DIR), this.indexId);
    this.#lock = new FileLock(dir, STORE_LOCK_NAME);
    if (source.markerRepaired) this.#counters.corruptMarkers++;
  }

  /** Resolves and prepares the cache directory; `{ store: null, warning }` when none is usable. Never throws. */
  static open(options: DiskStoreOptions): DiskStoreOpen {
    const resolved = resolveCacheDir({ root: options.root, cacheDir: options.cacheDir, env: options.env });
    if (resolved.dir === null) return { store: null, warning: resolved.warning };
    try {
      return { store: new DiskStore(resolved.dir, { source: resolved.source, markerRepaired: resolved.markerRepaired === true }, options) };
    } catch (error) {
      return { store: null, warning: `Persistence off: cannot use ${resolved.dir} (${describe(error)}). Running in memory.` };
    }
  }

  /** A snapshot of the counters. */
  get counters(): Readonly<DiskStoreCounters> {
    return { ...this.#counters, locksRecovered: this.#counters.locksRecovered + this.#lock.recovered };
  }

  /** Recent problems worth telling the user about (most recent last). */
  get warnings(): readonly string[] {
    return [...this.#warnings];
  }

  /** How the last {@link loadIndex} went; null before the first. */
  get lastIndexStatus(): IndexLoadStatus | null {
    return this.#lastIndexStatus;
  }

  /** The directory snapshot saved with the index the last {@link loadIndex} read; null when none. */
  get loadedDirectories(): DirectorySnapshot | null {
    return this.#loadedDirectories;
  }

  /** Path of this root's index file. */
  get indexFile(): string {
    return this.#index.file;
  }

  /** The checksum of the index as this store last loaded or saved it (what names its content); null before. */
  get indexChecksum(): bigint | null {
    return this.#index.checksum;
  }

  /** The AST key prefix this store's index is kept under. */
  get keyPrefix(): string {
    return this.#keyPrefix;
  }

  /** Entries appended and not yet flushed. */
  get pendingCount(): number {
    return this.#writer.pendingCount;
  }

  /** Record bytes appended and not yet flushed. */
  get pendingBytes(): number {
    return this.#writer.pendingBytes;
  }

  /**
   * This root's index: an empty map when there is none, or when it is corrupt (moved aside,
   * counted), or written for another key prefix or index version. Stamps the file as used (bound).
   */
  loadIndex(): RootIndex {
    let load: IndexLoad;
    try {
      load = this.#index.load(this.#keyPrefix);
    } catch (error) {
      this.#warn(`cannot read the index ${this.#index.file} (${describe(error)}); starting empty`);
      this.#lastIndexStatus = 'missing';
      return new Map();
    }
    this.#counters.corruptIndexes += load.corrupt;
    this.#lastIndexStatus = load.status;
    this.#loadedDirectories = load.directories;
    if (load.status === 'corrupt') this.#warn(`the index ${this.#index.file} was corrupt; moved aside and starting empty`);
    if (load.status === 'loaded') {
      const problem = stampUsed(this.#index.file);
      if (problem !== null) this.#warn(`cannot stamp ${this.#index.file} as used (${problem})`);
    }
    return load.records;
  }

  /**
   * Replaces this root's index with `records`, atomically, under the store lock (waiting briefly;
   * the write is atomic either way). Last writer wins: another process's records for this root
   * saved in between are replaced (lost and rebuilt later, never corrupted). Synchronous, so a
   * SIGINT/SIGTERM handler can call it. False when an I/O error lost the save; a malformed record
   * throws (RangeError/TypeError).
   */
  saveIndex(records: ReadonlyMap<string, IndexRecord>, directories: DirectorySnapshot | null = null): boolean {
    this.#assertOpen();
    let locked = false;
    try {
      locked = this.#retryIfCleared(() => this.#lock.acquire(INDEX_LOCK_WAIT_MS));
      this.#retryIfCleared(() => this.#index.save(records, this.#keyPrefix, this.rootPath, directories));
      this.#counters.bytesWritten += fs.statSync(this.#index.file).size;
      return true;
    } catch (error) {
      if (error instanceof RangeError || error instanceof TypeError) throw error; // a malformed record: the caller's bug
      this.#counters.writeErrors++;
      this.#warn(`cannot save the index ${this.#index.file} (${describe(error)})`);
      return false;
    } finally {
      if (locked) this.#lock.release();
    }
  }

  /** Queues one encoded entry record (`encodeEntry` bytes) for the next {@link flush}. */
  append(key: string, entryBytes: Uint8Array): void {
    this.#assertOpen();
    this.#writer.append(key, entryBytes);
  }

  /**
   * Writes everything queued as one pack (one fsync) and answers where each key landed. On an I/O
   * error the batch is dropped (counted, warned) and the answer is empty: those entries simply are
   * not persisted.
   */
  flush(): Map<string, PackLocation> {
    this.#assertOpen();
    try {
      const written = this.#retryIfCleared(() => this.#writer.flush());
      if (written === null) return new Map();
      this.#counters.packsWritten++;
      this.#counters.bytesWritten += written.bytes;
      return written.locations;
    } catch (error) {
      this.#counters.writeErrors++;
      this.#warn(`cannot write a pack of ${this.#writer.pendingCount} entries to ${this.dir} (${describe(error)}); they stay in memory only`);
      this.#writer.discard();
      return new Map();
    }
  }

  /**
   * Starts writing everything queued as one pack, with the I/O off this thread, and answers where
   * each key will land once `written` resolves true; null when nothing is queued. `written` never
   * rejects: on an I/O error it resolves false (counted, warned) and those entries are not persisted.
   * Until then the locations must not be used: a reader would find no pack.
   */
  flushInBackground(): { readonly locations: Map<string, PackLocation>; readonly written: Promise<boolean> } | null {
    this.#assertOpen();
    const pack = this.#writer.takePack();
    if (pack === null) return null;
    const write = (): Promise<void> => this.#writer.writePackInBackground(pack);
    const written = write()
      .catch(async (error: unknown) => {
        if (!this.#recreateIfCleared(error)) throw error;
        await write();
      })
      .then(
        () => {
          this.#counters.packsWritten++;
          this.#counters.bytesWritten += pack.flush.bytes;
          return true;
        },
        (error: unknown) => {
          this.#counters.writeErrors++;
          this.#warn(`cannot write a pack of ${pack.flush.locations.size} entries to ${this.dir} (${describe(error)}); they stay in memory only`);
          return false;
        },
      );
    return { locations: pack.flush.locations, written };
  }

  /** The record's bytes at `location`, or null when its pack is gone or the range is not in it (counted). */
  read(location: PackLocation): Uint8Array | null {
    return this.#read(location, false);
  }

  /** Like {@link read}, into a buffer the store reuses: the bytes are valid until its next read (copy what you keep). */
  readTransient(location: PackLocation): Uint8Array | null {
    return this.#read(location, true);
  }

  #read(location: PackLocation, transient: boolean): Uint8Array | null {
    this.#assertOpen();
    let result: PackRead;
    try {
      result = transient ? this.#reader.readTransient(location) : this.#reader.readDetailed(location);
    } catch (error) {
      this.#warn(`cannot read ${location.pack} (${describe(error)})`);
      return null;
    }
    if (result.bytes !== null) return result.bytes;
    if (result.miss === 'missing-pack') this.#counters.missingPacks++;
    else this.#counters.corruptEntries++;
    return null;
  }

  /** Reads and validates the record at `location` stored under `expectedKey`; null (counted) when missing or corrupt. */
  readEntry(location: PackLocation, expectedKey: string): EntryRecord | null {
    const bytes = this.read(location);
    if (bytes === null) return null;
    try {
      return decodeEntry(bytes, expectedKey);
    } catch (error) {
      if (!isStrataError(error) || error.code !== 'ECORRUPT') throw error;
      this.#counters.corruptEntries++;
      return null;
    }
  }

  /** Bytes of packs and indexes in the directory (all roots). */
  diskBytes(): number {
    try {
      return storeBytes(this.dir);
    } catch (error) {
      this.#warn(`cannot measure ${this.dir} (${describe(error)})`);
      return 0;
    }
  }

  /** Applies the size and age bound to the whole directory (see bounds.ts). */
  enforceBounds(options: { now?: number } = {}): BoundsReport {
    this.#assertOpen();
    try {
      return enforceBounds({ dir: this.dir, maxBytes: this.#maxBytes, maxAgeMs: this.#maxAgeMs, ...options });
    } catch (error) {
      this.#warn(`cannot apply the disk bound to ${this.dir} (${describe(error)})`);
      return { ran: false, bytesBefore: 0, bytesAfter: 0, removed: { pack: 0, index: 0, temp: 0, stale: 0 }, removedBytes: 0 };
    }
  }

  /**
   * Closes pack descriptors and releases the lock if held. Entries appended but not flushed are
   * dropped: flush (and save the index with the locations) first.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#writer.discard();
    this.#reader.close();
    this.#lock.release();
  }

  /**
   * Runs `write`; when it fails because the directory is gone (`strata clear` or a user removed it
   * while this process runs), prepares the directory again (marker included) and retries once.
   */
  #retryIfCleared<T>(write: () => T): T {
    try {
      return write();
    } catch (error) {
      if (!this.#recreateIfCleared(error)) throw error;
      return write();
    }
  }

  /** True when `error` came from the directory being gone and it was prepared again (worth one retry). */
  #recreateIfCleared(error: unknown): boolean {
    if (!isMissing(error) || fs.existsSync(path.join(this.dir, MARKER_FILE)) || prepareCacheDir(this.dir, false) !== null) return false;
    this.#warn(`${this.dir} was removed while in use; recreated it`);
    return true;
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('DiskStore is closed');
  }

  #warn(message: string): void {
    this.#warnings.push(message);
    if (this.#warnings.length > MAX_WARNINGS) this.#warnings.shift();
  }
}

