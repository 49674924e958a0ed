/**
 * Micro benchmark: the L1 content allocator (shared/slab.ts) under allocate+free churn of
 * source-file-sized ranges, against the alternative it replaces (one SharedArrayBuffer per file).
 *
 * Design decision measured: file content in SharedArrayBuffer slabs carved by a segregated-fit
 * allocator, versus a SharedArrayBuffer per file. Both keep a live set at 70% of the development L1
 * budget (75 MiB) and replace one random file per operation (free one, allocate one), evicting at
 * random when the budget refuses an allocation. Same seeded size sequence for both.
 *
 * Run:   npx tsc -p tsconfig.json && node dist/bench/slab.js [--ops N]
 * Writes bench/results/slab.json (directory created when missing).
 *
 * Last recorded (2-core Linux VM shared with other builds, load average ~6, Node 20.20.2, 200,000 ops,
 * mean file 10.9 KB; absolute rates moved 2x between runs with the load, the ratio did not):
 *   slab allocator:        0.21-0.59 M alloc+free pairs/s
 *   SAB per file:          0.014-0.040 M pairs/s (a fresh zeroed SharedArrayBuffer per file: 15-20x slower)
 *   slab held / live:      1.20x at the end, worst 1.43x (sampled every 1,000 ops)
 *   fragmentation:         0.82 (1 - largest free extent / free bytes: the free 16% is spread over 18 slabs)
 *   bookkeeping:           99 B per live range packed; 245 B with a free extent between every two ranges
 * The last run's figures are in bench/results/slab.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { SlabAllocator } from '../shared/slab.js';
import type { SlabRange, SlabStats } from '../shared/slab-layout.js';
import { prng } from './seeded-random.js';

const KiB = 1024;
const MiB = 1024 * 1024;

/** The development profile's L1 content budget. */
const BUDGET_BYTES = 75 * MiB;
/** Live bytes kept during the churn: 70% of the budget (under the 0.8 pressure threshold). */
const OCCUPANCY = 0.7;
const DEFAULT_OPS = 200_000;
const SEED = 0x51ab;


function logUniform(random: () => number, min: number, max: number): number {
  return Math.floor(Math.exp(Math.log(min) + random() * (Math.log(max) - Math.log(min))));
}

/**
 * Source-file sizes: mostly a few KB, a tail to 1 MiB; mean ~11 KB, close to the ~10 KB mean of the
 * npm corpus in MEASUREMENTS.md.
 */
function sourceFileSize(random: () => number): number {
  const r = random();
  if (r < 0.86) return logUniform(random, 100, 16 * KiB);
  if (r < 0.995) return logUniform(random, 16 * KiB, 96 * KiB);
  return logUniform(random, 96 * KiB, 1 * MiB);
}

/** The two strategies behind one tiny interface, so one loop drives both. */
interface Strategy<H> {
  readonly name: string;
  allocate(length: number): H | null;
  free(handle: H): void;
  sizeOf(handle: H): number;
}

function slabStrategy(allocator: SlabAllocator): Strategy<SlabRange> {
  return {
    name: 'slab allocator',
    allocate: (length) => allocator.allocate(length),
    free: (range) => allocator.free(range),
    sizeOf: (range) => range.capacity,
  };
}

/** A SharedArrayBuffer per file, the budget counted by hand. */
function perFileStrategy(budget: number): Strategy<SharedArrayBuffer> {
  let used = 0;
  return {
    name: 'SharedArrayBuffer per file',
    allocate: (length) => {
      if (used + length > budget) return null;
      used += length;
      return new SharedArrayBuffer(length);
    },
    free: (buffer) => {
      used -= buffer.byteLength;
    },
    sizeOf: (buffer) => buffer.byteLength,
  };
}

interface ChurnResult {
  readonly strategy: string;
  readonly ops: number;
  readonly seconds: number;
  readonly pairsPerSecond: number;
  readonly evictions: number;
}

function churn<H>(strategy: Strategy<H>, sizes: Float64Array, ops: number, onSample?: () => void): ChurnResult {
  const random = prng(SEED + 1);
  const live: H[] = [];
  let liveBytes = 0;
  let next = 0;
  let evictions = 0;
  const target = OCCUPANCY * BUDGET_BYTES;
  const evictOne = (): void => {
    const index = Math.floor(random() * live.length);
    const handle = live[index] as H;
    liveBytes -= strategy.sizeOf(handle);
    strategy.free(handle);
    live[index] = live[live.length - 1] as H;
    live.pop();
  };
  const allocateOne = (): void => {
    const length = sizes[next++ % sizes.length] as number;
    let handle = strategy.allocate(length);
    while (handle === null) {
      evictions++;
      evictOne();
      handle = strategy.allocate(length);
    }
    live.push(handle);
    liveBytes += strategy.sizeOf(handle);
  };
  // Fill to the target occupancy (untimed), then replace one file per operation (timed).
  while (liveBytes < target) allocateOne();
  evictions = 0;
  const started = process.hrtime.bigint();
  for (let op = 0; op < ops; op++) {
    evictOne();
    allocateOne();
    while (liveBytes < target) allocateOne();
    if (onSample !== undefined && op % 1000 === 0) onSample();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { strategy: strategy.name, ops, seconds, pairsPerSecond: ops / seconds, evictions };
}

/** A callable `gc`, without requiring `--expose-gc` on the command line. */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

interface BookkeepingResult {
  readonly ranges: number;
  /** Heap bytes per live range, all ranges packed (no free extents). */
  readonly bytesPerRangePacked: number;
  /** Heap bytes per live range after freeing every other one: a free extent between every two. */
  readonly bytesPerRangeWorstFragmented: number;
}

/**
 * Heap bytes the allocator spends per live range: the frozen range object and its live-set entry,
 * plus free extents (object + two boundary-map entries) when ranges are separated by holes.
 */
function bookkeeping(gc: () => void): BookkeepingResult {
  const count = 100_000;
  const sizes = Array.from({ length: count }, (_, i) => 64 + ((i * 97) % 4000));
  const heap = (): number => {
    gc();
    gc();
    return process.memoryUsage().heapUsed;
  };

  // The caller's array of handles is allocated before the baseline, so it is not counted.
  const holder: unknown[] = new Array<unknown>(count).fill(null);
  const allocator = new SlabAllocator({ capacityBytes: 2048 * MiB });
  const base = heap();
  for (let i = 0; i < count; i++) holder[i] = allocator.allocate(sizes[i] as number);
  const packed = heap() - base;

  // Free every other range: each freed range becomes a free extent between two live ones.
  for (let i = 0; i < count; i += 2) allocator.free(holder[i] as SlabRange);
  for (let i = 0; i < count; i += 2) holder[i] = null;
  const fragmented = heap() - base;
  const liveRanges = allocator.stats().liveRanges;
  holder.length = 0;
  return {
    ranges: count,
    bytesPerRangePacked: Math.round(packed / count),
    bytesPerRangeWorstFragmented: Math.round(fragmented / liveRanges),
  };
}

interface SlabSteadyState {
  readonly heldOverLive: number;
  readonly stats: SlabStats;
  readonly worstHeldOverLive: number;
  readonly meanFragmentation: number;
}

function main(): void {
  const opsFlag = process.argv.indexOf('--ops');
  const ops = opsFlag >= 0 ? Number(process.argv[opsFlag + 1]) : DEFAULT_OPS;
  if (!Number.isSafeInteger(ops) || ops <= 0) throw new TypeError('--ops must be a positive integer');

  const random = prng(SEED);
  const sizes = new Float64Array(ops * 2 + 100_000);
  let totalSize = 0;
  for (let i = 0; i < sizes.length; i++) {
    const size = sourceFileSize(random);
    sizes[i] = size;
    totalSize += size;
  }

  const gc = exposeGc();

  // Warm-up pass for each strategy (JIT), then the measured pass.
  const allocator = new SlabAllocator({ capacityBytes: BUDGET_BYTES });
  churn(slabStrategy(new SlabAllocator({ capacityBytes: BUDGET_BYTES })), sizes, Math.min(ops, 20_000));
  gc();
  let worstHeldOverLive = 0;
  let fragmentationSum = 0;
  let samples = 0;
  const slab = churn(slabStrategy(allocator), sizes, ops, () => {
    const stats = allocator.stats();
    worstHeldOverLive = Math.max(worstHeldOverLive, stats.reservedBytes / stats.allocatedBytes);
    fragmentationSum += stats.fragmentation;
    samples++;
  });
  const finalStats = allocator.stats();
  const steady: SlabSteadyState = {
    heldOverLive: finalStats.reservedBytes / finalStats.allocatedBytes,
    stats: finalStats,
    worstHeldOverLive,
    meanFragmentation: fragmentationSum / samples,
  };

  gc();
  churn(perFileStrategy(BUDGET_BYTES), sizes, Math.min(ops, 20_000));
  gc();
  const perFile = churn(perFileStrategy(BUDGET_BYTES), sizes, ops);

  gc();
  const book = bookkeeping(gc);

  const result = {
    benchmark: 'slab',
    node: process.version,
    date: new Date().toISOString(),
    budgetBytes: BUDGET_BYTES,
    occupancy: OCCUPANCY,
    meanFileBytes: Math.round(totalSize / sizes.length),
    churn: [slab, perFile].map((r) => ({ ...r, seconds: Number(r.seconds.toFixed(3)), pairsPerSecond: Math.round(r.pairsPerSecond) })),
    slabSteadyState: {
      heldOverLive: Number(steady.heldOverLive.toFixed(3)),
      worstHeldOverLive: Number(steady.worstHeldOverLive.toFixed(3)),
      fragmentation: Number(steady.stats.fragmentation.toFixed(3)),
      meanFragmentation: Number(steady.meanFragmentation.toFixed(3)),
      stats: steady.stats,
    },
    bookkeeping: book,
  };

  const line = (label: string, value: string): void => console.log(`${label.padEnd(34)} ${value}`);
  console.log(`slab allocator micro benchmark: ${ops} ops, budget ${BUDGET_BYTES / MiB} MiB at ${OCCUPANCY * 100}% occupancy, mean file ${result.meanFileBytes} B`);
  for (const r of result.churn) line(`${r.strategy}:`, `${r.pairsPerSecond.toLocaleString('en-US')} alloc+free pairs/s (${r.seconds} s, ${r.evictions} evictions)`);
  line('slab held / live bytes:', `${result.slabSteadyState.heldOverLive}x at the end, worst ${result.slabSteadyState.worstHeldOverLive}x`);
  line('slab fragmentation:', `${result.slabSteadyState.fragmentation} at the end, mean ${result.slabSteadyState.meanFragmentation} (1 - largest free extent / free bytes)`);
  line('slab stats at the end:', JSON.stringify(steady.stats));
  line('bookkeeping per live range:', `${book.bytesPerRangePacked} B packed, ${book.bytesPerRangeWorstFragmented} B with a free extent between every two ranges`);

  const directory = resolve(__dirname, '..', '..', 'bench', 'results');
  mkdirSync(directory, { recursive: true });
  const file = join(directory, 'slab.json');
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${file}`);
}

main();
