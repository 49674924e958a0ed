/** Per-level counters. Plain fields: incrementing costs nothing when nobody reads them. */

export type LevelName = 'content' | 'ast' | 'results' | 'streams';

export interface LevelSnapshot {
  readonly hits: number;
  readonly misses: number;
  readonly evictions: number;
  readonly bytes: number;
  readonly entries: number;
}

export class LevelCounters {
  hits = 0;
  misses = 0;
  evictions = 0;

  snapshot(bytes: number, entries: number): LevelSnapshot {
    return { hits: this.hits, misses: this.misses, evictions: this.evictions, bytes, entries };
  }
}

export function emptyLevel(): LevelSnapshot {
  return { hits: 0, misses: 0, evictions: 0, bytes: 0, entries: 0 };
}
