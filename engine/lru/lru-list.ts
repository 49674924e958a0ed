/**
 * An intrusive doubly linked list in recency order: entries carry their own links, so touching an
 * entry on a hit is four pointer writes and no allocation.
 */
export interface LruLinks {
  lruPrev: LruLinks | null;
  lruNext: LruLinks | null;
}

export class LruList<T extends LruLinks> {
  /** Most recently used. */
  #head: T | null = null;
  /** Least recently used: evicted first. */
  #tail: T | null = null;

  pushFront(node: T): void {
    node.lruPrev = null;
    node.lruNext = this.#head;
    if (this.#head) this.#head.lruPrev = node;
    this.#head = node;
    if (!this.#tail) this.#tail = node;
  }

  moveToFront(node: T): void {
    if (this.#head === node) return;
    this.remove(node);
    this.pushFront(node);
  }

  remove(node: T): void {
    if (node.lruPrev) node.lruPrev.lruNext = node.lruNext;
    else if (this.#head === node) this.#head = node.lruNext as T | null;
    if (node.lruNext) node.lruNext.lruPrev = node.lruPrev;
    else if (this.#tail === node) this.#tail = node.lruPrev as T | null;
    node.lruPrev = null;
    node.lruNext = null;
  }

  /** Least recently used first. Safe against removal of the yielded node. */
  *fromOldest(): Generator<T> {
    let node = this.#tail;
    while (node) {
      const prev = node.lruPrev as T | null;
      yield node;
      node = prev;
    }
  }

  /** Most recently used first. */
  *fromNewest(): Generator<T> {
    let node = this.#head;
    while (node) {
      const next = node.lruNext as T | null;
      yield node;
      node = next;
    }
  }
}
