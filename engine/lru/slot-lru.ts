/**
 * A string-keyed LRU index whose recency links are typed arrays of slot numbers (as lru-cache
 * does): a hit is one Map lookup and a few integer writes, with no per-entry link objects for the
 * garbage collector to trace. Capacity grows by doubling; freed slots are reused.
 */
const NONE = -1;
const INITIAL_SLOTS = 1024;

export class SlotLru<V> {
  #slotOf = new Map<string, number>();
  #values: (V | undefined)[] = [];
  #keys: (string | undefined)[] = [];
  #next = new Int32Array(INITIAL_SLOTS);
  #prev = new Int32Array(INITIAL_SLOTS);
  /** Most recently used slot. */
  #head = NONE;
  /** Least recently used slot: evicted first. */
  #tail = NONE;
  #freeSlots: number[] = [];

  get size(): number {
    return this.#slotOf.size;
  }

  /** The value, made most recently used. */
  get(key: string): V | undefined {
    const slot = this.#slotOf.get(key);
    if (slot === undefined) return undefined;
    if (slot !== this.#head) {
      this.#unlink(slot);
      this.#linkAtHead(slot);
    }
    return this.#values[slot];
  }

  /** The value, recency untouched. */
  peek(key: string): V | undefined {
    const slot = this.#slotOf.get(key);
    return slot === undefined ? undefined : this.#values[slot];
  }

  has(key: string): boolean {
    return this.#slotOf.has(key);
  }

  /** Inserts or replaces, as most recently used. */
  set(key: string, value: V): void {
    let slot = this.#slotOf.get(key);
    if (slot !== undefined) {
      this.#values[slot] = value;
      if (slot !== this.#head) {
        this.#unlink(slot);
        this.#linkAtHead(slot);
      }
      return;
    }
    slot = this.#freeSlots.pop() ?? this.#keys.length;
    if (slot >= this.#next.length) this.#grow();
    this.#slotOf.set(key, slot);
    this.#keys[slot] = key;
    this.#values[slot] = value;
    this.#linkAtHead(slot);
  }

  delete(key: string): V | undefined {
    const slot = this.#slotOf.get(key);
    if (slot === undefined) return undefined;
    const value = this.#values[slot];
    this.#slotOf.delete(key);
    this.#unlink(slot);
    this.#keys[slot] = undefined;
    this.#values[slot] = undefined;
    this.#freeSlots.push(slot);
    return value;
  }

  clear(): void {
    this.#slotOf.clear();
    this.#values = [];
    this.#keys = [];
    this.#freeSlots = [];
    this.#head = NONE;
    this.#tail = NONE;
  }

  /** Least recently used first; the yielded entry may be deleted while iterating. */
  *oldestFirst(): Generator<[string, V]> {
    let slot = this.#tail;
    while (slot !== NONE) {
      const prev = this.#prev[slot]!;
      yield [this.#keys[slot]!, this.#values[slot]!];
      slot = prev;
    }
  }

  #linkAtHead(slot: number): void {
    this.#prev[slot] = NONE;
    this.#next[slot] = this.#head;
    if (this.#head !== NONE) this.#prev[this.#head] = slot;
    this.#head = slot;
    if (this.#tail === NONE) this.#tail = slot;
  }

  #unlink(slot: number): void {
    const prev = this.#prev[slot]!;
    const next = this.#next[slot]!;
    if (prev !== NONE) this.#next[prev] = next;
    else this.#head = next;
    if (next !== NONE) this.#prev[next] = prev;
    else this.#tail = prev;
  }

  #grow(): void {
    const next = new Int32Array(this.#next.length * 2);
    const prev = new Int32Array(this.#prev.length * 2);
    next.set(this.#next);
    prev.set(this.#prev);
    this.#next = next;
    this.#prev = prev;
  }
}
