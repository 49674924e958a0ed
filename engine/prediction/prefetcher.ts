/**
 * Background prefetch of predicted files: on an access, the learner's likely next files are queued
 * here and loaded into the memory levels a few at a time, after the caller's own work (never in its
 * tick), only while the levels have room (a prefetch must not evict what callers use), and best
 * effort: a failed prefetch is counted, never thrown. The queue is bounded: the oldest requests are
 * dropped first, since the freshest predictions are the likeliest to be used soon.
 */

export interface PrefetchHost {
  /** Loads the file into memory (from disk or by parsing); may reject. */
  load(path: string): Promise<unknown>;
  /** True when the file is already in memory: nothing to do. Must not count as a cache access. */
  isLoaded(path: string): boolean;
  /** False while memory is tight (levels near their pressure line, RSS near the limit). */
  hasRoom(): boolean;
}

export interface PrefetcherOptions {
  /** Loads in flight at once. */
  readonly concurrency: number;
  /** Requests waiting at most; older ones are dropped. */
  readonly maxQueued: number;
  /** Prefetched files remembered for hit accounting. */
  readonly maxTracked: number;
}

export interface PrefetchStats {
  /** Loads started. */
  readonly issued: number;
  /** Prefetched files that a caller asked for afterwards. */
  readonly hits: number;
  /** Loads that failed (a vanished file, a parse failure, a closed engine). */
  readonly failures: number;
  /** Requests not loaded: already in memory, no room, dropped from a full queue, or asked for first. */
  readonly skipped: number;
}

export class Prefetcher {
  readonly #host: PrefetchHost;
  readonly #options: PrefetcherOptions;
  /** Waiting paths in request order (a Set: a path queued twice waits once). */
  readonly #queue = new Set<string>();
  readonly #inFlight = new Set<string>();
  readonly #running = new Set<Promise<void>>();
  /** Prefetched and not yet asked for, oldest first. */
  readonly #prefetched = new Set<string>();
  /** In flight when a caller asked for them: already counted as hits. */
  readonly #claimed = new Set<string>();
  #scheduled = false;
  #stopped = false;
  #issued = 0;
  #hits = 0;
  #failures = 0;
  #skipped = 0;

  constructor(host: PrefetchHost, options: PrefetcherOptions) {
    this.#host = host;
    this.#options = options;
  }

  /** Queues paths to prefetch; returns at once. */
  request(paths: readonly string[]): void {
    if (this.#stopped) return;
    for (const path of paths) {
      if (this.#inFlight.has(path) || this.#prefetched.has(path)) continue;
      this.#queue.delete(path);
      this.#queue.add(path);
    }
    while (this.#queue.size > this.#options.maxQueued) this.#skip(this.#queue.values().next().value!);
    if (!this.#scheduled && this.#queue.size > 0) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.#pump();
      });
    }
  }

  /** A caller asked for `path`: a prefetch hit when it was prefetched; a queued request is moot. */
  noteAccess(path: string): boolean {
    if (this.#queue.has(path)) this.#skip(path);
    // In flight: the caller shares the load that is under way (engine.ast shares parses by key).
    if (this.#inFlight.has(path)) this.#claimed.add(path);
    else if (!this.#prefetched.delete(path)) return false;
    this.#hits++;
    return true;
  }

  stats(): PrefetchStats {
    return { issued: this.#issued, hits: this.#hits, failures: this.#failures, skipped: this.#skipped };
  }

  /** Stops taking requests and waits for the loads in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const path of [...this.#queue]) this.#skip(path);
    await Promise.all(this.#running);
  }

  /** Resolves once nothing is queued or in flight. */
  async idle(): Promise<void> {
    while (this.#running.size > 0 || this.#queue.size > 0 || this.#scheduled) {
      if (this.#running.size > 0) await Promise.race(this.#running);
      else await new Promise((resolve) => setImmediate(resolve));
    }
  }

  #pump(): void {
    while (!this.#stopped && this.#inFlight.size < this.#options.concurrency && this.#queue.size > 0) {
      const path = this.#queue.values().next().value!;
      this.#queue.delete(path);
      if (this.#host.isLoaded(path)) {
        this.#skipped++;
        continue;
      }
      if (!this.#host.hasRoom()) {
        // Memory is tight: predictions would only evict what callers use. Drop them all.
        this.#skipped++;
        for (const waiting of [...this.#queue]) this.#skip(waiting);
        return;
      }
      this.#issued++;
      this.#inFlight.add(path);
      const running: Promise<void> = this.#host
        .load(path)
        .then(
          () => this.#track(path),
          () => void this.#failures++,
        )
        .finally(() => {
          this.#claimed.delete(path);
          this.#inFlight.delete(path);
          this.#running.delete(running);
          this.#pump();
        });
      this.#running.add(running);
    }
  }

  #track(path: string): void {
    if (this.#claimed.delete(path)) return;
    this.#prefetched.add(path);
    if (this.#prefetched.size > this.#options.maxTracked) this.#prefetched.delete(this.#prefetched.values().next().value!);
  }

  #skip(path: string): void {
    this.#queue.delete(path);
    this.#skipped++;
  }
}
