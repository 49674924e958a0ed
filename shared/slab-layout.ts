/**
 * What the slab allocator (slab.ts) hands out and how it is configured: its layout constants, the
 * {@link SlabRange} handle that the coordinator and the workers share, the option and stats shapes,
 * and option validation.
 */
import { invalidOption } from './errors.js';

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

export function isNonNegativeInteger(value: unknown): value is number {
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
