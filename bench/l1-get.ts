/**
 * L1 get-hit vs lru-cache `get` on the same keys and values (stat validation off), uniform and
 * Zipf-distributed keys, with benny. Also L1's bookkeeping bytes per entry beyond the content.
 */
import * as b from 'benny';
import { LRUCache } from 'lru-cache';
import { ContentCache } from '../engine/content/content-cache.js';
import type { Fingerprint } from '../engine/content/fingerprint.js';
import { prng } from './seeded-random.js';

export interface L1Figures {
  readonly keys: number;
  readonly uniform: { readonly strataOpsPerSec: number; readonly lruCacheOpsPerSec: number; readonly ratio: number };
  readonly zipf: { readonly strataOpsPerSec: number; readonly lruCacheOpsPerSec: number; readonly ratio: number };
  readonly bookkeepingBytesPerEntry: number | null;
  readonly bookkeepingShareOfBudget: number | null;
}

const KEYS = 10_000;
const GETS_PER_OP = 1_000;
const BUDGET = 75 * 1024 * 1024;


function accessSequence(keys: string[], zipf: boolean): string[] {
  const random = prng(zipf ? 7 : 11);
  const harmonic = keys.reduce((sum, _, i) => sum + 1 / (i + 1), 0);
  const cumulative: number[] = [];
  let acc = 0;
  for (let i = 0; i < keys.length; i++) cumulative.push((acc += 1 / (i + 1) / harmonic));
  return Array.from({ length: 200_000 }, () => {
    if (!zipf) return keys[Math.floor(random() * keys.length)]!;
    const r = random();
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < r) lo = mid + 1;
      else hi = mid;
    }
    return keys[lo]!;
  });
}

function fill(): { l1: ContentCache; lru: LRUCache<string, Buffer>; keys: string[] } {
  const l1 = new ContentCache({ budget: BUDGET, pressureThreshold: 0.8, aggressiveThreshold: 0.9 });
  const lru = new LRUCache<string, Buffer>({ max: KEYS * 2 });
  const keys: string[] = [];
  for (let i = 0; i < KEYS; i++) {
    const key = `packages/pkg-${i % 50}/src/module-${i}.ts`;
    const content = Buffer.from(`export const value${i} = ${i};\n`.repeat(40));
    const range = l1.reserve(content.length)!;
    new Uint8Array(range.buffer, range.offset, content.length).set(content);
    const fingerprint: Fingerprint = { dev: 1n, ino: BigInt(i), size: BigInt(content.length), mtimeNs: 0n, ctimeNs: 0n };
    l1.commit(key, range, content.length, BigInt(i), fingerprint, false);
    lru.set(key, content);
    keys.push(key);
  }
  return { l1, lru, keys };
}

async function compare(name: string, sequence: string[], l1: ContentCache, lru: LRUCache<string, Buffer>): Promise<{ strataOpsPerSec: number; lruCacheOpsPerSec: number; ratio: number }> {
  let cursor = 0;
  let sink = 0;
  const summary = await b.suite(
    `L1 get-hit vs lru-cache (${name})`,
    b.add('strata L1 get', () => {
      for (let i = 0; i < GETS_PER_OP; i++) {
        sink += l1.get(sequence[cursor]!)!.length;
        cursor = cursor + 1 === sequence.length ? 0 : cursor + 1;
      }
    }),
    b.add('lru-cache get', () => {
      for (let i = 0; i < GETS_PER_OP; i++) {
        sink += lru.get(sequence[cursor]!)!.length;
        cursor = cursor + 1 === sequence.length ? 0 : cursor + 1;
      }
    }),
    b.cycle(),
  );
  if (sink < 0) process.stdout.write(''); // keeps the loop's work observable
  const [strata, peer] = summary.results;
  const strataOpsPerSec = (strata?.ops ?? 0) * GETS_PER_OP;
  const lruCacheOpsPerSec = (peer?.ops ?? 0) * GETS_PER_OP;
  return { strataOpsPerSec, lruCacheOpsPerSec, ratio: strataOpsPerSec / lruCacheOpsPerSec };
}

/** Heap growth per entry while filling L1 (needs --expose-gc; SharedArrayBuffer bytes excluded). */
function bookkeeping(): number | null {
  const gc = global.gc;
  if (!gc) return null;
  gc();
  const before = process.memoryUsage().heapUsed;
  const { l1 } = fillL1Only();
  gc();
  const perEntry = (process.memoryUsage().heapUsed - before) / KEYS;
  if (l1.size !== KEYS) throw new Error('fill failed');
  return perEntry;
}

function fillL1Only(): { l1: ContentCache } {
  const l1 = new ContentCache({ budget: BUDGET, pressureThreshold: 0.8, aggressiveThreshold: 0.9 });
  for (let i = 0; i < KEYS; i++) {
    const length = 2000 + (i % 7) * 300;
    const range = l1.reserve(length)!;
    l1.commit(`packages/pkg-${i % 50}/src/module-${i}.ts`, range, length, BigInt(i), { dev: 1n, ino: BigInt(i), size: BigInt(length), mtimeNs: BigInt(i) * 1000n, ctimeNs: BigInt(i) * 1000n }, false);
  }
  return { l1 };
}

export async function runL1Benchmark(): Promise<L1Figures> {
  const perEntry = bookkeeping();
  const { l1, lru, keys } = fill();
  const uniform = await compare('uniform', accessSequence(keys, false), l1, lru);
  const zipf = await compare('zipf', accessSequence(keys, true), l1, lru);
  return {
    keys: KEYS,
    uniform,
    zipf,
    bookkeepingBytesPerEntry: perEntry,
    bookkeepingShareOfBudget: perEntry === null ? null : (perEntry * KEYS) / BUDGET,
  };
}
