/**
 * The watcher behind L4 streams: chokidar on the root, file events turned into invalidations of an
 * injected target (the engine) and published to subscribers, each through its own bounded
 * {@link EventQueue}. This file holds the wiring and the event flow; each safeguard has its module.
 *
 * - Source files only (discovery's {@link isSourceFile}); `.git`, `node_modules` (unless included),
 *   the cache directory and `.gitignore` rules at every depth (plus `.git/info/exclude`) are ignored,
 *   with git's precedence (ignore-rules.ts).
 * - Atomic saves: chokidar's `atomic` mode turns an unlink followed within 100 ms by an add of the
 *   same path into a `change`; a temporary file renamed over the original reports the original as
 *   changed (its fingerprint moved). Editor temp files named like `.x.swp` or `x~` are never source files.
 * - Trust but verify (verify-pass.ts): chokidar drops a second `change` of one path within 50 ms (its
 *   throttle), so every add/change is re-stat'ed a moment later and a fingerprint that moved since
 *   is published as one more `change`. A `change` whose fingerprint equals the known one is not
 *   published twice.
 * - Storms (storm-detector.ts): more than `stormThreshold` events within `stormWindowMs` (inotify's
 *   overflow never reaches chokidar, so it must be inferred), or any watcher `error`, triggers a
 *   rescan by stat (rescan.ts) of the affected directories (all of them after an error), compared
 *   with the fingerprints (size, mtime, ctime, inode) of the source files seen; what differs is
 *   invalidated and published. A rescan's own work never counts as events, so it cannot re-trigger
 *   itself. New directories are re-read the same way (new-dir-checks.ts): chokidar can miss files
 *   created in them before it watches them.
 */
import type * as fs from 'node:fs';
import * as path from 'node:path';
import { isSourceFile } from '../discovery/source-files.js';
import { EventQueue, type EventQueueOptions, type WatchEvent } from './event-queue.js';
import { fingerprintOf, sameFingerprint, statFile, type Fingerprint } from './file-fingerprint.js';
import { IgnoreRules } from './ignore-rules.js';
import { NewDirChecks } from './new-dir-checks.js';
import { RescanRunner, rescanByStat, type RescanFiles, type RescanInfo } from './rescan.js';
import { StormDetector } from './storm-detector.js';
import { VerifyPass } from './verify-pass.js';

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
  /**
   * The other files a change affects (the engine: transitive dependents, with early cutoff), after
   * updating what it knows (the dependency graph) from the file's new state. Called one event at a
   * time, in order; events are published once their files are named.
   */
  affectedBy?(relativePath: string, change: 'add' | 'change' | 'unlink'): readonly string[] | Promise<readonly string[]>;
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
  /** Events waiting for the files they affect to be named (the dependency graph's update). */
  readonly naming: number;
  /** Events whose affected files could not be named (published with their own file only). */
  readonly namingErrors: number;
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
  /** The known files as the verify pass and rescans see them. */
  readonly #files: RescanFiles;
  readonly #verify: VerifyPass;
  readonly #storm: StormDetector;
  readonly #rescans = new RescanRunner();
  readonly #newDirs: NewDirChecks;
  readonly #onRescan: ((info: RescanInfo) => void) | undefined;
  #dirChecks = 0;
  #closed = false;
  #events = 0;
  #published = 0;
  #rescanCount = 0;
  #rescanChanges = 0;
  #errors = 0;
  /** Publications in order: each waits for the one before and for its affected files. */
  #publishing: Promise<void> = Promise.resolve();
  #naming = 0;
  #namingErrors = 0;

  constructor(target: WatchTarget, options: WatchServiceOptions = {}) {
    this.#target = target;
    this.root = path.resolve(target.root);
    this.#queueBound = options.queueBound ?? 1_000;
    this.#onRescan = options.onRescan;
    this.#rules = new IgnoreRules(this.root, options.includeNodeModules === true, options.cacheDir ?? null);
    this.#files = {
      root: this.root,
      known: this.#known,
      apply: (relative, fingerprint, detectedAt) => this.#apply(relative, fingerprint, detectedAt),
      forget: (files, detectedAt) => this.#forget(files, detectedAt),
      isIgnored: (relative, directory) => this.isIgnored(relative, directory),
    };
    this.#verify = new VerifyPass(this.#files);
    this.#storm = new StormDetector(options.stormThreshold ?? 2_000, options.stormWindowMs ?? 1_000, (dirs) => void this.rescan(dirs, 'storm'));
    this.#newDirs = new NewDirChecks((dirs) => this.#checkNewDirs(dirs));
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
      verified: this.#verify.verified,
      rescans: this.#rescanCount,
      rescanChanges: this.#rescanChanges,
      dirChecks: this.#dirChecks,
      errors: this.#errors,
      knownFiles: this.#known.size,
      subscribers: this.#subscribers.size,
      naming: this.#naming,
      namingErrors: this.#namingErrors,
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
    const pass = (list: string[]): number => {
      this.#rescanCount++;
      const found = this.#rescanNow(list);
      this.#onRescan?.({ reason, dirs: list, changes: found });
      return found;
    };
    return this.#rescans.run(dirs, pass, () => this.#closed);
  }

  /** Stops watching, ends every subscription and clears every timer. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#verify.close();
    this.#storm.close();
    this.#newDirs.close();
    for (const queue of this.#subscribers) queue.close();
    this.#subscribers.clear();
    await this.#watcher.close();
    await this.#publishing; // an update of the target's graph in flight finishes before the target closes
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
    this.#storm.count(relative, detectedAt);
    if (kind === 'unlink') {
      this.#verify.cancel(relative);
      const known = this.#known.delete(relative);
      const revision = this.#target.invalidate([relative]);
      if (known) this.#publish('unlink', relative, [relative], revision, detectedAt);
      return;
    }
    const current = stats && stats.isFile() ? stats : statFile(path.join(this.root, relative));
    if (!current) {
      // Gone already: chokidar reports the unlink (or the verify pass does).
      this.#verify.schedule(relative, detectedAt);
      return;
    }
    if (!this.#apply(relative, fingerprintOf(current), detectedAt)) this.#verify.schedule(relative, detectedAt);
  }

  #onUnlinkDir(dir: string): void {
    if (this.#closed) return;
    const relative = this.#relative(dir);
    if (relative === null) return;
    const detectedAt = performance.now();
    this.#events++;
    this.#storm.count(relative, detectedAt);
    const prefix = `${relative}/`;
    const gone: string[] = [];
    for (const file of this.#known.keys()) if (file.startsWith(prefix)) gone.push(file);
    if (gone.length > 0) this.#forget(gone, detectedAt);
  }

  #onError(error: unknown): void {
    if (this.#closed) return;
    this.#errors++;
    void error; // the cause does not matter: something may have been missed, so look again
    void this.rescan('all', 'error');
  }

  /** A new directory is re-read by stat a moment later (not counted as events: no storm loop). */
  #onAddDir(dir: string): void {
    const relative = this.#closed ? null : this.#relative(dir);
    if (relative !== null) this.#newDirs.add(relative);
  }

  #checkNewDirs(dirs: string[]): void {
    this.#dirChecks += dirs.length;
    const changes = this.#rescanNow(dirs, true);
    this.#onRescan?.({ reason: 'new-directory', dirs, changes });
  }

  #rescanNow(dirs: readonly string[], recurseAll = false): number {
    const changes = rescanByStat(this.#files, dirs, recurseAll);
    this.#rescanChanges += changes;
    return changes;
  }

  /** Records a file's current fingerprint and publishes what it means; nothing when unchanged. */
  #apply(relative: string, fingerprint: Fingerprint, detectedAt: number): boolean {
    const known = this.#known.get(relative);
    if (known && sameFingerprint(known, fingerprint)) return false;
    this.#known.set(relative, fingerprint);
    const revision = this.#target.invalidate([relative]);
    this.#publish(known ? 'change' : 'add', relative, [relative], revision, detectedAt);
    // Whoever saw it (chokidar, a verify pass, a rescan), look again once more: until it is stable.
    this.#verify.schedule(relative, performance.now());
    return true;
  }

  /** Known files found gone: forgotten, invalidated together (one revision), one `unlink` each. */
  #forget(files: string[], detectedAt: number): void {
    for (const file of files) {
      this.#known.delete(file);
      this.#verify.cancel(file);
    }
    const revision = this.#target.invalidate(files);
    for (const file of files) this.#publish('unlink', file, [file], revision, detectedAt);
  }

  #publish(kind: 'add' | 'change' | 'unlink', relative: string, changed: string[], revision: number, detectedAt: number): void {
    this.#published++;
    const affectedBy = this.#target.affectedBy?.bind(this.#target);
    if (affectedBy === undefined) {
      this.#deliver({ event: kind, path: relative, invalidated: changed, revision, detectedAt });
      return;
    }
    // In order, one at a time: each update of the graph sees the ones before it.
    this.#naming++;
    this.#publishing = this.#publishing.then(async () => {
      let affected: readonly string[] = [];
      try {
        affected = this.#closed ? [] : await affectedBy(relative, kind);
      } catch {
        this.#namingErrors++; // the event still goes out, naming its own file: never lost
      }
      this.#naming--;
      const invalidated = affected.length === 0 ? changed : [...new Set([...changed, ...affected])];
      if (!this.#closed) this.#deliver({ event: kind, path: relative, invalidated, revision, detectedAt });
    });
  }

  #deliver(event: WatchEvent): void {
    for (const queue of this.#subscribers) queue.push(event);
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
