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
import type { PlainRecordStamp } from '../store/columnar-root-index.js';
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
  /** The stamp of the index's record of a root-relative path (no record built: the index's columns). */
  stamp(path: string): PlainRecordStamp | undefined;
}

/** The receipt of `source`, or null where an unchanged tree would not be answered from the index alone. */
export function buildReceipt(source: ReceiptSource): RestartReceipt | null {
  const { snapshot } = source;
  if (snapshot.size === 0 || snapshot.row('') !== 0) return null;
  // Every row's directory and one file per record: a receipt exists only when the files are exactly the records.
  const expected = new Float64Array((snapshot.size + source.indexSize) * EXPECTED_FIELDS);
  let at = 0;
  const gitignores: [string, string][] = [];
  const inodes = new Set<number>();
  let dev: number | null = null;
  let storedDirs = 0;
  let files = 0;
  let bytes = 0;
  let oldestAccessMs = Infinity;
  for (let row = 0; row < snapshot.size; row++) {
    const s = row * STAMP_FIELDS;
    const stamps = snapshot.stamps;
    for (let field = 0; field < STAMP_FIELDS; field++) if (!Number.isFinite(stamps[s + field])) return null; // a racy directory: the next walk lists it
    // size 0, then mtimeMs, ctimeMs, ino, dev: the order of EXPECTED_* and of the snapshot's stamps
    expected.set(stamps.subarray(s, s + STAMP_FIELDS), at + EXPECTED_MTIME_MS);
    at += EXPECTED_FIELDS;
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
      const stamp = source.stamp(rel === '' ? name : `${rel}/${name}`);
      // No record, a racy one (NaN), one over maxFileSize (a walk skips it), an inode no double holds exactly.
      if (stamp === undefined || Number.isNaN(stamp.mtimeMs) || stamp.size > source.maxFileSize || !Number.isSafeInteger(stamp.ino)) return null;
      if (dev === null) dev = stamp.dev;
      else if (stamp.dev !== dev) return null;
      if (inodes.has(stamp.ino) || files === source.indexSize) return null;
      inodes.add(stamp.ino);
      expected[at + EXPECTED_SIZE] = stamp.size;
      expected[at + EXPECTED_MTIME_MS] = stamp.mtimeMs; // as plain fs.Stats computes them (the check allows its tolerance)
      expected[at + EXPECTED_CTIME_MS] = stamp.ctimeMs;
      expected[at + EXPECTED_INO] = stamp.ino;
      expected[at + EXPECTED_DEV] = stamp.dev;
      at += EXPECTED_FIELDS;
      if (stamp.lastAccessMs < oldestAccessMs) oldestAccessMs = stamp.lastAccessMs;
      files++;
      bytes += stamp.size;
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
    expected,
    gitignores,
  };
}
