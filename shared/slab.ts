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
 *   in segregated free lists (slab-extents.ts), one per power-of-two size class (an extent of `s` bytes sits in class
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
 *
 * This module owns the policy: capacity, slabs, large buffers, the spare and the live set. The free
 * extents inside slabs are slab-extents.ts; the constants, the range handle, the option and stats
 * shapes are slab-layout.ts.
 */
import { invalidOption } from './errors.js';
import { FreeExtents, type FreeExtent, type Slab } from './slab-extents.js';
import {
  isNonNegativeInteger,
  LARGE_REQUEST_DIVISOR,
  MAX_SPARE_SLABS,
  resolveSlabAllocatorOptions,
  ZERO_LENGTH_SLAB_ID,
  type SlabAllocatorOptions,
  type SlabId,
  type SlabOffset,
  type SlabRange,
  type SlabStats,
} from './slab-layout.js';

interface LargeBuffer {
  readonly kind: 'large';
  readonly id: SlabId;
  readonly buffer: SharedArrayBuffer;
  readonly size: number;
}

type Owner = Slab | LargeBuffer;

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
  readonly #free = new FreeExtents();
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
    const extent = this.#free.find(rounded) ?? this.#createSlab(rounded);
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
    const largestFreeExtent = this.#free.largest();
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
    return this.#free.add(slab, 0, size);
  }

  /** Takes `rounded` bytes from the start of `extent`. */
  #carve(extent: FreeExtent, length: number, rounded: number): SlabRange {
    const slab = extent.slab;
    const offset = extent.offset;
    this.#free.take(extent, rounded);
    slab.freeBytes -= rounded;
    slab.liveCount++;
    this.#slabFreeBytes -= rounded;
    this.#allocatedBytes += rounded;
    if (this.#spare === slab) this.#spare = null;
    const range = makeRange(slab.buffer, offset, length, rounded, slab.id);
    this.#live.add(range);
    return range;
  }

  /** Returns `[offset, offset + size)` of `slab`; a slab left entirely free becomes the spare or is released. */
  #release(slab: Slab, offset: number, size: number): void {
    this.#free.give(slab, offset, size);
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
    this.#free.remove(extent);
    this.#owners.delete(slab.id);
    this.#reservedBytes -= slab.size;
    this.#slabFreeBytes -= slab.size;
    this.#slabCount--;
    if (this.#spare === slab) this.#spare = null;
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
