/**
 * Runs parse batches on a Piscina pool of worker threads, or in the coordinator's own thread
 * (`executor: 'in-thread'`: one-core machines and unit tests; the same plain functions run).
 * A batch whose worker throws or dies is retried file by file, so one bad file fails alone, with
 * EWORKER, and the pool (which replaces dead workers) carries on.
 */
import * as path from 'node:path';
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import type Piscina from 'piscina';
import type { CodecId } from '../../native-bindings/lz4.js';
import { MEBIBYTE } from '../config/units.js';
import type { CodeCacheOutcome, FileOutcome, ParseBatchRequest, ParseSettings, SlabFileRef, WorkerRequest, WorkerResponse } from '../../shared/protocol.js';

export type ParseExecutor = 'pool' | 'in-thread';

export interface ParsePoolOptions {
  readonly workers: number;
  readonly executor: ParseExecutor;
  readonly settings: ParseSettings;
  /** Worker entry file. @default the built workers/worker.js */
  readonly workerFile?: string;
  /**
   * V8 young-generation size per worker, in MiB, when no memory limit caps the workers' heaps (under
   * one they keep V8's own, which the memory model counts on). @default V8's own (48); the engine
   * asks for {@link youngGenerationFor}'s answer.
   */
  readonly youngGenerationMb?: number;
}

/**
 * Young generation of a worker that may use it: 192 MiB, i.e. 64 MiB semi-spaces (V8's default: 16).
 * The parser's garbage dies with each file, but with small semi-spaces each scavenge copies (and soon
 * promotes) the tree of the file being parsed, so garbage collection took ~50% of a worker's parse time.
 * Measured on the 8k-file npm corpus, one worker, GC time from `--cpu-prof` (the instrument that holds
 * on a noisy shared machine): 48 MiB 3.0–4.8 s and 96 MiB 2.4 s against 1.6 s at 192 and 1.5 s at 384,
 * for ~100 MB more peak RSS per worker (README, "Cold warm at the machine's ceiling").
 */
export const UNCAPPED_YOUNG_GENERATION_MB = 192;
/**
 * Below this L2 budget the engine is configured to run lean, and the workers keep V8's young
 * generation: ~100 MB more per worker would then outweigh the caches themselves. Every profile's
 * default (200 MB and up) is above it.
 */
export const LEAN_AST_BUDGET_BYTES = 128 * MEBIBYTE;

/** The young generation the engine asks for its workers: large unless its L2 budget says "lean". */
export function youngGenerationFor(astBudgetBytes: number): number | undefined {
  return astBudgetBytes >= LEAN_AST_BUDGET_BYTES ? UNCAPPED_YOUNG_GENERATION_MB : undefined;
}

export const DEFAULT_WORKER_FILE = path.join(__dirname, '..', '..', 'workers', 'worker.js');

export interface PoolStats {
  readonly workers: number;
  readonly tasks: number;
  readonly busyMs: number;
  /** Busy time over (workers × time since the pool started): 1 = every worker always busy. */
  readonly utilisation: number;
  /** Parse-batch latency, round trip from the coordinator, in ms. */
  readonly latencyMs: { readonly count: number; readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number };
  readonly retriedFiles: number;
  readonly started: boolean;
  /** How workers loaded TypeScript: through the V8 code cache (`hit`), rebuilding it (`miss`, `rejected`: a damaged file, rewritten), or without it (`off`). */
  readonly codeCache: Readonly<Record<CodeCacheOutcome, number>>;
}

export class ParsePool {
  readonly #options: ParsePoolOptions;
  #workers: number;
  #heapLimitBytes: number | null = null;
  #piscina: Piscina | null = null;
  #inThread: ((request: WorkerRequest) => WorkerResponse) | null = null;
  #tasks = 0;
  #busyMs = 0;
  #retriedFiles = 0;
  readonly #codeCache: Record<CodeCacheOutcome, number> = { hit: 0, miss: 0, rejected: 0, off: 0 };
  #startedAt = 0;
  /** Batch round-trip times in µs (perf_hooks histograms record integers). */
  readonly #latency: RecordableHistogram = createHistogram();

  constructor(options: ParsePoolOptions) {
    this.#options = options;
    this.#workers = options.workers;
  }

  get workers(): number {
    return this.#options.executor === 'pool' ? this.#workers : 0;
  }

  get started(): boolean {
    return this.#piscina !== null || this.#inThread !== null;
  }

  /** Starts the threads and has each load the parser now, while the caller keeps discovering. */
  start(): void {
    if (this.started) return;
    this.#startedAt = performance.now();
    if (this.#options.executor === 'in-thread') {
      // Loaded lazily: a warm with nothing to parse never loads the parser.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      this.#inThread = (require('../../workers/parse-batch.js') as typeof import('../../workers/parse-batch.js')).handleRequest;
      return;
    }
    const workers = this.#workers;
    // Loaded on first use: a warm answered from the store never loads the pool.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const PiscinaPool = (require('piscina') as typeof import('piscina')).Piscina;
    this.#piscina = new PiscinaPool({
      filename: this.#options.workerFile ?? DEFAULT_WORKER_FILE,
      minThreads: workers,
      maxThreads: workers,
      idleTimeout: 60_000,
      concurrentTasksPerWorker: 1,
      resourceLimits: {
        ...(this.#heapLimitBytes !== null ? { maxOldGenerationSizeMb: Math.ceil(this.#heapLimitBytes / MEBIBYTE) } : {}),
        ...youngGenerationLimit(this.#options.youngGenerationMb, this.#heapLimitBytes),
      },
    });
    for (let i = 0; i < workers; i++) {
      // Best effort: a failed warm-up surfaces on the first real batch instead.
      this.#run({ type: 'warmup' })
        .then((response) => {
          if (response.type === 'warmup-done' && response.codeCache !== undefined) this.#codeCache[response.codeCache]++;
        })
        .catch(() => undefined);
    }
  }

  /**
   * Parses a batch; never rejects: every file gets an outcome. With `entryCodec`, workers also build
   * each file's persisted entry (compressing off the coordinator).
   */
  async parse(files: readonly SlabFileRef[], entryCodec: CodecId | null = null): Promise<FileOutcome[]> {
    this.start();
    const request: ParseBatchRequest = { type: 'parse-batch', settings: this.#options.settings, files, entryCodec };
    try {
      return await this.#parseOnce(request);
    } catch (error) {
      if (files.length === 1) return [workerFailure(files[0]!, error)];
      this.#retriedFiles += files.length;
      return Promise.all(
        files.map((file) =>
          this.#parseOnce({ ...request, files: [file] })
            .then((outcomes) => outcomes[0]!)
            .catch((retryError: unknown) => workerFailure(file, retryError)),
        ),
      );
    }
  }

  stats(): PoolStats {
    const elapsed = this.started ? performance.now() - this.#startedAt : 0;
    const capacity = Math.max(1, this.workers) * elapsed;
    const latency = this.#latency;
    const ms = (micros: number): number => (latency.count === 0 ? 0 : micros / 1000);
    return {
      workers: this.workers,
      tasks: this.#tasks,
      busyMs: this.#busyMs,
      utilisation: capacity > 0 ? Math.min(1, this.#busyMs / capacity) : 0,
      latencyMs: { count: latency.count, p50: ms(latency.percentile(50)), p90: ms(latency.percentile(90)), p99: ms(latency.percentile(99)), max: ms(latency.max) },
      retriedFiles: this.#retriedFiles,
      started: this.started,
      codeCache: { ...this.#codeCache },
    };
  }

  /** Old-generation cap of each worker (memory-aware warming); null = V8's default. */
  get heapLimitBytes(): number | null {
    return this.#heapLimitBytes;
  }

  /**
   * Runs with `workers` threads, each with its old generation capped at `heapLimitBytes`, from now on.
   * A started pool is torn down once its tasks end, so the memory of the threads it drops is returned
   * now; the next batch starts the new size.
   */
  async resize(workers: number, heapLimitBytes: number | null = this.#heapLimitBytes): Promise<void> {
    const size = Math.max(1, Math.floor(workers));
    if (size === this.#workers && heapLimitBytes === this.#heapLimitBytes) return;
    this.#workers = size;
    this.#heapLimitBytes = heapLimitBytes;
    const piscina = this.#piscina;
    if (piscina === null) return;
    this.#piscina = null;
    await piscina.close();
  }

  async close(): Promise<void> {
    const piscina = this.#piscina;
    this.#piscina = null;
    this.#inThread = null;
    if (piscina) await piscina.destroy();
  }

  async #parseOnce(request: ParseBatchRequest): Promise<FileOutcome[]> {
    const sent = performance.now();
    const response = await this.#run(request);
    this.#latency.record(Math.max(1, Math.round((performance.now() - sent) * 1000)));
    if (response.type !== 'parse-batch-result') throw new Error(`unexpected worker response ${response.type}`);
    this.#busyMs += response.busyMs;
    return [...response.outcomes];
  }

  async #run(request: WorkerRequest): Promise<WorkerResponse> {
    this.#tasks++;
    if (this.#inThread) return this.#inThread(request);
    if (!this.#piscina) throw new Error('parse pool is closed');
    return (await this.#piscina.run(request)) as WorkerResponse;
  }
}

/** The young-generation part of a worker's resourceLimits: V8's own under a heap cap, else what was asked. */
function youngGenerationLimit(askedMb: number | undefined, heapLimitBytes: number | null): { maxYoungGenerationSizeMb?: number } {
  return heapLimitBytes === null && askedMb !== undefined && askedMb > 0 ? { maxYoungGenerationSizeMb: askedMb } : {};
}

function workerFailure(file: SlabFileRef, error: unknown): FileOutcome {
  return { type: 'failed', id: file.id, code: 'EWORKER', message: `worker failed: ${(error as Error)?.message ?? String(error)}` };
}

