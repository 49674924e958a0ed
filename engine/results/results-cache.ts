/**
 * L3 in memory: analyzer results keyed by state key, LRU-bounded by `resultsMaxEntries`, entries
 * unused for longer than the retention dropped by a periodic cleanup. The cap bounds memory, never
 * answers: an evicted result is recomputed (or found on disk) when asked for again.
 */
import { LevelCounters, type LevelSnapshot } from '../level-counters.js';
import { SlotLru } from '../lru/slot-lru.js';
import type { StoredResult } from './results-file.js';

export class ResultsCache {
  readonly counters = new LevelCounters();
  readonly #entries = new SlotLru<StoredResult>();
  #maxEntries: number;
  readonly #retentionMs: number;
  /** Results changed since the last save. */
  dirty = false;
  /** Computations running now, by state key: concurrent callers of one state share one. */
  readonly inFlight = new Map<string, Promise<unknown>>();

  constructor(options: { maxEntries: number; retentionMs: number }) {
    this.#maxEntries = options.maxEntries;
    this.#retentionMs = options.retentionMs;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): StoredResult | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) this.counters.misses++;
    else {
      this.counters.hits++;
      if (Date.now() - entry.lastAccessMs > 60_000) this.#entries.set(key, { ...entry, lastAccessMs: Date.now() });
    }
    return entry;
  }

  set(entry: StoredResult): void {
    this.#entries.set(entry.key, entry);
    this.dirty = true;
    for (const [key] of this.#entries.oldestFirst()) {
      if (this.#entries.size <= this.#maxEntries) break;
      this.#entries.delete(key);
      this.counters.evictions++;
    }
  }

  delete(key: string): void {
    if (this.#entries.delete(key) !== undefined) this.dirty = true;
  }

  /** Drops every result about one of these files (all analyzers, all states). */
  deletePaths(paths: ReadonlySet<string>): number {
    let removed = 0;
    for (const [key, entry] of [...this.#entries.oldestFirst()]) {
      if (paths.has(entry.path)) {
        this.#entries.delete(key);
        removed++;
      }
    }
    if (removed > 0) this.dirty = true;
    return removed;
  }

  /** Drops results unused for longer than the retention. */
  cleanup(now = Date.now()): number {
    let removed = 0;
    for (const [key, entry] of [...this.#entries.oldestFirst()]) {
      if (now - entry.lastAccessMs > this.#retentionMs) {
        this.#entries.delete(key);
        removed++;
      }
    }
    if (removed > 0) this.dirty = true;
    return removed;
  }

  /** Paths that have at least one result. */
  paths(): Set<string> {
    return new Set(this.entries().map((entry) => entry.path));
  }

  entries(): StoredResult[] {
    return [...this.#entries.oldestFirst()].map(([, entry]) => entry);
  }

  /** Loads persisted results (oldest first, so the LRU order survives), dropping expired ones. */
  load(results: readonly StoredResult[], now = Date.now()): void {
    for (const result of results) if (now - result.lastAccessMs <= this.#retentionMs) this.#entries.set(result.key, result);
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.oldestFirst().next().value;
      if (!oldest) break;
      this.#entries.delete(oldest[0]);
    }
  }

  snapshot(): LevelSnapshot {
    let bytes = 0;
    for (const [, entry] of this.#entries.oldestFirst()) bytes += entry.key.length * 2 + 64;
    return this.counters.snapshot(bytes, this.#entries.size);
  }
}
