/** L4 seen as a level in `stats()`: events published (hits), watcher errors (misses), rescans (evictions), subscribers. */
import { emptyLevel, type LevelSnapshot } from '../level-counters.js';

export interface WatcherCounters {
  stats(): { readonly published: number; readonly errors: number; readonly rescans: number; readonly subscribers: number };
}

export function streamsLevel(watcher: WatcherCounters | null): LevelSnapshot {
  if (watcher === null) return emptyLevel();
  const stats = watcher.stats();
  return { hits: stats.published, misses: stats.errors, evictions: stats.rescans, bytes: 0, entries: stats.subscribers };
}
