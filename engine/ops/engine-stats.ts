/** The shape of `engine.stats()`: every level's counters and sizes, the pool, the disk level, sizing and prediction. */
import type { PersistenceCounters } from '../ast/ast-persistence.js';
import type { LevelName, LevelSnapshot } from '../level-counters.js';
import type { SizingStats } from '../memory/adaptive-sizing.js';
import type { PoolStats } from '../pool/parse-pool.js';
import type { PredictiveStats } from '../prediction/predictive-warming.js';
import type { SourceFileTierSnapshot } from '../sourcefiles/source-file-tier.js';
import type { DiskStore } from '../store/disk-store.js';
import type { RemoteCounters } from '../remote/remote-counters.js';
import { REPORT_SCHEMA_VERSION } from '../warming/warm-report.js';

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
  /** The SourceFile tier (`sourceFile()`, `compilerHost()`, `documentRegistry()`): a tier beside the levels. */
  readonly sourceFiles: SourceFileTierSnapshot;
  /** The shared remote tier's counters; null when it is off. */
  readonly remote: RemoteCounters | null;
}

/** The parts `engine.stats()` reads, each as narrow as the figure it gives. */
export interface StatsSources {
  readonly root: string;
  readonly profile: string;
  readonly clock: { readonly now: number; readonly invalidations: number; readonly invalidatedPaths: number };
  readonly levels: Readonly<Record<LevelName, LevelSnapshot>>;
  readonly content: { readonly budget: number; allocatorStats(): { readonly reservedBytes: number; readonly fragmentation: number } };
  readonly restamps: number;
  readonly astBudget: number;
  readonly graph: { readonly nodes: number; readonly maxNodes: number };
  readonly pool: PoolStats;
  readonly sizing: SizingStats | null;
  /** The open disk level, or null when persistence is off or not opened yet. */
  readonly disk: { readonly dir: string; readonly indexSize: number; diskBytes(): number; counters(): PersistenceCounters & DiskStore['counters'] } | null;
  readonly predictive: PredictiveStats;
  readonly sourceFiles: SourceFileTierSnapshot;
  readonly remote: RemoteCounters | null;
}

export function engineStats(s: StatsSources): EngineStats {
  const allocator = s.content.allocatorStats();
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    root: s.root,
    profile: s.profile,
    revision: s.clock.now,
    invalidations: { count: s.clock.invalidations, paths: s.clock.invalidatedPaths },
    levels: s.levels,
    content: { budget: s.content.budget, reservedBytes: allocator.reservedBytes, fragmentation: allocator.fragmentation, restamps: s.restamps },
    ast: { budget: s.astBudget },
    graph: s.graph,
    pool: s.pool,
    adaptiveSizing: s.sizing ?? { enabled: false, bounds: null, changes: [] },
    disk: { dir: s.disk?.dir ?? null, bytes: s.disk?.diskBytes() ?? 0, indexedFiles: s.disk?.indexSize ?? 0, counters: s.disk?.counters() ?? null },
    predictive: s.predictive,
    sourceFiles: s.sourceFiles,
    remote: s.remote,
  };
}
