/**
 * The restart receipt's comparison (engine/restart/receipt-check.ts): a snapshot's batch stats
 * (stat-batch.ts, `lstatSnapshotSpec`) against the stamps expected per path, in one pass. Strata's
 * addon when it is live, else {@link firstStatDifferenceJs}: the rules, and the reference the addon
 * is tested against.
 *
 * Per path, in batch order (`dirIndex` says which paths are the rows' directories):
 * - every path: its stat succeeded, and its inode and device equal the expected ones;
 * - a directory: a directory whose mtime and ctime equal the stored stamp exactly (the snapshot's
 *   own rule, discovery/directory-snapshot.ts);
 * - a file: a regular file with one link, within `maxFileSize`, whose size equals its record's and
 *   whose mtime and ctime are within `tolerance` ms of it (the index's rule for plain stats).
 */
import { lstatSnapshotSpec, STAT_CTIME_MS, STAT_DEV, STAT_ERRNO, STAT_FIELDS, STAT_INO, STAT_MODE, STAT_MTIME_MS, STAT_NLINK, STAT_SIZE } from './stat-batch.js';
import { strataAddon } from './strata-addon.js';

/** Expected numbers per path: size (0 for a directory), mtimeMs, ctimeMs, ino, dev, as plain `fs.Stats` gives them. */
export const EXPECTED_FIELDS = 5;
export const EXPECTED_SIZE = 0;
export const EXPECTED_MTIME_MS = 1;
export const EXPECTED_CTIME_MS = 2;
export const EXPECTED_INO = 3;
export const EXPECTED_DEV = 4;

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

const addon = strataAddon.addon?.statFields === STAT_FIELDS ? strataAddon.addon : undefined;

/**
 * -1 when every path is as expected; else the index of the first path that is not, or the path
 * count when `dirIndex` does not name one directory per row in order.
 */
export function firstStatDifference(stats: Float64Array, dirIndex: Int32Array, expected: Float64Array, maxFileSize: number, tolerance: number): number {
  if (addon === undefined) return firstStatDifferenceJs(stats, dirIndex, expected, maxFileSize, tolerance);
  return addon.firstStatDifference(stats, dirIndex, expected, maxFileSize, tolerance);
}

/**
 * {@link firstStatDifference} of the snapshot's paths stat'ed now (`lstatSnapshotSpec`'s rows under
 * `rootReal`): with the addon, in one pass, each thread stopping at its first difference and no stats
 * array at all. Throws a TypeError when `spec` does not hold `rows` rows of `expected`'s paths.
 */
export function firstSnapshotDifference(rootReal: string, spec: Uint8Array, rows: number, expected: Float64Array, maxFileSize: number, tolerance: number): number {
  if (addon !== undefined) return addon.checkSnapshot(Buffer.from(rootReal, 'utf8'), spec, rows, expected, maxFileSize, tolerance);
  const { stats, dirIndex } = lstatSnapshotSpec(rootReal, spec, rows);
  return firstStatDifferenceJs(stats, dirIndex, expected, maxFileSize, tolerance);
}

export function firstStatDifferenceJs(stats: Float64Array, dirIndex: Int32Array, expected: Float64Array, maxFileSize: number, tolerance: number): number {
  const paths = expected.length / EXPECTED_FIELDS;
  if (!Number.isInteger(paths) || stats.length !== paths * STAT_FIELDS) throw new TypeError('stats and expected: not of the same paths');
  const near = (a: number, b: number): boolean => a - b < tolerance && b - a < tolerance;
  let nextRow = 0;
  for (let i = 0; i < paths; i++) {
    const o = i * STAT_FIELDS;
    const e = i * EXPECTED_FIELDS;
    const kind = (stats[o + STAT_MODE] as number) & S_IFMT;
    let same: boolean;
    if (stats[o + STAT_ERRNO] !== 0) same = false;
    else if (nextRow < dirIndex.length && dirIndex[nextRow] === i) {
      nextRow++;
      same = kind === S_IFDIR && stats[o + STAT_MTIME_MS] === expected[e + EXPECTED_MTIME_MS] && stats[o + STAT_CTIME_MS] === expected[e + EXPECTED_CTIME_MS];
    } else {
      const size = stats[o + STAT_SIZE] as number;
      same = kind === S_IFREG && stats[o + STAT_NLINK] === 1 && size <= maxFileSize && size === expected[e + EXPECTED_SIZE] && near(stats[o + STAT_MTIME_MS] as number, expected[e + EXPECTED_MTIME_MS] as number) && near(stats[o + STAT_CTIME_MS] as number, expected[e + EXPECTED_CTIME_MS] as number);
    }
    if (same) same = stats[o + STAT_INO] === expected[e + EXPECTED_INO] && stats[o + STAT_DEV] === expected[e + EXPECTED_DEV];
    if (!same) return i;
  }
  return nextRow === dirIndex.length ? -1 : paths;
}
