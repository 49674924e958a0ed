/**
 * The library's facade. It builds the levels, hands each part the narrow interface it needs, and
 * forwards: L1 reads (content/content-access.ts), L2 reads (ast/ast-reader.ts), warms
 * (warming/warm-requests.ts), L3 namespaces (results/), the dependency graph (graph/), streams
 * (streams/), the disk level (persistence/disk-state.ts), validation and stats (ops/). Services a
 * plain warm never needs are loaded on first use. No part imports this file.
 */
import type * as ts from 'typescript';
import { StrataError } from '../shared/errors.js';
import { AstCache } from './ast/ast-cache.js';
import { AstReader, type AstOrigin, type AstResult } from './ast/ast-reader.js';
import { astKeyPrefix, DEFAULT_PARSE_SETTINGS, installedParser } from './ast/keys.js';
import { resolveOptions, type OptionSources, type ResolvedOptions, type StrataOptions } from './config/options.js';
import { ContentAccess, type ContentView } from './content/content-access.js';
import { ContentCache } from './content/content-cache.js';
import { ContentReader } from './content/content-reader.js';
import { isSourceFile } from './discovery/source-files.js';
import type { DependenciesAnswer, DependentsAnswer, TransitiveDependentsAnswer } from './graph/deps-service.js';
import { GraphAccess } from './graph/graph-access.js';
import type { LevelName, LevelSnapshot } from './level-counters.js';
import { SizingController, sizedLevels, type SizingChange } from './memory/adaptive-sizing.js';
import { DEGRADE_AT, RssSampler } from './memory/memory-governor.js';
import { engineStats, type EngineStats } from './ops/engine-stats.js';
import { logger } from './ops/log.js';
import { validateLevels, type ValidationReport } from './ops/validation.js';
import { toRootPath } from './paths.js';
import { DiskState } from './persistence/disk-state.js';
import { ParsePool, youngGenerationFor, type ParseExecutor } from './pool/parse-pool.js';
import { roomToPrefetch } from './prediction/prefetch-room.js';
import { PredictiveWarming } from './prediction/predictive-warming.js';
import type { AnalyzerResults, AnalyzerSpec, ComputeContext } from './results/analyzer-results.js';
import type { DependencyState } from './results/dependency-state.js';
import { ResultsCache } from './results/results-cache.js';
import { RevisionClock } from './revision-clock.js';
import type { RemoteTier } from './remote/remote-tier.js';
import type { CompilerHostOptions } from './hosts/compiler-host.js';
import type { DocumentRegistryOptions } from './hosts/document-registry.js';
import { SourceFiles, type SourceFileSettings } from './sourcefiles/source-files.js';
import type { ResultStream } from './streams/result-stream.js';
import { streamsLevel } from './streams/streams-level.js';
import type { Subscription, WatchService } from './streams/watch-service.js';
import { RSS_SAMPLE_MS } from './warming/warm-limits.js';
import { Warmer, type Warning, type WarmOptions } from './warming/warm-requests.js';
import type { WarmReport } from './warming/warm-report.js';

export type { AstResult } from './ast/ast-reader.js';
export type { ContentView } from './content/content-access.js';
export type { EngineStats } from './ops/engine-stats.js';
export type { ValidationFinding, ValidationReport } from './ops/validation.js';
export type { WarmOptions } from './warming/warm-requests.js';

export interface EngineOptions extends StrataOptions {
  /** Where parsing runs. @default 'pool' */
  executor?: ParseExecutor;
  /** Worker entry file (tests inject one). @default the built workers/worker.js */
  workerFile?: string;
}

export class Engine {
  readonly options: ResolvedOptions;
  readonly #content: ContentCache;
  readonly #reader: ContentReader;
  readonly #access: ContentAccess;
  readonly #asts: AstCache;
  readonly #astReader: AstReader;
  readonly #pool: ParsePool;
  readonly #clock = new RevisionClock();
  readonly #disk: DiskState;
  readonly #warmer: Warmer;
  readonly #warnings: Warning[] = [];
  readonly #results: ResultsCache;
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #sizing: SizingController | null;
  readonly #predictive: PredictiveWarming;
  readonly #rss: RssSampler;
  readonly #graph: GraphAccess;
  readonly #sourceFiles: SourceFiles;
  /** The shared remote tier; null unless configured (then node-redis loads on its first lookup). */
  readonly #remote: RemoteTier | null;
  #watcher: WatchService | null = null;
  #closed = false;

  constructor(given: EngineOptions = {}, sources: OptionSources = {}) {
    const { executor = 'pool', workerFile, ...strataOptions } = given;
    const o = (this.options = resolveOptions(strataOptions, sources));
    const warn = (message: string): void => void this.#warnings.push({ path: '.', message });
    this.#content = new ContentCache({ budget: o.contentBudget, pressureThreshold: o.contentPressureThreshold, aggressiveThreshold: o.contentAggressiveThreshold });
    this.#reader = new ContentReader(this.#content, { maxFileSize: o.maxFileSize, validation: o.readValidation });
    this.#access = new ContentAccess(o.root, this.#content, this.#reader);
    this.#asts = new AstCache({ budget: o.astBudget, maxEntries: o.astMaxEntries });
    this.#pool = new ParsePool({ workers: o.workers, executor, settings: DEFAULT_PARSE_SETTINGS, youngGenerationMb: youngGenerationFor(o.astBudget), ...(workerFile ? { workerFile } : {}) });
    const keyPrefix = astKeyPrefix(installedParser(), DEFAULT_PARSE_SETTINGS);
    this.#rss = new RssSampler(o.memoryLimit, RSS_SAMPLE_MS);
    this.#results = new ResultsCache({ maxEntries: o.resultsMaxEntries, retentionMs: o.resultsRetention });
    this.#disk = new DiskState({ options: o, keyPrefix, env: sources.env ?? process.env, results: this.#results, warn, saveOthers: () => this.#predictive.save() });
    const persistence = (): ReturnType<DiskState['open']> => this.#disk.open();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    this.#remote = o.remote === null ? null : new (require('./remote/remote-tier.js') as typeof import('./remote/remote-tier.js')).RemoteTier(o.remote);
    this.#astReader = new AstReader({ root: o.root, access: this.#access, content: this.#content, asts: this.#asts, pool: this.#pool, clock: this.#clock, keyPrefix, maxFileSize: o.maxFileSize, persistence, remote: this.#remote });
    this.#predictive = new PredictiveWarming(
      { root: o.root, patternsFile: () => persistence()?.patternsFile ?? null, warn, load: (relative) => this.#readAst(relative), isLoaded: (relative) => this.#astReader.inMemory(relative), hasRoom: () => roomToPrefetch({ content: this.#content, asts: this.#asts, limits: o, nearMemoryLimit: () => this.#rss.near(DEGRADE_AT) }) },
      { enabled: o.predictive, workers: this.#pool.workers },
    );
    // The graph's own reads (a file's imports, a reverse scan) are not the caller's accesses.
    this.#graph = new GraphAccess({ root: o.root, options: o, astOf: async (file) => (await this.#readAst(file)).result });
    this.#warmer = new Warmer({
      options: o,
      content: this.#content,
      reader: this.#reader,
      asts: this.#asts,
      pool: this.#pool,
      clock: this.#clock,
      keyPrefix,
      remote: this.#remote,
      rss: this.#rss,
      warnings: this.#warnings,
      persistence,
      readAst: (file) => this.#readAst(file),
      resolver: () => this.#graph.freshResolver(),
      startupSet: (limit) => this.#predictive.startupSet(limit),
      levels: () => this.#levels(),
    });
    this.#sourceFiles = new SourceFiles({
      root: o.root,
      access: this.#access,
      clock: this.#clock,
      budget: o.sourceFileBudget,
      pressureThreshold: o.contentPressureThreshold,
      nearMemoryLimit: () => this.#rss.near(DEGRADE_AT),
    });
    this.#sizing = o.adaptiveSizing ? this.#sizingController() : null;
    // Periodic work never keeps the process alive: expired results, and for long-running hosts a
    // re-check of cached content against the disk, saved state (production) and adaptive sizing.
    this.#every(o.resultsCleanupInterval, () => this.#results.cleanup());
    if (o.revalidateInterval !== null) this.#every(o.revalidateInterval, () => logger.debug('revalidated content', { dropped: this.#access.dropStale() }));
    if (o.saveStateInterval !== null) this.#every(o.saveStateInterval, () => this.#disk.save());
    if (this.#sizing) this.#every(o.adaptiveInterval, () => this.adaptSizes());
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
    const report = await this.#warmer.warm(request);
    logger.debug('warm finished', { files: report.files, parsed: report.parsed, fromMemory: report.fromMemory, fromDisk: report.fromDisk, durationMs: Math.round(report.durationMs), stoppedBy: report.stoppedBy });
    return report;
  }

  /** The file's current bytes (a copy), from L1 when still valid. */
  async content(file: string): Promise<Buffer> {
    this.#noteAccess(file);
    return this.#readable().copy(file);
  }

  /** A pinned view of the file's bytes in L1: never reused while pinned. Call `release()`. */
  async contentView(file: string): Promise<ContentView> {
    this.#noteAccess(file);
    return this.#readable().view(file);
  }

  /** The file's encoded AST, from L2 or parsed now. */
  async ast(file: string): Promise<AstResult> {
    this.#noteAccess(file);
    const { result, from } = await this.#readAst(file);
    this.#predictive.recordAstAnswer(from === 'remote' ? 'disk' : from);
    return result;
  }

  /**
   * A real `ts.SourceFile` (parent pointers set unless `settings` say otherwise), from the SourceFile
   * tier while the file's content and the settings hold, else parsed now and kept there.
   */
  async sourceFile(file: string, settings?: SourceFileSettings): Promise<ts.SourceFile> {
    this.#noteAccess(file);
    const { relative, absolute, bytes } = this.#readable().read(file);
    return this.#sourceFiles.ofContent(absolute, relative, bytes, settings);
  }

  /**
   * A `ts.CompilerHost` (TypeScript's own, from `ts.createCompilerHost`) whose reads come from
   * Strata: `getSourceFile` from the SourceFile tier, `readFile` from L1. Pass the same options to
   * `ts.createProgram`. Files outside the root (lib `.d.ts`, hoisted types) are served read-only.
   */
  compilerHost(compilerOptions: ts.CompilerOptions, options?: CompilerHostOptions): ts.CompilerHost {
    this.#assertOpen();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { strataCompilerHost } = require('./hosts/compiler-host.js') as typeof import('./hosts/compiler-host.js');
    return strataCompilerHost(this.#sourceFiles, compilerOptions, options);
  }

  /** A `ts.DocumentRegistry` for LanguageService hosts, with the SourceFile tier as its document cache. */
  documentRegistry(options?: DocumentRegistryOptions): ts.DocumentRegistry {
    this.#assertOpen();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { strataDocumentRegistry } = require('./hosts/document-registry.js') as typeof import('./hosts/document-registry.js');
    return strataDocumentRegistry(this.#sourceFiles, options);
  }

  /** The file's imports, resolved with TypeScript's module resolution (DESIGN's `deps` shape); absolute paths. */
  async deps(file: string): Promise<DependenciesAnswer> {
    this.#assertOpen();
    this.#noteAccess(file);
    return this.#graph.dependencies(file);
  }

  /** Files that import this one (with `depth`, transitively, each with its depth); absolute paths. */
  async dependents(file: string, depth?: number): Promise<DependentsAnswer | TransitiveDependentsAnswer> {
    this.#assertOpen();
    return this.#graph.dependents(file, depth);
  }

  /**
   * An analyzer's namespace in L3: `get`, `set` and `compute(path, fn)` for per-file results that
   * stay valid while the file and (unless `dependsOnDependencies: false`) its dependencies' export
   * signatures are unchanged.
   */
  results<T>(spec: AnalyzerSpec): AnalyzerResults<T> {
    this.#assertOpen();
    this.#disk.loadResults();
    // Loaded on first use, like the other services below: a warm never needs them.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { analyzerResults } = require('./results/analyzer-results.js') as typeof import('./results/analyzer-results.js');
    const host = { clock: this.#clock, cache: this.#results, relative: (file: string) => toRootPath(this.root, file).relative };
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const remote = this.#remote === null ? {} : { remote: (require('./remote/remote-results.js') as typeof import('./remote/remote-results.js')).remoteResults(this.#remote) };
    return analyzerResults<T>({ ...host, ...remote, ast: (file) => this.ast(file), dependencyState: (file) => this.#dependencyState(file) }, spec);
  }

  /**
   * Watches the root (chokidar, the same ignore rules as discovery): every add, change, unlink or
   * rename invalidates through the revision clock; storms and watcher errors trigger a rescan by
   * stat. The dependency graph is read whole at the start and updated from each event's new parse,
   * so every event's `invalidated` names the transitive dependents (with early cutoff: an edit that
   * keeps the export signature names the file alone). Resolves once the watcher is ready and the
   * graph built. Calling it again returns the same watcher.
   */
  async watch(): Promise<WatchService> {
    this.#assertOpen();
    if (this.#watcher === null) {
      // Loaded on first use: chokidar is only needed by hosts that watch.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { WatchService: Service } = require('./streams/watch-service.js') as typeof import('./streams/watch-service.js');
      this.#watcher = new Service(
        { root: this.root, invalidate: (paths) => this.invalidate(paths), affectedBy: (file, change) => this.#graph.affectedBy(file, change) },
        { cacheDir: this.#disk.open()?.dir ?? this.options.cacheDir, includeNodeModules: this.options.includeNodeModules },
      );
    }
    await Promise.all([this.#watcher.ready(), this.#graph.startLive()]);
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

  /** Tells the engine that files changed (for embedders running their own watcher). */
  invalidate(files: Iterable<string>): number {
    this.#assertOpen();
    const relatives = [...files].map((file) => toRootPath(this.root, file).relative);
    for (const relative of relatives) this.#content.delete(relative);
    this.#sourceFiles.invalidate(relatives);
    return this.#clock.invalidate(relatives);
  }

  stats(): EngineStats {
    return engineStats({
      root: this.root,
      profile: this.options.profile,
      clock: this.#clock,
      levels: this.#levels(),
      content: this.#content,
      restamps: this.#reader.restamps,
      astBudget: this.#asts.budget,
      graph: { nodes: this.#graph.nodeCount, maxNodes: this.options.graphMaxNodes },
      pool: this.#pool.stats(),
      sizing: this.#sizing?.stats() ?? null,
      disk: this.#disk.current,
      predictive: this.#predictive.stats(),
      sourceFiles: this.#sourceFiles.snapshot(),
      remote: this.#remote?.counters() ?? null,
    });
  }

  /**
   * Adaptive sizing, now: one sample of L1's and L2's hit rates (the engine also takes one every
   * `adaptiveInterval`), and the budget changes it led to. Empty when `adaptiveSizing` is off.
   */
  adaptSizes(): SizingChange[] {
    return this.#closed ? [] : (this.#sizing?.tick() ?? []);
  }

  /**
   * Reports inconsistencies across levels (ops/validation.ts); with `repair`, each is removed and
   * rebuilt on next use. Never throws for a finding.
   */
  validate(options: { repair?: boolean } = {}): ValidationReport {
    this.#assertOpen();
    const persistence = this.#disk.open();
    this.#disk.loadResults();
    return validateLevels({ root: this.root, access: this.#access, content: this.#content, persistence, results: this.#results }, options.repair === true);
  }

  /** Resolves once no predicted file is waiting to be prefetched or being loaded (tests, benchmarks). */
  prefetchIdle(): Promise<void> {
    return this.#predictive.idle();
  }

  /** Drops every in-memory entry. */
  clear(): void {
    this.#content.clear();
    this.#asts.clear();
    this.#sourceFiles.clear();
    this.#clock.invalidate([]);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#timers) clearInterval(timer);
    await this.#watcher?.close();
    this.#watcher = null;
    await this.#predictive.stop();
    await this.#pool.close();
    await this.#remote?.close();
    await this.#disk.close();
    this.#content.clear();
    this.#asts.clear();
    this.#sourceFiles.clear();
  }

  #every(intervalMs: number, run: () => void): void {
    const timer = setInterval(run, intervalMs);
    timer.unref();
    this.#timers.push(timer);
  }

  /** L1 for a caller's read (after checking the engine is open). */
  #readable(): ContentAccess {
    this.#assertOpen();
    return this.#access;
  }

  /** An AST read on the engine's own behalf: not a caller's access, so nothing is learned from it. */
  #readAst(file: string): Promise<{ result: AstResult; from: AstOrigin }> {
    this.#assertOpen();
    return this.#astReader.read(file);
  }

  #levels(): Readonly<Record<LevelName, LevelSnapshot>> {
    return { content: this.#content.snapshot(), ast: this.#asts.snapshot(), results: this.#results.snapshot(), streams: streamsLevel(this.#watcher) };
  }

  #sizingController(): SizingController {
    const levels = sizedLevels({ content: this.#content, ast: this.#asts }, () => this.#rss.near(DEGRADE_AT), (change) => logger.info('adaptive sizing', { ...change }));
    return new SizingController(SizingController.boundsFor(this.options), levels);
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

  #dependencyState(file: string): Promise<DependencyState> {
    const resolver = this.#graph.freshResolver();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { dependencyState } = require('./results/dependency-state.js') as typeof import('./results/dependency-state.js');
    return dependencyState(file, {
      root: this.root,
      resolve: (from, record) => resolver.resolve(from, record),
      ast: async (path) => (await this.#readAst(path)).result,
      content: async (path) => this.#readable().copy(path),
    });
  }

  #assertOpen(): void {
    if (this.#closed) throw new StrataError('ECLOSED', 'the engine is closed');
  }
}

export function createEngine(options: EngineOptions = {}, sources: OptionSources = {}): Engine {
  return new Engine(options, sources);
}
