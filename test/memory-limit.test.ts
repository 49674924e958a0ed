import { spawnSync } from 'node:child_process';
import { createEngine, type Engine } from '../engine/engine.js';
import {
  ADMIT_BELOW,
  DEGRADE_AT,
  MAX_WORKER_HEAP_BYTES,
  MIN_CACHE_BYTES,
  MIN_WORKER_HEAP_BYTES,
  MemoryGovernor,
  STOP_AT,
  WORKER_OVERHEAD_BYTES,
  parseCost,
  planMemory,
} from '../engine/memory/memory-governor.js';
import { MEBIBYTE } from '../engine/config/units.js';
import type { WarmReport } from '../engine/warming/warm-report.js';
import { CLI, makeTree, type TempTree } from './helpers/temp-tree.js';
import { filesAddUp } from './helpers/warm-report.js';

const profileBudgets = { contentBudget: 75 * MEBIBYTE, astBudget: 500 * MEBIBYTE };

describe('planMemory', () => {
  it('keeps the configured budgets and workers when the limit leaves room for them', () => {
    const plan = planMemory({ limitBytes: 8192 * MEBIBYTE, rssBytes: 60 * MEBIBYTE, workers: 4, ...profileBudgets });
    expect(plan.workers).toBe(4);
    expect(plan.contentBudget + plan.astBudget).toBeLessThanOrEqual(profileBudgets.contentBudget + profileBudgets.astBudget);
    expect(plan.contentBudget + plan.astBudget).toBeGreaterThan(500 * MEBIBYTE);
    expect(plan.workerHeapBytes).toBeLessThanOrEqual(MAX_WORKER_HEAP_BYTES);
    expect(plan.estimatedPeakBytes).toBeLessThanOrEqual(8192 * MEBIBYTE);
  });

  it('drops workers, then shrinks the caches, as the limit tightens, keeping their proportion', () => {
    const roomy = planMemory({ limitBytes: 1024 * MEBIBYTE, rssBytes: 60 * MEBIBYTE, workers: 4, ...profileBudgets });
    const tight = planMemory({ limitBytes: 400 * MEBIBYTE, rssBytes: 60 * MEBIBYTE, workers: 4, ...profileBudgets });
    expect(tight.workers).toBeLessThan(roomy.workers);
    expect(tight.workers).toBeGreaterThanOrEqual(1);
    expect(tight.contentBudget + tight.astBudget).toBeLessThan(roomy.contentBudget + roomy.astBudget);
    expect(tight.contentBudget / tight.astBudget).toBeCloseTo(75 / 500, 1);
    for (const plan of [roomy, tight]) {
      expect(plan.workerHeapBytes).toBeGreaterThanOrEqual(MIN_WORKER_HEAP_BYTES);
      expect(plan.estimatedPeakBytes).toBeLessThanOrEqual(plan === roomy ? 1024 * MEBIBYTE : 400 * MEBIBYTE);
    }
  });

  it('says when even one worker and the smallest caches cannot fit', () => {
    const plan = planMemory({ limitBytes: 100 * MEBIBYTE, rssBytes: 90 * MEBIBYTE, workers: 2, ...profileBudgets });
    expect(plan.workers).toBe(1);
    expect(plan.workerHeapBytes).toBe(MIN_WORKER_HEAP_BYTES);
    expect(plan.contentBudget + plan.astBudget).toBeLessThanOrEqual(MIN_CACHE_BYTES + MEBIBYTE);
    expect(plan.estimatedPeakBytes).toBeGreaterThan(100 * MEBIBYTE);
    expect(plan.estimatedPeakBytes).toBeGreaterThanOrEqual(90 * MEBIBYTE + WORKER_OVERHEAD_BYTES + MIN_WORKER_HEAP_BYTES);
  });
});

describe('MemoryGovernor', () => {
  const limit = 1000 * MEBIBYTE;

  it('lets a batch go alone, and holds it back while others run and it would pass the admission line', () => {
    let rss = 0.5 * limit;
    const governor = new MemoryGovernor(limit, () => rss);
    expect(governor.admit(MEBIBYTE, 0)).toBe('go');
    expect(governor.admit(MEBIBYTE, 3)).toBe('go');
    rss = limit * ADMIT_BELOW - parseCost(MEBIBYTE) + 1;
    expect(governor.admit(MEBIBYTE, 1)).toBe('wait');
    expect(governor.admit(MEBIBYTE, 0)).toBe('go');
  });

  it('degrades once above the degrade line, and stops only when degraded and above the stop line', () => {
    let rss = 0.5 * limit;
    const governor = new MemoryGovernor(limit, () => rss);
    expect(governor.check()).toBe('ok');
    rss = limit * STOP_AT + 1;
    expect(governor.check()).toBe('degrade');
    governor.markDegraded();
    expect(governor.check()).toBe('stop');
    rss = limit * DEGRADE_AT + 1;
    expect(governor.check()).toBe('ok');
    expect(governor.peakBytes).toBe(limit * STOP_AT + 1);
  });
});

describe('memory-aware warming (real pool)', () => {
  let tree: TempTree;
  let engine: Engine | undefined;
  beforeAll(() => {
    tree = makeTree();
    for (let i = 0; i < 400; i++) tree.write(`gen/file-${i}.ts`, `export const v${i} = [${'1, '.repeat(400)}];\n`);
    // Two large files: parsed alone, after the rest.
    for (let i = 0; i < 2; i++) tree.write(`big/large-${i}.ts`, `export const big${i} = [\n${'  { a: 1, b: "two", c: [3] },\n'.repeat(24_000)}];\n`);
  });
  afterEach(async () => {
    await engine?.close();
    engine = undefined;
  });
  afterAll(() => tree.remove());

  it('finishes under a limit with room, within the budgets it planned, large files included', async () => {
    const limit = process.memoryUsage.rss() + 900 * MEBIBYTE;
    engine = createEngine({ root: tree.root, workers: 2, persist: false, memoryLimit: limit }, { env: {}, readConfigFile: false });
    const report = await engine.warm();
    expect(report.stoppedBy).toBeNull();
    expect(report.failed).toEqual([]);
    expect(report.parsed + report.fromMemory).toBe(402);
    expect(report.peakRssBytes).toBeLessThan(limit);
    expect(engine.stats().pool.workers).toBeGreaterThanOrEqual(1);
  });

  it('stops mid-warm when the limit is reached, says so, and keeps the counts whole', async () => {
    // Barely above what the process holds now: the first worker's parser alone passes it.
    const limit = process.memoryUsage.rss() + 24 * MEBIBYTE;
    engine = createEngine({ root: tree.root, workers: 2, persist: false, memoryLimit: limit }, { env: {}, readConfigFile: false });
    const report = await engine.warm();
    expect(report.stoppedBy).toBe('memory-limit');
    expect(report.remaining).toBeGreaterThan(0);
    expect(filesAddUp(report)).toBe(true);
    // The walk ends where the warm stopped: files found later are not counted as remaining.
    expect(report.files).toBeLessThan(402);
    expect(report.files + report.remaining).toBeLessThanOrEqual(402);
    // Degraded on the way: one worker, caches within their shrunk budgets.
    expect(engine.stats().pool.workers).toBe(1);
    expect(report.levels.content.bytes).toBeLessThanOrEqual(engine.stats().content.budget);
  });

  it('strata warm --memory-limit reports stoppedBy and the process peak, exiting 0', () => {
    const result = spawnSync(process.execPath, [CLI, 'warm', tree.root, '--json', '--no-persist', '--memory-limit', '64'], { encoding: 'utf8', env: { PATH: process.env.PATH }, timeout: 60_000 });
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout) as WarmReport & { processMaxRssBytes: number };
    expect(report.stoppedBy).toBe('memory-limit');
    expect(report.workers).toBe(1);
    expect(report.files).toBeLessThan(402);
    expect(report.processMaxRssBytes).toBeGreaterThanOrEqual(report.peakRssBytes);
  });
});
