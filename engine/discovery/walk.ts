/**
 * One walk's state and steps: the frames of the directories being walked, which entries they hold
 * (source files, directories, links, after the ignore rules and exclusions), each file reported once
 * (by inode or realpath), and links followed once, inside the root.
 */
import { ITEM_DIR, ITEM_FILE, ITEM_LINK, ITEM_REINCLUDED_DIR, ITEM_SEPARATOR, type DirectorySnapshot, type SnapshotRecorder } from './directory-snapshot.js';
import { failed, skipped, warning, describe, type DiscoveryEvent } from './discovery-events.js';
import { deriveLayers, ignoreVerdict, Layer, readIgnoreFile } from './ignore-rules.js';
import { isSourceFile } from './source-files.js';
import type { StatPrefetch } from './stat-prefetch.js';
import { isStatFailure, lstat, readDirectory, resolveLink, type FileStat, type Listing, type StatFailure, type StatResult } from './walk-fs.js';

type ItemKind = 'file' | 'dir' | 'link';

interface Item {
  readonly kind: ItemKind;
  readonly name: string;
  /** Root-relative path the walk reaches the entry by. */
  readonly rel: string;
  /** Absolute path of the entry: a realpath for files and directories, the link's own path for links. */
  readonly real: string;
  /** A directory excluded by a shallower ignore file and re-included by a deeper one (see {@link deriveLayers}). */
  readonly reincluded: boolean;
  /** A file's index in the walk's {@link StatPrefetch}, or -1: stat it when reached. */
  readonly prefetched: number;
}

export interface Frame {
  readonly rel: string;
  readonly layers: readonly Layer[];
  readonly items: readonly Item[];
  next: number;
  /**
   * The directories below must be listed, not taken from the snapshot: their stored listings were
   * kept under other ignore rules (a `.gitignore` above them changed, or this directory is new to
   * the snapshot, or was reached through a link).
   */
  readonly listBelow: boolean;
}

export class Walk {
  /** Realpaths of the directories walked so far (the root and the current ancestors included). */
  readonly visitedDirs = new Set<string>();
  /** Synchronous file-system calls since the event loop last turned. */
  syncCalls = 0;
  /** Files reported so far, by inode per device (single-link files with a safe inode number). */
  readonly #seenInodes = new Map<number, Set<number>>();
  /** The last device met and its inode set: a tree is usually on one device. */
  #lastDev = -1;
  #lastInodes: Set<number> | undefined;
  /** Files reported so far, by realpath (the others: hard links, unsafe inode numbers). */
  readonly #seenPaths = new Set<string>();

  constructor(
    readonly rootReal: string,
    readonly includeNodeModules: boolean,
    readonly maxFileSize: number,
    readonly excludes: readonly string[],
    /** The listings of an earlier walk under the same walk key, or null. */
    readonly snapshot: DirectorySnapshot | null = null,
    /** Takes this walk's snapshot, or null (then directories are not stat'ed). */
    readonly recorder: SnapshotRecorder | null = null,
    /** The stats of `snapshot`'s directories and files, taken in one batch; null: stat each when reached. */
    readonly prefetch: StatPrefetch | null = null,
  ) {}

  /**
   * Enters a directory reached directly (not through a link): with a snapshot, an unchanged one is
   * stat'ed and its stored items reused (its `.gitignore` re-read and compared); any other is listed.
   */
  *enter(stack: Frame[], rel: string, real: string, inherited: readonly Layer[], listBelow: boolean): Generator<DiscoveryEvent> {
    const recorder = this.recorder;
    if (recorder === null) {
      yield* this.open(stack, rel, real, inherited, this.#list(real), listBelow);
      return;
    }
    const snapshot = this.snapshot;
    const row = snapshot === null ? -1 : snapshot.row(rel);
    // The stamp is taken before the listing: a change in between shows as a newer stamp next time.
    const stats = this.#directoryStat(row, real);
    const storedIgnore = row < 0 ? null : (snapshot as DirectorySnapshot).gitignores[row]!;
    if (isStatFailure(stats)) {
      yield* this.open(stack, rel, real, inherited, this.#list(real), true); // unreadable: its listing reports why
      return;
    }
    if (!listBelow && row >= 0 && (snapshot as DirectorySnapshot).matches(row, stats)) {
      const ignoreFile = storedIgnore === null ? {} : readIgnoreFile(`${real}/.gitignore`);
      this.syncCalls++;
      if (ignoreFile.error === undefined && (ignoreFile.text ?? null) === storedIgnore) {
        const items = (snapshot as DirectorySnapshot).items[row]!;
        this.#openStored(stack, rel, real, storedIgnore === null ? inherited : [...inherited, new Layer(rel, [storedIgnore])], items, this.prefetch === null ? -1 : this.prefetch.firstFile(row));
        recorder.add(rel, stats, items, storedIgnore, true);
        return;
      }
    }
    const listing = this.#list(real);
    const gitignore = listing.gitignore ?? null;
    const below = listBelow || row < 0 || gitignore !== storedIgnore || listing.gitignoreError !== undefined;
    const items = yield* this.open(stack, rel, real, inherited, listing, below);
    if (items !== null && listing.gitignoreError === undefined) recorder.add(rel, stats, items, gitignore, false);
  }

  /** A directory's stat: from the prefetch for a stored directory, else (or when that failed) lstat'ed now. */
  #directoryStat(row: number, real: string): FileStat | StatFailure {
    this.syncCalls++; // counted as a call either way: a turn of the event loop per ~1,000 paths is cheap
    const prefetched = row >= 0 && this.prefetch !== null ? this.prefetch.directory(row) : null;
    return prefetched ?? lstat(real);
  }

  /** A file's stat when the walk reaches it: from the prefetch when it has one, else lstat'ed now. */
  fileStat(item: Item): FileStat | StatFailure {
    this.syncCalls++;
    const prefetched = item.prefetched >= 0 ? (this.prefetch as StatPrefetch).file(item.prefetched) : null;
    return prefetched ?? lstat(item.real);
  }

  /**
   * Pushes the frame of a directory about to be walked; yields warnings about the directory itself.
   * Answers its kept items encoded for the snapshot when the walk takes one (else ''), null when unreadable.
   */
  *open(stack: Frame[], rel: string, real: string, inherited: readonly Layer[], listing: Listing, listBelow: boolean): Generator<DiscoveryEvent, string | null> {
    if (listing.error !== undefined) {
      yield warning(rel === '' ? '.' : rel, `cannot read directory: ${describe(listing.error)}`);
      return null;
    }
    let layers = inherited;
    if (listing.gitignoreError !== undefined) {
      yield warning(joinRel(rel, '.gitignore'), `cannot read: ${describe(listing.gitignoreError)}`);
    } else if (listing.gitignore !== undefined) {
      layers = [...inherited, new Layer(rel, [listing.gitignore])];
    }
    const items: Item[] = [];
    for (const entry of listing.entries) {
      const name = entry.name;
      if (name === '.git') continue;
      const childRel = joinRel(rel, name);
      const childReal = `${real}/${name}`;
      if (entry.isDirectory()) {
        if (name === 'node_modules' && !this.includeNodeModules) continue;
        if (this.isExcluded(childReal)) continue;
        const verdict = ignoreVerdict(layers, childRel, true);
        if (verdict === 'ignored') continue;
        items.push({ kind: 'dir', name, rel: childRel, real: childReal, reincluded: verdict === 'reincluded', prefetched: -1 });
      } else if (entry.isFile()) {
        if (!isSourceFile(name)) continue;
        if (ignoreVerdict(layers, childRel, false) === 'ignored') continue;
        items.push({ kind: 'file', name, rel: childRel, real: childReal, reincluded: false, prefetched: -1 });
      } else if (entry.isSymbolicLink()) {
        if (name === 'node_modules' && !this.includeNodeModules) continue;
        items.push({ kind: 'link', name, rel: childRel, real: childReal, reincluded: false, prefetched: -1 });
      }
    }
    if (items.length > 0) stack.push({ rel, layers, items, next: 0, listBelow });
    return this.recorder === null ? '' : encodeItems(items);
  }

  #list(real: string): Listing {
    const listing = readDirectory(real);
    this.syncCalls += 1 + (listing.entries.length >> 6);
    return listing;
  }

  /**
   * Pushes the frame of an unchanged directory from its stored items (no listing, no ignore matching).
   * `firstFile`: the prefetch index of its first file item (the others follow), or -1.
   */
  #openStored(stack: Frame[], rel: string, real: string, layers: readonly Layer[], encoded: string, firstFile: number): void {
    if (encoded === '') return;
    const items: Item[] = [];
    let nextFile = firstFile;
    for (const part of encoded.split(ITEM_SEPARATOR)) {
      const name = part.slice(1);
      const code = part[0];
      const kind: ItemKind = code === ITEM_FILE ? 'file' : code === ITEM_LINK ? 'link' : 'dir';
      const prefetched = kind === 'file' && nextFile >= 0 ? nextFile++ : -1;
      items.push({ kind, name, rel: joinRel(rel, name), real: `${real}/${name}`, reincluded: code === ITEM_REINCLUDED_DIR, prefetched });
    }
    stack.push({ rel, layers, items, next: 0, listBelow: false });
  }

  /** The event for a source file reached at `rel`, whose realpath is `real`; undefined when already reported. */
  fileEvent(rel: string, real: string, result: FileStat | StatResult): DiscoveryEvent | undefined {
    let stats: FileStat;
    if (isStatFailure(result)) return failed(rel, result.error);
    else if ('ok' in result) stats = result.stats;
    else stats = result;
    if (!stats.isFile()) return undefined; // replaced by something else since the listing
    if (!this.#firstVisit(real, stats)) return undefined;
    const size = stats.size;
    if (size > this.maxFileSize) return skipped(rel, 'too-large');
    return { type: 'file', path: rel, absolutePath: real, size, stats };
  }

  /** Resolves a symbolic link: a file event, a skip, or a directory frame pushed. */
  async *followLink(stack: Frame[], frame: Frame, item: Item): AsyncGenerator<DiscoveryEvent> {
    const source = isSourceFile(item.name);
    const result = resolveLink(item.real);
    this.syncCalls += 2;
    if (!result.ok) {
      if (!source) return;
      const code = (result.error as NodeJS.ErrnoException).code;
      yield code === 'ELOOP' ? skipped(item.rel, 'symlink-loop') : failed(item.rel, result.error);
      return;
    }
    const { target, stats } = result;
    const directory = stats.isDirectory();
    if (!directory && !(source && stats.isFile())) return;
    if (!this.isInsideRoot(target)) {
      yield skipped(item.rel, 'symlink-outside-root');
      return;
    }
    if (!this.isWalkable(target)) return;
    const verdict = ignoreVerdict(frame.layers, item.rel, directory);
    if (verdict === 'ignored') return;
    if (!directory) {
      const event = this.fileEvent(item.rel, target, result);
      if (event) yield event;
      return;
    }
    // The walk's ancestors and every directory walked before are in `visitedDirs`. A link to an
    // ancestor of itself is a loop; a second link to a directory walked already (pnpm's layout:
    // `node_modules/.pnpm/*/node_modules/dep` and workspace links to the same package) is not: its
    // files were reported once, under the first path met.
    if (this.visitedDirs.has(target)) {
      if (isWithin(target, item.real)) yield skipped(item.rel, 'symlink-loop');
      return;
    }
    this.visitedDirs.add(target);
    const layersBelow = verdict === 'reincluded' ? deriveLayers(frame.layers, item.rel) : frame.layers;
    // Not recorded, and nothing below it taken from the snapshot: its own `.gitignore` is not compared.
    yield* this.open(stack, item.rel, target, layersBelow, readDirectory(target), true);
  }

  isExcluded(real: string): boolean {
    for (const exclude of this.excludes) {
      if (real === exclude || (real.startsWith(exclude) && real.charCodeAt(exclude.length) === SLASH)) return true;
    }
    return false;
  }

  isInsideRoot(real: string): boolean {
    return real === this.rootReal || (real.startsWith(this.rootReal) && real.charCodeAt(this.rootReal.length) === SLASH);
  }

  /** Whether a link target inside the root lies where the walk may go: not in `.git`, an excluded dir or a skipped `node_modules`. */
  isWalkable(real: string): boolean {
    if (this.isExcluded(real)) return false;
    if (real === this.rootReal) return true;
    const segments = real.slice(this.rootReal.length + 1).split('/');
    return !segments.some((segment) => segment === '.git' || (segment === 'node_modules' && !this.includeNodeModules));
  }

  /** Records a file as reported; false when it already was (reached before through another path). */
  #firstVisit(real: string, stats: FileStat): boolean {
    // Plain stats give inode and device numbers as doubles: exact up to 2^53 only.
    const { ino, dev } = stats;
    if (stats.nlink === 1 && Number.isSafeInteger(ino) && Number.isSafeInteger(dev)) {
      let inodes = dev === this.#lastDev ? this.#lastInodes : this.#seenInodes.get(dev);
      if (!inodes) this.#seenInodes.set(dev, (inodes = new Set()));
      this.#lastDev = dev;
      this.#lastInodes = inodes;
      if (inodes.has(ino)) return false;
      inodes.add(ino);
      return true;
    }
    if (this.#seenPaths.has(real)) return false;
    this.#seenPaths.add(real);
    return true;
  }
}

const SLASH = 0x2f;

/** Whether `file` lies inside the directory `dir` (both absolute, `/` separated). */
function isWithin(dir: string, file: string): boolean {
  return file.startsWith(dir) && file.charCodeAt(dir.length) === SLASH;
}

function encodeItems(items: readonly Item[]): string {
  let encoded = '';
  for (const item of items) {
    const code = item.kind === 'file' ? ITEM_FILE : item.kind === 'link' ? ITEM_LINK : item.reincluded ? ITEM_REINCLUDED_DIR : ITEM_DIR;
    encoded += encoded === '' ? code + item.name : ITEM_SEPARATOR + code + item.name;
  }
  return encoded;
}

function joinRel(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}
