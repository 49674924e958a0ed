/**
 * The glue between L2 and the disk store: which file maps to which persisted entry (the root's
 * index), which entries this run wrote, and loading an entry back as an AST record.
 *
 * Restart rule (DESIGN.md): a file whose fingerprint equals its index record is answered from disk
 * without reading it; a changed fingerprint with the same content hash is re-stamped (a fresh clone,
 * a restored CI cache, `touch`); only changed content is re-parsed. Entries are verified (checksum,
 * key, shape) when loaded: a corrupt one is counted, forgotten and rebuilt, never served.
 */
import * as fs from 'node:fs';
import type { BigIntStats } from 'node:fs';
import * as path from 'node:path';
import { decodeAstEntry, encodeAstEntry, type AstEntryRecord } from '../../shared/ast-entry.js';
import { isStrataError } from '../../shared/errors.js';
import { hashHex } from '../../native-bindings/hash.js';
import type { CodecId } from '../../native-bindings/lz4.js';
import { isRacy, wallClockNs, type Fingerprint } from '../content/fingerprint.js';
import type { AstKey } from './keys.js';
import type { DirectorySnapshot } from '../discovery/discovery.js';
import type { FileStat } from '../discovery/walk-fs.js';
import type { ResolvedOptions } from '../config/options.js';
import { lastRunFileFor, patternsFileFor, restartReceiptFileFor, resultsFileFor } from '../store/layout.js';
import { readReceipt, removeReceipt, writeReceipt } from '../restart/receipt-file.js';
import { buildReceipt } from '../restart/receipt-writer.js';
import { DiskStore } from '../store/disk-store.js';
import type { PackLocation } from '../store/packs.js';
import { accessIfSameStamp, accessIfSameStats, keyLocations, plainStampOf } from '../store/columnar-root-index.js';
import { ACCESS_RESOLUTION_MS, type IndexRecord, type RootIndex } from '../store/root-index-format.js';

/**
 * Entries are written as a pack (one fsync, in the background) once this many bytes are waiting.
 * Small enough that the pack left for the end of a warm, written while nothing else runs, is short
 * (a packed, compressed entry is ~1 KB: a 10,000-file tree fills about four packs).
 */
export const FLUSH_BYTES = 2 * 1024 * 1024;
/** The codec persisted entries are written with. */
export const ENTRY_CODEC: CodecId = 'lz4-block-v1';
export { ACCESS_RESOLUTION_MS } from '../store/root-index-format.js';
/** A racy record stores this mtime so that it never matches and the next run re-hashes the file. */
const NEVER_MATCHES = -1n;
/** Where a waiting record's entry will be, until its pack is written (never saved: waiting records are not in the index). */
const NOT_WRITTEN_YET: PackLocation = Object.freeze({ pack: '', offset: 0, length: 0 });

/** An index record still waiting for its entry's location (filled in place once the pack is written). */
type WaitingRecord = { -readonly [K in keyof IndexRecord]: IndexRecord[K] };

export interface PersistenceCounters {
  readonly loaded: number;
  readonly corruptEntries: number;
  readonly missingEntries: number;
  /** L3 results files found corrupt (removed; the results are recomputed). */
  readonly corruptResults: number;
}

export class AstPersistence {
  readonly #store: DiskStore;
  readonly #index: RootIndex;
  /**
   * Where each key's entry lives: from the index, plus what this run flushed. Built on first need:
   * a restart of an unchanged tree never needs it (until then, every record of the loaded index
   * points at its entry).
   */
  #locationMap: Map<string, PackLocation> | null = null;
  /** Files whose entry is not on disk yet: their index record waits for its location. */
  readonly #waiting = new Map<string, WaitingRecord>();
  /**
   * The files that started waiting for each key not on disk yet (some may since wait for another
   * key: {@link #waiting} has the last word). A written pack resolves just its own keys' files. One
   * file is kept as a plain string (the common case: no array per entry).
   */
  readonly #waitingByKey = new Map<string, string | string[]>();
  /** Entries appended to the store and not written yet, by key (loads answer from these bytes). */
  #unwritten = new Map<string, Uint8Array>();
  #pendingBytes = 0;
  /** Entries of the packs being written in the background, one map per pack (loads answer from these bytes). */
  readonly #inFlight = new Set<Map<string, Uint8Array>>();
  /** Background pack writes not settled yet. */
  readonly #writes = new Set<Promise<void>>();
  /** The directory snapshot saved with the index: the last complete walk's, or the loaded one. */
  #directories: DirectorySnapshot | null;
  /** The index differs from what is on disk. */
  #dirty = false;
  #loaded = 0;
  #corruptEntries = 0;
  #missingEntries = 0;
  #corruptResults = 0;

  /** Bytes of unwritten entries that start a background pack write. */
  readonly #flushBytes: number;

  private constructor(store: DiskStore, index: RootIndex, flushBytes: number) {
    this.#store = store;
    this.#index = index;
    this.#directories = store.loadedDirectories;
    this.#flushBytes = flushBytes;
  }

  get #locations(): Map<string, PackLocation> {
    return (this.#locationMap ??= keyLocations(this.#index));
  }

  /** Opens the store for the root; null (with a warning) when no usable cache directory exists. */
  static open(options: ResolvedOptions, keyPrefix: string, env: NodeJS.ProcessEnv = process.env, tuning: { readonly flushBytes?: number } = {}): { persistence: AstPersistence | null; warning: string | null; dir: string | null } {
    const opened = DiskStore.open({ root: options.root, cacheDir: options.cacheDir, env, keyPrefix, maxBytes: options.diskBudget, maxAgeMs: options.diskMaxAge });
    if (opened.store === null) return { persistence: null, warning: opened.warning, dir: null };
    return { persistence: new AstPersistence(opened.store, opened.store.loadIndex(), tuning.flushBytes ?? FLUSH_BYTES), warning: null, dir: opened.store.dir };
  }

  get dir(): string {
    return this.#store.dir;
  }

  /** Where the last warm's report for this root is kept (for `strata stats` in a fresh process). */
  get lastRunFile(): string {
    return lastRunFileFor(this.#store.dir, this.#store.indexId);
  }

  /** Where this root's L3 results live (beside its index). */
  get resultsFile(): string {
    return resultsFileFor(this.#store.dir, this.#store.indexId);
  }

  /** Where this root's learned access patterns live (predictive warming). */
  get patternsFile(): string {
    return patternsFileFor(this.#store.dir, this.#store.indexId);
  }

  /** Counts a results file found corrupt (the engine removed it and recomputes its results). */
  countCorruptResults(): void {
    this.#corruptResults++;
  }

  /**
   * True when the file's stat still matches its record and its entry is stored (answer from disk
   * without reading). Compares against the index's columns: no record is built. Nanosecond stats
   * compare exactly; plain ones (a discovery walk's) to their resolution (STAT_TIME_TOLERANCE_MS).
   */
  unchanged(path: string, stats: FileStat | BigIntStats): boolean {
    const lastAccessMs =
      typeof stats.size === 'bigint'
        ? accessIfSameStamp(this.#index, path, Number(stats.size), (stats as BigIntStats).mtimeNs, (stats as BigIntStats).ctimeNs, stats.ino as bigint, stats.dev as bigint)
        : accessIfSameStats(this.#index, path, stats as FileStat);
    if (lastAccessMs === undefined) return false;
    if (this.#locationMap !== null && !this.#locationMap.has((this.#index.get(path) as IndexRecord).key)) return false;
    const now = Date.now();
    if (now - lastAccessMs > ACCESS_RESOLUTION_MS) {
      this.#index.set(path, { ...(this.#index.get(path) as IndexRecord), lastAccessMs: now });
      this.#dirty = true;
    }
    return true;
  }

  /**
   * The file's index record when {@link unchanged} holds for these stats (its stored content is the
   * file's content: the AST can be answered without reading the file); undefined otherwise.
   */
  unchangedRecord(path: string, stats: FileStat | BigIntStats): IndexRecord | undefined {
    return this.unchanged(path, stats) ? this.#index.get(path) : undefined;
  }

  /** The key of the file's index record, stat unchecked; undefined when it has none. */
  recordedKey(path: string): string | undefined {
    return this.#index.get(path)?.key;
  }

  /** The directory snapshot of the walk that saved the index (a walk given it lists only changed directories); null when none. */
  get directories(): DirectorySnapshot | null {
    return this.#directories;
  }

  /** A complete walk's directory snapshot: saved with the index when it differs from the loaded one. */
  rememberDirectories(snapshot: DirectorySnapshot, changed: boolean): void {
    this.#directories = snapshot;
    if (changed) this.#dirty = true;
  }

  /** True when an entry for this key is on disk (or on its way there). */
  has(key: AstKey): boolean {
    return this.#locations.has(key) || this.#unwritten.has(key) || this.#inFlightEntry(key) !== undefined;
  }

  /**
   * Records that `path` now has this content and key. `entry` is the persisted form when the
   * key has none on disk yet (a fresh parse); a key already stored is only referenced.
   */
  remember(path: string, fingerprint: Fingerprint, contentHash: bigint, key: AstKey, entry: Uint8Array | null): void {
    // Built once with its final shape: a waiting record gets its location in place, not by a copy.
    const record: WaitingRecord = {
      size: Number(fingerprint.size),
      mtimeNs: isRacy(fingerprint, wallClockNs()) ? NEVER_MATCHES : fingerprint.mtimeNs,
      ctimeNs: fingerprint.ctimeNs,
      ino: fingerprint.ino,
      dev: fingerprint.dev,
      contentHash: hashHex(contentHash),
      key,
      location: NOT_WRITTEN_YET,
      lastAccessMs: Date.now(),
    };
    const location = this.#locations.get(key);
    this.#dirty = true;
    if (location !== undefined) {
      record.location = location;
      this.#index.set(path, record);
      this.#waiting.delete(path); // an older content's record must not land over this one
      return;
    }
    if (!this.#unwritten.has(key) && this.#inFlightEntry(key) === undefined) {
      // Nothing stored or on its way for this key (an AST already in memory): the next run parses it again.
      if (entry === null) return;
      this.#store.append(key, entry);
      this.#unwritten.set(key, entry);
      this.#pendingBytes += entry.byteLength;
    }
    this.#waiting.set(path, record);
    const waitingForKey = this.#waitingByKey.get(key);
    if (waitingForKey === undefined) this.#waitingByKey.set(key, path);
    else if (typeof waitingForKey === 'string') this.#waitingByKey.set(key, [waitingForKey, path]);
    else waitingForKey.push(path);
    if (this.#pendingBytes >= this.#flushBytes) this.#flushInBackground();
  }

  /** Persists an AST already in memory (an entry built here, off the usual worker path). */
  rememberRecord(path: string, fingerprint: Fingerprint, contentHash: bigint, key: AstKey, record: AstEntryRecord): void {
    const entry = this.has(key) ? null : encodeAstEntry(key, record, ENTRY_CODEC);
    this.remember(path, fingerprint, contentHash, key, entry);
  }

  /** Loads and verifies a key's entry; null when absent or corrupt (then forgotten and counted). */
  load(key: AstKey): AstEntryRecord | null {
    // Not on disk yet: the entry's own bytes, still in memory, are what a read would return.
    const unwritten = this.#unwritten.get(key) ?? this.#inFlightEntry(key);
    const location = unwritten === undefined ? this.#locations.get(key) : undefined;
    if (unwritten === undefined && location === undefined) return null;
    // Transient bytes: decodeAstEntry keeps nothing of them (it decodes the metadata and copies the AST).
    const bytes = unwritten ?? this.#store.readTransient(location as PackLocation);
    if (bytes === null) {
      this.#missingEntries++;
      this.#forget(key);
      return null;
    }
    try {
      const record = decodeAstEntry(bytes, key);
      this.#loaded++;
      return record;
    } catch (error) {
      if (!isStrataError(error) || error.code !== 'ECORRUPT') throw error;
      this.#corruptEntries++;
      this.#forget(key);
      return null;
    }
  }

  /** Drops index records of files that no longer exist. */
  retain(paths: ReadonlySet<string>): void {
    const gone: string[] = [];
    for (const path of this.#index.keys()) if (!paths.has(path)) gone.push(path);
    if (gone.length === 0) return;
    // Built before the first drop: entries of dropped records stay reusable (a file restored with the same content is re-stamped).
    this.#locationMap ??= keyLocations(this.#index);
    for (const path of gone) this.#index.delete(path);
    this.#dirty = true;
  }

  /**
   * Writes the entries not written yet as one pack (one fsync), now, and points their files' records
   * at it. Entries of background writes still running are not waited for (see {@link settle}).
   */
  flush(): void {
    if (this.#unwritten.size === 0) return;
    const entries = this.#unwritten;
    const locations = this.#store.flush();
    for (const [key, location] of locations) this.#locations.set(key, location);
    this.#unwritten = new Map();
    this.#pendingBytes = 0;
    this.#resolveWaiting(entries.keys());
  }

  /** Resolves once every background pack write has settled and its files' records are in the index. */
  async settle(): Promise<void> {
    while (this.#writes.size > 0) await Promise.all(this.#writes);
  }

  /**
   * Writes the entries not written yet as one pack with the I/O off this thread: a warm's coordinator
   * goes on feeding the workers instead of waiting on the disk. Their files' records join the index
   * once the pack is in place (never before: a crash meanwhile leaves no record pointing at nothing).
   */
  #flushInBackground(): void {
    const started = this.#store.flushInBackground();
    if (started === null) return;
    // The pack holds exactly the entries not written yet: they move as one map, not one by one.
    const entries = this.#unwritten;
    this.#inFlight.add(entries);
    this.#unwritten = new Map();
    this.#pendingBytes = 0;
    const settled = started.written.then((written) => {
      this.#inFlight.delete(entries);
      if (written) for (const [key, location] of started.locations) this.#locations.set(key, location);
      this.#resolveWaiting(entries.keys());
    });
    this.#writes.add(settled);
    void settled.finally(() => this.#writes.delete(settled));
  }

  /**
   * Index records for the files waiting for these keys, whose pack was just written (or failed):
   * a file whose entry is now on disk joins the index; one whose entry was lost is dropped (the next
   * run parses it again). Files waiting for other keys are left alone.
   */
  #resolveWaiting(keys: Iterable<string>): void {
    for (const key of keys) {
      const waiting = this.#waitingByKey.get(key);
      if (waiting === undefined) continue;
      this.#waitingByKey.delete(key);
      const location = this.#locations.get(key);
      for (const path of typeof waiting === 'string' ? [waiting] : waiting) {
        const record = this.#waiting.get(path);
        if (record === undefined || record.key !== key) continue; // remembered since with other content
        this.#waiting.delete(path);
        if (location === undefined) continue;
        record.location = location;
        this.#index.set(path, record);
        this.#dirty = true;
      }
    }
  }

  /** The bytes of an entry whose pack is being written in the background, if any. */
  #inFlightEntry(key: string): Uint8Array | undefined {
    for (const entries of this.#inFlight) {
      const bytes = entries.get(key);
      if (bytes !== undefined) return bytes;
    }
    return undefined;
  }

  /** Flushes, saves the index and keeps the directory within its bounds. */
  save(): void {
    this.flush();
    if (!this.#dirty) return;
    this.#store.saveIndex(this.#index, this.#directories);
    this.#store.enforceBounds();
    this.#dirty = false;
  }

  /**
   * After a whole-tree warm whose index is saved: writes the restart receipt of the index as it is
   * now (engine/restart/), unless the one on disk already names it; removes it where an unchanged
   * tree would not be answered from the index alone. Best effort: without a receipt the next warm
   * takes the full path.
   */
  saveRestartReceipt(maxFileSize: number): void {
    const file = restartReceiptFileFor(this.#store.dir, this.#store.indexId);
    try {
      const checksum = this.#store.indexChecksum;
      const snapshot = this.#directories;
      if (this.#dirty || checksum === null || snapshot === null) {
        removeReceipt(file);
        return;
      }
      if (readReceipt(file)?.indexChecksum === checksum) return;
      const index = this.#index;
      const receipt = buildReceipt({ snapshot, indexChecksum: checksum, keyPrefix: this.#store.keyPrefix, maxFileSize, indexSize: index.size, stamp: (path) => plainStampOf(index, path) });
      if (receipt === null) removeReceipt(file);
      else writeReceipt(file, receipt);
    } catch {
      // a read-only or full cache directory: the next warm takes the full path
    }
  }

  diskBytes(): number {
    return this.#store.diskBytes();
  }

  counters(): PersistenceCounters & DiskStore['counters'] {
    return { ...this.#store.counters, loaded: this.#loaded, corruptEntries: this.#corruptEntries + this.#store.counters.corruptEntries, missingEntries: this.#missingEntries, corruptResults: this.#corruptResults };
  }

  /**
   * Checks every index record against the tree and the packs: a record of a file that no longer
   * exists, or whose entry is missing or fails verification. With `repair`, such records are dropped
   * (and their entries rebuilt by the next warm).
   */
  validate(root: string, repair: boolean): { path: string; problem: 'deleted-file' | 'missing-entry' | 'corrupt-entry' }[] {
    const findings: { path: string; problem: 'deleted-file' | 'missing-entry' | 'corrupt-entry' }[] = [];
    for (const [file, record] of [...this.#index]) {
      let problem: 'deleted-file' | 'missing-entry' | 'corrupt-entry' | null = null;
      if (!fs.existsSync(path.join(root, ...file.split('/')))) problem = 'deleted-file';
      else {
        const bytes = this.#store.read(record.location);
        if (bytes === null) problem = 'missing-entry';
        else {
          try {
            decodeAstEntry(bytes, record.key);
          } catch {
            problem = 'corrupt-entry';
          }
        }
      }
      if (problem === null) continue;
      findings.push({ path: file, problem });
      if (repair) {
        this.#index.delete(file);
        if (problem !== 'deleted-file') this.#locations.delete(record.key);
        this.#dirty = true;
      }
    }
    return findings;
  }

  get indexSize(): number {
    return this.#index.size;
  }

  close(): void {
    this.#store.close();
  }

  #forget(key: string): void {
    this.#dirty = true;
    this.#locations.delete(key);
    for (const [path, record] of this.#index) if (record.key === key) this.#index.delete(path);
  }
}
