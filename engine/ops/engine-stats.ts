/** The shape of `engine.stats()`: every level's counters and sizes, the pool, the disk level, sizing and prediction. */
import type { PersistenceCounters } from '../ast/ast-persistence.js';
import type { LevelName, LevelSnapshot } from '../level-counters.js';
import type { SizingStats } from '../memory/adaptive-sizing.js';
import type { PoolStats } from '../pool/parse-pool.js';
import type { PredictiveStats } from '../prediction/predictive-warming.js';
import type { DiskStore } from '../store/disk-store.js';

export interface EngineStats {
  readonly schemaVersion: number;
  readonly root: string;
  readonly profile: string;
  readonly revision: number;
  readonly invalidations: { readonly count: number; readonly paths: number };
  readonly levels: Readonly<Record<LevelName, LevelSnapshot>>;
  readonly content: { readonly budget: number; readonly reservedBytes: number; readonly fragmentation: number; readonly restamps: number };
  readonly ast: { readonly budget: number };
  readonly graph: { readonly nodes: number; readonly maxNodes: number };
  readonly pool: PoolStats;
  /** Budget changes made by adaptive sizing (`adaptiveSizing`), and its bounds. */
  readonly adaptiveSizing: SizingStats;
  readonly disk: { readonly dir: string | null; readonly bytes: number; readonly indexedFiles: number; readonly counters: (PersistenceCounters & DiskStore['counters']) | null };
  readonly predictive: PredictiveStats;
}
