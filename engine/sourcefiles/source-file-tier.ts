/**
 * The SourceFile tier: real `ts.SourceFile` objects in memory, LRU, bounded by an estimated byte
 * budget with the levels' thresholds (past `pressure` × budget, evict least recently used below it;
 * the budget itself is never passed: an entry larger than it is served, not stored). One entry per
 * file and settings key; the entry remembers the content hash it was parsed from and the revision it
 * was stored at, and a lookup with another hash, or after the file was invalidated, is a miss.
 */
import type * as ts from 'typescript';
import { LevelCounters, type LevelSnapshot } from '../level-counters.js';
import { LruList, type LruLinks } from '../lru/lru-list.js';
import type { Revision } from '../revision-clock.js';

/**
 * Heap bytes per node of a SourceFile parsed with parent pointers and JSDoc (measured: 168–193 B
 * per node across this repo's TypeScript, node_modules JavaScript, `.d.ts` files and TypeScript's
 * lib files; per source character it ranges 10–29 B, so nodes are the steadier measure).
 */
export const BYTES_PER_NODE = 190;
/** Used when the parser's node count is not on the SourceFile (an internal field): the high end. */
export const BYTES_PER_CHAR = 29;

interface TierEntry extends LruLinks {
  readonly key: string;
  readonly path: string;
  /** Root-relative path, null outside the root (`invalidate` names root paths). */
  readonly relative: string | null;
  readonly hash: bigint;
  readonly sourceFile: ts.SourceFile;
  readonly bytes: number;
  readonly revision: Revision;
}

export interface SourceFileTierOptions {
  readonly budget: number;
  /** Fraction of the budget past which LRU entries are evicted (the profile's L1 pressure threshold). */
  readonly pressureThreshold: number;
}

export interface SourceFileTierSnapshot extends LevelSnapshot {
  readonly budget: number;
  /** SourceFiles parsed by the tier (misses that produced one). */
  readonly parses: number;
  /** Parses not stored: larger than the whole budget, or the process near its memory limit. */
  readonly unstored: number;
}

export class SourceFileTier {
  readonly counters = new LevelCounters();
  parses = 0;
  unstored = 0;
  readonly #entries = new Map<string, TierEntry>();
  readonly #byPath = new Map<string, Set<TierEntry>>();
  #lru = new LruList<TierEntry>();
  #bytes = 0;
  #budget: number;
  readonly #pressure: number;

  constructor(options: SourceFileTierOptions) {
    this.#budget = options.budget;
    this.#pressure = options.pressureThreshold;
  }

  get budget(): number {
    return this.#budget;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** The SourceFile stored under `key` for content `hash`, not invalidated on `clock` since; else a miss. */
  get(key: string, hash: bigint, clock: Clock): ts.SourceFile | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.hash !== hash || !current(entry, clock)) {
      if (entry !== undefined) this.#remove(entry);
      this.counters.misses++;
      return undefined;
    }
    this.counters.hits++;
    this.#lru.moveToFront(entry);
    return entry.sourceFile;
  }

  /**
   * The entry under `key` whatever its hash, not invalidated on `clock` since (for callers that
   * compare the text themselves, as TypeScript's documentRegistry does). Counted as a hit when found.
   */
  peek(key: string, clock: Clock): ts.SourceFile | undefined {
    const entry = this.#entries.get(key);
    if (entry !== undefined && current(entry, clock)) {
      this.counters.hits++;
      this.#lru.moveToFront(entry);
      return entry.sourceFile;
    }
    if (entry !== undefined) this.#remove(entry);
    this.counters.misses++;
    return undefined;
  }

  /** A hit that its caller turned down after all (the text differed): counted as the miss it was. */
  declined(): void {
    this.counters.hits--;
    this.counters.misses++;
  }

  /** Stores a parse; false when it alone is larger than the budget (it is still the caller's). */
  set(key: string, path: string, relative: string | null, hash: bigint, sourceFile: ts.SourceFile, revision: Revision): boolean {
    const bytes = estimatedBytes(sourceFile);
    const existing = this.#entries.get(key);
    if (existing !== undefined) this.#remove(existing);
    if (bytes > this.#budget) {
      this.unstored++;
      return false;
    }
    // Room for it below the pressure threshold (all of the budget when it alone is past the threshold).
    this.#evictDownTo(Math.max(0, this.#pressure * this.#budget - bytes));
    const entry: TierEntry = { key, path, relative, hash, sourceFile, bytes, revision, lruPrev: null, lruNext: null };
    this.#entries.set(key, entry);
    let forPath = this.#byPath.get(path);
    if (forPath === undefined) this.#byPath.set(path, (forPath = new Set()));
    forPath.add(entry);
    this.#lru.pushFront(entry);
    this.#bytes += bytes;
    return true;
  }

  /** Drops every entry of these absolute paths; answers how many went. */
  invalidate(paths: Iterable<string>): number {
    let dropped = 0;
    for (const path of paths) {
      const forPath = this.#byPath.get(path);
      if (forPath === undefined) continue;
      for (const entry of [...forPath]) {
        this.#remove(entry);
        dropped++;
      }
    }
    return dropped;
  }

  setBudget(budget: number): void {
    this.#budget = budget;
    this.#evictDownTo(this.#pressure * budget);
  }

  clear(): void {
    this.#entries.clear();
    this.#byPath.clear();
    this.#lru = new LruList<TierEntry>();
    this.#bytes = 0;
  }

  snapshot(): SourceFileTierSnapshot {
    return { ...this.counters.snapshot(this.#bytes, this.#entries.size), budget: this.#budget, parses: this.parses, unstored: this.unstored };
  }

  #evictDownTo(target: number): void {
    for (const entry of this.#lru.fromOldest()) {
      if (this.#bytes <= target) return;
      this.counters.evictions++;
      this.#remove(entry);
    }
  }

  #remove(entry: TierEntry): void {
    if (this.#entries.get(entry.key) !== entry) return;
    this.#entries.delete(entry.key);
    const forPath = this.#byPath.get(entry.path);
    forPath?.delete(entry);
    if (forPath?.size === 0) this.#byPath.delete(entry.path);
    this.#lru.remove(entry);
    this.#bytes -= entry.bytes;
  }
}

/** The revision clock as the tier reads it. */
export interface Clock {
  isCurrent(path: string, startedAt: Revision): boolean;
}

/** Root files follow the revision clock; outside-root files only their fingerprint and hash. */
function current(entry: TierEntry, clock: Clock): boolean {
  return entry.relative === null || clock.isCurrent(entry.relative, entry.revision);
}

/** `nodeCount` is set by TypeScript's parser on every SourceFile, but is not in its public types. */
type WithNodeCount = ts.SourceFile & { readonly nodeCount?: number };

/** Estimated heap bytes of a parsed SourceFile: its nodes plus its text. */
export function estimatedBytes(sourceFile: ts.SourceFile): number {
  const nodes = (sourceFile as WithNodeCount).nodeCount;
  return typeof nodes === 'number' ? nodes * BYTES_PER_NODE + sourceFile.text.length : sourceFile.text.length * BYTES_PER_CHAR;
}
