/**
 * The disk bound: the packs and indexes of a cache directory stay within a size and an age.
 *
 * Recency is each file's **mtime**: a pack's mtime is stamped when it is written and whenever a
 * process first opens it to read (packs.ts `PackReader`), an index's when it is saved or loaded
 * (disk-store.ts). We chose mtimes over the `lastAccessMs` recorded in index records because the
 * bound then needs no index at all: it works on a directory shared by many roots, costs one
 * `readdir` + `stat` per file, and cannot be misled by an index that is itself stale or corrupt.
 * The unit of eviction is a pack (a batch of entries); entries of an evicted pack are simply missing
 * on the next read (the reader answers `null`) and are rebuilt from source.
 *
 * Rules, under the store lock (skipped, not waited for, when another process holds it):
 * 1. `*.tmp` files older than `tempGraceMs` (left by a killed writer) are removed.
 * 2. Any pack, index or quarantined file older than `maxAgeMs` is removed.
 * 3. While the total exceeds `maxBytes`, files are removed in this order: quarantined `*.corrupt`
 *    files and files of another format version (or unrecognisable ones) first, oldest first; then
 *    current packs, least recently used first; then current indexes, least recently used first.
 * Files of another format version are thus reclaimed by the same rule as everything else, ahead of
 * current data; they are never read as current data (their headers say so).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ENTRY_FORMAT_VERSION } from '../../shared/entry-format.js';
import { CORRUPT_SUFFIX, INDEX_SUFFIX, INDEXES_DIR, isMissing, PACKS_DIR, STORE_LOCK_NAME, TEMP_SUFFIX, unlinkIfPresent, openIfPresent } from './layout.js';
import { FileLock } from './lock.js';
import { isPackName, PACK_FORMAT_VERSION, readPackVersion } from './packs.js';
import { INDEX_FORMAT_VERSION, INDEX_HEADER_BYTES, indexVersionOf } from './root-index-format.js';

/** A `*.tmp` file younger than this may belong to a writer still running. @default 1 h */
export const DEFAULT_TEMP_GRACE_MS = 60 * 60_000;
/** How long enforcement waits for the store lock before skipping this round. */
const BOUNDS_LOCK_WAIT_MS = 200;

/** What a file in `packs/` or `indexes/` is, as far as the bound cares. */
export type StoreFileKind =
  | 'pack' // a pack of the current format
  | 'index' // an index of the current format
  | 'temp' // a file being written (or left by a killed writer)
  | 'stale'; // quarantined, another format version, or unrecognisable: reclaimed first

export interface StoreFile {
  readonly file: string;
  readonly kind: StoreFileKind;
  readonly bytes: number;
  readonly mtimeMs: number;
}

function indexVersion(file: string): number | null {
  const fd = openIfPresent(file);
  if (fd === null) return null;
  try {
    const header = new Uint8Array(INDEX_HEADER_BYTES);
    const read = fs.readSync(fd, header, 0, INDEX_HEADER_BYTES, 0);
    return indexVersionOf(header.subarray(0, read));
  } finally {
    fs.closeSync(fd);
  }
}

function classify(file: string, name: string, inPacks: boolean): StoreFileKind {
  if (name.endsWith(TEMP_SUFFIX)) return 'temp';
  if (name.endsWith(CORRUPT_SUFFIX)) return 'stale';
  if (inPacks) {
    if (!isPackName(name)) return 'stale';
    const version = readPackVersion(file);
    return version !== null && version.packVersion === PACK_FORMAT_VERSION && version.entryVersion === ENTRY_FORMAT_VERSION ? 'pack' : 'stale';
  }
  if (!name.endsWith(INDEX_SUFFIX)) return 'stale';
  return indexVersion(file) === INDEX_FORMAT_VERSION ? 'index' : 'stale';
}

/**
 * Every regular file in `packs/` and `indexes/` with its kind, size and mtime. Reads a few header
 * bytes per pack and index to tell current formats from old ones. Files that vanish meanwhile are
 * skipped.
 */
export function scanStore(dir: string, options: { classify?: boolean } = {}): StoreFile[] {
  const files: StoreFile[] = [];
  for (const sub of [PACKS_DIR, INDEXES_DIR]) {
    const subdir = path.join(dir, sub);
    let names: string[];
    try {
      names = fs.readdirSync(subdir);
    } catch (error) {
      if (isMissing(error)) continue;
      throw error;
    }
    for (const name of names) {
      const file = path.join(subdir, name);
      let stat: fs.Stats;
      try {
        stat = fs.lstatSync(file);
      } catch (error) {
        if (isMissing(error)) continue;
        throw error;
      }
      if (!stat.isFile()) continue;
      const kind = options.classify === false ? 'pack' : classify(file, name, sub === PACKS_DIR);
      files.push({ file, kind, bytes: stat.size, mtimeMs: stat.mtimeMs });
    }
  }
  return files;
}

/** Total bytes of the files in `packs/` and `indexes/` (no header reads). */
export function storeBytes(dir: string): number {
  let total = 0;
  for (const file of scanStore(dir, { classify: false })) total += file.bytes;
  return total;
}

export interface BoundsOptions {
  /** The cache directory. */
  readonly dir: string;
  /** Most bytes `packs/` + `indexes/` may hold afterwards. */
  readonly maxBytes: number;
  /** Files unused for longer than this are removed. */
  readonly maxAgeMs: number;
  /** "Now" in ms since the epoch (tests). @default Date.now() */
  readonly now?: number;
  /** @default DEFAULT_TEMP_GRACE_MS */
  readonly tempGraceMs?: number;
}

export interface BoundsReport {
  /** False when another process held the store lock: nothing was done this time. */
  readonly ran: boolean;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  /** Files removed, by kind. */
  readonly removed: Readonly<Record<StoreFileKind, number>>;
  readonly removedBytes: number;
}

const byMtime = (a: StoreFile, b: StoreFile): number => a.mtimeMs - b.mtimeMs;

/** Applies the bound (see the module comment). Never throws for a file that vanishes meanwhile. */
export function enforceBounds(options: BoundsOptions): BoundsReport {
  const removed: Record<StoreFileKind, number> = { pack: 0, index: 0, temp: 0, stale: 0 };
  const lock = new FileLock(options.dir, STORE_LOCK_NAME);
  if (!lock.acquire(BOUNDS_LOCK_WAIT_MS)) return { ran: false, bytesBefore: 0, bytesAfter: 0, removed, removedBytes: 0 };
  try {
    const now = options.now ?? Date.now();
    const tempGraceMs = options.tempGraceMs ?? DEFAULT_TEMP_GRACE_MS;
    const files = scanStore(options.dir);
    const bytesBefore = files.reduce((sum, file) => sum + file.bytes, 0);
    let total = bytesBefore;
    let removedBytes = 0;
    const remove = (file: StoreFile): void => {
      if (unlinkIfPresent(file.file)) {
        removed[file.kind]++;
        removedBytes += file.bytes;
      }
      total -= file.bytes;
    };
    const kept: StoreFile[] = [];
    for (const file of files) {
      const age = now - file.mtimeMs;
      if (file.kind === 'temp' ? age > tempGraceMs : age > options.maxAgeMs) remove(file);
      else kept.push(file);
    }
    if (total > options.maxBytes) {
      const order = [
        ...kept.filter((file) => file.kind === 'stale').sort(byMtime),
        ...kept.filter((file) => file.kind === 'pack').sort(byMtime),
        ...kept.filter((file) => file.kind === 'index').sort(byMtime),
      ];
      for (const file of order) {
        if (total <= options.maxBytes) break;
        remove(file);
      }
    }
    return { ran: true, bytesBefore, bytesAfter: total, removed, removedBytes };
  } finally {
    lock.release();
  }
}
