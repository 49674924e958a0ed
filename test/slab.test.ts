import { Worker } from 'node:worker_threads';

import { isStrataError } from '../shared/errors.js';
import { SlabAllocator } from '../shared/slab.js';
import { DEFAULT_SLAB_SIZE, ZERO_LENGTH_SLAB_ID, type SlabRange, type SlabStats } from '../shared/slab-layout.js';
import { prng } from '../bench/seeded-random.js';

const KiB = 1024;
const MiB = 1024 * 1024;


function logUniform(random: () => number, min: number, max: number): number {
  return Math.floor(Math.exp(Math.log(min) + random() * (Math.log(max) - Math.log(min))));
}

/**
 * File sizes with a realistic skew: most source files are a few KB, some tens to hundreds of KB,
 * a few bundles are MBs (some over half a slab, so they take the dedicated-buffer path).
 */
function fileSize(random: () => number): number {
  const r = random();
  if (r < 0.01) return Math.floor(random() * 8); // empty and tiny files, zero included
  if (r < 0.7) return logUniform(random, 100, 16 * KiB);
  if (r < 0.95) return logUniform(random, 16 * KiB, 256 * KiB);
  if (r < 0.99) return logUniform(random, 256 * KiB, 2 * MiB);
  return logUniform(random, 2 * MiB, 8 * MiB);
}

/** Source-file sizes only (no large-buffer path): what fills slabs. */
function sourceFileSize(random: () => number): number {
  const r = random();
  if (r < 0.75) return logUniform(random, 100, 16 * KiB);
  if (r < 0.97) return logUniform(random, 16 * KiB, 128 * KiB);
  return logUniform(random, 128 * KiB, 1 * MiB);
}

/** Fills a range with its 4-byte tag repeated. */
function writeTag(allocator: SlabAllocator, range: SlabRange, tag: number): void {
  const tagBytes = Buffer.alloc(4);
  tagBytes.writeUInt32LE(tag >>> 0);
  const view = allocator.view(range);
  Buffer.from(view.buffer, view.byteOffset, view.byteLength).fill(tagBytes);
}

/** Whether a range still holds its tag repeated: first 4 bytes equal the tag, and the bytes have period 4 (memcmp). */
function holdsTag(allocator: SlabAllocator, range: SlabRange, tag: number): boolean {
  const view = allocator.view(range);
  const bytes = Buffer.from(view.buffer, view.byteOffset, view.byteLength);
  const tagBytes = Buffer.alloc(4);
  tagBytes.writeUInt32LE(tag >>> 0);
  const head = Math.min(4, bytes.length);
  if (!bytes.subarray(0, head).equals(tagBytes.subarray(0, head))) return false;
  return bytes.length <= 4 || bytes.subarray(4).equals(bytes.subarray(0, bytes.length - 4));
}

/**
 * Throws when `condition` is false. The churn loops check invariants hundreds of thousands of times:
 * a plain check keeps them fast where a jest matcher per check would take a minute.
 */
function check(condition: boolean, message: () => string): void {
  if (!condition) throw new Error(message());
}

/** Asserts that live ranges lie within their buffers, are aligned, and never overlap. */
function expectDisjoint(ranges: Iterable<SlabRange>, alignment: number): void {
  const byBuffer = new Map<SharedArrayBuffer, SlabRange[]>();
  for (const range of ranges) {
    if (range.capacity === 0) continue;
    const where = (): string => `range (slab ${range.slabId}, offset ${range.offset}, length ${range.length}, capacity ${range.capacity})`;
    check(range.offset % alignment === 0 && range.capacity % alignment === 0, () => `${where()} is not aligned`);
    check(range.length <= range.capacity, () => `${where()} is longer than its capacity`);
    check(range.offset + range.capacity <= range.buffer.byteLength, () => `${where()} overruns its ${range.buffer.byteLength}-byte buffer`);
    const list = byBuffer.get(range.buffer);
    if (list === undefined) byBuffer.set(range.buffer, [range]);
    else list.push(range);
  }
  for (const list of byBuffer.values()) {
    list.sort((a, b) => a.offset - b.offset);
    for (let i = 1; i < list.length; i++) {
      const previous = list[i - 1]!;
      const current = list[i]!;
      check(current.slabId === previous.slabId, () => `one buffer carries slab ids ${previous.slabId} and ${current.slabId}`);
      check(
        previous.offset + previous.capacity <= current.offset,
        () => `overlap in slab ${previous.slabId}: [${previous.offset}, +${previous.capacity}) and [${current.offset}, +${current.capacity})`,
      );
    }
  }
}

function expectEmpty(stats: SlabStats): void {
  expect(stats.allocatedBytes).toBe(0);
  expect(stats.liveRanges).toBe(0);
  expect(stats.largeBuffers).toBe(0);
  expect(stats.slabs).toBeLessThanOrEqual(1);
  expect(stats.reservedBytes).toBeLessThanOrEqual(DEFAULT_SLAB_SIZE);
}

function mustAllocate(allocator: SlabAllocator, length: number): SlabRange {
  const range = allocator.allocate(length);
  if (range === null) throw new Error(`allocate(${length}) returned null`);
  return range;
}

describe('SlabAllocator', () => {
  it('survives 50,000 seeded alloc/free operations with disjoint ranges, exact accounting and intact bytes', () => {
    const capacityBytes = 96 * MiB;
    const allocator = new SlabAllocator({ capacityBytes });
    const random = prng(0x5eed);
    const live = new Map<SlabRange, number>(); // range → tag
    const order: SlabRange[] = []; // for random picks; swap-remove
    let nextTag = 1;
    let allocatedSum = 0;
    let nulls = 0;
    let largeAllocations = 0;
    let peakFragmentation = 0;

    const freeAt = (index: number): void => {
      const range = order[index]!;
      const tag = live.get(range)!;
      check(holdsTag(allocator, range, tag), () => `range tagged ${tag} was overwritten before its free`);
      allocator.free(range);
      live.delete(range);
      order[index] = order[order.length - 1]!;
      order.pop();
      allocatedSum -= range.capacity;
    };

    for (let op = 0; op < 50_000; op++) {
      if (order.length > 0 && random() < 0.45) {
        freeAt(Math.floor(random() * order.length));
      } else {
        const length = fileSize(random);
        let range = allocator.allocate(length);
        while (range === null) {
          nulls++;
          // "full" is legitimate only when not even a fresh (tail) slab or buffer fits the capacity.
          const stats = allocator.stats();
          check(
            stats.capacityBytes - stats.reservedBytes < allocator.reservationFor(length),
            () => `allocate(${length}) returned null with ${stats.capacityBytes - stats.reservedBytes} bytes of capacity left`,
          );
          // Evict like the L1 LRU would, then retry.
          freeAt(Math.floor(random() * order.length));
          range = allocator.allocate(length);
        }
        check(range.length === length, () => `allocate(${length}) returned a range of ${range?.length} bytes`);
        if (length > allocator.largeThreshold) {
          largeAllocations++;
          check(range.offset === 0 && range.buffer.byteLength === range.capacity, () => `large range of ${length} bytes is not in a dedicated buffer`);
        }
        const tag = nextTag++;
        writeTag(allocator, range, tag);
        live.set(range, tag);
        order.push(range);
        allocatedSum += range.capacity;
      }

      const stats = allocator.stats();
      check(stats.reservedBytes <= capacityBytes, () => `op ${op}: reservedBytes ${stats.reservedBytes} > capacity ${capacityBytes}`);
      check(stats.allocatedBytes === allocatedSum, () => `op ${op}: allocatedBytes ${stats.allocatedBytes}, live capacities sum to ${allocatedSum}`);
      check(stats.liveRanges === live.size, () => `op ${op}: liveRanges ${stats.liveRanges}, ${live.size} live`);
      check(stats.allocatedBytes + stats.freeBytes <= stats.reservedBytes, () => `op ${op}: allocated + free exceed reserved`);
      peakFragmentation = Math.max(peakFragmentation, stats.fragmentation);
      if (op % 250 === 0) expectDisjoint(live.keys(), allocator.alignment);
    }

    expectDisjoint(live.keys(), allocator.alignment);
    for (const [range, tag] of live) check(holdsTag(allocator, range, tag), () => `range tagged ${tag} was overwritten`);
    // The run did exercise the "full → evict → retry" path and the dedicated-buffer path.
    expect(nulls).toBeGreaterThan(100);
    expect(largeAllocations).toBeGreaterThan(100);
    expect(peakFragmentation).toBeLessThan(1);

    while (order.length > 0) freeAt(order.length - 1);
    expectEmpty(allocator.stats());
  });

  it('releases every buffer but one spare slab once all ranges are freed', () => {
    const allocator = new SlabAllocator({ capacityBytes: 64 * MiB, slabSize: 1 * MiB });
    const ranges: SlabRange[] = [];
    for (let i = 0; i < 200; i++) ranges.push(mustAllocate(allocator, 20 * KiB + i));
    ranges.push(mustAllocate(allocator, 3 * MiB));
    const grown = allocator.stats();
    expect(grown.slabs).toBeGreaterThan(3);
    expect(grown.largeBuffers).toBe(1);
    for (const range of ranges) allocator.free(range);
    const stats = allocator.stats();
    expectEmpty(stats);
    expect(stats.slabs).toBe(1);
    expect(stats.reservedBytes).toBe(1 * MiB);
    expect(stats.freeBytes).toBe(1 * MiB);
    expect(stats.fragmentation).toBe(0);
  });

  it('reuses freed memory for a request of the same size without growing', () => {
    const allocator = new SlabAllocator({ capacityBytes: 16 * MiB });
    const ranges = Array.from({ length: 100 }, (_, i) => mustAllocate(allocator, 1000 + i * 37));
    const before = allocator.stats();
    const victim = ranges[40]!;
    allocator.free(victim);
    const again = mustAllocate(allocator, victim.length);
    const after = allocator.stats();
    expect(after.reservedBytes).toBe(before.reservedBytes);
    expect(after.slabs).toBe(before.slabs);
    expect(again.buffer).toBe(victim.buffer);
    expect(again.offset).toBe(victim.offset);
  });

  it('coalesces three adjacent freed ranges into one extent that serves a bigger allocation', () => {
    const allocator = new SlabAllocator({ capacityBytes: 4 * KiB, slabSize: 4 * KiB });
    const [a, b, c, d] = [0, 1, 2, 3].map(() => mustAllocate(allocator, 1 * KiB)) as [SlabRange, SlabRange, SlabRange, SlabRange];
    expect([a.offset, b.offset, c.offset, d.offset]).toEqual([0, 1024, 2048, 3072]);
    expect(allocator.stats().freeBytes).toBe(0);
    // a alone, then c alone (two extents), then b joins both neighbours.
    allocator.free(a);
    allocator.free(c);
    expect(allocator.stats().largestFreeExtent).toBe(1 * KiB);
    expect(allocator.stats().fragmentation).toBeCloseTo(0.5);
    allocator.free(b);
    const merged = allocator.stats();
    expect(merged.freeBytes).toBe(3 * KiB);
    expect(merged.largestFreeExtent).toBe(3 * KiB);
    expect(merged.fragmentation).toBe(0);
    // 1.5 KiB is at most half a 4 KiB slab, so it must come from the merged extent; then fill the rest.
    const big = mustAllocate(allocator, 1536);
    expect(big.offset).toBe(0);
    const rest = mustAllocate(allocator, 1536);
    expect(rest.offset).toBe(1536);
    expect(allocator.stats()).toMatchObject({ slabs: 1, reservedBytes: 4 * KiB, freeBytes: 0, largeBuffers: 0 });
    expect(d.offset).toBe(3072);
  });

  it('keeps memory overhead and fragmentation bounded under churn at ~70% occupancy', () => {
    // Capacity is generous, so only the allocator's own fragmentation decides how many slabs it
    // holds. A live set of ~70% of 64 MiB of source-file-sized ranges (up to 1 MiB, a quarter of a
    // slab) is churned 50,000 times, and the ratio of bytes held to live bytes is sampled.
    //
    // The bound, 1.5x: 45 MiB live in 4 MiB slabs needs 12 slabs at best; random frees leave holes
    // in every slab, and a slab is released only when all of its ranges are gone, so some slack is
    // inherent. Measured over four seeds, the worst ratio was 1.39-1.42x with the bounded
    // address-ordered fit (1.58-1.65x with plain LIFO heads) and stays flat as operations go on.
    // Without coalescing it reached 2.8x and kept climbing: that is the failure this bound catches.
    const target = Math.floor(0.7 * 64 * MiB);
    const allocator = new SlabAllocator({ capacityBytes: 1024 * MiB });
    const random = prng(42);
    const live: SlabRange[] = [];
    let liveBytes = 0;
    let worstOverhead = 0;
    for (let op = 0; op < 50_000; op++) {
      if (liveBytes > target || (live.length > 0 && random() < 0.3)) {
        const index = Math.floor(random() * live.length);
        const range = live[index]!;
        allocator.free(range);
        liveBytes -= range.capacity;
        live[index] = live[live.length - 1]!;
        live.pop();
      } else {
        const range = mustAllocate(allocator, sourceFileSize(random));
        live.push(range);
        liveBytes += range.capacity;
      }
      if (op > 10_000 && op % 100 === 0) {
        const stats = allocator.stats();
        worstOverhead = Math.max(worstOverhead, stats.reservedBytes / stats.allocatedBytes);
      }
    }
    const stats = allocator.stats();
    expect(worstOverhead).toBeGreaterThan(1);
    expect(worstOverhead).toBeLessThan(1.5);

    // Operationally: with a quarter or more of the slabs free after churn, typical source files (up to
    // 64 KiB) still fit the existing free space, without a new slab.
    const reserved = stats.reservedBytes;
    for (let i = 0; i < 50; i++) mustAllocate(allocator, 64 * KiB);
    expect(allocator.stats().reservedBytes).toBe(reserved);
  });

  it('returns null, never throws, when a request cannot fit the capacity', () => {
    const allocator = new SlabAllocator({ capacityBytes: 8 * KiB, slabSize: 4 * KiB });
    expect(allocator.allocate(9 * KiB)).toBeNull(); // larger than the whole capacity
    const large = mustAllocate(allocator, 3 * KiB); // > half a slab: dedicated buffer
    expect(large.buffer.byteLength).toBe(3 * KiB);
    const small = mustAllocate(allocator, 2 * KiB); // a slab: 4 KiB reserved
    expect(allocator.stats().reservedBytes).toBe(7 * KiB);
    expect(allocator.allocate(3 * KiB)).toBeNull(); // no room for another buffer of 3 KiB
    mustAllocate(allocator, 2 * KiB); // fills the slab
    mustAllocate(allocator, 8); // the last 1 KiB of capacity becomes a tail slab
    expect(allocator.stats().reservedBytes).toBe(8 * KiB);
    expect(allocator.allocate(1 * KiB)).toBeNull(); // 1016 bytes free in the tail slab, no capacity left
    expect(allocator.allocate(1)).not.toBeNull();
    allocator.free(small);
    expect(allocator.allocate(2 * KiB)).not.toBeNull();
  });

  it('creates a smaller tail slab from the capacity left when a whole slab does not fit', () => {
    const allocator = new SlabAllocator({ capacityBytes: 10 * KiB, slabSize: 4 * KiB });
    for (let i = 0; i < 4; i++) mustAllocate(allocator, 2 * KiB); // two full slabs
    expect(allocator.stats()).toMatchObject({ slabs: 2, reservedBytes: 8 * KiB });
    const tail = mustAllocate(allocator, 1 * KiB);
    expect(tail.buffer.byteLength).toBe(2 * KiB);
    expect(allocator.stats()).toMatchObject({ slabs: 3, reservedBytes: 10 * KiB, freeBytes: 1 * KiB });
    expect(allocator.allocate(1 * KiB + 8)).toBeNull();
  });

  it('gives a request over half a slab a dedicated, exactly sized buffer that free releases', () => {
    const allocator = new SlabAllocator({ capacityBytes: 64 * MiB });
    const length = DEFAULT_SLAB_SIZE / 2 + 1;
    const range = mustAllocate(allocator, length);
    expect(range.offset).toBe(0);
    expect(range.capacity).toBe(DEFAULT_SLAB_SIZE / 2 + 8);
    expect(range.buffer.byteLength).toBe(range.capacity);
    expect(allocator.stats()).toMatchObject({ largeBuffers: 1, slabs: 0, reservedBytes: range.capacity, allocatedBytes: range.capacity });
    allocator.free(range);
    expect(allocator.stats()).toMatchObject({ largeBuffers: 0, reservedBytes: 0, allocatedBytes: 0 });
  });

  it('throws on a double free, a foreign range, a copied handle and a stale handle, and keeps the live range', () => {
    const allocator = new SlabAllocator({ capacityBytes: 1 * MiB });
    const other = new SlabAllocator({ capacityBytes: 1 * MiB });
    const range = mustAllocate(allocator, 100);
    allocator.free(range);
    expect(() => allocator.free(range)).toThrow(/double free or foreign range/);

    const foreign = mustAllocate(other, 100);
    expect(() => allocator.free(foreign)).toThrow(Error);
    expect(() => allocator.free({ ...mustAllocate(allocator, 100) })).toThrow(Error);

    // A stale handle whose memory was handed out again must not free the new owner's range.
    const stale = mustAllocate(allocator, 64);
    allocator.free(stale);
    const reused = mustAllocate(allocator, 64);
    expect(reused.offset).toBe(stale.offset);
    expect(() => allocator.free(stale)).toThrow(Error);
    expect(allocator.owns(reused)).toBe(true);
    expect(() => allocator.view(stale)).toThrow(Error);
  });

  it('hands out valid zero-length ranges that own no memory', () => {
    const allocator = new SlabAllocator({ capacityBytes: 0 });
    const empty = mustAllocate(allocator, 0);
    expect(empty).toMatchObject({ offset: 0, length: 0, capacity: 0, slabId: ZERO_LENGTH_SLAB_ID });
    expect(allocator.view(empty).byteLength).toBe(0);
    expect(allocator.stats()).toMatchObject({ liveRanges: 1, allocatedBytes: 0, reservedBytes: 0, slabs: 0 });
    expect(allocator.allocate(1)).toBeNull();
    allocator.free(empty);
    expect(() => allocator.free(empty)).toThrow(Error);
    expect(allocator.stats().liveRanges).toBe(0);
  });

  it('refuses growth after setCapacity lowers the cap, but keeps live ranges and fills existing free space', () => {
    const allocator = new SlabAllocator({ capacityBytes: 16 * KiB, slabSize: 4 * KiB });
    const ranges = [0, 1, 2, 3, 4, 5].map((i) => mustAllocate(allocator, 1500 + i)); // 2 per slab: 3 slabs, ~1 KiB free in each
    ranges.forEach((range, i) => writeTag(allocator, range, i + 1));
    expect(allocator.stats()).toMatchObject({ slabs: 3, reservedBytes: 12 * KiB });

    allocator.setCapacity(4 * KiB);
    expect(allocator.stats().reservedBytes).toBe(12 * KiB); // nothing invalidated
    ranges.forEach((range, i) => expect(holdsTag(allocator, range, i + 1)).toBe(true));
    expect(allocator.allocate(1200)).toBeNull(); // would need a new slab
    expect(allocator.allocate(1 * MiB)).toBeNull(); // would need a new buffer
    const inPlace = mustAllocate(allocator, 512); // fits the free space of an existing slab
    expect(allocator.stats().reservedBytes).toBe(12 * KiB);

    // Usage drops: emptied slabs are released (no spare kept while over the cap).
    for (const range of [...ranges, inPlace]) allocator.free(range);
    expect(allocator.stats()).toMatchObject({ slabs: 1, reservedBytes: 4 * KiB, liveRanges: 0 });

    allocator.setCapacity(16 * KiB);
    mustAllocate(allocator, 3 * KiB);
    mustAllocate(allocator, 3 * KiB);
    expect(allocator.stats().reservedBytes).toBe(4 * KiB + 6 * KiB);
  });

  it('refuses invalid options with EINVALIDOPTION naming the option', () => {
    const attempts: [string, () => SlabAllocator][] = [
      ['capacityBytes', () => new SlabAllocator({ capacityBytes: -1 })],
      ['alignment', () => new SlabAllocator({ capacityBytes: 1024, alignment: 12 })],
      ['slabSize', () => new SlabAllocator({ capacityBytes: 1024, slabSize: 1001 })],
    ];
    for (const [option, attempt] of attempts) {
      try {
        attempt();
        throw new Error(`expected ${option} to be refused`);
      } catch (error) {
        expect(isStrataError(error)).toBe(true);
        expect(error).toMatchObject({ code: 'EINVALIDOPTION', path: option });
      }
    }
    const allocator = new SlabAllocator({ capacityBytes: 1024 });
    expect(() => allocator.allocate(-1)).toThrow(RangeError);
    expect(() => allocator.allocate(1.5)).toThrow(RangeError);
  });

  it('lets a worker thread read the bytes the main thread wrote, through the shared buffer', async () => {
    const allocator = new SlabAllocator({ capacityBytes: 8 * MiB });
    mustAllocate(allocator, 777); // so the range of interest does not start at offset 0
    const range = mustAllocate(allocator, 5000);
    const view = allocator.view(range);
    for (let i = 0; i < view.length; i++) view[i] = (i * 31 + 7) & 0xff;

    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const { range } = workerData;
      const bytes = new Uint8Array(range.buffer, range.offset, range.length);
      let sum = 0;
      for (let i = 0; i < bytes.length; i++) sum = (sum * 33 + bytes[i]) >>> 0;
      bytes[0] = 0xee; // a write the main thread must see too: the memory is shared, not copied
      parentPort.postMessage({ sum, length: bytes.length, shared: range.buffer instanceof SharedArrayBuffer });
    `;
    const reply = await new Promise<{ sum: number; length: number; shared: boolean }>((resolve, reject) => {
      const worker = new Worker(code, { eval: true, workerData: { range } });
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (exitCode) => {
        if (exitCode !== 0) reject(new Error(`worker exited with ${exitCode}`));
      });
    });
    let expected = 0;
    for (let i = 0; i < view.length; i++) expected = (expected * 33 + ((i * 31 + 7) & 0xff)) >>> 0;
    expect(reply).toEqual({ sum: expected, length: 5000, shared: true });
    expect(view[0]).toBe(0xee);
  });
});
