/**
 * The directory snapshot (issue 19; git's untracked cache is the model): for each directory a walk
 * listed, its stamp (mtime, ctime, inode, device) taken before the listing, the entries the walk kept
 * from it (after the ignore rules and exclusions) and the text of its own `.gitignore`.
 *
 * A later walk under the same walk key (root, options, the ignore rules from outside the root) stats
 * a directory instead of listing it: an unchanged stamp means unchanged entries (adding, removing or
 * renaming an entry sets the directory's mtime and ctime; `utimes` can put the mtime back, never the
 * ctime), so no readdir and no ignore matching. Each file is still lstat'ed by the walk and checked
 * against its own fingerprint. What the stamp does not cover is checked apart:
 * - a `.gitignore` edited in place (the directory's stamp does not move): its text is read and
 *   compared; a different text lists the directory and everything below it afresh;
 * - a directory new to the snapshot (or moved into place) lists its whole subtree afresh: the stored
 *   listings below it were kept under other ignore rules;
 * - racy stamps (git's rule): a directory changed within {@link RACY_WINDOW_MS} of the walk's start
 *   may change again within the same tick of a coarse file-system clock, so its stamp is stored as
 *   never matching and the next walk lists it.
 *
 * Flat: one string of items per directory (a kind character and the name, joined by `/`, which no
 * name contains), stamps in one Float64Array; a directory's items are split only when reused.
 */
import type { FileStat } from './walk-fs.js';

export const ITEM_FILE = 'f';
export const ITEM_DIR = 'd';
/** A directory excluded by a shallower ignore file and re-included by a deeper one. */
export const ITEM_REINCLUDED_DIR = 'r';
export const ITEM_LINK = 'l';
/** Joins the items of one directory: no file name contains it. */
export const ITEM_SEPARATOR = '/';
/** Stamp fields per directory, in this order: mtimeMs, ctimeMs, ino, dev (as plain `Stats` gives them). */
export const STAMP_FIELDS = 4;
/**
 * A stamp this close (ms) to the walk's start is racy. Two seconds, as for file fingerprints
 * (content/fingerprint.ts, RACY_WINDOW_NS): coarse file-system clocks (FAT, some network mounts)
 * tick in whole seconds.
 */
export const RACY_WINDOW_MS = 2000;

/** The listings of one walk, by root-relative directory path ('' for the root). */
export class DirectorySnapshot {
  #rows: Map<string, number> | null = null;

  /**
   * @param walkKey what the listings depend on besides each directory's own entries and `.gitignore`
   *   (see {@link walkKeyOf}); a walk under another key uses none of them.
   * @param stamps {@link STAMP_FIELDS} per directory; a NaN mtime never matches (a racy stamp).
   * @param items per directory, its kept entries (see the module comment); '' for none.
   * @param gitignores per directory, the text of its `.gitignore`; null for none.
   */
  constructor(
    readonly walkKey: string,
    readonly rels: readonly string[],
    readonly stamps: Float64Array,
    readonly items: readonly string[],
    readonly gitignores: readonly (string | null)[],
  ) {
    if (stamps.length !== rels.length * STAMP_FIELDS || items.length !== rels.length || gitignores.length !== rels.length) throw new RangeError('snapshot columns of different lengths');
  }

  get size(): number {
    return this.rels.length;
  }

  /** The row of a directory, or -1 when the snapshot has none. */
  row(rel: string): number {
    if (this.#rows === null) {
      this.#rows = new Map();
      for (let i = 0; i < this.rels.length; i++) this.#rows.set(this.rels[i] as string, i);
    }
    return this.#rows.get(rel) ?? -1;
  }

  /** Whether a directory's stats equal its stored (non-racy) stamp. */
  matches(row: number, stats: FileStat): boolean {
    const s = row * STAMP_FIELDS;
    const stamps = this.stamps;
    return stats.isDirectory() && stamps[s] === stats.mtimeMs && stamps[s + 1] === stats.ctimeMs && stamps[s + 2] === stats.ino && stamps[s + 3] === stats.dev;
  }
}

/** The snapshot a walk takes as it goes, with how many directories it listed and reused. */
export class SnapshotRecorder {
  readonly #rels: string[] = [];
  readonly #stamps: number[] = [];
  readonly #items: string[] = [];
  readonly #gitignores: (string | null)[] = [];
  listed = 0;
  reused = 0;

  /** @param startedAtMs the walk's start (wall clock): stamps within {@link RACY_WINDOW_MS} of it are racy. */
  constructor(
    readonly walkKey: string,
    readonly startedAtMs: number,
  ) {}

  /** Records one directory: its stats taken before its listing, its kept items, its `.gitignore` text. */
  add(rel: string, stats: FileStat, items: string, gitignore: string | null, reused: boolean): void {
    if (reused) this.reused++;
    else this.listed++;
    const lastChange = stats.mtimeMs > stats.ctimeMs ? stats.mtimeMs : stats.ctimeMs;
    const racy = this.startedAtMs - lastChange < RACY_WINDOW_MS;
    this.#rels.push(rel);
    this.#stamps.push(racy ? NaN : stats.mtimeMs, stats.ctimeMs, stats.ino, stats.dev);
    this.#items.push(items);
    this.#gitignores.push(gitignore);
  }

  snapshot(): DirectorySnapshot {
    return new DirectorySnapshot(this.walkKey, this.#rels, Float64Array.from(this.#stamps), this.#items, this.#gitignores);
  }

  /** Whether this walk's snapshot differs from `previous` (every stored directory reused, none listed: the same). */
  differsFrom(previous: DirectorySnapshot | null): boolean {
    return previous === null || previous.walkKey !== this.walkKey || this.listed > 0 || this.reused !== previous.size;
  }
}
