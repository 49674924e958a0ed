import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { ContentCache } from '../engine/content/content-cache.js';
import type { Fingerprint } from '../engine/content/fingerprint.js';
import { prng } from '../bench/seeded-random.js';

const KiB = 1024;
const FINGERPRINT: Fingerprint = { dev: 1n, ino: 1n, size: 0n, mtimeNs: 0n, ctimeNs: 0n };

function store(cache: ContentCache, path: string, length: number, fill = 1): boolean {
  const range = cache.reserve(length);
  if (range === null) return false;
  new Uint8Array(range.buffer, range.offset, length).fill(fill);
  cache.commit(path, range, length, BigInt(fill), FINGERPRINT, false);
  return true;
}

function makeCache(budget = 64 * KiB, pressure = 0.8, aggressive = 0.9): ContentCache {
  return new ContentCache({ budget, pressureThreshold: pressure, aggressiveThreshold: aggressive, slabSize: 16 * KiB });
}

describe('ContentCache', () => {
  it('evicts least recently used entries first', () => {
    const cache = makeCache();
    for (const name of ['a', 'b', 'c', 'd']) store(cache, name, 8 * KiB);
    cache.get('a'); // a becomes most recent: b is now the oldest
    store(cache, 'e', 8 * KiB);
    store(cache, 'f', 8 * KiB);
    store(cache, 'g', 8 * KiB); // 7 × 8 KiB = 56 KiB > 0.8 × 64 KiB: the oldest go
    expect(cache.has('b')).toBe(false);
    expect(cache.has('a')).toBe(true);
    expect(cache.pathsByRecency().at(-1)).toBe('g');
    expect(cache.snapshot().evictions).toBeGreaterThan(0);
  });

  it('never passes its budget, whatever the sizes stored', () => {
    const budget = 256 * KiB;
    const cache = makeCache(budget);
    const random = prng(7);
    for (let i = 0; i < 3000; i++) {
      const size = Math.floor(random() ** 3 * 40 * KiB);
      store(cache, `f${i % 500}`, size, i % 250);
      if (i % 7 === 0) cache.get(`f${Math.floor(random() * 500)}`);
      expect(cache.usedBytes).toBeLessThanOrEqual(budget);
      expect(cache.reservedBytes).toBeLessThanOrEqual(budget);
    }
  });

  it('stays below the pressure threshold after storing', () => {
    const budget = 100 * KiB;
    const cache = makeCache(budget, 0.6, 0.75);
    for (let i = 0; i < 40; i++) {
      store(cache, `f${i}`, 5 * KiB);
      expect(cache.usedBytes).toBeLessThanOrEqual(0.6 * budget);
    }
  });

  it('refuses to grow past the aggressive threshold while pinned entries hold it there', () => {
    const budget = 100 * KiB;
    const cache = makeCache(budget, 0.5, 0.7);
    const pinned = [];
    for (let i = 0; i < 6; i++) {
      store(cache, `p${i}`, 10 * KiB);
      const entry = cache.peek(`p${i}`)!;
      cache.pin(entry);
      pinned.push(entry);
    }
    expect(cache.usedBytes).toBeGreaterThan(0.5 * budget);
    expect(store(cache, 'more', 15 * KiB)).toBe(false); // 60 + 15 > 70 KiB: refused, nothing evictable
    expect(store(cache, 'small', 5 * KiB)).toBe(true); // 65 KiB ≤ 70 KiB: still fits
    for (const entry of pinned) cache.unpin(entry);
    expect(store(cache, 'more', 15 * KiB)).toBe(true);
    expect(cache.usedBytes).toBeLessThanOrEqual(0.5 * budget);
  });

  it('never reuses a pinned range, even after the entry is evicted or deleted', () => {
    const cache = makeCache(64 * KiB);
    store(cache, 'kept', 8 * KiB, 42);
    const entry = cache.peek('kept')!;
    cache.pin(entry);
    const view = cache.view(entry);
    cache.delete('kept');
    expect(cache.has('kept')).toBe(false);
    for (let i = 0; i < 50; i++) store(cache, `churn${i}`, 8 * KiB, 7);
    expect(view.every((byte) => byte === 42)).toBe(true);
    const usedWhilePinned = cache.usedBytes;
    cache.unpin(entry);
    expect(cache.usedBytes).toBe(usedWhilePinned - entry.range.capacity);
  });

  it('counts hits and misses', () => {
    const cache = makeCache();
    store(cache, 'a', 100);
    cache.get('a');
    cache.get('a');
    cache.get('nope');
    expect(cache.snapshot()).toMatchObject({ hits: 2, misses: 1, entries: 1 });
  });

  it('evicts down to a lowered budget', () => {
    const cache = makeCache(128 * KiB);
    for (let i = 0; i < 10; i++) store(cache, `f${i}`, 8 * KiB);
    cache.setBudget(32 * KiB);
    expect(cache.usedBytes).toBeLessThanOrEqual(0.8 * 32 * KiB);
    expect(cache.has('f9')).toBe(true);
  });

  it('keeps bookkeeping under 10% of the budget at 10,000 entries', () => {
    // Measured in a child with --expose-gc, so garbage from the fill loop is not counted.
    const script = `
      const { ContentCache } = require(${JSON.stringify(path.join(__dirname, '..', 'engine', 'content', 'content-cache.js'))});
      const budget = 75 * 1024 * 1024;
      gc();
      const before = process.memoryUsage().heapUsed;
      const cache = new ContentCache({ budget, pressureThreshold: 0.8, aggressiveThreshold: 0.9 });
      for (let i = 0; i < 10000; i++) {
        const range = cache.reserve(4096);
        const fp = { dev: 1n, ino: BigInt(i), size: 4096n, mtimeNs: BigInt(i) * 1000n, ctimeNs: BigInt(i) * 1000n };
        cache.commit('packages/pkg-' + (i % 100) + '/src/module-' + i + '.ts', range, 4096, BigInt(i), fp, false);
      }
      gc();
      process.stdout.write(JSON.stringify({ size: cache.size, bytes: process.memoryUsage().heapUsed - before, budget }));
    `;
    const result = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' });
    const { size, bytes, budget } = JSON.parse(result.stdout) as { size: number; bytes: number; budget: number };
    expect(size).toBe(10_000);
    // heapUsed excludes SharedArrayBuffer contents: this is the index, entries and slab metadata.
    expect(bytes).toBeLessThan(0.1 * budget);
  });
});
