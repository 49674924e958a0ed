/**
 * The watcher behind L4 streams: chokidar on the root, file events turned into invalidations of an
 * injected target (the engine) and published to subscribers, each through its own bounded
 * {@link EventQueue}.
 *
 * - Source files only (discovery's {@link isSourceFile}); `.git`, `node_modules` (unless included),
 *   the cache directory and `.gitignore` rules at every depth (plus `.git/info/exclude`) are ignored,
 *   with git's precedence (the deepest ignore file with a matching pattern decides).
 * - Atomic saves: chokidar's `atomic` mode turns an unlink followed within 100 ms by an add of the
 *   same path into a `change`; a temporary file renamed over the original reports the original as
 *   changed (its fingerprint moved). Editor temp files named like `.x.swp` or `x~` are never source files.
 * - Trust but verify: chokidar drops a second `change` of one path within 50 ms (its throttle), so
 *   every add/change is re-stat'ed {@link VERIFY_DELAY_MS} later and a fingerprint that moved since
 *   is published as one more `change`. A `change` whose fingerprint equals the known one is not
 *   published twice.
 * - Storms: more than `stormThreshold` events within `stormWindowMs` (inotify's overflow never
 *   reaches chokidar, so it must be inferred), or any watcher `error`, triggers a rescan by stat of the
 *   affected directories (all of them after an error), compared with the fingerprints (size, mtime,
 *   ctime, inode) of the source files seen; what differs is invalidated and published. A rescan's own
 *   work never counts as events, so it cannot re-trigger itself.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import ignore from 'ignore';
import type { Ignore } from 'ignore';
import { isSourceFile } from '../discovery/discovery.js';
import { EventQueue, type EventQueueOptions, type WatchEvent, type WatchEventKind } from './event-queue.js';

export type { WatchEvent, WatchEventKind } from './event-queue.js';

type Chokidar = typeof import('chokidar');
type FSWatcher = import('chokidar').FSWatcher;

/** What the service invalidates: the engine, or anything shaped like it. */
export interface WatchTarget {
  readonly root: string;
  /** Drops cached state of these root-relative paths; returns the new revision. */
  invalidate(paths: string[]): number;
  /** Extra ignore rule, on root-relative `/` paths. */
  isIgnored?(relativePath: string): boolean;
  /** Files whose results may depend on this one (reverse edges, transitively), when known cheaply. */
  dependentsOf?(relativePath: string): readonly string[];
}

export interface WatchServiceOptions {
  /** Absolute cache directory to ignore (the default one is under node_modules, ignored anyway). */
  readonly cacheDir?: string | null;
  readonly includeNodeModules?: boolean;
  /** Events within `stormWindowMs` past which a storm is inferred (default 2,000). */
  readonly stormThreshold?: number;
  /** Default 1,000 ms. */
  readonly stormWindowMs?: number;
  /** Default queue bound of subscribers (default 1,000 distinct paths). */
  readonly queueBound?: number;
  /** Poll instead of native events (network file systems). */
  readonly usePolling?: boolean;
  /** Called after each rescan (storm, watcher error, new directory check, or an explicit `rescan()`). */
  readonly onRescan?: (info: RescanInfo) => void;
}

export interface RescanInfo {
  readonly reason: 'storm' | 'error' | 'new-directory' | 'request';
  /** Root-relative directories rescanned ('' = the whole tree). */
  readonly dirs: readonly string[];
  /** Files found added, changed or removed since last seen. */
  readonly changes: number;
}

export interface Subscription extends AsyncIterable<WatchEvent> {
  next(): Promise<IteratorResult<WatchEvent, undefined>>;
  poll(): WatchEvent | undefined;
  close(): void;
  readonly queue: EventQueue;
}

export interface WatchServiceStats {
  readonly events: number;
  readonly published: number;
  readonly verified: number;
  readonly rescans: number;
  readonly rescanChanges: number;
  /** New directories re-read after chokidar reported them (it can miss files created in them at once). */
  readonly dirChecks: number;
  readonly errors: number;
  readonly knownFiles: number;
  readonly subscribers: number;
}

/** Delay before an add/change is re-stat'ed (past chokidar's 50 ms change throttle). */
export const VERIFY_DELAY_MS = 75;
/** Further re-reads of a new directory after the first, in ms: files written into it meanwhile are not missed. */
export const NEW_DIR_RECHECKS_MS = [400, 1_500] as const;
/** A vanished file is checked again after chokidar's 100 ms atomic window before it is reported gone. */
const VANISHED_RECHECK_MS = 150;
/** Quiet time after a storm's last event before the rescan runs (it also runs at the latest one window later). */
const STORM_QUIET_MS = 150;
/** Directories remembered per window; past it, a storm rescans the whole root. */
const MAX_TOUCHED_DIRS = 10_000;

interface Fingerprint {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly ino: number;
}

function fingerprintOf(stats: fs.Stats): Fingerprint {
  return { size: stats.size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs, ino: stats.ino };
}

function sameFingerprint(a: Fingerprint, b: Fingerprint): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino;
}

function statFile(file: string): fs.Stats | null {
  try {
    const stats = fs.statSync(file);
    return stats.isFile() ? stats : null;
  } catch {
    return null;
  }
}

export class WatchService {
  readonly root: string;
  readonly #target: WatchTarget;
  readonly #rules: IgnoreRules;
  readonly #watcher: FSWatcher;
  readonly #ready: Promise<void>;
  readonly #subscribers = new Set<EventQueue>();
  readonly #queueBound: number;
  /** Source files seen, root-relative → fingerprint. */
  readonly #known = new Map<string, Fingerprint>();
  /** Paths to re-stat, root-relative → when (performance.now()). */
  readonly #verify = new Map<string, { due: number; vanishedOnce: boolean }>();
  #verifyTimer: NodeJS.Timeout | null = null;
  readonly #stormThreshold: number;
  readonly #stormWindowMs: number;
  #windowStart = 0;
  #windowCount = 0;
  #touchedDirs = new Set<string>();
  #touchedOverflow = false;
  #storm = false;
  #stormTimer: NodeJS.Timeout | null = null;
  #stormStarted = 0;
  #rescanning: Promise<void> | null = null;
  #rescanAgain: 'all' | Set<string> | null = null;
  readonly #onRescan: ((info: RescanInfo) => void) | undefined;
  /** New directories to re-read, root-relative. */
  readonly #newDirs = new Set<string>();
  #newDirTimer: NodeJS.Timeout | null = null;
  /** Later re-reads of new directories (see NEW_DIR_RECHECKS_MS). */
  readonly #newDirFollowUps = new Set<NodeJS.Timeout>();
  #dirChecks = 0;
  #closed = false;
  #events = 0;
  #published = 0;
  #verified = 0;
  #rescans = 0;
  #rescanChanges = 0;
  #errors = 0;

  constructor(target: WatchTarget, options: WatchServiceOptions = {}) {
    this.#target = target;
    this.root = path.resolve(target.root);
    this.#queueBound = options.queueBound ?? 1_000;
    this.#stormThreshold = options.stormThreshold ?? 2_000;
    this.#stormWindowMs = options.stormWindowMs ?? 1_000;
    this.#onRescan = options.onRescan;
    this.#rules = new IgnoreRules(this.root, options.includeNodeModules === true, options.cacheDir ?? null);
    // chokidar 5 is ESM-only; Node >= 20.19 `require`s it (jest cannot: test through a child process).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const chokidar = require('chokidar') as Chokidar;
    this.#watcher = chokidar.watch(this.root, {
      ignoreInitial: true,
      atomic: true,
      awaitWriteFinish: false,
      followSymlinks: true,
      persistent: true,
      ...(options.usePolling ? { usePolling: true } : {}),
      ignored: (file: string, stats?: fs.Stats) => this.#ignoredAbsolute(file, stats),
    });
    this.#watcher.on('add', (file: string, stats?: fs.Stats) => this.#onFile('add', file, stats));
    this.#watcher.on('change', (file: string, stats?: fs.Stats) => this.#onFile('change', file, stats));
    this.#watcher.on('unlink', (file: string) => this.#onFile('unlink', file, undefined));
    this.#watcher.on('addDir', (dir: string) => this.#onAddDir(dir));
    this.#watcher.on('unlinkDir', (dir: string) => this.#onUnlinkDir(dir));
    this.#watcher.on('error', (error: unknown) => this.#onError(error));
    this.#ready = new Promise<void>((resolve) => {
      this.#watcher.once('ready', () => {
        this.#baseline();
        resolve();
      });
    });
  }

  /** Resolves once the initial scan is done and changes from now on are reported. */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** A new subscriber with its own bounded queue; `close()` it when done. */
  subscribe(options: EventQueueOptions = {}): Subscription {
    const queue = new EventQueue({ bound: options.bound ?? this.#queueBound });
    if (this.#closed) queue.close();
    else this.#subscribers.add(queue);
    const subscribers = this.#subscribers;
    return {
      queue,
      next: () => queue.next(),
      poll: () => queue.poll(),
      close: () => {
        subscribers.delete(queue);
        queue.close();
      },
      [Symbol.asyncIterator]: () => queue,
    };
  }

  stats(): WatchServiceStats {
    return {
      events: this.#events,
      published: this.#published,
      verified: this.#verified,
      rescans: this.#rescans,
      rescanChanges: this.#rescanChanges,
      dirChecks: this.#dirChecks,
      errors: this.#errors,
      knownFiles: this.#known.size,
      subscribers: this.#subscribers.size,
    };
  }

  /** Whether a root-relative path is ignored (not a source-file check). */
  isIgnored(relative: string, directory = false): boolean {
    return this.#rules.isIgnored(relative, directory) || this.#target.isIgnored?.(relative) === true;
  }

  /**
   * Re-stats the source files of these root-relative directories (and new directories below them),
   * or of the whole tree, and publishes what differs from the known fingerprints. Returns the number
   * of changes found. One rescan runs at a time; a request during one runs once after it.
   */
  async rescan(dirs: Iterable<string> | 'all' = 'all', reason: RescanInfo['reason'] = 'request'): Promise<number> {
    if (this.#closed) return 0;
    if (this.#rescanning) {
      if (dirs === 'all' || this.#rescanAgain === 'all') this.#rescanAgain = 'all';
      else {
        const again = this.#rescanAgain ?? new Set<string>();
        for (const dir of dirs) again.add(dir);
        this.#rescanAgain = again;
      }
      await this.#rescanning;
      return 0;
    }
    let changes = 0;
    const run = (async () => {
      let request: 'all' | Iterable<string> | null = dirs;
      while (request !== null && !this.#closed) {
        this.#rescans++;
        const list = request === 'all' ? [''] : [...request];
        const found = this.#rescanNow(list);
        changes += found;
        this.#onRescan?.({ reason, dirs: list, changes: found });
        request = this.#rescanAgain;
        this.#rescanAgain = null;
        if (request !== null) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    })();
    this.#rescanning = run;
    try {
      await run;
    } finally {
      this.#rescanning = null;
    }
    return changes;
  }

  /** Stops watching, ends every subscription and clears every timer. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#verifyTimer) clearTimeout(this.#verifyTimer);
    if (this.#stormTimer) clearTimeout(this.#stormTimer);
    if (this.#newDirTimer) clearTimeout(this.#newDirTimer);
    this.#verifyTimer = null;
    this.#stormTimer = null;
    this.#newDirTimer = null;
    for (const timer of this.#newDirFollowUps) clearTimeout(timer);
    this.#newDirFollowUps.clear();
    this.#newDirs.clear();
    this.#verify.clear();
    for (const queue of this.#subscribers) queue.close();
    this.#subscribers.clear();
    await this.#watcher.close();
  }

  // -------------------------------------------------------------------------------------------
  // chokidar events

  #relative(file: string): string | null {
    const relative = path.relative(this.root, path.resolve(this.root, file));
    if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) return null;
    return path.sep === '/' ? relative : relative.split(path.sep).join('/');
  }

  #ignoredAbsolute(file: string, stats?: fs.Stats): boolean {
    const relative = this.#relative(file);
    if (relative === null) return false;
    // Without stats chokidar does not say whether this is a directory: a source-file name is
    // tested as a file; anything else as a directory too (a `dir/` pattern then matches).
    const directory = stats ? stats.isDirectory() : undefined;
    if (directory === undefined && !isSourceFile(relative)) {
      if (this.isIgnored(relative, true)) return true;
    }
    return this.isIgnored(relative, directory === true);
  }

  #onFile(kind: 'add' | 'change' | 'unlink', file: string, stats: fs.Stats | undefined): void {
    if (this.#closed) return;
    const relative = this.#relative(file);
    if (relative === null) return;
    if (!isSourceFile(relative)) {
      if (path.basename(relative) === '.gitignore') this.#rules.forget(path.dirname(relative) === '.' ? '' : path.dirname(relative).split(path.sep).join('/'));
      return;
    }
    if (this.#target.isIgnored?.(relative) === true) return;
    const detectedAt = performance.now();
    this.#events++;
    this.#countForStorm(relative, detectedAt);
    if (kind === 'unlink') {
      this.#verify.delete(relative);
      const known = this.#known.delete(relative);
      const revision = this.#target.invalidate([relative]);
      if (known) this.#publish('unlink', relative, [relative], revision, detectedAt);
      return;
    }
    const current = stats && stats.isFile() ? stats : statFile(path.join(this.root, relative));
    if (!current) {
      // Gone already: chokidar reports the unlink (or the verify pass does).
      this.#scheduleVerify(relative, detectedAt);
      return;
    }
    if (!this.#apply(relative, fingerprintOf(current), detectedAt)) this.#scheduleVerify(relative, detectedAt);
  }

  #onUnlinkDir(dir: string): void {
    if (this.#closed) return;
    const relative = this.#relative(dir);
    if (relative === null) return;
    const detectedAt = performance.now();
    this.#events++;
    this.#countForStorm(relative, detectedAt);
    const prefix = `${relative}/`;
    const gone: string[] = [];
    for (const file of this.#known.keys()) if (file.startsWith(prefix)) gone.push(file);
    if (gone.length === 0) return;
    for (const file of gone) {
      this.#known.delete(file);
      this.#verify.delete(file);
    }
    const revision = this.#target.invalidate(gone);
    for (const file of gone) this.#publish('unlink', file, [file], revision, detectedAt);
  }

  #onError(error: unknown): void {
    if (this.#closed) return;
    this.#errors++;
    void error; // the cause does not matter: something may have been missed, so look again
    void this.rescan('all', 'error');
  }

  /**
   * chokidar lists a new directory once it watches it, and can miss files created in it before
   * then: the directory is re-read by stat a moment later (not counted as events: no storm loop).
   */
  #onAddDir(dir: string): void {
    if (this.#closed) return;
    const relative = this.#relative(dir);
    if (relative === null) return;
    this.#newDirs.add(relative);
    if (this.#newDirTimer) return;
    this.#newDirTimer = setTimeout(() => {
      this.#newDirTimer = null;
      if (this.#closed) return;
      const dirs = [...this.#newDirs].filter((d) => ![...this.#newDirs].some((other) => other !== d && d.startsWith(`${other}/`)));
      this.#newDirs.clear();
      this.#checkNewDirs(dirs);
      // Files may still be landing in them while chokidar sets their watches up (a checkout, an
      // unpacked archive): read them again a little later, a bounded number of times.
      for (const delay of NEW_DIR_RECHECKS_MS) {
        const timer = setTimeout(() => {
          this.#newDirFollowUps.delete(timer);
          if (!this.#closed) this.#checkNewDirs(dirs);
        }, delay);
        this.#newDirFollowUps.add(timer);
      }
    }, VERIFY_DELAY_MS);
  }

  #checkNewDirs(dirs: string[]): void {
    this.#dirChecks += dirs.length;
    const changes = this.#rescanNow(dirs, true);
    this.#onRescan?.({ reason: 'new-directory', dirs, changes });
  }

  /** Records a file's current fingerprint and publishes what it means; nothing when unchanged. */
  #apply(relative: string, fingerprint: Fingerprint, detectedAt: number): boolean {
    const known = this.#known.get(relative);
    if (known && sameFingerprint(known, fingerprint)) return false;
    this.#known.set(relative, fingerprint);
    const revision = this.#target.invalidate([relative]);
    this.#publish(known ? 'change' : 'add', relative, [relative], revision, detectedAt);
    // Whoever saw it (chokidar, a verify pass, a rescan), look again once more: until it is stable.
    this.#scheduleVerify(relative, performance.now());
    return true;
  }

  #publish(kind: WatchEventKind, relative: string, changed: string[], revision: number, detectedAt: number): void {
    this.#published++;
    const dependents = this.#target.dependentsOf?.(relative) ?? [];
    const invalidated = dependents.length === 0 ? changed : [...new Set([...changed, ...dependents])];
    const event: WatchEvent = { event: kind, path: relative, invalidated, revision, detectedAt };
    for (const queue of this.#subscribers) queue.push(event);
  }

  // -------------------------------------------------------------------------------------------
  // Trust but verify

  #scheduleVerify(relative: string, now: number): void {
    this.#verify.delete(relative); // re-inserted last: the map stays ordered by due time
    this.#verify.set(relative, { due: now + VERIFY_DELAY_MS, vanishedOnce: false });
    this.#armVerify();
  }

  #armVerify(): void {
    if (this.#verifyTimer || this.#closed) return;
    const first = this.#verify.values().next();
    if (first.done) return;
    const delay = Math.max(0, first.value.due - performance.now());
    this.#verifyTimer = setTimeout(() => {
      this.#verifyTimer = null;
      this.#runVerify();
    }, delay);
  }

  #runVerify(): void {
    if (this.#closed) return;
    const now = performance.now();
    const recheck: [string, { due: number; vanishedOnce: boolean }][] = [];
    for (const [relative, entry] of this.#verify) {
      if (entry.due > now) break;
      this.#verify.delete(relative);
      this.#verified++;
      const stats = statFile(path.join(this.root, relative));
      if (stats) {
        this.#apply(relative, fingerprintOf(stats), now);
      } else if (this.#known.has(relative)) {
        if (!entry.vanishedOnce) {
          recheck.push([relative, { due: now + VANISHED_RECHECK_MS, vanishedOnce: true }]);
        } else {
          this.#known.delete(relative);
          this.#publish('unlink', relative, [relative], this.#target.invalidate([relative]), now);
        }
      }
    }
    for (const [relative, entry] of recheck) if (!this.#verify.has(relative)) this.#verify.set(relative, entry);
    this.#armVerify();
  }

  // -------------------------------------------------------------------------------------------
  // Storms

  #countForStorm(relative: string, now: number): void {
    if (now - this.#windowStart > this.#stormWindowMs && !this.#storm) {
      this.#windowStart = now;
      this.#windowCount = 0;
      this.#touchedDirs = new Set();
      this.#touchedOverflow = false;
    }
    this.#windowCount++;
    if (!this.#touchedOverflow) {
      const slash = relative.lastIndexOf('/');
      this.#touchedDirs.add(slash < 0 ? '' : relative.slice(0, slash));
      if (this.#touchedDirs.size > MAX_TOUCHED_DIRS) this.#touchedOverflow = true;
    }
    if (!this.#storm && this.#windowCount > this.#stormThreshold) {
      this.#storm = true;
      this.#stormStarted = now;
    }
    if (this.#storm) this.#armStormRescan(now);
  }

  /** The rescan runs once the storm has been quiet for a moment, or one window after it began. */
  #armStormRescan(now: number): void {
    if (this.#stormTimer) clearTimeout(this.#stormTimer);
    const latest = this.#stormStarted + this.#stormWindowMs;
    const delay = Math.max(0, Math.min(STORM_QUIET_MS, latest - now));
    this.#stormTimer = setTimeout(() => {
      this.#stormTimer = null;
      const dirs: 'all' | string[] = this.#touchedOverflow ? 'all' : [...this.#touchedDirs];
      this.#storm = false;
      this.#windowStart = performance.now();
      this.#windowCount = 0;
      this.#touchedDirs = new Set();
      this.#touchedOverflow = false;
      void this.rescan(dirs, 'storm');
    }, delay);
  }

  /** Stats the source files of `dirs` (root-relative; '' = the root, recursively) against the known fingerprints. */
  #rescanNow(dirs: readonly string[], recurseAll = false): number {
    const now = performance.now();
    let changes = 0;
    const seen = new Set<string>();
    const visitedDirs = new Set<string>();
    const recursive = dirs.includes('');
    const stack = recursive ? [''] : [...new Set(dirs)];
    while (stack.length > 0) {
      const dir = stack.pop()!;
      if (visitedDirs.has(dir)) continue;
      visitedDirs.add(dir);
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(dir === '' ? this.root : path.join(this.root, dir), { withFileTypes: true });
      } catch {
        entries = []; // the directory is gone: its known files are reported below
      }
      for (const entry of entries) {
        const relative = dir === '' ? entry.name : `${dir}/${entry.name}`;
        let isDir = entry.isDirectory();
        let isFile = entry.isFile();
        if (entry.isSymbolicLink()) {
          const stats = statFile(path.join(this.root, relative));
          isFile = stats !== null;
          isDir = false; // links to directories are left to chokidar
        }
        if (isDir) {
          if (this.isIgnored(relative, true)) continue;
          // A directory with no known file below it is new (or was missed): walk it too.
          if (recursive || recurseAll || !this.#hasKnownBelow(relative)) stack.push(relative);
          continue;
        }
        if (!isFile || !isSourceFile(relative) || this.isIgnored(relative, false)) continue;
        seen.add(relative);
        const stats = statFile(path.join(this.root, relative));
        if (stats && this.#apply(relative, fingerprintOf(stats), now)) changes++;
      }
    }
    // Known files in the rescanned directories that no longer exist.
    const gone: string[] = [];
    for (const file of this.#known.keys()) {
      if (seen.has(file)) continue;
      const slash = file.lastIndexOf('/');
      const dir = slash < 0 ? '' : file.slice(0, slash);
      if (!(recursive || visitedDirs.has(dir))) continue;
      if (statFile(path.join(this.root, file))) continue;
      gone.push(file);
    }
    if (gone.length > 0) {
      for (const file of gone) {
        this.#known.delete(file);
        this.#verify.delete(file);
      }
      const revision = this.#target.invalidate(gone);
      for (const file of gone) this.#publish('unlink', file, [file], revision, now);
      changes += gone.length;
    }
    this.#rescanChanges += changes;
    return changes;
  }

  #hasKnownBelow(dir: string): boolean {
    const prefix = `${dir}/`;
    for (const file of this.#known.keys()) if (file.startsWith(prefix)) return true;
    return false;
  }

  /** Fingerprints of every source file chokidar watches, taken once it is ready. */
  #baseline(): void {
    const watched = this.#watcher.getWatched();
    for (const [dir, names] of Object.entries(watched)) {
      for (const name of names) {
        const relative = this.#relative(path.join(dir, name));
        if (relative === null || !isSourceFile(relative) || this.#known.has(relative)) continue;
        if (this.#target.isIgnored?.(relative) === true) continue;
        const stats = statFile(path.join(this.root, relative));
        if (stats) this.#known.set(relative, fingerprintOf(stats));
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Ignore rules (discovery's, for single paths): `.git`, `node_modules`, the cache directory,
// `.gitignore` at every depth and `.git/info/exclude`, the deepest matching file deciding.

/** Tests through one matcher before it is rebuilt (`ignore` caches every path it has seen). */
const MATCHER_CACHE_LIMIT = 16_384;

const IGNORE_CASE = process.platform === 'darwin' || process.platform === 'win32';

class Matcher {
  #matcher: Ignore;
  #tests = 0;
  constructor(readonly text: string) {
    this.#matcher = ignore({ ignorecase: IGNORE_CASE }).add(text);
  }
  test(relative: string): { ignored: boolean; unignored: boolean } {
    if (++this.#tests > MATCHER_CACHE_LIMIT) {
      this.#matcher = ignore({ ignorecase: IGNORE_CASE }).add(this.text);
      this.#tests = 0;
    }
    return this.#matcher.test(relative);
  }
}

export class IgnoreRules {
  /** root-relative directory → the matcher of its `.gitignore` (null: none). */
  readonly #layers = new Map<string, Matcher | null>();
  readonly #exclude: Matcher | null;
  readonly #cacheDir: string | null;

  constructor(
    readonly root: string,
    readonly includeNodeModules: boolean,
    cacheDir: string | null,
  ) {
    this.#exclude = readMatcher(path.join(root, '.git', 'info', 'exclude'));
    const relative = cacheDir === null ? null : path.relative(root, path.resolve(root, cacheDir)).split(path.sep).join('/');
    this.#cacheDir = relative === null || relative === '' || relative.startsWith('..') || path.isAbsolute(relative) ? null : relative;
  }

  /** Drops a directory's cached `.gitignore` (it changed). */
  forget(dir: string): void {
    this.#layers.delete(dir);
  }

  isIgnored(relative: string, directory: boolean): boolean {
    const segments = relative.split('/');
    for (const segment of segments) {
      if (segment === '.git') return true;
      if (segment === 'node_modules' && !this.includeNodeModules) return true;
    }
    const cacheDir = this.#cacheDir;
    if (cacheDir !== null && (relative === cacheDir || relative.startsWith(`${cacheDir}/`))) return true;
    const tested = directory ? `${relative}/` : relative;
    // Deepest ignore file first: the first with a matching pattern decides.
    for (let depth = segments.length - 1; depth >= 0; depth--) {
      const base = segments.slice(0, depth).join('/');
      const layer = this.#layer(base);
      if (!layer) continue;
      const result = layer.test(base === '' ? tested : tested.slice(base.length + 1));
      if (result.ignored) return true;
      if (result.unignored) return false;
    }
    if (this.#exclude) {
      const result = this.#exclude.test(tested);
      if (result.ignored) return true;
    }
    return false;
  }

  #layer(dir: string): Matcher | null {
    let layer = this.#layers.get(dir);
    if (layer === undefined) {
      layer = readMatcher(path.join(this.root, dir, '.gitignore'));
      this.#layers.set(dir, layer);
    }
    return layer;
  }
}

function readMatcher(file: string): Matcher | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return text.trim() === '' ? null : new Matcher(text);
}
