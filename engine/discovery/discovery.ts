/**
 * Source-file discovery: one streaming, deterministic walk of the root (DESIGN.md, "Source files,
 * failures, skips").
 *
 * - Source files are the names ending in one of {@link SOURCE_EXTENSIONS} (declaration files included).
 * - Dot-directories are walked, except `.git`. `.gitignore` files at every depth and the root's
 *   `.git/info/exclude` are honoured, with git's precedence (a deeper file overrides a shallower one;
 *   within one file the last matching pattern wins; nothing below an excluded directory comes back).
 * - `node_modules` at any depth is skipped unless `includeNodeModules`; `excludeDirs` always are.
 * - Symlinks inside the root are followed once, by realpath: a file reached twice (through links or
 *   directly) is reported once, under the first path met in walk order. A link leading outside the
 *   root is reported as skipped (`symlink-outside-root`), a loop or a second link to a directory
 *   already walked as `symlink-loop`. Links are only reported when their name is a source file name
 *   or they point to a directory. A directory reached directly after a link led the walk through it
 *   is walked again (ignore files may rule differently on its own path), its files not reported twice.
 *
 * Order: entries sorted by name in byte (UTF-8) order within each directory, depth-first, pre-order.
 * The walk is iterative (an explicit stack, so any depth works) and streams: events are yielded as
 * the walk goes, and every decision (de-duplication, loops) is taken in walk order, so the output
 * is deterministic.
 */
import * as fs from 'node:fs';
import type { BigIntStats, Dirent, Stats } from 'node:fs';
import * as path from 'node:path';
import ignore from 'ignore';
import type { Ignore } from 'ignore';
import { fileFailureCodeOf } from '../../shared/errors.js';
import type { FileFailure, FileSkip, SkipReason } from '../../shared/errors.js';

/** File-name endings that make a source file. `.d.ts` and friends end in `.ts`, so they are included. */
export const SOURCE_EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs'] as const;

export type SourceExtension = (typeof SOURCE_EXTENSIONS)[number];

const SOURCE_EXTENSION_SET: ReadonlySet<string> = new Set(SOURCE_EXTENSIONS);

/** Whether a file name (or path) names a source file. A dot-file such as `.ts` has no extension. */
export function isSourceFile(name: string): boolean {
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return false;
  const slash = name.lastIndexOf('/');
  if (dot <= slash + 1) return false;
  return SOURCE_EXTENSION_SET.has(name.slice(dot));
}

export interface DiscoveryOptions {
  /** Walk into `node_modules` directories (at any depth). */
  readonly includeNodeModules: boolean;
  /** Files larger than this many bytes are reported as skipped (`too-large`), not as files. */
  readonly maxFileSize: number;
  /** Absolute paths of directories never walked, whatever the other options say (e.g. the cache directory). */
  readonly excludeDirs?: readonly string[];
  /** Aborting stops the walk: the generator throws `signal.reason` at its next step. */
  readonly signal?: AbortSignal;
}

/** A source file to read. */
export interface DiscoveredFile {
  readonly type: 'file';
  /** Root-relative, `/` separators: the path the file is known by (a link's own path when reached through one). */
  readonly path: string;
  /** The file's realpath: the one to read. */
  readonly absolutePath: string;
  /** Size in bytes when discovered. */
  readonly size: number;
  /**
   * The file's stat (of the target, for a link) at discovery: the restart path compares it with the
   * index. A walk gives plain `Stats` (times as millisecond doubles: no BigInt per field, measured
   * ~10% of a restart's stat cost); a list of files (listed-files.ts) gives nanosecond `BigIntStats`.
   */
  readonly stats: Stats | BigIntStats;
}

export interface DiscoverySkipped {
  readonly type: 'skipped';
  readonly skip: FileSkip;
}

/** A source file that could not be stat'ed (e.g. a dangling symlink: `ENOENT`). */
export interface DiscoveryFailed {
  readonly type: 'failed';
  readonly failure: FileFailure;
}

/** Something that is not a source file went wrong (an unreadable directory or ignore file). The walk goes on. */
export interface DiscoveryWarning {
  readonly type: 'warning';
  /** Root-relative, `/` separators; `.` for the root itself. */
  readonly path: string;
  readonly message: string;
}

export type DiscoveryEvent = DiscoveredFile | DiscoverySkipped | DiscoveryFailed | DiscoveryWarning;

/** `ignore` matches case-insensitively where the file system usually is. */
const IGNORE_CASE = process.platform === 'darwin' || process.platform === 'win32';

/**
 * Walks `root` and yields its source files, skips, failures and warnings as it goes.
 * Throws only when the root itself cannot be resolved (it does not exist) or the signal aborts.
 */
export async function* discoverSourceFiles(root: string, options: DiscoveryOptions): AsyncGenerator<DiscoveryEvent> {
  const { signal } = options;
  signal?.throwIfAborted();
  // A flag set by the abort event: reading `signal.aborted` per entry cost ~8 ms of a 10,000-file restart.
  let aborted = false;
  const onAbort = (): void => {
    aborted = true;
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const rootReal = fs.realpathSync(path.resolve(root));
    const walk = new Walk(rootReal, options.includeNodeModules, options.maxFileSize, resolveExcludes(root, options.excludeDirs ?? []));

    const rootListing = readDirectory(rootReal);
    const layers: Layer[] = [];
    if (rootListing.entries.some((entry) => entry.name === '.git' && entry.isDirectory())) {
      const exclude = readIgnoreFile(path.join(rootReal, '.git', 'info', 'exclude'));
      if (exclude.error !== undefined) yield warning('.git/info/exclude', `cannot read: ${describe(exclude.error)}`);
      else if (exclude.text !== undefined) layers.push(new Layer('', [exclude.text]));
    }
    const stack: Frame[] = [];
    walk.visitedDirs.add(rootReal);
    yield* walk.open(stack, '', rootReal, layers, rootListing);

    while (stack.length > 0) {
      if (aborted) signal?.throwIfAborted();
      if (walk.syncCalls >= SYNC_CALLS_PER_TURN) {
        walk.syncCalls = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      const frame = stack[stack.length - 1]!;
      if (frame.next >= frame.items.length) {
        stack.pop();
        continue;
      }
      const index = frame.next++;
      const item = frame.items[index]!;
      switch (item.kind) {
        case 'file': {
          const event = walk.fileEvent(item.rel, item.real, lstat(item.real));
          walk.syncCalls++;
          if (event) yield event;
          break;
        }
        case 'dir': {
          const listing = readDirectory(item.real);
          walk.syncCalls += 1 + (listing.entries.length >> 6);
          walk.visitedDirs.add(item.real);
          const layersBelow = item.reincluded ? deriveLayers(frame.layers, item.rel) : frame.layers;
          yield* walk.open(stack, item.rel, item.real, layersBelow, listing);
          break;
        }
        case 'link':
          yield* walk.followLink(stack, frame, item);
          break;
      }
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Every file-system call of the walk is synchronous: on a 2-core machine a promise `lstat` per file
 * walked 100,000 files at ~55,000/s, `lstatSync` at ~170,000/s (a callback `lstat`, 64 in flight,
 * took twice as long as `lstatSync` over 10,000 files). Directory listings were asynchronous and
 * prefetched 32 entries ahead; made synchronous, the main thread no longer idles waiting for them
 * (~40 ms idle out of a 450 ms restart of a 10,000-file tree). After this many synchronous calls
 * (a listing counts 1 per 64 entries) the walk lets the event loop turn, so a consumer's I/O is
 * never starved.
 */
const SYNC_CALLS_PER_TURN = 1024;

// ---------------------------------------------------------------------------------------------
// Walk state

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
}

interface Frame {
  readonly rel: string;
  readonly layers: readonly Layer[];
  readonly items: readonly Item[];
  next: number;
}

interface Listing {
  /** Sorted with {@link compareNames}. */
  readonly entries: readonly Dirent[];
  readonly error?: unknown;
  /** Text of the directory's `.gitignore`, when it has one. */
  readonly gitignore?: string;
  readonly gitignoreError?: unknown;
}

type StatResult = { readonly ok: true; readonly stats: Stats } | { readonly ok: false; readonly error: unknown };

type LinkResult = { readonly ok: true; readonly target: string; readonly stats: Stats } | { readonly ok: false; readonly error: unknown };

class Walk {
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
  ) {}

  /** Pushes the frame of a directory about to be walked; yields warnings about the directory itself. */
  *open(stack: Frame[], rel: string, real: string, inherited: readonly Layer[], listing: Listing): Generator<DiscoveryEvent> {
    if (listing.error !== undefined) {
      yield warning(rel === '' ? '.' : rel, `cannot read directory: ${describe(listing.error)}`);
      return;
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
        items.push({ kind: 'dir', name, rel: childRel, real: childReal, reincluded: verdict === 'reincluded' });
      } else if (entry.isFile()) {
        if (!isSourceFile(name)) continue;
        if (ignoreVerdict(layers, childRel, false) === 'ignored') continue;
        items.push({ kind: 'file', name, rel: childRel, real: childReal, reincluded: false });
      } else if (entry.isSymbolicLink()) {
        if (name === 'node_modules' && !this.includeNodeModules) continue;
        items.push({ kind: 'link', name, rel: childRel, real: childReal, reincluded: false });
      }
    }
    if (items.length > 0) stack.push({ rel, layers, items, next: 0 });
  }

  /** The event for a source file reached at `rel`, whose realpath is `real`; undefined when already reported. */
  fileEvent(rel: string, real: string, result: Stats | StatResult): DiscoveryEvent | undefined {
    let stats: Stats;
    if (result instanceof fs.Stats) stats = result;
    else if (!result.ok) return failed(rel, result.error);
    else stats = result.stats;
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
    // The walk's ancestors and every directory walked before are in `visitedDirs`.
    if (this.visitedDirs.has(target)) {
      yield skipped(item.rel, 'symlink-loop');
      return;
    }
    this.visitedDirs.add(target);
    const layersBelow = verdict === 'reincluded' ? deriveLayers(frame.layers, item.rel) : frame.layers;
    yield* this.open(stack, item.rel, target, layersBelow, readDirectory(target));
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
  #firstVisit(real: string, stats: Stats): boolean {
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

function joinRel(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

// ---------------------------------------------------------------------------------------------
// Ignore files

/**
 * Tests made through one `ignore` matcher before it is replaced by a fresh one: `ignore` caches the
 * result of every path it has seen (and of its parents), which would otherwise grow with the tree.
 */
const MATCHER_CACHE_LIMIT = 16_384;

/** The patterns of one ignore file, matched against paths relative to its directory. */
class Layer {
  #matcher: Ignore;
  #tests = 0;

  /**
   * @param base root-relative directory holding the ignore file; '' for the root.
   * @param patterns the texts of its patterns, kept to rebuild the matcher and to derive variants.
   */
  constructor(
    readonly base: string,
    readonly patterns: readonly string[],
  ) {
    this.#matcher = Layer.#compile(patterns);
  }

  /** Tests a root-relative path below `base` (with a trailing '/' for a directory). */
  test(rel: string): { ignored: boolean; unignored: boolean } {
    if (++this.#tests > MATCHER_CACHE_LIMIT) {
      this.#matcher = Layer.#compile(this.patterns);
      this.#tests = 0;
    }
    return this.#matcher.test(this.base === '' ? rel : rel.slice(this.base.length + 1));
  }

  static #compile(patterns: readonly string[]): Ignore {
    const matcher = ignore({ ignorecase: IGNORE_CASE });
    // One `add` per text: `ignore` splits a string into lines, but not the strings of an array.
    for (const text of patterns) matcher.add(text);
    return matcher;
  }
}

type Verdict = 'ignored' | 'included' | 'reincluded';

/** Git's rule: the deepest ignore file with a matching pattern decides; none matching means included. */
function ignoreVerdict(layers: readonly Layer[], rel: string, directory: boolean): Verdict {
  for (let index = layers.length - 1; index >= 0; index--) {
    const result = layers[index]!.test(directory ? `${rel}/` : rel);
    if (result.ignored) return 'ignored';
    if (result.unignored) return directory ? 'reincluded' : 'included';
  }
  return 'included';
}

/**
 * Layers for the inside of a directory that a deeper ignore file re-included after a shallower one
 * excluded it. `ignore` treats everything under an excluded directory as excluded, which is right
 * for the layer alone but not once a deeper file re-included the directory (git then matches the
 * shallower patterns against each path below, one by one). The shallower layer gets a trailing
 * `!/dir/` so that it no longer excludes the directory, only what its own patterns match below it.
 */
function deriveLayers(layers: readonly Layer[], dirRel: string): readonly Layer[] {
  return layers.map((layer) => {
    if (!layer.test(`${dirRel}/`).ignored) return layer;
    const relative = layer.base === '' ? dirRel : dirRel.slice(layer.base.length + 1);
    return new Layer(layer.base, [...layer.patterns, `!/${escapePattern(relative)}/`]);
  });
}

/** Escapes a literal path for use in a gitignore pattern. */
function escapePattern(literal: string): string {
  return literal.replace(/[\\*?[\]]/g, '\\$&').replace(/ $/, '\\ ');
}

function readIgnoreFile(file: string): { text?: string; error?: unknown } {
  try {
    return { text: stripBom(fs.readFileSync(file, 'utf8')) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return {};
    return { error };
  }
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

// ---------------------------------------------------------------------------------------------
// File-system calls (synchronous: see SYNC_CALLS_PER_TURN). `readDirectory` never throws.

function readDirectory(dir: string): Listing {
  let entries: Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    return { entries: [], error };
  }
  entries.sort(compareNames);
  const ignoreEntry = entries.find((entry) => entry.name === '.gitignore');
  if (!ignoreEntry || ignoreEntry.isDirectory()) return { entries };
  const file = readIgnoreFile(`${dir}/.gitignore`);
  if (file.error !== undefined) return { entries, gitignoreError: file.error };
  return file.text === undefined ? { entries } : { entries, gitignore: file.text };
}

/** The file's stats, or (rarely) the error in a wrapper: no allocation beyond the Stats itself. */
function lstat(file: string): Stats | StatResult {
  try {
    return fs.lstatSync(file);
  } catch (error) {
    return { ok: false, error };
  }
}

function resolveLink(link: string): LinkResult {
  try {
    const target = fs.realpathSync.native(link);
    return { ok: true, target, stats: fs.statSync(target) };
  } catch (error) {
    return { ok: false, error };
  }
}

/** `excludeDirs` as absolute paths, each also by realpath when it exists. */
function resolveExcludes(root: string, excludeDirs: readonly string[]): string[] {
  const resolved = new Set<string>();
  for (const dir of excludeDirs) {
    const absolute = path.resolve(root, dir);
    resolved.add(absolute);
    // A directory that is not there (yet) is matched by the path as given only.
    try {
      resolved.add(fs.realpathSync(absolute));
    } catch {
      // not there (yet)
    }
  }
  return [...resolved];
}

/**
 * Orders names by their UTF-8 bytes, i.e. by code point. JavaScript's `<` compares UTF-16 code
 * units, which puts U+E000–U+FFFF after the astral planes; this moves surrogates above them.
 */
export function compareNames(a: Dirent | string, b: Dirent | string): number {
  const x = typeof a === 'string' ? a : a.name;
  const y = typeof b === 'string' ? b : b.name;
  const length = Math.min(x.length, y.length);
  for (let index = 0; index < length; index++) {
    let cx = x.charCodeAt(index);
    let cy = y.charCodeAt(index);
    if (cx === cy) continue;
    if (cx >= 0xd800 && cy >= 0xd800) {
      cx = cx >= 0xe000 ? cx - 0x800 : cx + 0x2000;
      cy = cy >= 0xe000 ? cy - 0x800 : cy + 0x2000;
    }
    return cx - cy;
  }
  return x.length - y.length;
}

// ---------------------------------------------------------------------------------------------
// Events

function skipped(rel: string, reason: SkipReason): DiscoverySkipped {
  return { type: 'skipped', skip: { path: rel, reason } };
}

function failed(rel: string, error: unknown): DiscoveryFailed {
  return { type: 'failed', failure: { path: rel, code: fileFailureCodeOf(error), message: describe(error) } };
}

function warning(rel: string, message: string): DiscoveryWarning {
  return { type: 'warning', path: rel, message };
}

/** An fs error without the absolute path Node puts in its message (reports stay root-relative). */
function describe(error: unknown): string {
  const { code, syscall } = error as NodeJS.ErrnoException;
  if (typeof code === 'string' && typeof syscall === 'string') {
    const message = error instanceof Error ? error.message : '';
    const text = message.startsWith(`${code}: `) ? message.slice(code.length + 2).split(', ')[0] : code;
    return `${syscall} failed: ${code} (${text})`;
  }
  return error instanceof Error ? error.message : String(error);
}
