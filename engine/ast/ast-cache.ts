/**
 * L2 in memory: encoded ASTs keyed by AstKey (content-addressed, so always valid), LRU, bounded in
 * bytes and in entries. Accounted bytes never pass the budget: an entry is stored only after
 * enough least-recently-used entries are gone to fit it.
 */
import type { ImportRecord } from '../../shared/imports.js';
import type { AstKey } from './keys.js';
import { LruList, type LruLinks } from '../lru/lru-list.js';
import { LevelCounters, type LevelSnapshot } from '../level-counters.js';

export interface AstRecord {
  readonly ast: Uint8Array;
  readonly imports: readonly ImportRecord[];
  readonly diagnostics: number;
  readonly nodeCount: number;
  /** Hash of what the file exports (workers/export-signature.ts). */
  readonly signature: string;
}

interface AstEntry extends AstRecord, LruLinks {
  readonly key: AstKey;
  readonly bytes: number;
}

/** Rough cost of an entry's JS objects beyond the AST bytes (map slot, record, import objects). */
const ENTRY_OVERHEAD_BYTES = 160;
const IMPORT_OVERHEAD_BYTES = 64;

export interface AstCacheOptions {
  readonly budget: number;
  readonly maxEntries: number;
}

export class AstCache {
  readonly counters = new LevelCounters();
  #entries = new Map<AstKey, AstEntry>();
  #lru = new LruList<AstEntry>();
  #bytes = 0;
  #budget: number;
  #maxEntries: number;

  constructor(options: AstCacheOptions) {
    this.#budget = options.budget;
    this.#maxEntries = options.maxEntries;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  get budget(): number {
    return this.#budget;
  }

  get(key: AstKey): AstRecord | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) {
      this.counters.misses++;
      return undefined;
    }
    this.counters.hits++;
    this.#lru.moveToFront(entry);
    return entry;
  }

  has(key: AstKey): boolean {
    return this.#entries.has(key);
  }

  /** Stores a record; returns false when it alone is larger than the whole budget. */
  set(key: AstKey, record: AstRecord): boolean {
    const bytes = costOf(record);
    if (bytes > this.#budget) return false;
    this.delete(key);
    this.#evictUntil(bytes);
    // Spelled out, not spread: `{ ...record, key, … }` made slow objects (6 µs a set with 8,000
    // entries, against under 1 µs; their link writes in the LRU list slowed down with them).
    const entry: AstEntry = { ast: record.ast, imports: record.imports, diagnostics: record.diagnostics, nodeCount: record.nodeCount, signature: record.signature, key, bytes, lruPrev: null, lruNext: null };
    this.#entries.set(key, entry);
    this.#lru.pushFront(entry);
    this.#bytes += bytes;
    return true;
  }

  delete(key: AstKey): boolean {
    const entry = this.#entries.get(key);
    if (entry === undefined) return false;
    this.#remove(entry);
    return true;
  }

  clear(): void {
    this.#entries.clear();
    this.#lru = new LruList<AstEntry>();
    this.#bytes = 0;
  }

  setBudget(budget: number, maxEntries = this.#maxEntries): void {
    this.#budget = budget;
    this.#maxEntries = maxEntries;
    this.#evictUntil(0);
  }

  snapshot(): LevelSnapshot {
    return this.counters.snapshot(this.#bytes, this.#entries.size);
  }

  /** Evicts LRU entries until `incoming` more bytes and one more entry fit. */
  #evictUntil(incoming: number): void {
    const extraEntry = incoming > 0 ? 1 : 0;
    if (this.#fits(incoming, extraEntry)) return; // the usual case: no iterator
    for (const entry of this.#lru.fromOldest()) {
      if (this.#fits(incoming, extraEntry)) return;
      this.counters.evictions++;
      this.#remove(entry);
    }
  }

  #fits(incoming: number, extraEntry: number): boolean {
    return this.#bytes + incoming <= this.#budget && this.#entries.size + extraEntry <= this.#maxEntries;
  }

  #remove(entry: AstEntry): void {
    this.#entries.delete(entry.key);
    this.#lru.remove(entry);
    this.#bytes -= entry.bytes;
  }
}

function costOf(record: AstRecord): number {
  let imports = 0;
  for (const { specifier } of record.imports) imports += IMPORT_OVERHEAD_BYTES + specifier.length * 2; // UTF-16 in the heap
  return record.ast.byteLength + ENTRY_OVERHEAD_BYTES + imports;
}
