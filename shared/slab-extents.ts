/**
 * The free space inside slabs: free extents in segregated free lists, one per power-of-two size
 * class, with a bit mask of the non-empty classes, and per slab two boundary maps so that a freed
 * range coalesces with both neighbours in O(1). The allocation policy (bounded lowest-address fit)
 * is described in slab.ts; capacity, slabs and large buffers are the allocator's.
 */
import type { SlabId } from './slab-layout.js';

/**
 * Number of power-of-two size classes for free extents: class `k` holds extents of
 * `[2^k, 2^(k+1))` bytes. 32 classes cover every size up to 2^32, more than `MAX_SLAB_SIZE`,
 * and fit the non-empty-class bit mask in one 32-bit integer.
 */
export const SIZE_CLASS_COUNT = 32;

/**
 * How many extents of a size class an allocation inspects to pick the lowest-addressed fit. Bounds
 * the common path to O(1); measured, a full scan of the class packed no better. The rest of the own
 * class is scanned only when no larger class has an extent.
 */
export const MAX_SIZE_CLASS_SCAN = 16;

/** A free extent: a gap between live ranges of one slab, linked into its size class's list. */
export interface FreeExtent {
  readonly slab: Slab;
  offset: number;
  size: number;
  sizeClass: number;
  prev: FreeExtent | null;
  next: FreeExtent | null;
}

/** One slab: its buffer, the allocator's counts, and the boundary maps of its free extents. */
export interface Slab {
  readonly kind: 'slab';
  readonly id: SlabId;
  readonly buffer: SharedArrayBuffer;
  readonly size: number;
  freeBytes: number;
  liveCount: number;
  /** Free extent starting at an offset. */
  readonly freeByStart: Map<number, FreeExtent>;
  /** Free extent ending at an offset (exclusive end). */
  readonly freeByEnd: Map<number, FreeExtent>;
}

/** Size class of a free extent of `size` (≥ 1) bytes: `floor(log2(size))`. */
function sizeClassOf(size: number): number {
  return 31 - Math.clz32(size);
}

/** Address order across slabs: older slab first, then lower offset. */
function isLowerAddress(a: FreeExtent, b: FreeExtent): boolean {
  return a.slab.id < b.slab.id || (a.slab.id === b.slab.id && a.offset < b.offset);
}

/** The free extents of every slab of one allocator. */
export class FreeExtents {
  /** Head of each size class's free list. */
  readonly #classHeads: (FreeExtent | null)[] = new Array<FreeExtent | null>(SIZE_CLASS_COUNT).fill(null);
  /** Bit `k` set ⇔ size class `k` has at least one free extent. */
  #nonEmptyClasses = 0;

  /** The largest single free extent, in bytes (the highest non-empty class holds it). */
  largest(): number {
    let largestFreeExtent = 0;
    if (this.#nonEmptyClasses !== 0) {
      for (let extent = this.#classHeads[sizeClassOf(this.#nonEmptyClasses)] ?? null; extent !== null; extent = extent.next) {
        if (extent.size > largestFreeExtent) largestFreeExtent = extent.size;
      }
    }
    return largestFreeExtent;
  }

  /** A free extent of at least `size` bytes, or null. The policy is in slab.ts's module comment. */
  find(size: number): FreeExtent | null {
    const sizeClass = sizeClassOf(size);
    let best: FreeExtent | null = null;
    let extent = this.#classHeads[sizeClass] ?? null;
    for (let scanned = 0; extent !== null && scanned < MAX_SIZE_CLASS_SCAN; scanned++, extent = extent.next) {
      if (extent.size >= size && (best === null || isLowerAddress(extent, best))) best = extent;
    }
    if (best !== null) return best;
    // Classes above `sizeClass` hold extents of at least 2^(sizeClass+1) > size bytes: any fits.
    const larger = this.#nonEmptyClasses & ~((2 << sizeClass) - 1);
    if (larger !== 0) {
      let candidate = this.#classHeads[31 - Math.clz32(larger & -larger)] ?? null;
      for (let scanned = 0; candidate !== null && scanned < MAX_SIZE_CLASS_SCAN; scanned++, candidate = candidate.next) {
        if (best === null || isLowerAddress(candidate, best)) best = candidate;
      }
      return best;
    }
    // Last resort: the rest of the own class, first fit.
    for (; extent !== null; extent = extent.next) {
      if (extent.size >= size) return extent;
    }
    return null;
  }

  /** Adds `[offset, offset + size)` of `slab` as one new free extent (no free neighbour). */
  add(slab: Slab, offset: number, size: number): FreeExtent {
    const extent: FreeExtent = { slab, offset, size, sizeClass: sizeClassOf(size), prev: null, next: null };
    this.#link(extent);
    return extent;
  }

  /** Takes `size` bytes from the start of `extent`. */
  take(extent: FreeExtent, size: number): void {
    const slab = extent.slab;
    const offset = extent.offset;
    if (extent.size === size) {
      this.remove(extent);
    } else {
      // Shrink in place: the end (and its boundary-map entry) stays, the start moves.
      slab.freeByStart.delete(offset);
      extent.offset = offset + size;
      extent.size -= size;
      slab.freeByStart.set(extent.offset, extent);
      this.#reclass(extent);
    }
  }

  /** Returns `[offset, offset + size)` of `slab` to its free space, coalescing with its neighbours. */
  give(slab: Slab, offset: number, size: number): void {
    let start = offset;
    let end = offset + size;
    const before = slab.freeByEnd.get(start);
    const after = slab.freeByStart.get(end);
    let extent: FreeExtent;
    if (before !== undefined) {
      // Grow the extent before us; reuse its object.
      start = before.offset;
      if (after !== undefined) {
        end = after.offset + after.size;
        this.remove(after);
      }
      slab.freeByEnd.delete(before.offset + before.size);
      before.size = end - start;
      slab.freeByEnd.set(end, before);
      extent = before;
    } else if (after !== undefined) {
      end = after.offset + after.size;
      slab.freeByStart.delete(after.offset);
      after.offset = start;
      after.size = end - start;
      slab.freeByStart.set(start, after);
      extent = after;
    } else {
      extent = this.add(slab, start, size);
    }
    this.#reclass(extent);
  }

  /** Drops `extent` from its slab's boundary maps and its size class. */
  remove(extent: FreeExtent): void {
    extent.slab.freeByStart.delete(extent.offset);
    extent.slab.freeByEnd.delete(extent.offset + extent.size);
    this.#removeFromClass(extent);
  }

  #link(extent: FreeExtent): void {
    extent.slab.freeByStart.set(extent.offset, extent);
    extent.slab.freeByEnd.set(extent.offset + extent.size, extent);
    this.#pushToClass(extent);
  }

  /** Moves `extent` to the size class of its (changed) size. */
  #reclass(extent: FreeExtent): void {
    const sizeClass = sizeClassOf(extent.size);
    if (sizeClass !== extent.sizeClass) {
      this.#removeFromClass(extent);
      extent.sizeClass = sizeClass;
      this.#pushToClass(extent);
    }
  }

  #pushToClass(extent: FreeExtent): void {
    const head = this.#classHeads[extent.sizeClass] ?? null;
    extent.prev = null;
    extent.next = head;
    if (head !== null) head.prev = extent;
    this.#classHeads[extent.sizeClass] = extent;
    this.#nonEmptyClasses |= 1 << extent.sizeClass;
  }

  #removeFromClass(extent: FreeExtent): void {
    const { prev, next } = extent;
    if (prev !== null) prev.next = next;
    else {
      this.#classHeads[extent.sizeClass] = next;
      if (next === null) this.#nonEmptyClasses &= ~(1 << extent.sizeClass);
    }
    if (next !== null) next.prev = prev;
    extent.prev = null;
    extent.next = null;
  }
}
