/**
 * One line about a running engine, for the live view of `strata watch --status`: the revision,
 * per-level hit rates and bytes, the watcher's events and queue depths, the pool's activity, the
 * dependency graph's size, the remote tier's counters (when one is configured) and the process RSS. Pure: the caller samples, this formats.
 */
import type { LevelName } from '../level-counters.js';
import type { EngineStats } from './engine-stats.js';
import { hitRate } from './metrics-report.js';

export interface LiveStatusInput {
  readonly stats: EngineStats;
  /** The watcher's counters (events published, events waiting for their dependents to be named). */
  readonly watch: { readonly published: number; readonly naming: number; readonly rescans: number; readonly knownFiles: number };
  /** Events waiting in the subscriber's queue. */
  readonly queued: number;
  readonly rssBytes: number;
}

const SHOWN_LEVELS: readonly LevelName[] = ['content', 'ast', 'results'];

export function formatLiveStatus({ stats, watch, queued, rssBytes }: LiveStatusInput): string {
  const levels = SHOWN_LEVELS.map((name) => {
    const level = stats.levels[name];
    const rate = hitRate(level);
    return `${name} ${rate === null ? '–' : `${Math.round(rate * 100)}%`} ${bytes(level.bytes)}`;
  });
  const pool = stats.pool;
  const poolText = pool.started ? `pool ${pool.workers}w ${pool.tasks} tasks ${Math.round(pool.utilisation * 100)}% busy` : 'pool idle';
  const remote = stats.remote;
  const remoteText = remote === null ? [] : [`remote ${remote.state} ${remote.hits} hits ${remote.misses} misses ${remote.uploaded} up ${remote.rejected} rejected ${remote.errors} errors`];
  return [
    `r${stats.revision}`,
    ...levels,
    `events ${watch.published} (queued ${queued}, naming ${watch.naming}, rescans ${watch.rescans})`,
    poolText,
    ...remoteText,
    `graph ${stats.graph.nodes} of ${watch.knownFiles} files`,
    `rss ${bytes(rssBytes)}`,
  ].join(' | ');
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
