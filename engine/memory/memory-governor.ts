/**
 * Memory-aware warming: holds the RSS of the whole process (worker threads included) under
 * `memoryLimit`. Two halves:
 *  - a plan made before the pool starts, from a cost model measured on the 2-core machine (README,
 *    "Memory-aware warming"): how many workers fit, how large the cache budgets and batches may be;
 *  - a governor that samples the real RSS while the warm runs and admits a batch only when its
 *    estimated parse cost fits, degrading (smaller budgets, one worker) before it gives up.
 * RSS is what the limit is about, so the governor trusts the measurement over the model: the model
 * only decides what to try first.
 */
import { MEBIBYTE } from '../config/units.js';

/**
 * A worker's memory besides its capped old generation: code, young generation, stacks, TypeScript's
 * compiled code (measured: a worker with TypeScript loaded adds ~55 MB over bare Node, ~40 of it heap).
 */
export const WORKER_OVERHEAD_BYTES = 32 * MEBIBYTE;
/**
 * Old-generation cap per worker under a limit. V8 collects harder as the cap nears, so the cap bounds a
 * worker's RSS; a file whose parse does not fit fails alone (EWORKER, out of memory). 96 MiB parses a
 * 2 MB file (measured: ~75 MB of heap retained for one; 64 MiB failed it).
 */
export const MIN_WORKER_HEAP_BYTES = 96 * MEBIBYTE;
export const MAX_WORKER_HEAP_BYTES = 512 * MEBIBYTE;
/** Peak heap while a worker parses and encodes, per source byte of the batch (measured, see above). */
export const PARSE_BYTES_PER_SOURCE_BYTE = 48;
/** The caches never get less than this, even when it means stopping early. */
export const MIN_CACHE_BYTES = 8 * MEBIBYTE;
/** Share of the room under the limit that the caches get; the workers' heaps get the rest. */
export const CACHE_SHARE = 0.35;
/** The plan aims below the limit by this fraction: RSS moves between samples. */
export const PLAN_HEADROOM = 0.1;
/** A batch waits for running ones while the sampled RSS plus its estimated cost is above this fraction. */
export const ADMIT_BELOW = 0.9;
/** Sampled RSS above this fraction degrades the warm (halved budgets, one worker)… */
export const DEGRADE_AT = 0.85;
/** …and above this one, once degraded, stops it. */
export const STOP_AT = 0.97;
/** Files at least this large are parsed alone, after the rest, when a limit is set. */
export const LARGE_FILE_BYTES = 512 * 1024;

export interface MemoryPlanInput {
  readonly limitBytes: number;
  /** The process's RSS now, before the pool starts. */
  readonly rssBytes: number;
  readonly workers: number;
  readonly contentBudget: number;
  readonly astBudget: number;
}

export interface MemoryPlan {
  readonly workers: number;
  /** Old-generation cap of each worker. */
  readonly workerHeapBytes: number;
  readonly contentBudget: number;
  readonly astBudget: number;
  /** The plan's RSS at its peak; above the limit when even the smallest plan does not fit. */
  readonly estimatedPeakBytes: number;
}

/** Parse cost of a batch of `sourceBytes`, as the model estimates it. */
export function parseCost(sourceBytes: number): number {
  return sourceBytes * PARSE_BYTES_PER_SOURCE_BYTE;
}

/**
 * Caches get their share of the room under the limit (never above the configured budgets, keeping
 * their proportion); the rest is split between as many workers as get MIN_WORKER_HEAP_BYTES each.
 */
export function planMemory(input: MemoryPlanInput): MemoryPlan {
  const room = Math.max(0, input.limitBytes * (1 - PLAN_HEADROOM) - input.rssBytes);
  const configured = input.contentBudget + input.astBudget;
  const perWorkerMin = WORKER_OVERHEAD_BYTES + MIN_WORKER_HEAP_BYTES;
  const caches = Math.max(MIN_CACHE_BYTES, Math.min(configured, room * CACHE_SHARE, room - perWorkerMin));
  let workers = Math.max(1, input.workers);
  while (workers > 1 && room - caches < workers * perWorkerMin) workers--;
  const heapShare = Math.floor((room - caches) / workers) - WORKER_OVERHEAD_BYTES;
  const workerHeapBytes = Math.min(MAX_WORKER_HEAP_BYTES, Math.max(MIN_WORKER_HEAP_BYTES, heapShare));
  const contentBudget = Math.max(MEBIBYTE, Math.floor((caches * input.contentBudget) / configured));
  const astBudget = Math.max(MEBIBYTE, Math.floor(caches - contentBudget));
  return {
    workers,
    workerHeapBytes,
    contentBudget,
    astBudget,
    estimatedPeakBytes: input.rssBytes + workers * (WORKER_OVERHEAD_BYTES + workerHeapBytes) + contentBudget + astBudget,
  };
}

export type Admission = 'go' | 'wait';

/** Decisions from sampled RSS; the warm acts on them (wait for a batch, shrink, stop). */
export class MemoryGovernor {
  readonly limitBytes: number;
  #degraded = false;
  #peakBytes = 0;
  readonly #readRss: () => number;

  constructor(limitBytes: number, readRss: () => number = () => process.memoryUsage.rss()) {
    this.limitBytes = limitBytes;
    this.#readRss = readRss;
  }

  get degraded(): boolean {
    return this.#degraded;
  }

  get peakBytes(): number {
    return this.#peakBytes;
  }

  sample(): number {
    const rss = this.#readRss();
    if (rss > this.#peakBytes) this.#peakBytes = rss;
    return rss;
  }

  /**
   * Whether a batch of `sourceBytes` may be sent now, with `inFlight` batches running. With nothing
   * running it always goes: the worker's heap cap bounds it, and `check` stops the warm if need be.
   */
  admit(sourceBytes: number, inFlight: number): Admission {
    if (inFlight === 0) return 'go';
    return this.sample() + parseCost(sourceBytes) <= this.limitBytes * ADMIT_BELOW ? 'go' : 'wait';
  }

  /** After a batch finished: whether the warm must degrade or stop. */
  check(): 'ok' | 'degrade' | 'stop' {
    const rss = this.sample();
    if (rss > this.limitBytes * STOP_AT && this.#degraded) return 'stop';
    if (rss > this.limitBytes * DEGRADE_AT && !this.#degraded) return 'degrade';
    return 'ok';
  }

  markDegraded(): void {
    this.#degraded = true;
  }
}

/**
 * "Is the process past this fraction of its memory limit?" for callers outside a warm (prefetching,
 * adaptive sizing, the learned warm), from one RSS sample at most every `sampleMs`: a sample reads
 * /proc. Always false without a limit.
 */
export class RssSampler {
  readonly #limitBytes: number | null;
  readonly #sampleMs: number;
  #at = -Infinity;
  #bytes = 0;

  constructor(limitBytes: number | null, sampleMs: number) {
    this.#limitBytes = limitBytes;
    this.#sampleMs = sampleMs;
  }

  near(fraction: number): boolean {
    if (this.#limitBytes === null) return false;
    const now = performance.now();
    if (now - this.#at >= this.#sampleMs) {
      this.#at = now;
      this.#bytes = process.memoryUsage.rss();
    }
    return this.#bytes > this.#limitBytes * fraction;
  }
}
