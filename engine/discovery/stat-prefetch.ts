/**
 * The stats a walk with a directory snapshot will ask for, taken up front in one batch: every stored
 * directory and every file stored in it (native-bindings/stat-batch.ts: one call, a few threads, no
 * `fs.Stats` objects). A restart of an unchanged tree is then one batch instead of one lstat per
 * directory and file (on a 2-vCPU VM ~13 ms against ~100 ms for 9,500 paths).
 *
 * The walk uses a prefetched stat only where it would have stat'ed the same path itself: a stored
 * directory's stamp, and the files of a directory whose stamp matched (whose stored items it reuses).
 * Anything listed afresh is stat'ed as before. Taking the stats earlier than the walk reaches each
 * path changes nothing a walk promises: each is still taken after the walk started (so the racy
 * rules hold) and before the directory's entries are used; a change after it is seen next time, as
 * a change right after a walk's own lstat is. A path whose batch stat failed is stat'ed again one by
 * one, so errors are Node's own.
 *
 * A walk takes one itself only with the native addon (the fallback's lstat loop costs what the walk's
 * own lstats cost); the unchanged-tree check (unchanged-tree.ts) takes one with either backend and
 * hands it to the walk when it finds a change.
 */
import { lstatSnapshot, STAT_CTIME_MS, STAT_DEV, STAT_ERRNO, STAT_FIELDS, STAT_INO, STAT_MODE, STAT_MTIME_MS, STAT_NLINK, STAT_SIZE } from '../../native-bindings/stat-batch.js';
import type { DirectorySnapshot } from './directory-snapshot.js';
import type { FileStat } from './walk-fs.js';

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/** One path's stat from a batch: the fields of a plain `fs.Stats` the walk and the restart check read. */
class BatchStat implements FileStat {
  readonly mode: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly ino: number;
  readonly dev: number;
  readonly nlink: number;

  constructor(values: Float64Array, at: number) {
    this.mode = values[at + STAT_MODE] as number;
    this.size = values[at + STAT_SIZE] as number;
    this.mtimeMs = values[at + STAT_MTIME_MS] as number;
    this.ctimeMs = values[at + STAT_CTIME_MS] as number;
    this.ino = values[at + STAT_INO] as number;
    this.dev = values[at + STAT_DEV] as number;
    this.nlink = values[at + STAT_NLINK] as number;
  }

  isFile(): boolean {
    return (this.mode & S_IFMT) === S_IFREG;
  }

  isDirectory(): boolean {
    return (this.mode & S_IFMT) === S_IFDIR;
  }

  isSymbolicLink(): boolean {
    return (this.mode & S_IFMT) === S_IFLNK;
  }
}

export class StatPrefetch {
  /** Per snapshot row: the batch index of its directory; its files follow it, in item order. */
  readonly #dirIndex: Int32Array;
  readonly #values: Float64Array;

  private constructor(
    /** The snapshot whose directories and files these are the stats of. */
    readonly snapshot: DirectorySnapshot,
    dirIndex: Int32Array,
    values: Float64Array,
  ) {
    this.#dirIndex = dirIndex;
    this.#values = values;
  }

  /** Stats every directory of `snapshot` under `rootReal` and the files stored in it. */
  static of(rootReal: string, snapshot: DirectorySnapshot): StatPrefetch {
    const { stats, dirIndex } = lstatSnapshot(rootReal, snapshot.rels, snapshot.items);
    return new StatPrefetch(snapshot, dirIndex, stats);
  }

  /** The stat of snapshot row `row`'s directory; null when the batch stat failed (stat it again). */
  directory(row: number): FileStat | null {
    return this.#at(this.#dirIndex[row] as number);
  }

  /** The batch index of the first file stored for row `row`: its k-th file item is at this + k. */
  firstFile(row: number): number {
    return (this.#dirIndex[row] as number) + 1;
  }

  /** The stat at batch index `index` (from {@link firstFile}); null when it failed (stat it again). */
  file(index: number): FileStat | null {
    return this.#at(index);
  }

  #at(index: number): FileStat | null {
    const at = index * STAT_FIELDS;
    return this.#values[at + STAT_ERRNO] === 0 ? new BatchStat(this.#values, at) : null;
  }
}
