/**
 * Source-file discovery: one streaming, deterministic walk of the root (DESIGN.md, "Source files,
 * failures, skips").
 *
 * - Source files are the names ending in one of {@link SOURCE_EXTENSIONS} (declaration files included).
 * - Dot-directories are walked, except `.git`. `.gitignore` files at every depth, those above the
 *   root up to its repository's top, the repository's `info/exclude` and git's `core.excludesFile`
 *   are honoured (repository-ignores.ts), with git's precedence (a deeper file overrides a shallower
 *   one; within one file the last matching pattern wins; nothing below an excluded directory comes back).
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
import { SnapshotRecorder, type DirectorySnapshot } from './directory-snapshot.js';
import type { DiscoveryEvent } from './discovery-events.js';
import { deriveLayers } from './ignore-rules.js';
import { statBatchBackend } from '../../native-bindings/stat-batch.js';
import { StatPrefetch } from './stat-prefetch.js';
import { SYNC_CALLS_PER_TURN } from './walk-fs.js';
import { prepareWalk, type WalkSetup } from './walk-setup.js';
import { Walk, type Frame } from './walk.js';

export { DirectorySnapshot } from './directory-snapshot.js';
export { StatPrefetch } from './stat-prefetch.js';
export { prepareWalk, type WalkSetup } from './walk-setup.js';

export { isSourceFile, SOURCE_EXTENSIONS, type SourceExtension } from './source-files.js';
export type { DiscoveredFile, DiscoveryEvent, DiscoveryFailed, DiscoverySkipped, DiscoveryWarning } from './discovery-events.js';
export { compareNames } from './walk-fs.js';

export interface DiscoveryOptions {
  /** Walk into `node_modules` directories (at any depth). */
  readonly includeNodeModules: boolean;
  /** Files larger than this many bytes are reported as skipped (`too-large`), not as files. */
  readonly maxFileSize: number;
  /** Absolute paths of directories never walked, whatever the other options say (e.g. the cache directory). */
  readonly excludeDirs?: readonly string[];
  /** Aborting stops the walk: the generator throws `signal.reason` at its next step. */
  readonly signal?: AbortSignal;
  /**
   * The directory snapshot of an earlier walk (directory-snapshot.ts): an unchanged directory is
   * stat'ed instead of listed. Used only when `onSnapshot` is given too.
   */
  readonly snapshot?: DirectorySnapshot | null;
  /**
   * Takes the directories' stamps as the walk goes: called once the walk completes (not when it is
   * aborted or left early) with its snapshot, and whether that differs from `snapshot`.
   */
  readonly onSnapshot?: (snapshot: DirectorySnapshot, taken: { readonly listed: number; readonly reused: number; readonly changed: boolean }) => void;
  /**
   * What an unchanged-tree check that found a change prepared already (unchanged-tree.ts), for this
   * root and these options: the walk's setup (root resolved, rules from outside the root read) and
   * the stats of `snapshot`'s paths, used instead of doing both again. Without it, a walk with a
   * snapshot takes the stats itself in one batch when the native addon is live.
   */
  readonly prepared?: PreparedWalk;
}

/** The part of a walk an unchanged-tree check did before it gave up. */
export interface PreparedWalk {
  readonly setup: WalkSetup;
  /** The stats of the snapshot it checked; null when it took none (another walk key). */
  readonly prefetch: StatPrefetch | null;
}

/** The stats of `snapshot`'s paths: the ones taken already for it, else one batch when the addon is live (null: stat each when reached). */
function prefetchFor(snapshot: DirectorySnapshot, rootReal: string, taken: StatPrefetch | null): StatPrefetch | null {
  if (taken?.snapshot === snapshot) return taken;
  return statBatchBackend === 'native' ? StatPrefetch.of(rootReal, snapshot) : null;
}

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
    const prepared = options.prepared;
    // A check's earlier start only makes more stamps racy, never fewer.
    const { startedAtMs, rootReal, excludes, layers, warnings, walkKey } = prepared?.setup ?? prepareWalk(root, options);
    yield* warnings;
    const onSnapshot = options.onSnapshot;
    const recorder = onSnapshot === undefined ? null : new SnapshotRecorder(walkKey, startedAtMs);
    const previous = recorder !== null && options.snapshot?.walkKey === recorder.walkKey ? options.snapshot : null;
    const prefetch = previous === null ? null : prefetchFor(previous, rootReal, prepared?.prefetch ?? null);
    const walk = new Walk(rootReal, options.includeNodeModules, options.maxFileSize, excludes, previous, recorder, prefetch);
    const stack: Frame[] = [];
    walk.visitedDirs.add(rootReal);
    yield* walk.enter(stack, '', rootReal, layers, false);

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
          const event = walk.fileEvent(item.rel, item.real, walk.fileStat(item));
          if (event) yield event;
          break;
        }
        case 'dir': {
          walk.visitedDirs.add(item.real);
          const layersBelow = item.reincluded ? deriveLayers(frame.layers, item.rel) : frame.layers;
          yield* walk.enter(stack, item.rel, item.real, layersBelow, frame.listBelow);
          break;
        }
        case 'link':
          yield* walk.followLink(stack, frame, item);
          break;
      }
    }
    if (recorder !== null) onSnapshot?.(recorder.snapshot(), { listed: recorder.listed, reused: recorder.reused, changed: recorder.differsFrom(options.snapshot ?? null) });
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
