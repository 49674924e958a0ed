/**
 * Builds the restart receipt (receipt-file.ts) from a saved index and its directory snapshot, after a
 * whole-tree warm: the stamps an unchanged tree must show, in the order one batch lstat takes them.
 *
 * A receipt is built only where the unchanged-tree check (discovery/unchanged-tree.ts) would answer
 * an unchanged tree, so that answering from it reports what that check reports: every directory
 * stamp settled (none racy), no links, every stored file with a record of its own whose stamp is
 * settled (none racy), within `maxFileSize`, on one device with distinct inodes, and as many records
 * as files. Otherwise there is none, and the next warm takes the full path.
 */
import { ITEM_DIR, ITEM_FILE, ITEM_REINCLUDED_DIR, ITEM_SEPARATOR, STAMP_FIELDS, type DirectorySnapshot } from '../discovery/directory-snapshot.js';
import { snapshotSpec } from '../../native-bindings/stat-batch.js';
import type { IndexRecord } from '../store/root-index-format.js';
import { EXPECTED_CTIME_MS, EXPECTED_DEV, EXPECTED_FIELDS, EXPECTED_INO, EXPECTED_MTIME_MS, EXPECTED_SIZE } from '../../native-bindings/stat-compare.js';
import type { RestartReceipt } from './receipt-file.js';

export interface ReceiptSource {
  readonly snapshot: DirectorySnapshot;
  /** The header checksum of the index as saved (or loaded, when the warm saved nothing). */
  readonly indexChecksum: bigint;
  readonly keyPrefix: string;
  readonly maxFileSize: number;
  /** Records in the index. */
  readonly indexSize: number;
  /** The index's record of a root-relative path. */
  record(path: string): IndexRecord | undefined;
}

/** The receipt of `source`, or null where an unchanged tree would not be answered from the index alone. */
export function buildReceipt(source: ReceiptSource): RestartReceipt | null {
  const { snapshot } = source;
  if (snapshot.size === 0 || snapshot.row('') !== 0) return null;
  const expected: number[] = [];
  const gitignores: [string, string][] = [];
  const inodes = new Set<bigint>();
  let dev: bigint | null = null;
  let storedDirs = 0;
  let files = 0;
  let bytes = 0;
  let oldestAccessMs = Infinity;
  for (let row = 0; row < snapshot.size; row++) {
    const s = row * STAMP_FIELDS;
    const stamp = snapshot.stamps.subarray(s, s + STAMP_FIELDS);
    if (!stamp.every(Number.isFinite)) return null; // a racy directory: the next walk lists it
    expected.push(0, ...stamp); // size, then mtimeMs, ctimeMs, ino, dev: the order of EXPECTED_*
    const rel = snapshot.rels[row] as string;
    const gitignore = snapshot.gitignores[row];
    if (gitignore !== null && gitignore !== undefined) gitignores.push([rel, gitignore]);
    const items = snapshot.items[row] as string;
    if (items === '') continue;
    for (const item of items.split(ITEM_SEPARATOR)) {
      const code = item[0];
      if (code === ITEM_DIR || code === ITEM_REINCLUDED_DIR) {
        storedDirs++;
        continue;
      }
      if (code !== ITEM_FILE) return null; // a link: a walk resolves it
      const name = item.slice(1);
      const record = source.record(rel === '' ? name : `${rel}/${name}`);
      if (record === undefined || record.mtimeNs < 0n || record.size > source.maxFileSize || !Number.isSafeInteger(Number(record.ino))) return null;
      if (dev === null) dev = record.dev;
      else if (record.dev !== dev) return null;
      if (inodes.has(record.ino)) return null;
      inodes.add(record.ino);
      const at = expected.length;
      expected.length += EXPECTED_FIELDS;
      expected[at + EXPECTED_SIZE] = record.size;
      // As plain fs.Stats computes them from the same nanoseconds (the check allows its tolerance).
      expected[at + EXPECTED_MTIME_MS] = Number(record.mtimeNs) / 1e6;
      expected[at + EXPECTED_CTIME_MS] = Number(record.ctimeNs) / 1e6;
      expected[at + EXPECTED_INO] = Number(record.ino);
      expected[at + EXPECTED_DEV] = Number(record.dev);
      if (record.lastAccessMs < oldestAccessMs) oldestAccessMs = record.lastAccessMs;
      files++;
      bytes += record.size;
    }
  }
  if (storedDirs + 1 !== snapshot.size || files !== source.indexSize) return null;
  return {
    indexChecksum: source.indexChecksum,
    keyPrefix: source.keyPrefix,
    walkKey: snapshot.walkKey,
    maxFileSize: source.maxFileSize,
    oldestAccessMs: files === 0 ? Date.now() : oldestAccessMs,
    rows: snapshot.size,
    paths: snapshot.size + files,
    bytes,
    spec: snapshotSpec(snapshot.rels, snapshot.items),
    expected: Float64Array.from(expected),
    gitignores,
  };
}
