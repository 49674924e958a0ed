/**
 * `engine.warm(request)`: picks the warm a request asks for and runs it.
 *
 * - the whole tree, or a list of `files`: the batched pipeline (warm.ts);
 * - `entries` and/or `predicted`: dependency warming from the entries, then the learned startup set
 *   (entry-warming.ts, predicted-warm.ts), whose listed part runs through the batched pipeline too.
 *
 * Every warm is reported with the same contract (warm-report.ts); the problems met since the last
 * warm (an unusable cache directory, unreadable directories) go out with its report.
 */
import { invalidOption, StrataError } from '../../shared/errors.js';
import type { ImportRecord } from '../../shared/imports.js';
import type { AstPersistence } from '../ast/ast-persistence.js';
import type { AstOrigin, AstResult } from '../ast/ast-reader.js';
import { isSourceFile } from '../discovery/source-files.js';
import type { ModuleResolver, ResolvedImport } from '../graph/module-resolver.js';
import type { LevelName, LevelSnapshot } from '../level-counters.js';
import { STOP_AT, type RssSampler } from '../memory/memory-governor.js';
import { toRootPath } from '../paths.js';
import { saveLastRun } from '../store/last-run-file.js';
import { runWarm, type WarmContext, type WarmProgress, type WarmRequest } from './warm.js';
import type { WarmReport } from './warm-report.js';

/** Entry files warmed at once per worker: enough to fill batches without flooding the pool. */
const ENTRY_WARM_FILES_PER_WORKER = 8;
/** Learned files warmed at most at startup (the learner keeps about this many anyway). */
const PREDICTED_WARM_MAX_FILES = 4096;

export interface WarmOptions {
  /**
   * Warm only these source files (absolute or root-relative), batched like a full warm, without
   * walking the tree. A path outside the root rejects with ENOTINROOT, a non-source one with ENOTCACHED.
   */
  readonly files?: readonly string[];
  /** Warm only these files and their resolved dependencies (dependency warming). */
  readonly entries?: readonly string[];
  /** Dependency depth from the entries. @default the profile's warmDepth */
  readonly depth?: number;
  /**
   * Warm the files earlier runs learned to use (predictive warming), most likely first: after the
   * entries and their dependencies when `entries` is given, alone otherwise. No-op when the
   * `predictive` option is off. @default false
   */
  readonly predicted?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: WarmProgress) => void;
  /** performance.now() at which the caller started (durationMs counts from it). */
  readonly startedAt?: number;
}

export type Warning = { path: string; message: string };

/** What the warms need from the engine: its levels and pool, and a few answers of its own. */
export interface WarmerParts extends Pick<WarmContext, 'options' | 'content' | 'reader' | 'asts' | 'pool' | 'clock' | 'keyPrefix' | 'remote'> {
  readonly rss: RssSampler;
  /** Problems met since the last warm; each warm takes them out and reports them. */
  readonly warnings: Warning[];
  /** The disk level, opened on first need. */
  persistence(): AstPersistence | null;
  /** A file's AST and the level that answered (engine reads, so nothing is learned from them). */
  readAst(file: string): Promise<{ result: AstResult; from: AstOrigin }>;
  /** A module resolver with a fresh resolution snapshot. */
  resolver(): ModuleResolver;
  /** The learned startup set, most likely first. */
  startupSet(limit: number): string[];
  levels(): Readonly<Record<LevelName, LevelSnapshot>>;
}

export class Warmer {
  readonly #parts: WarmerParts;

  constructor(parts: WarmerParts) {
    this.#parts = parts;
  }

  /** Reads and parses what the request names into L1 and L2. Never throws for a file. */
  warm(request: WarmOptions = {}): Promise<WarmReport> {
    const root = this.#parts.options.root;
    if (request.files !== undefined) {
      if (request.entries !== undefined || request.predicted === true) throw invalidOption('files', 'a list of files without entries or predicted', 'combined');
      return this.#warmListed({ ...request, files: request.files.map((file) => sourcePath(root, file)) });
    }
    if (request.entries !== undefined || request.predicted === true) return this.#warmEntries(request.entries ?? [], request);
    return this.#warmListed(request);
  }

  /** The batched pipeline over the whole tree, or over `request.files` (root-relative). */
  async #warmListed(request: WarmRequest): Promise<WarmReport> {
    const parts = this.#parts;
    const persistence = parts.persistence();
    const excludeDirs = [parts.options.cacheDir, persistence?.dir].filter((dir): dir is string => typeof dir === 'string');
    const context = { options: parts.options, content: parts.content, reader: parts.reader, asts: parts.asts, pool: parts.pool, clock: parts.clock, keyPrefix: parts.keyPrefix, remote: parts.remote };
    for (const message of parts.remote?.warnings.splice(0) ?? []) parts.warnings.push({ path: 'remote', message });
    const report = await runWarm({ ...context, excludeDirs, persistence, warnings: parts.warnings.splice(0) }, request);
    if (persistence) saveLastRun(persistence.lastRunFile, { ...report, savedAt: new Date().toISOString() });
    return report;
  }

  /**
   * Dependency warming: the entries and their dependencies to `depth`, then (with `predicted`) the
   * learned startup set; reported like a full warm.
   */
  async #warmEntries(entries: readonly string[], request: WarmOptions): Promise<WarmReport> {
    const parts = this.#parts;
    const { options } = parts;
    const startedAt = request.startedAt ?? performance.now();
    const depth = request.depth ?? options.warmDepth;
    // Created on first use: a warm of learned files alone resolves nothing and never loads TypeScript here.
    let resolver: ModuleResolver | null = null;
    const resolve = (from: string, record: ImportRecord): ResolvedImport => (resolver ??= parts.resolver()).resolve(from, record);
    const learned = request.predicted === true ? parts.startupSet(Math.min(options.astMaxEntries, PREDICTED_WARM_MAX_FILES)) : [];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { entryWarmReport, warmEntriesThenPredicted } = require('./predicted-warm.js') as typeof import('./predicted-warm.js');
    const signal = request.signal ? { signal: request.signal } : {};
    const outcome = await warmEntriesThenPredicted({ root: options.root, astWithOrigin: (file) => parts.readAst(file), resolve }, entries, learned, {
      depth,
      concurrency: Math.max(1, parts.pool.workers) * ENTRY_WARM_FILES_PER_WORKER,
      deadline: options.warmTimeLimit === null ? Infinity : startedAt + options.warmTimeLimit,
      memoryCheck: () => (parts.rss.near(STOP_AT) ? 'memory-limit' : null),
      warmListed: async (listed) => {
        const report = await this.#warmListed({ files: listed, ...signal });
        // Handed back: this report's warnings go out with the whole warm's.
        parts.warnings.push(...report.warnings);
        // The list is warmed in order, so the files handled are its first ones.
        return { ...report, files: listed.slice(0, report.files), depthReached: 0 };
      },
      ...signal,
    });
    const persistence = parts.persistence();
    persistence?.save();
    return entryWarmReport(outcome, {
      root: options.root,
      profile: options.profile,
      startedAt,
      workers: parts.pool.workers,
      diskBytes: persistence?.diskBytes() ?? 0,
      levels: parts.levels(),
      warnings: parts.warnings.splice(0),
      ...(request.entries !== undefined ? { entries: { depth } } : {}),
      ...(request.predicted === true ? { learned: learned.length } : {}),
    });
  }
}

/** Root-relative path of a source file named by a caller; rejects what no warm can answer for. */
function sourcePath(root: string, file: string): string {
  const { relative } = toRootPath(root, file);
  if (!isSourceFile(relative)) throw new StrataError('ENOTCACHED', `${relative} is not a source file`, relative);
  return relative;
}
