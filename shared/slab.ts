/**
 * SharedArrayBuffer slab allocator: where L1 keeps file content.
 *
 * File bytes live in SharedArrayBuffers, not in JS strings, so that a byte budget is a real budget
 * and worker threads read content without a copy (a {@link SlabRange} posted to a worker carries its
 * SharedArrayBuffer, which is shared, not cloned).
 *
 * Layout and policy:
 *
 * - **Slabs.** Requests up to {@link SlabAllocator.largeThreshold} (half a slab) are carved from
 *   slabs of `slabSize` bytes, created lazily. Free space inside slabs is a set of free extents kept
 *   in segregated free lists, one per power-of-two size class (an extent of `s` bytes sits in class
 *   `floor(log2(s))`), with a bit mask of the non-empty classes. An allocation looks at the first
 *   {@link MAX_SIZE_CLASS_SCAN} extents of its own class and takes the lowest-addressed one that fits
 *   (oldest slab first, then lowest offset); when none fits, the lowest-addressed of the first
 *   {@link MAX_SIZE_CLASS_SCAN} extents of the smallest non-empty larger class (every extent there
 *   fits; the class is found in O(1) with `Math.clz32`); when no larger class has any, the rest of its
 *   own class, first fit. Preferring old slabs and low offsets packs live data into few slabs so that
 *   the newest ones drain and get released (bounded address-ordered fit: under churn at 70%
 *   occupancy it held ~1.40x the live bytes against ~1.60x for plain LIFO heads, see the tests).
 *   Each slab keeps two boundary maps (start offset → extent and end offset → extent) so that a free
 *   coalesces with both neighbours in O(1).
 * - **Large requests** (more than half a slab) get a dedicated SharedArrayBuffer of their own, sized
 *   exactly (rounded up to the alignment), so that big files never fragment slabs; freeing one
 *   releases it.
 * - **Release.** A slab that becomes entirely free is released, except that one empty slab is kept
 *   as a spare ({@link MAX_SPARE_SLABS}) to absorb alloc/free oscillation at a slab boundary. The
 *   spare is released too when the allocator is over its capacity or when a request needs its bytes.
 * - **Capacity.** The SharedArrayBuffer bytes held (`reservedBytes`: slabs, spare included, plus
 *   large buffers) never exceed `capacityBytes`. When what remains of the capacity is less than a
 *   whole slab but enough for the request, a smaller *tail slab* is created, sized to the remaining
 *   capacity (rounded down to the alignment), so that the whole budget is usable whatever the slab
 *   size; tail slabs are ordinary slabs otherwise. When nothing fits, `allocate` returns `null` and
 *   the caller (the L1 LRU) evicts and retries: "full" is never an exception.
 *
 * Bookkeeping per live range is the frozen {@link SlabRange} object itself (five in-object fields)
 * plus one entry in a `Set` of live ranges; free extents (at most one per gap between live ranges)
 * cost one small object and two map entries each. `bench/slab.ts` measures it.
 */
import { invalidOption } from './errors.js';

// ---------------------------------------------------------------------------------------------
// Layout constants
// ---------------------------------------------------------------------------------------------

/** Default size of one slab: 4 MiB. Requests over half of it get a dedicated buffer. */
export const DEFAULT_SLAB_SIZE = 4 * 1024 * 1024;

/**
 * Default alignment of every range's offset and reserved size, in bytes. 8 lets a range be viewed
 * as any typed array up to `Float64Array`/`BigUint64Array`.
 */
export const DEFAULT_ALIGNMENT = 8;

/** Largest accepted alignment (one page). */
export const MAX_ALIGNMENT = 4096;

/** Largest accepted slab size: 1 GiB, so that every in-slab offset and size is a small integer. */
export const MAX_SLAB_SIZE = 1024 * 1024 * 1024;

/**
 * A request is "large" when its length exceeds `slabSize / LARGE_REQUEST_DIVISOR`; it then gets a
 * dedicated SharedArrayBuffer instead of slab space.
 */
export const LARGE_REQUEST_DIVISOR = 2;

/**
 * Number of power-of-two size classes for free extents: class `k` holds extents of
 * `[2^k, 2^(k+1))` bytes. 32 classes cover every size up to 2^32, more than {@link MAX_SLAB_SIZE},
 * and fit the non-empty-class bit mask in one 32-bit integer.
 */
export const SIZE_CLASS_COUNT = 32;

/**
 * How many extents of a size class an allocation inspects to pick the lowest-addressed fit. Bounds
 * the common path to O(1); measured, a full scan of the class packed no better. The rest of the own
 * class is scanned only when no larger class has an extent.
 */
export const MAX_SIZE_CLASS_SCAN = 16;

/** How many entirely free slabs are kept instead of released. */
export const MAX_SPARE_SLABS = 1;

/** Slab id carried by zero-length ranges: they own no memory. Real slab ids start at 1. */
export const ZERO_LENGTH_SLAB_ID = 0 as SlabId;

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

/** Identifies one slab or one dedicated large buffer of an allocator. */
export type SlabId = number & { readonly __brand: 'SlabId' };

/** A byte offset inside a slab's SharedArrayBuffer. */
export type SlabOffset = number & { readonly __brand: 'SlabOffset' };

/**
 * A range of bytes handed out by {@link SlabAllocator.allocate}. Immutable (frozen); its identity is
 * the handle: only the very object returned by `allocate` can be freed, once.
 *
 * It may be posted to a worker thread as is: `buffer` is shared, so the worker sees the same bytes.
 */
export interface SlabRange {
  /** The SharedArrayBuffer holding the bytes (a slab, or a dedicated buffer for a large range). */
  readonly buffer: SharedArrayBuffer;
  /** Where the range starts in `buffer`. A multiple of the allocator's alignment. */
  readonly offset: SlabOffset;
  /** Bytes requested. */
  readonly length: number;
  /** Bytes reserved for it: `length` rounded up to the alignment (0 for a zero-length range). */
  readonly capacity: number;
  /** The slab or large buffer it lives in; {@link ZERO_LENGTH_SLAB_ID} for a zero-length range. */
  readonly slabId: SlabId;
}

/** Options of {@link SlabAllocator}, as given. */
export interface SlabAllocatorOptions {
  /**
   * Most SharedArrayBuffer bytes the allocator may hold at once (slabs and large buffers).
   * A non-negative integer.
   */
  capacityBytes: number;
  /**
   * Size of one slab in bytes: a multiple of `alignment`, at most {@link MAX_SLAB_SIZE}.
   * @default 4 MiB ({@link DEFAULT_SLAB_SIZE})
   */
  slabSize?: number;
  /**
   * Alignment of every range's offset and reserved size: a power of two up to
   * {@link MAX_ALIGNMENT}.
   * @default 8 ({@link DEFAULT_ALIGNMENT})
   */
  alignment?: number;
}

/** Options of {@link SlabAllocator}, fully resolved. */
export interface ResolvedSlabAllocatorOptions {
  readonly capacityBytes: number;
  readonly slabSize: number;
  readonly alignment: number;
}

/** A snapshot of an allocator's memory use. */
export interface SlabStats {
  /** Current cap on `reservedBytes`. */
  readonly capacityBytes: number;
  /**
   * SharedArrayBuffer bytes held: slabs (spare included) plus large buffers. What a level counts
   * against its budget. May exceed `capacityBytes` only after `setCapacity` lowered it below usage.
   */
  readonly reservedBytes: number;
  /** Sum of the `capacity` of live ranges. */
  readonly allocatedBytes: number;
  /** Live ranges, zero-length ones included. */
  readonly liveRanges: number;
  /** Slabs held, the spare included. */
  readonly slabs: number;
  /** Dedicated large buffers held (one per live large range). */
  readonly largeBuffers: number;
  /** Free bytes inside slabs. */
  readonly freeBytes: number;
  /** Largest single free extent inside a slab: the largest slab request served without growing. */
  readonly largestFreeExtent: number;
  /** `1 - largestFreeExtent / freeBytes`; 0 when `freeBytes` is 0. */
  readonly fragmentation: number;
}

// ---------------------------------------------------------------------------------------------
// Internal records
// ---------------------------------------------------------------------------------------------

interface FreeExtent {
  readonly slab: Slab;
  offset: number;
  size: number;
  sizeClass: number;
  prev: FreeExtent | null;
  next: FreeExtent | null;
}

interface Slab {
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

interface LargeBuffer {
  readonly kind: 'large';
  readonly id: SlabId;
  readonly buffer: SharedArrayBuffer;
  readonly size: number;
}

type Owner = Slab | LargeBuffer;

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Validates options and fills in defaults. Throws `StrataError` `EINVALIDOPTION`. */
export function resolveSlabAllocatorOptions(options: SlabAllocatorOptions): ResolvedSlabAllocatorOptions {
  const { capacityBytes, slabSize = DEFAULT_SLAB_SIZE, alignment = DEFAULT_ALIGNMENT } = options;
  if (!isNonNegativeInteger(capacityBytes)) {
    throw invalidOption('capacityBytes', 'a non-negative integer number of bytes', capacityBytes);
  }
  if (!isNonNegativeInteger(alignment) || alignment < 1 || alignment > MAX_ALIGNMENT || (alignment & (alignment - 1)) !== 0) {
    throw invalidOption('alignment', `a power of two from 1 to ${MAX_ALIGNMENT}`, alignment);
  }
  if (!isNonNegativeInteger(slabSize) || slabSize < alignment || slabSize > MAX_SLAB_SIZE || slabSize % alignment !== 0) {
    throw invalidOption('slabSize', `a multiple of alignment (${alignment}) from ${alignment} to ${MAX_SLAB_SIZE}`, slabSize);
  }
  return { capacityBytes, slabSize, alignment };
}

/** Size class of a free extent of `size` (≥ 1) bytes: `floor(log2(size))`. */
function sizeClassOf(size: number): number {
  return 31 - Math.clz32(size);
}

/** Address order across slabs: older slab first, then lower offset. */
function isLowerAddress(a: FreeExtent, b: FreeExtent): boolean {
  return a.slab.id < b.slab.id || (a.slab.id === b.slab.id && a.offset < b.offset);
}

function makeRange(buffer: SharedArrayBuffer, offset: number, length: number, capacity: number, slabId: SlabId): SlabRange {
  return Object.freeze({ buffer, offset: offset as SlabOffset, length, capacity, slabId });
}

/**
 * Allocates byte ranges inside SharedArrayBuffers under a hard cap on the bytes held.
 * See the module comment for the layout and policies.
 */
export class SlabAllocator {
  readonly #slabSize: number;
  readonly #alignment: number;
  readonly #alignMask: number;
  readonly #largeThreshold: number;
  #capacityBytes: number;

  /** Every live range, zero-length and large ones included: the authority for `free`. */
  readonly #live = new Set<SlabRange>();
  readonly #owners = new Map<SlabId, Owner>();
  /** Head of each size class's free list. */
  readonly #classHeads: (FreeExtent | null)[] = new Array<FreeExtent | null>(SIZE_CLASS_COUNT).fill(null);
  /** Bit `k` set ⇔ size class `k` has at least one free extent. */
  #nonEmptyClasses = 0;
  /** Buffer of zero-length ranges; per allocator, so foreign ranges stay recognisable. */
  readonly #emptyBuffer = new SharedArrayBuffer(0);

  #nextId = 1;
  #spare: Slab | null = null;
  #reservedBytes = 0;
  #allocatedBytes = 0;
  #slabFreeBytes = 0;
  #slabCount = 0;
  #largeCount = 0;

  constructor(options: SlabAllocatorOptions) {
    const resolved = resolveSlabAllocatorOptions(options);
    this.#capacityBytes = resolved.capacityBytes;
    this.#slabSize = resolved.slabSize;
    this.#alignment = resolved.alignment;
    this.#alignMask = resolved.alignment - 1;
    this.#largeThreshold = Math.floor(resolved.slabSize / LARGE_REQUEST_DIVISOR);
  }

  /** Current cap on the SharedArrayBuffer bytes held. */
  get capacityBytes(): number {
    return this.#capacityBytes;
  }

  get slabSize(): number {
    return this.#slabSize;
  }

  get alignment(): number {
    return this.#alignment;
  }

  /** Requests longer than this many bytes get a dedicated SharedArrayBuffer. */
  get largeThreshold(): number {
    return this.#largeThreshold;
  }

  /**
   * Bytes of capacity a range of `length` bytes needs (its `capacity`). A request whose reservation
   * exceeds `capacityBytes` can never succeed, whatever is evicted.
   */
  reservationFor(length: number): number {
    this.#checkLength(length);
    return Math.ceil(length / this.#alignment) * this.#alignment;
  }

  /**
   * Reserves `length` bytes (any size from 0). Returns `null`, never throws, when the request
   * cannot be met within the capacity: the caller evicts and retries. A zero-length request gets a
   * valid range that owns no memory. Throws `RangeError` only for a length that is not a
   * non-negative safe integer.
   */
  allocate(length: number): SlabRange | null {
    this.#checkLength(length);
    if (length === 0) {
      const range = makeRange(this.#emptyBuffer, 0, 0, 0, ZERO_LENGTH_SLAB_ID);
      this.#live.add(range);
      return range;
    }
    if (length > this.#largeThreshold) return this.#allocateLarge(length);

    // length ≤ slabSize / 2 ≤ 512 MiB: int32 arithmetic is exact.
    const rounded = (length + this.#alignMask) & ~this.#alignMask;
    const extent = this.#findExtent(rounded) ?? this.#createSlab(rounded);
    if (extent === null) return null;
    return this.#carve(extent, length, rounded);
  }

  /**
   * Returns a range's bytes to the allocator. Throws an `Error` for a range that is not live here:
   * freed already, or handed out by another allocator, or not an object `allocate` returned.
   */
  free(range: SlabRange): void {
    if (!this.#live.delete(range)) {
      throw new Error(
        `SlabAllocator.free: range (slab ${String(range?.slabId)}, offset ${String(range?.offset)}, ` +
          `length ${String(range?.length)}) is not live in this allocator: double free or foreign range`,
      );
    }
    const capacity = range.capacity;
    if (capacity === 0) return;
    this.#allocatedBytes -= capacity;
    const owner = this.#owners.get(range.slabId);
    if (owner === undefined) throw new Error(`SlabAllocator: internal error, no owner for live slab ${range.slabId}`);
    if (owner.kind === 'large') {
      this.#owners.delete(owner.id);
      this.#reservedBytes -= owner.size;
      this.#largeCount--;
      return;
    }
    this.#release(owner, range.offset, capacity);
  }

  /** Whether `range` is live in this allocator. */
  owns(range: SlabRange): boolean {
    return this.#live.has(range);
  }

  /** A view of a live range's bytes (over the SharedArrayBuffer, no copy). Throws for a range not live here. */
  view(range: SlabRange): Uint8Array {
    if (!this.#live.has(range)) {
      throw new Error(`SlabAllocator.view: range (slab ${String(range?.slabId)}, offset ${String(range?.offset)}) is not live in this allocator`);
    }
    return new Uint8Array(range.buffer, range.offset, range.length);
  }

  /**
   * Changes the cap. Lowering it never invalidates live ranges: the allocator refuses to grow until
   * usage drops below the new cap, and releases entirely free slabs (the spare too) meanwhile.
   */
  setCapacity(bytes: number): void {
    if (!isNonNegativeInteger(bytes)) throw invalidOption('capacityBytes', 'a non-negative integer number of bytes', bytes);
    this.#capacityBytes = bytes;
    if (this.#reservedBytes > bytes && this.#spare !== null) this.#releaseSlab(this.#spare);
  }

  stats(): SlabStats {
    let largestFreeExtent = 0;
    if (this.#nonEmptyClasses !== 0) {
      for (let extent = this.#classHeads[sizeClassOf(this.#nonEmptyClasses)] ?? null; extent !== null; extent = extent.next) {
        if (extent.size > largestFreeExtent) largestFreeExtent = extent.size;
      }
    }
    const freeBytes = this.#slabFreeBytes;
    return {
      capacityBytes: this.#capacityBytes,
      reservedBytes: this.#reservedBytes,
      allocatedBytes: this.#allocatedBytes,
      liveRanges: this.#live.size,
      slabs: this.#slabCount,
      largeBuffers: this.#largeCount,
      freeBytes,
      largestFreeExtent,
      fragmentation: freeBytes === 0 ? 0 : 1 - largestFreeExtent / freeBytes,
    };
  }

  // -------------------------------------------------------------------------------------------

  #checkLength(length: number): void {
    if (!isNonNegativeInteger(length)) {
      throw new RangeError(`SlabAllocator: length must be a non-negative safe integer, got ${String(length)}`);
    }
  }

  /** Makes room for `bytes` more reserved bytes if the spare slab's release allows it. */
  #hasRoomFor(bytes: number): boolean {
    if (this.#capacityBytes - this.#reservedBytes >= bytes) return true;
    if (this.#spare === null) return false;
    this.#releaseSlab(this.#spare);
    return this.#capacityBytes - this.#reservedBytes >= bytes;
  }

  #allocateLarge(length: number): SlabRange | null {
    const size = Math.ceil(length / this.#alignment) * this.#alignment;
    if (!this.#hasRoomFor(size)) return null;
    const buffer = newSharedBuffer(size);
    if (buffer === null) return null;
    const id = this.#nextId++ as SlabId;
    this.#owners.set(id, { kind: 'large', id, buffer, size });
    this.#reservedBytes += size;
    this.#largeCount++;
    this.#allocatedBytes += size;
    const range = makeRange(buffer, 0, length, size, id);
    this.#live.add(range);
    return range;
  }

  /** A free extent of at least `size` bytes, or null. See the module comment for the policy. */
  #findExtent(size: number): FreeExtent | null {
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

  /** Creates a slab able to hold `minSize` bytes and returns its single free extent, or null. */
  #createSlab(minSize: number): FreeExtent | null {
    // A spare would have served the request unless it is a tail slab smaller than it: drop it then.
    if (!this.#hasRoomFor(minSize)) return null;
    const remaining = this.#capacityBytes - this.#reservedBytes;
    const size = remaining >= this.#slabSize ? this.#slabSize : remaining - (remaining % this.#alignment);
    if (size < minSize) return null;
    const buffer = newSharedBuffer(size);
    if (buffer === null) return null;
    const slab: Slab = {
      kind: 'slab',
      id: this.#nextId++ as SlabId,
      buffer,
      size,
      freeBytes: size,
      liveCount: 0,
      freeByStart: new Map(),
      freeByEnd: new Map(),
    };
    this.#owners.set(slab.id, slab);
    this.#reservedBytes += size;
    this.#slabFreeBytes += size;
    this.#slabCount++;
    const extent: FreeExtent = { slab, offset: 0, size, sizeClass: sizeClassOf(size), prev: null, next: null };
    this.#linkExtent(extent);
    return extent;
  }

  /** Takes `rounded` bytes from the start of `extent`. */
  #carve(extent: FreeExtent, length: number, rounded: number): SlabRange {
    const slab = extent.slab;
    const offset = extent.offset;
    if (extent.size === rounded) {
      this.#unlinkExtent(extent);
    } else {
      // Shrink in place: the end (and its boundary-map entry) stays, the start moves.
      slab.freeByStart.delete(offset);
      extent.offset = offset + rounded;
      extent.size -= rounded;
      slab.freeByStart.set(extent.offset, extent);
      const sizeClass = sizeClassOf(extent.size);
      if (sizeClass !== extent.sizeClass) {
        this.#removeFromClass(extent);
        extent.sizeClass = sizeClass;
        this.#pushToClass(extent);
      }
    }
    slab.freeBytes -= rounded;
    slab.liveCount++;
    this.#slabFreeBytes -= rounded;
    this.#allocatedBytes += rounded;
    if (this.#spare === slab) this.#spare = null;
    const range = makeRange(slab.buffer, offset, length, rounded, slab.id);
    this.#live.add(range);
    return range;
  }

  /** Returns `[offset, offset + size)` of `slab` to its free space, coalescing with its neighbours. */
  #release(slab: Slab, offset: number, size: number): void {
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
        this.#unlinkExtent(after);
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
      extent = { slab, offset: start, size, sizeClass: sizeClassOf(size), prev: null, next: null };
      this.#linkExtent(extent);
    }
    const sizeClass = sizeClassOf(extent.size);
    if (sizeClass !== extent.sizeClass) {
      this.#removeFromClass(extent);
      extent.sizeClass = sizeClass;
      this.#pushToClass(extent);
    }
    slab.freeBytes += size;
    slab.liveCount--;
    this.#slabFreeBytes += size;

    if (slab.liveCount === 0) {
      const keepAsSpare = this.#spare === null && MAX_SPARE_SLABS > 0 && this.#reservedBytes <= this.#capacityBytes;
      if (keepAsSpare) this.#spare = slab;
      else this.#releaseSlab(slab);
    }
  }

  /** Releases an entirely free slab. */
  #releaseSlab(slab: Slab): void {
    const extent = slab.freeByStart.get(0);
    if (slab.liveCount !== 0 || extent === undefined || extent.size !== slab.size) {
      throw new Error(`SlabAllocator: internal error, releasing slab ${slab.id} that is not entirely free`);
    }
    this.#unlinkExtent(extent);
    this.#owners.delete(slab.id);
    this.#reservedBytes -= slab.size;
    this.#slabFreeBytes -= slab.size;
    this.#slabCount--;
    if (this.#spare === slab) this.#spare = null;
  }

  #linkExtent(extent: FreeExtent): void {
    extent.slab.freeByStart.set(extent.offset, extent);
    extent.slab.freeByEnd.set(extent.offset + extent.size, extent);
    this.#pushToClass(extent);
  }

  #unlinkExtent(extent: FreeExtent): void {
    extent.slab.freeByStart.delete(extent.offset);
    extent.slab.freeByEnd.delete(extent.offset + extent.size);
    this.#removeFromClass(extent);
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

/**
 * A new SharedArrayBuffer, or null when the process cannot get the memory although the budget
 * allows it: that reads as "full" so the caller evicts and retries, as documented; any other error
 * is a real bug and is thrown.
 */
function newSharedBuffer(size: number): SharedArrayBuffer | null {
  try {
    return new SharedArrayBuffer(size);
  } catch (error) {
    if (error instanceof RangeError) return null;
    throw error;
  }
}
