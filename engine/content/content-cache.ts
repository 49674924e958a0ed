/**
 * L1: file content in SharedArrayBuffer slabs, indexed by root-relative path in LRU order.
 *
 * Budget: the allocator never holds more SharedArrayBuffer memory than the budget. Thresholds
 * (fractions of the budget, measured on live content bytes): before storing, L1 evicts least
 * recently used entries so that it stays below the pressure threshold; if pinned entries keep it
 * above the aggressive threshold, it evicts down to AGGRESSIVE_TARGET below pressure and refuses to
 * grow until it is back under. A pinned entry (a view handed out, or content a worker is reading)
 * is never evicted and its range never reused until unpinned.
 */
import { SlabAllocator } from '../../shared/slab.js';
import type { SlabRange } from '../../shared/slab-layout.js';
import type { Fingerprint } from './fingerprint.js';
import { SlotLru } from '../lru/slot-lru.js';
import { LevelCounters, type LevelSnapshot } from '../level-counters.js';

/** Bytes a file occupies in a slab, with what L1 knows about it. */
export interface ContentBytes {
  readonly buffer: SharedArrayBuffer;
  readonly offset: number;
  readonly length: number;
  readonly hash: bigint;
  readonly fingerprint: Fingerprint;
}

export interface ContentEntry extends ContentBytes {
  readonly path: string;
  readonly range: SlabRange;
  hash: bigint;
  fingerprint: Fingerprint;
  /** Captured too close to the file's last change: re-hash on the next read. */
  racy: boolean;
  pins: number;
  /** False once evicted, replaced or invalidated; its range is freed when the last pin goes. */
  live: boolean;
}

export interface ContentCacheOptions {
  readonly budget: number;
  readonly pressureThreshold: number;
  readonly aggressiveThreshold: number;
  /** @default the allocator's default */
  readonly slabSize?: number;
}

/** Where aggressive eviction stops, as a fraction of the pressure threshold. */
export const AGGRESSIVE_TARGET = 0.9;

export class ContentCache {
  readonly counters = new LevelCounters();
  #entries = new SlotLru<ContentEntry>();
  #allocator: SlabAllocator;
  #budget: number;
  #pressure: number;
  #aggressive: number;
  /** Live content bytes (rounded range sizes) of indexed entries plus pinned dead ones. */
  #usedBytes = 0;

  constructor(options: ContentCacheOptions) {
    this.#budget = options.budget;
    this.#pressure = options.pressureThreshold;
    this.#aggressive = options.aggressiveThreshold;
    this.#allocator = new SlabAllocator({ capacityBytes: options.budget, ...(options.slabSize ? { slabSize: options.slabSize } : {}) });
  }

  get budget(): number {
    return this.#budget;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Bytes held by live ranges (what thresholds measure). Never above the budget. */
  get usedBytes(): number {
    return this.#usedBytes;
  }

  /** SharedArrayBuffer bytes held by the allocator (slack included). Never above the budget. */
  get reservedBytes(): number {
    return this.#allocator.stats().reservedBytes;
  }

  allocatorStats(): ReturnType<SlabAllocator['stats']> {
    return this.#allocator.stats();
  }

  /** Looks up an entry without validating it; counts a hit or a miss and touches LRU order. */
  get(path: string): ContentEntry | undefined {
    const entry = this.#entries.get(path);
    if (entry === undefined) this.counters.misses++;
    else this.counters.hits++;
    return entry;
  }

  /** Looks up an entry without counting or touching it. */
  peek(path: string): ContentEntry | undefined {
    return this.#entries.peek(path);
  }

  has(path: string): boolean {
    return this.#entries.has(path);
  }

  /**
   * Reserves slab space for `length` bytes, evicting as the thresholds say. Returns null when the
   * bytes cannot be cached without passing the budget or the aggressive threshold; the caller then
   * keeps the content outside L1 (it is never lost, just not cached).
   */
  reserve(length: number): SlabRange | null {
    const pressureLimit = this.#pressure * this.#budget;
    if (this.#usedBytes + length > pressureLimit) this.#evictDownTo(pressureLimit - length);
    const aggressiveLimit = this.#aggressive * this.#budget;
    if (this.#usedBytes + length > aggressiveLimit) {
      this.#evictDownTo(pressureLimit * AGGRESSIVE_TARGET - length);
      if (this.#usedBytes + length > aggressiveLimit) return null;
    }
    let range = this.#allocator.allocate(length);
    while (range === null && this.#evictOldestUnpinned()) range = this.#allocator.allocate(length);
    if (range !== null) this.#usedBytes += range.capacity;
    return range;
  }

  /** Gives back a reservation that was not committed (the read failed or was refused). */
  unreserve(range: SlabRange): void {
    this.#usedBytes -= range.capacity;
    this.#allocator.free(range);
  }

  view(bytes: ContentBytes): Uint8Array {
    return new Uint8Array(bytes.buffer, bytes.offset, bytes.length);
  }

  /** Indexes reserved bytes under `path`, replacing (and retiring) any previous entry. */
  commit(path: string, range: SlabRange, length: number, hash: bigint, fingerprint: Fingerprint, racy: boolean): ContentEntry {
    this.delete(path);
    const entry: ContentEntry = {
      path,
      range,
      buffer: range.buffer,
      offset: range.offset,
      length,
      hash,
      fingerprint,
      racy,
      pins: 0,
      live: true,
    };
    this.#entries.set(path, entry);
    return entry;
  }

  /** Same content, new stat data (a `touch`, a fresh clone, a restored CI cache). */
  restamp(entry: ContentEntry, fingerprint: Fingerprint, racy: boolean): void {
    entry.fingerprint = fingerprint;
    entry.racy = racy;
  }

  /** Removes an entry (invalidation). Its memory is freed now, or when its last pin is released. */
  delete(path: string): boolean {
    const entry = this.#entries.peek(path);
    if (entry === undefined) return false;
    this.#retire(entry);
    return true;
  }

  clear(): void {
    for (const [, entry] of [...this.#entries.oldestFirst()]) this.#retire(entry);
  }

  pin(entry: ContentEntry): void {
    entry.pins++;
  }

  unpin(entry: ContentEntry): void {
    if (entry.pins <= 0) throw new Error(`unbalanced unpin of ${entry.path}`);
    entry.pins--;
    if (entry.pins === 0 && !entry.live) this.#free(entry);
  }

  /** Lowers or raises the budget; lowering evicts down to the new pressure threshold. */
  setBudget(budget: number): void {
    this.#budget = budget;
    this.#allocator.setCapacity(budget);
    this.#evictDownTo(this.#pressure * budget);
  }

  snapshot(): LevelSnapshot {
    return this.counters.snapshot(this.#usedBytes, this.#entries.size);
  }

  /** Live entries, oldest first. */
  entries(): ContentEntry[] {
    return [...this.#entries.oldestFirst()].map(([, entry]) => entry);
  }

  /** Oldest first; for validation and tests. */
  pathsByRecency(): string[] {
    return [...this.#entries.oldestFirst()].map(([path]) => path);
  }

  #evictDownTo(targetBytes: number): void {
    if (this.#usedBytes <= targetBytes) return;
    for (const [, entry] of this.#entries.oldestFirst()) {
      if (this.#usedBytes <= targetBytes) return;
      if (entry.pins === 0) {
        this.counters.evictions++;
        this.#retire(entry);
      }
    }
  }

  #evictOldestUnpinned(): boolean {
    for (const [, entry] of this.#entries.oldestFirst()) {
      if (entry.pins === 0) {
        this.counters.evictions++;
        this.#retire(entry);
        return true;
      }
    }
    return false;
  }

  #retire(entry: ContentEntry): void {
    this.#entries.delete(entry.path);
    entry.live = false;
    if (entry.pins === 0) this.#free(entry);
  }

  #free(entry: ContentEntry): void {
    this.#usedBytes -= entry.range.capacity;
    this.#allocator.free(entry.range);
  }
}
