/**
 * What stops or slows a warm: the caller's signal, the time limit, and under `--memory-limit` the
 * memory governor's verdicts (degrade, stop), from RSS samples taken at most every RSS_SAMPLE_MS.
 * Without a limit RSS is sampled only for the report's peak, and rarely.
 */
import type { ContentCache } from '../content/content-cache.js';
import type { AstCache } from '../ast/ast-cache.js';
import { MemoryGovernor, planMemory } from '../memory/memory-governor.js';
import type { ParsePool } from '../pool/parse-pool.js';
import type { StopReason } from './warm-report.js';

/** How often the warm samples the process's RSS under a memory limit… */
export const RSS_SAMPLE_MS = 10;
/**
 * …and without one, only for the report's peak: a sample costs ~0.2 ms on the 2-core VM (it reads
 * /proc), ~200 ms of coordinator time per 10,000-file warm at the 10 ms rate.
 */
export const PEAK_RSS_SAMPLE_MS = 100;

export class WarmLimits {
  /** Why the warm stops early; null while it may go on. */
  stoppedBy: StopReason = null;
  /** The governor asked to degrade; the batches act on it before their next admission. */
  pendingDegrade = false;
  readonly governor: MemoryGovernor | null;
  readonly #deadline: number;
  readonly #signal: AbortSignal | undefined;
  #peakRss = process.memoryUsage.rss();
  #lastRssCheck = -Infinity;
  // Set by the abort event: reading `signal.aborted` once per file was a visible share of a restart.
  #aborted: boolean;
  readonly #onAbort = (): void => {
    this.#aborted = true;
  };

  constructor(deadline: number, memoryLimit: number | null, signal: AbortSignal | undefined) {
    this.#deadline = deadline;
    this.governor = memoryLimit === null ? null : new MemoryGovernor(memoryLimit);
    this.#signal = signal;
    this.#aborted = signal?.aborted === true;
    signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** Highest RSS seen by the warm. */
  get peakRss(): number {
    return this.governor !== null && this.governor.peakBytes > this.#peakRss ? this.governor.peakBytes : this.#peakRss;
  }

  /** Called per file and per finished batch: cheap unless an RSS sample is due. */
  check(): void {
    if (this.stoppedBy !== null) return;
    const now = performance.now();
    if (this.#aborted) this.stoppedBy = 'interrupted';
    else if (now > this.#deadline) this.stoppedBy = 'time-limit';
    // Reading RSS costs a system call: sample it, don't ask per file.
    if (now - this.#lastRssCheck < (this.governor === null ? PEAK_RSS_SAMPLE_MS : RSS_SAMPLE_MS)) return;
    this.#lastRssCheck = now;
    if (this.governor === null) {
      const rss = process.memoryUsage.rss();
      if (rss > this.#peakRss) this.#peakRss = rss;
      return;
    }
    const verdict = this.governor.check();
    if (verdict === 'stop' && this.stoppedBy === null) this.stoppedBy = 'memory-limit';
    else if (verdict === 'degrade') this.pendingDegrade = true;
  }

  /** The walk ended by an exception: an aborted signal makes it an interruption. */
  get signalAborted(): boolean {
    return this.#signal?.aborted === true;
  }

  /** A last check, and the signal let go. */
  finish(): void {
    this.check();
    this.#signal?.removeEventListener('abort', this.#onAbort);
  }
}

/** With a memory limit, fits the pool, the budgets and the workers' heaps to it before anything starts. */
export async function fitToMemoryLimit(governor: MemoryGovernor, levels: { readonly content: ContentCache; readonly asts: AstCache; readonly pool: ParsePool }): Promise<void> {
  const { content, asts, pool } = levels;
  const plan = planMemory({ limitBytes: governor.limitBytes, rssBytes: governor.sample(), workers: pool.workers, contentBudget: content.budget, astBudget: asts.budget });
  await pool.resize(Math.min(pool.workers, plan.workers), plan.workerHeapBytes);
  if (plan.contentBudget < content.budget) content.setBudget(plan.contentBudget);
  if (plan.astBudget < asts.budget) asts.setBudget(plan.astBudget);
}
