/**
 * The library's facade. It wires the levels together and forwards to modules that each do one
 * job (content cache, reader, AST cache, pool, warm pipeline); it holds no logic of its own beyond
 * resolving paths and keeping its parts private.
 */
import type * as ts from 'typescript';
import { invalidOption, StrataError } from '../shared/errors.js';
import type { ImportRecord } from '../shared/imports.js';
import { scriptKindName } from '../shared/script-kind.js';
import { decodeSourceText } from '../shared/source-text.js';
import { SizingController, type SizingChange, type SizingStats } from './memory/adaptive-sizing.js';
import { AstCache, type AstRecord } from './ast/ast-cache.js';
import { AstPersistence, ENTRY_CODEC } from './ast/ast-persistence.js';
import { ContentCache, type ContentBytes, type ContentEntry } from './content/content-cache.js';
import { ContentReader, type ContentRead } from './content/content-reader.js';
import { EncodedAst } from './ast/encoded-ast.js';
import { astKey, astKeyPrefix, DEFAULT_PARSE_SETTINGS, installedParser, type AstKey } from './ast/keys.js';
import { resolveOptions, type OptionSources, type ResolvedOptions, type StrataOptions } from './config/options.js';
import { ParsePool, type ParseExecutor } from './pool/parse-pool.js';
import { toAbsolute, toRootPath } from './paths.js';
import { RevisionClock } from './revision-clock.js';
import { RSS_SAMPLE_MS, runWarm, type WarmProgress, type WarmRequest } from './warming/warm.js';
import { REPORT_SCHEMA_VERSION, type WarmReport } from './warming/warm-report.js';
import { entryWarmReport } from './warming/predicted-warm.js';
import type { AnalyzerResults, AnalyzerSpec, ComputeContext } from './results/analyzer-results.js';
import type { ResultStream } from './streams/result-stream.js';
import { ResultsCache } from './results/results-cache.js';
import { loadResults, saveResults } from './results/results-file.js';
import type { DependencyState } from './results/dependency-state.js';
import type { DependencyService, DependenciesAnswer, DependentsAnswer, TransitiveDependentsAnswer } from './graph/deps-service.js';
import type { ModuleResolver } from './graph/module-resolver.js';
import type { Subscription, WatchService } from './streams/watch-service.js';
import { isSourceFile } from './discovery/discovery.js';
import { PredictiveWarming, type PredictiveStats } from './prediction/predictive-warming.js';
import { logger } from './ops/log.js';
import { DEGRADE_AT, RssSampler, STOP_AT } from './memory/memory-governor.js';
import { saveLastRun } from './store/last-run-file.js';
import * as fs from 'node:fs';
import { fingerprintOf, sameFingerprint } from './content/fingerprint.js';
import type { LevelName, LevelSnapshot } from './level-counters.js';
import { emptyLevel } from './level-counters.js';

/** Entry files warmed at once per worker: enough to fill batches without flooding the pool. */
const ENTRY_WARM_FILES_PER_WORKER = 8;
/** Learned files warmed at most at startup (the learner keeps about this many anyway). */
const PREDICTED_WARM_MAX_FILES = 4096;
/** L2 has no thresholds of its own: prefetching stops at this share of its budget, so it never evicts. */
const PREFETCH_MAX_AST_FILL = 0.8;

export interface EngineOptions extends StrataOptions {
  /** Where parsing runs. @default 'pool' */
  executor?: ParseExecutor;
  /** Worker entry file (tests inject one). @default the built workers/worker.js */
  workerFile?: string;
}

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

/** A file's parsed form from L2. Positions refer to `text`. */
export interface AstResult {
  readonly path: string;
  readonly text: string;
  readonly ast: EncodedAst;
  readonly imports: readonly ImportRecord[];
  readonly diagnostics: number;
  /** Hash of what the file exports: equal before and after an edit → importers are unaffected. */
  readonly signature: string;
  /** xxh64 of the file's bytes, 16 hex characters. */
  readonly contentHash: string;
}

/** A pinned, zero-copy view of a file's cached bytes. Valid until `release()`. */
export interface ContentView {
  readonly path: string;
  readonly bytes: Uint8Array;
  release(): void;
}

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
  readonly pool: ReturnType<ParsePool['stats']>;
  /** Budget changes made by adaptive sizing (`adaptiveSizing`), and its bounds. */
  readonly adaptiveSizing: SizingStats;
  readonly disk: { readonly dir: string | null; readonly bytes: number; readonly indexedFiles: number; readonly counters: ReturnType<AstPersistence['counters']> | null };
  readonly predictive: PredictiveStats;
}

export interface ValidationFinding {
  readonly level: 'content' | 'ast' | 'results';
  /** Root-relative path. */
  readonly path: string;
  readonly problem: 'stale-content' | 'deleted-file' | 'missing-entry' | 'corrupt-entry' | 'orphan-result';
}

export interface ValidationReport {
  readonly schemaVersion: number;
  readonly root: string;
  readonly findings: readonly ValidationFinding[];
  /** Findings fixed (with `repair: true`). */
  readonly repaired: number;
}

export class Engine {
  readonly options: ResolvedOptions;
  readonly #content: ContentCache;
  readonly #reader: ContentReader;
  readonly #asts: AstCache;
  readonly #pool: ParsePool;
  readonly #clock = new RevisionClock();
  readonly #keyPrefix: string;
  readonly #env: NodeJS.ProcessEnv;
  #persistence: AstPersistence | null = null;
  #persistenceOpened = false;
  readonly #warnings: { path: string; message: string }[] = [];
  readonly #results: ResultsCache;
  #resultsLoaded = false;
  #resolver: ModuleResolver | null = null;
  #deps: DependencyService | null = null;
  readonly #cleanupTimer: NodeJS.Timeout;
  readonly #periodic: NodeJS.Timeout[] = [];
  readonly #sizing: SizingController | null;
  #watcher: WatchService | null = null;
  /** Parses in flight by key (engine.ast callers share them). */
  readonly #parsing = new Map<AstKey, Promise<AstRecord>>();
  readonly #predictive: PredictiveWarming;
  readonly #rss: RssSampler;
  #closed = false;

  constructor(given: EngineOptions = {}, sources: OptionSources = {}) {
    const { executor = 'pool', workerFile, ...strataOptions } = given;
    this.options = resolveOptions(strataOptions, sources);
    const o = this.options;
    this.#content = new ContentCache({ budget: o.contentBudget, pressureThreshold: o.contentPressureThreshold, aggressiveThreshold: o.contentAggressiveThreshold });
    this.#reader = new ContentReader(this.#content, { maxFileSize: o.maxFileSize, validation: o.readValidation });
    this.#asts = new AstCache({ budget: o.astBudget, maxEntries: o.astMaxEntries });
    this.#pool = new ParsePool({ workers: o.workers, executor, settings: DEFAULT_PARSE_SETTINGS, ...(workerFile ? { workerFile } : {}) });
    this.#keyPrefix = astKeyPrefix(installedParser(), DEFAULT_PARSE_SETTINGS);
    this.#rss = new RssSampler(o.memoryLimit, RSS_SAMPLE_MS);
    this.#env = sources.env ?? process.env;
    this.#results = new ResultsCache({ maxEntries: o.resultsMaxEntries, retentionMs: o.resultsRetention });
    // Periodic cleanup of expired results; never keeps the process alive.
    this.#cleanupTimer = setInterval(() => this.#results.cleanup(), o.resultsCleanupInterval);
    this.#cleanupTimer.unref();
    // Long-running hosts: re-check cached content against the disk, and (production) save state.
    if (o.revalidateInterval !== null) this.#periodic.push(setInterval(() => this.#revalidateContent(), o.revalidateInterval));
    if (o.saveStateInterval !== null) this.#periodic.push(setInterval(() => this.#saveState(), o.saveStateInterval));
    this.#sizing = o.adaptiveSizing ? this.#sizingController() : null;
    if (this.#sizing) this.#periodic.push(setInterval(() => this.adaptSizes(), o.adaptiveInterval));
    for (const timer of this.#periodic) timer.unref();
    this.#predictive = new PredictiveWarming(
      {
        root: o.root,
        patternsFile: () => this.#openPersistence()?.patternsFile ?? null,
        warn: (message) => this.#warnings.push({ path: '.', message }),
        load: (relative) => this.#astWithOrigin(relative),
        isLoaded: (relative) => this.#astInMemory(relative),
        hasRoom: () => this.#roomToPrefetch(),
      },
      { enabled: o.predictive, workers: this.#pool.workers },
    );
  }

  /**
   * An analyzer's namespace in L3: `get`, `set` and `compute(path, fn)` for per-file results that
   * stay valid while the file and (unless `dependsOnDependencies: false`) its dependencies' export
   * signatures are unchanged.
   */
  results<T>(spec: AnalyzerSpec): AnalyzerResults<T> {
    this.#assertOpen();
    this.#loadResults();
    // Loaded on first use, like the other services below: a warm never needs them.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { analyzerResults } = require('./results/analyzer-results.js') as typeof import('./results/analyzer-results.js');
    return analyzerResults<T>(
      {
        clock: this.#clock,
        cache: this.#results,
        relative: (file) => toRootPath(this.root, file).relative,
        ast: (file) => this.ast(file),
        dependencyState: (file) => this.#dependencyState(file),
      },
      spec,
    );
  }

  /**
   * Watches the root (chokidar, the same ignore rules as discovery): every add, change, unlink or
   * rename invalidates through the revision clock; storms and watcher errors trigger a rescan by
   * stat. Resolves once the watcher is ready. Calling it again returns the same watcher.
   */
  async watch(): Promise<WatchService> {
    this.#assertOpen();
    if (this.#watcher === null) {
      // Loaded on first use: chokidar is only needed by hosts that watch.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { WatchService: Service } = require('./streams/watch-service.js') as typeof import('./streams/watch-service.js');
      this.#watcher = new Service(
        { root: this.root, invalidate: (paths) => this.invalidate(paths), dependentsOf: (file) => this.#knownDependents(file) },
        { cacheDir: this.#openPersistence()?.dir ?? this.options.cacheDir, includeNodeModules: this.options.includeNodeModules },
      );
    }
    await this.#watcher.ready();
    return this.#watcher;
  }

  /**
   * A stream of change events (`for await (const event of await engine.subscribe())`), each
   * subscriber with its own bounded queue: events for one file coalesce, and past `bound` distinct
   * files the subscriber gets one `resync` instead of unbounded growth. Starts the watcher if needed.
   */
  async subscribe(options: { bound?: number } = {}): Promise<Subscription> {
    const watcher = await this.watch();
    return watcher.subscribe(options.bound === undefined ? {} : { bound: options.bound });
  }

  /**
   * Change events followed, for each added or changed source file, by `analyzer`'s result for its
   * new state (`{ event: 'result', path, value, revision }`). Computed when the consumer pulls, so
   * a slow subscriber never queues work in the pool; subscribers of one analyzer share computations.
   */
  async subscribeResults<T>(analyzer: AnalyzerSpec, compute: (context: ComputeContext) => T | Promise<T>, options: { bound?: number } = {}): Promise<ResultStream<T>> {
    const changes = await this.subscribe(options);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { resultStream } = require('./streams/result-stream.js') as typeof import('./streams/result-stream.js');
    return resultStream(changes, this.results<T>(analyzer), compute, isSourceFile);
  }

  /** The file's imports, resolved with TypeScript's module resolution (DESIGN's `deps` shape). */
  async deps(file: string): Promise<DependenciesAnswer> {
    this.#assertOpen();
    this.#noteAccess(file);
    const answer = await this.#dependencyService().dependenciesOf(file);
    const absolute = (relative: string): string => toAbsolute(this.root, relative);
    // The library answers with absolute paths; the CLI prints the same shape root-relative.
    return { ...answer, file: absolute(answer.file), dependencies: answer.dependencies.map((entry) => ({ ...entry, resolved: entry.resolved === null ? null : absolute(entry.resolved) })) };
  }

  /** Files that import this one (with `depth`, transitively, each with its depth); absolute paths. */
  async dependents(file: string, depth?: number): Promise<DependentsAnswer | TransitiveDependentsAnswer> {
    this.#assertOpen();
    const service = this.#dependencyService();
    const absolute = (relative: string): string => toAbsolute(this.root, relative);
    if (depth !== undefined) {
      const answer = await service.dependentsOf(file, depth);
      return { ...answer, file: absolute(answer.file), dependents: answer.dependents.map((entry) => ({ ...entry, path: absolute(entry.path), via: absolute(entry.via) })) };
    }
    const answer = await service.dependentsOf(file);
    return { ...answer, file: absolute(answer.file), dependents: answer.dependents.map((entry) => ({ ...entry, path: absolute(entry.path) })) };
  }

  get root(): string {
    return this.options.root;
  }

  /**
   * Reads and parses every source file under the root (or the `files`, `entries` or learned files
   * asked for) into L1 and L2. Never throws for a file.
   */
  async warm(request: WarmOptions = {}): Promise<WarmReport> {
    this.#assertOpen();
    if (request.files !== undefined) {
      if (request.entries !== undefined || request.predicted === true) throw invalidOption('files', 'a list of files without entries or predicted', 'combined');
      return this.#runWarm({ ...request, files: request.files.map((file) => this.#sourcePath(file)) });
    }
    if (request.entries !== undefined || request.predicted === true) return this.#warmEntries(request.entries ?? [], request);
    return this.#runWarm(request);
  }

  /** Root-relative path of a source file named by a caller; rejects what no warm can answer for. */
  #sourcePath(file: string): string {
    const { relative } = toRootPath(this.root, file);
    if (!isSourceFile(relative)) throw new StrataError('ENOTCACHED', `${relative} is not a source file`, relative);
    return relative;
  }

  /** The batched pipeline over the whole tree, or over `request.files` (root-relative). */
  async #runWarm(request: WarmRequest): Promise<WarmReport> {
    const persistence = this.#openPersistence();
    const warnings = this.#warnings.splice(0);
    const report = await runWarm(
      {
        options: this.options,
        content: this.#content,
        reader: this.#reader,
        asts: this.#asts,
        pool: this.#pool,
        clock: this.#clock,
        keyPrefix: this.#keyPrefix,
        excludeDirs: [this.options.cacheDir, persistence?.dir].filter((dir): dir is string => typeof dir === 'string'),
        persistence,
        warnings,
      },
      request,
    );
    if (persistence) saveLastRun(persistence.lastRunFile, { ...report, savedAt: new Date().toISOString() });
    logger.debug('warm finished', { files: report.files, parsed: report.parsed, fromMemory: report.fromMemory, fromDisk: report.fromDisk, durationMs: Math.round(report.durationMs), stoppedBy: report.stoppedBy });
    return report;
  }

  /**
   * Dependency warming: the entries and their dependencies to `depth`, then (with `predicted`) the
   * learned startup set; reported like a full warm.
   */
  async #warmEntries(entries: readonly string[], request: WarmOptions): Promise<WarmReport> {
    const startedAt = request.startedAt ?? performance.now();
    const depth = request.depth ?? this.options.warmDepth;
    // Created on first use: a warm of learned files alone resolves nothing and never loads TypeScript here.
    let resolver: ModuleResolver | null = null;
    const resolve = (from: string, record: ImportRecord): ReturnType<ModuleResolver['resolve']> => {
      if (resolver === null) {
        resolver = this.#moduleResolver();
        resolver.refresh();
      }
      return resolver.resolve(from, record);
    };
    const learned = request.predicted === true ? this.#predictive.startupSet(Math.min(this.options.astMaxEntries, PREDICTED_WARM_MAX_FILES)) : [];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { warmEntriesThenPredicted } = require('./warming/predicted-warm.js') as typeof import('./warming/predicted-warm.js');
    const outcome = await warmEntriesThenPredicted(
      { root: this.root, astWithOrigin: (file) => this.#astWithOrigin(file), resolve },
      entries,
      learned,
      {
        depth,
        concurrency: Math.max(1, this.#pool.workers) * ENTRY_WARM_FILES_PER_WORKER,
        deadline: this.options.warmTimeLimit === null ? Infinity : startedAt + this.options.warmTimeLimit,
        memoryCheck: () => (this.#rss.near(STOP_AT) ? 'memory-limit' : null),
        warmListed: async (listed) => {
          const report = await this.#runWarm({ files: listed, ...(request.signal ? { signal: request.signal } : {}) });
          // Handed back: this report's warnings go out with the whole warm's.
          this.#warnings.push(...report.warnings);
          // The list is warmed in order, so the files handled are its first ones.
          return { ...report, files: listed.slice(0, report.files), depthReached: 0 };
        },
        ...(request.signal ? { signal: request.signal } : {}),
      },
    );
    this.#openPersistence()?.save();
    const stats = this.stats();
    return entryWarmReport(outcome, {
      root: this.root,
      profile: this.options.profile,
      startedAt,
      workers: this.#pool.workers,
      diskBytes: stats.disk.bytes,
      levels: stats.levels,
      warnings: this.#warnings.splice(0),
      ...(request.entries !== undefined ? { entries: { depth } } : {}),
      ...(request.predicted === true ? { learned: learned.length } : {}),
    });
  }

  /** The file's current bytes (a copy), from L1 when still valid. */
  async content(file: string): Promise<Buffer> {
    this.#noteAccess(file);
    return this.#contentCopy(file);
  }

  async #contentCopy(file: string): Promise<Buffer> {
    const { bytes } = this.#readValid(file);
    const copy = Buffer.alloc(bytes.length);
    copy.set(new Uint8Array(bytes.buffer, bytes.offset, bytes.length));
    return copy;
  }

  /** A pinned view of the file's bytes in L1: never reused while pinned. Call `release()`. */
  async contentView(file: string): Promise<ContentView> {
    this.#noteAccess(file);
    const { relative, read } = this.#readValid(file);
    if (read.type === 'transient') {
      // Bytes L1 could not hold live in a buffer of their own: nothing to pin.
      const content = read.content;
      return { path: toAbsolute(this.root, relative), bytes: new Uint8Array(content.buffer, content.offset, content.length), release: () => undefined };
    }
    const entry = read.entry;
    this.#content.pin(entry);
    let released = false;
    return {
      path: toAbsolute(this.root, relative),
      bytes: new Uint8Array(entry.buffer, entry.offset, entry.length),
      release: () => {
        if (released) return;
        released = true;
        this.#content.unpin(entry);
      },
    };
  }

  /** The file's encoded AST, from L2 or parsed now. */
  async ast(file: string): Promise<AstResult> {
    this.#noteAccess(file);
    const { result, from } = await this.#astWithOrigin(file);
    this.#predictive.recordAstAnswer(from);
    return result;
  }

  /** An AST read on the engine's own behalf: not a caller's access, so nothing is learned from it. */
  async #astQuietly(file: string): Promise<AstResult> {
    return (await this.#astWithOrigin(file)).result;
  }

  /** The AST and which level answered: L2 memory, L2 disk, or a parse now. */
  async #astWithOrigin(file: string): Promise<{ result: AstResult; from: 'memory' | 'disk' | 'parsed' }> {
    const { relative, bytes, read } = this.#readValid(file);
    const text = decodeSourceText(bytes.buffer, bytes.offset, bytes.length);
    const key = astKey(this.#keyPrefix, scriptKindName(relative), bytes.hash);
    let record = this.#asts.get(key);
    let from: 'memory' | 'disk' | 'parsed' = 'memory';
    const persistence = this.#openPersistence();
    if (record === undefined && persistence !== null) {
      record = persistence.load(key) ?? undefined;
      from = 'disk';
      if (record !== undefined) this.#asts.set(key, record);
    }
    if (record === undefined) {
      from = 'parsed';
      // Concurrent callers asking for the same content share one parse.
      let parsing = this.#parsing.get(key);
      if (parsing === undefined) {
        parsing = this.#parseOne(relative, key, bytes, read.type === 'cached' ? read.entry : null).finally(() => this.#parsing.delete(key));
        this.#parsing.set(key, parsing);
      }
      record = await parsing;
    }
    const result = { path: toAbsolute(this.root, relative), text, ast: EncodedAst.decode(record.ast), imports: record.imports, diagnostics: record.diagnostics, signature: record.signature, contentHash: bytes.hash.toString(16).padStart(16, '0') };
    return { result, from };
  }

  async #parseOne(relative: string, key: AstKey, bytes: ContentBytes, pinned: ContentEntry | null): Promise<AstRecord> {
    const persistence = this.#persistence;
    const revision = this.#clock.now;
    if (pinned) this.#content.pin(pinned);
    try {
      const [outcome] = await this.#pool.parse([{ id: 0, path: relative, buffer: bytes.buffer, offset: bytes.offset, length: bytes.length, key }], persistence ? ENTRY_CODEC : null);
      if (outcome === undefined || outcome.type === 'failed') {
        throw new StrataError(outcome?.code ?? 'EWORKER', outcome?.message ?? 'no outcome', relative);
      }
      const record: AstRecord = { ast: outcome.ast, imports: outcome.imports, diagnostics: outcome.diagnostics, nodeCount: outcome.nodeCount, signature: outcome.signature };
      if (this.#clock.isCurrent(relative, revision)) {
        this.#asts.set(key, record);
        persistence?.remember(relative, bytes.fingerprint, bytes.hash, key, outcome.entry);
      }
      return record;
    } finally {
      if (pinned) this.#content.unpin(pinned);
    }
  }

  /** A real `ts.SourceFile` (parent pointers set) for callers that need TypeScript's node API. */
  async sourceFile(file: string): Promise<ts.SourceFile> {
    this.#noteAccess(file);
    const { relative, bytes } = this.#readValid(file);
    const text = decodeSourceText(bytes.buffer, bytes.offset, bytes.length);
    // Loaded on demand: the coordinator only pays for the parser when a caller asks for this.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { toSourceFile } = require('../workers/parse-source.js') as typeof import('../workers/parse-source.js');
    return toSourceFile(toAbsolute(this.root, relative), text);
  }

  /** Tells the engine that files changed (for embedders running their own watcher). */
  invalidate(files: Iterable<string>): number {
    this.#assertOpen();
    const relatives = [...files].map((file) => toRootPath(this.root, file).relative);
    for (const relative of relatives) this.#content.delete(relative);
    return this.#clock.invalidate(relatives);
  }

  stats(): EngineStats {
    const allocator = this.#content.allocatorStats();
    return {
      schemaVersion: REPORT_SCHEMA_VERSION,
      root: this.root,
      profile: this.options.profile,
      revision: this.#clock.now,
      invalidations: { count: this.#clock.invalidations, paths: this.#clock.invalidatedPaths },
      levels: { content: this.#content.snapshot(), ast: this.#asts.snapshot(), results: this.#results.snapshot(), streams: this.#streamsSnapshot() },
      content: { budget: this.#content.budget, reservedBytes: allocator.reservedBytes, fragmentation: allocator.fragmentation, restamps: this.#reader.restamps },
      ast: { budget: this.#asts.budget },
      graph: { nodes: this.#deps?.nodeCount ?? 0, maxNodes: this.options.graphMaxNodes },
      pool: this.#pool.stats(),
      adaptiveSizing: this.#sizing?.stats() ?? { enabled: false, bounds: null, changes: [] },
      disk: {
        dir: this.#persistence?.dir ?? null,
        bytes: this.#persistence?.diskBytes() ?? 0,
        indexedFiles: this.#persistence?.indexSize ?? 0,
        counters: this.#persistence?.counters() ?? null,
      },
      predictive: this.#predictive.stats(),
    };
  }

  /**
   * Adaptive sizing, now: one sample of L1's and L2's hit rates (the engine also takes one every
   * `adaptiveInterval`), and the budget changes it led to. Empty when `adaptiveSizing` is off.
   */
  adaptSizes(): SizingChange[] {
    return this.#closed ? [] : (this.#sizing?.tick() ?? []);
  }

  #sizingController(): SizingController {
    const o = this.options;
    return new SizingController(SizingController.boundsFor(o), {
      read: () => {
        const content = this.#content.snapshot();
        const ast = this.#asts.snapshot();
        return { content: { hits: content.hits, misses: content.misses, budget: this.#content.budget }, ast: { hits: ast.hits, misses: ast.misses, budget: this.#asts.budget } };
      },
      apply: (level, budget) => (level === 'content' ? this.#content.setBudget(budget) : this.#asts.setBudget(budget)),
      underPressure: () => this.#rss.near(DEGRADE_AT),
      log: (change) => logger.info('adaptive sizing', { ...change }),
    });
  }

  /**
   * Reports inconsistencies across levels: L1 content that no longer matches its file, index
   * records of deleted files or with missing/corrupt entries, results about files that are gone.
   * With `repair`, each is removed (and rebuilt on next use). Never throws for a finding.
   */
  validate(options: { repair?: boolean } = {}): ValidationReport {
    this.#assertOpen();
    const repair = options.repair === true;
    const findings: ValidationFinding[] = [];
    for (const file of this.#staleContent()) {
      findings.push({ level: 'content', path: file, problem: 'stale-content' });
      if (repair) this.#content.delete(file);
    }
    const persistence = this.#openPersistence();
    for (const finding of persistence?.validate(this.root, repair) ?? []) findings.push({ level: 'ast', ...finding });
    this.#loadResults();
    const gone = new Set([...this.#results.paths()].filter((file) => !fs.existsSync(toAbsolute(this.root, file))));
    for (const file of gone) findings.push({ level: 'results', path: file, problem: 'orphan-result' });
    if (repair) {
      this.#results.deletePaths(gone);
      persistence?.save();
    }
    return { schemaVersion: REPORT_SCHEMA_VERSION, root: this.root, findings, repaired: repair ? findings.length : 0 };
  }

  /** Drops every in-memory entry. */
  clear(): void {
    this.#content.clear();
    this.#asts.clear();
    this.#clock.invalidate([]);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#cleanupTimer);
    for (const timer of this.#periodic) clearInterval(timer);
    await this.#watcher?.close();
    this.#watcher = null;
    await this.#predictive.stop();
    await this.#pool.close();
    const persistence = this.#persistence;
    this.#persistence = null;
    if (persistence) {
      try {
        await persistence.settle();
        this.#predictive.save();
        persistence.save();
        if (this.#results.dirty) saveResults(persistence.resultsFile, this.#results.entries());
      } finally {
        persistence.close();
      }
    }
    this.#content.clear();
    this.#asts.clear();
  }

  #readValid(file: string): { relative: string; bytes: ContentBytes; read: Extract<ContentRead, { type: 'cached' | 'transient' }> } {
    this.#assertOpen();
    const { relative, absolute } = toRootPath(this.root, file);
    const read = this.#reader.read(relative, absolute);
    switch (read.type) {
      case 'cached':
        return { relative, bytes: read.entry, read };
      case 'transient':
        return { relative, bytes: read.content, read };
      case 'skipped':
        throw new StrataError('ENOTCACHED', `${relative} is not parsed as source (${read.reason})`, relative);
      case 'failed':
        throw new StrataError(read.code, `${relative}: ${read.message}`, relative);
    }
  }

  /** Drops L1 entries whose file changed or vanished (reads re-check anyway; this frees the memory). */
  #revalidateContent(): number {
    let dropped = 0;
    for (const file of this.#staleContent()) if (this.#content.delete(file)) dropped++;
    logger.debug('revalidated content', { dropped });
    return dropped;
  }

  /** L1 entries whose file's fingerprint moved, or whose file is gone. */
  #staleContent(): string[] {
    const stale: string[] = [];
    for (const entry of this.#content.entries()) {
      try {
        const stats = fs.statSync(toAbsolute(this.root, entry.path), { bigint: true });
        if (!sameFingerprint(fingerprintOf(stats), entry.fingerprint)) stale.push(entry.path);
      } catch {
        stale.push(entry.path); // gone: nothing left to serve
      }
    }
    return stale;
  }

  /** Writes the disk index and the L3 results now (production saves every saveStateInterval). */
  #saveState(): void {
    const persistence = this.#persistence;
    if (persistence === null || this.#closed) return;
    try {
      this.#predictive.save();
      persistence.save();
      if (this.#results.dirty) {
        saveResults(persistence.resultsFile, this.#results.entries());
        this.#results.dirty = false;
      }
      logger.debug('state saved', { dir: persistence.dir });
    } catch (error) {
      logger.warn('could not save state', { message: (error as Error).message });
    }
  }

  /** Resolves once no predicted file is waiting to be prefetched or being loaded (tests, benchmarks). */
  prefetchIdle(): Promise<void> {
    return this.#predictive.idle();
  }

  /** Learns from a caller's access (before answering it, so prefetching starts soon). */
  #noteAccess(file: string): void {
    if (this.#closed || !this.options.predictive) return;
    let relative: string;
    try {
      relative = toRootPath(this.root, file).relative;
    } catch {
      return; // outside the root: the read itself reports it
    }
    this.#predictive.recordAccess(relative);
  }

  /** The file's AST is in L2 memory for its cached content; counts nothing, touches no LRU order. */
  #astInMemory(relative: string): boolean {
    const entry = this.#content.peek(relative);
    return entry !== undefined && this.#asts.has(astKey(this.#keyPrefix, scriptKindName(relative), entry.hash));
  }

  /** Prefetching only fills space below the levels' pressure lines and well below the memory limit. */
  #roomToPrefetch(): boolean {
    const o = this.options;
    if (this.#content.usedBytes >= this.#content.budget * o.contentPressureThreshold) return false;
    if (this.#asts.bytes >= this.#asts.budget * PREFETCH_MAX_AST_FILL || this.#asts.size >= o.astMaxEntries * PREFETCH_MAX_AST_FILL) return false;
    return !this.#rss.near(DEGRADE_AT);
  }

  /** Transitive dependents from the dependency graph when it is in memory; none otherwise (no scan per event). */
  #knownDependents(file: string): string[] {
    const graph = this.#deps?.graph;
    if (graph === undefined || !graph.has(file)) return [];
    return graph.transitiveDependents(file).map((reached) => reached.path);
  }

  /** L4 as a level: events published (hits), watcher errors (misses), rescans (evictions), subscribers. */
  #streamsSnapshot(): LevelSnapshot {
    if (this.#watcher === null) return emptyLevel();
    const stats = this.#watcher.stats();
    return { hits: stats.published, misses: stats.errors, evictions: stats.rescans, bytes: 0, entries: stats.subscribers };
  }

  /** Loads persisted L3 results once (they are keyed by state: only valid ones can ever be hit). */
  #loadResults(): void {
    if (this.#resultsLoaded) return;
    this.#resultsLoaded = true;
    const persistence = this.#openPersistence();
    if (persistence === null) return;
    const loaded = loadResults(persistence.resultsFile);
    if (loaded.corrupt) {
      persistence.countCorruptResults();
      this.#warnings.push({ path: '.', message: 'results file was corrupt: removed, results will be recomputed' });
    }
    this.#results.load(loaded.results);
    this.#results.dirty = false;
  }

  #dependencyService(): DependencyService {
    if (this.#deps === null) {
      // Loaded on first use: a plain warm never needs the dependency graph.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { DependencyService: Service, engineDepsSource } = require('./graph/deps-service.js') as typeof import('./graph/deps-service.js');
      // The service's own reads (a file's imports, a reverse scan) are not the caller's accesses.
      this.#deps = new Service({ ...engineDepsSource(this), astOf: (file) => this.#astQuietly(file) }, { resolver: this.#moduleResolver(), maxNodes: this.options.graphMaxNodes });
    }
    return this.#deps;
  }

  #moduleResolver(): ModuleResolver {
    if (this.#resolver === null) {
      // Loaded on first use: module resolution loads TypeScript, which a plain warm never needs.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { ModuleResolver: Resolver } = require('./graph/module-resolver.js') as typeof import('./graph/module-resolver.js');
      this.#resolver = new Resolver({ root: this.root });
    }
    return this.#resolver;
  }

  #dependencyState(file: string): Promise<DependencyState> {
    const resolver = this.#moduleResolver();
    resolver.refresh();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { dependencyState } = require('./results/dependency-state.js') as typeof import('./results/dependency-state.js');
    return dependencyState(file, {
      root: this.root,
      resolve: (from, record) => resolver.resolve(from, record),
      ast: (path) => this.#astQuietly(path),
      content: (path) => this.#contentCopy(path),
    });
  }

  /** Opens the disk level on first need; an unusable cache directory is a warning, never fatal. */
  #openPersistence(): AstPersistence | null {
    if (!this.#persistenceOpened) {
      this.#persistenceOpened = true;
      if (this.options.persist) {
        const opened = AstPersistence.open(this.options, this.#keyPrefix, this.#env);
        this.#persistence = opened.persistence;
        logger.debug('disk level', { dir: opened.dir, indexedFiles: opened.persistence?.indexSize ?? 0, warning: opened.warning });
        if (opened.warning !== null) this.#warnings.push({ path: '.', message: `running in memory: ${opened.warning}` });
      }
    }
    return this.#persistence;
  }

  #assertOpen(): void {
    if (this.#closed) throw new StrataError('ECLOSED', 'the engine is closed');
  }
}

export function createEngine(options: EngineOptions = {}, sources: OptionSources = {}): Engine {
  return new Engine(options, sources);
}
