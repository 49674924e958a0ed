import * as fs from 'node:fs';
import * as path from 'node:path';
import { createEngine } from '../engine/engine.js';
import { diagnose } from '../engine/ops/diagnostics.js';
import { emptyLevel } from '../engine/level-counters.js';
import { resolveOptions } from '../engine/config/options.js';
import { runStrata, strataJson } from './helpers/cli.js';
import { makeTree, type TempTree } from './helpers/temp-tree.js';
import { isolated } from './helpers/engines.js';
import { flipPackBytes } from './helpers/pack-files.js';

const SOURCES = { 'a.ts': "import { b } from './b';\nexport const a = b;\n", 'b.ts': 'export const b = 2;\n', 'c.ts': 'export const c = 3;\n' };

async function persistedWarm(root: string): Promise<void> {
  const engine = createEngine({ root, executor: 'in-thread' }, isolated);
  await engine.warm();
  await engine.close();
}

describe('strata stats (CLI)', () => {
  let tree: TempTree;
  beforeEach(() => {
    tree = makeTree(SOURCES);
  });
  afterEach(() => tree.remove());

  it('says there is no cache directory, with cacheDir null, and exits 0', () => {
    const answer = strataJson(['stats', tree.root], tree.root);
    expect(answer).toMatchObject({ schemaVersion: 1, root: tree.root, cacheDir: null, lastRun: null });
    expect(answer.message).toMatch(/no cache directory/);
    expect(fs.existsSync(path.join(tree.root, 'node_modules'))).toBe(false); // created nothing
  });

  it("reads entries and bytes per level and the last run's counters in a fresh process", async () => {
    await persistedWarm(tree.root);
    const answer = strataJson(['stats', '--root', tree.root], tree.root);
    expect(answer.cacheDir).toBe(path.join(tree.root, 'node_modules/.cache/strata'));
    expect(answer.levels.ast.entries).toBe(3);
    expect(answer.levels.ast.bytes).toBeGreaterThan(0);
    expect(answer.levels.content).toEqual({ entries: null, bytes: null });
    expect(answer.disk.index).toEqual({ bytes: expect.any(Number), indexedFiles: 3 });
    expect(answer.disk.bytes).toBeGreaterThanOrEqual(answer.disk.packs.bytes + answer.disk.indexes.bytes);
    expect(answer.lastRun).toMatchObject({ files: 3, parsed: 3, fromCache: 0, durationMs: expect.any(Number), savedAt: expect.any(String) });
    expect(Object.keys(answer.lastRun.levels).sort()).toEqual(['ast', 'content', 'results', 'streams']);
    expect(answer.metrics.levels.ast.misses).toBe(answer.lastRun.levels.ast.misses);
    expect(answer.alerts).toEqual([]); // 3 accesses: too few to judge a hit rate
  });

  it('prints a readable table without --json', async () => {
    await persistedWarm(tree.root);
    const { status, stdout } = runStrata(['stats', tree.root], { cwd: tree.root });
    expect(status).toBe(0);
    expect(stdout).toMatch(/level\s+entries\s+bytes/);
    expect(stdout).toMatch(/^\s+ast\s+3\s/m);
    expect(stdout).toMatch(/last run .*: 3 files/);
  });
});

describe('strata doctor (CLI)', () => {
  let tree: TempTree;
  beforeEach(() => {
    tree = makeTree(SOURCES);
  });
  afterEach(() => tree.remove());

  it('finds nothing wrong on a consistent cache, and --strict exits 0', async () => {
    await persistedWarm(tree.root);
    const answer = strataJson(['doctor', tree.root, '--strict'], tree.root);
    expect(answer).toMatchObject({ schemaVersion: 1, root: tree.root, problems: 0, repaired: 0, alerts: [] });
    expect(answer.findings.filter((finding: { severity: string }) => finding.severity === 'problem')).toEqual([]);
    // After a single cold warm: no budget advice (each file was read once), and it says why.
    expect(answer.recommendations).toEqual([]);
    expect(answer.hitRates.note).toMatch(/^too little history to judge: content \(\d+ accesses, 0 of them could have hit\)/);
  });

  it('finds a planted inconsistency, exits 0 without --strict and 1 with it', async () => {
    await persistedWarm(tree.root);
    fs.unlinkSync(path.join(tree.root, 'c.ts'));
    flipPackBytes(tree.root);
    const answer = strataJson(['doctor', tree.root], tree.root);
    expect(answer.findings).toEqual(expect.arrayContaining([expect.objectContaining({ category: 'consistency', level: 'ast', path: 'c.ts', problem: 'deleted-file', repaired: false })]));
    expect(answer.findings.filter((finding: { problem: string }) => finding.problem === 'corrupt-entry')).toHaveLength(1);
    expect(answer.problems).toBe(2);
    expect(answer.recommendations.join('\n')).toMatch(/--repair/);
    expect(runStrata(['doctor', tree.root, '--strict'], { cwd: tree.root }).status).toBe(1);
  });

  it('repairs the inconsistency with --repair, after which the cache is consistent', async () => {
    await persistedWarm(tree.root);
    fs.unlinkSync(path.join(tree.root, 'c.ts'));
    const repaired = strataJson(['doctor', tree.root, '--repair', '--strict'], tree.root);
    expect(repaired).toMatchObject({ repaired: 1, problems: 0 });
    expect(repaired.findings).toEqual([expect.objectContaining({ path: 'c.ts', problem: 'deleted-file', repaired: true })]);
    expect(strataJson(['doctor', tree.root, '--strict'], tree.root)).toMatchObject({ problems: 0, findings: [] });
  });

  it('prints findings and recommendations for a person without --json', async () => {
    await persistedWarm(tree.root);
    fs.unlinkSync(path.join(tree.root, 'c.ts'));
    const { status, stdout } = runStrata(['doctor', tree.root], { cwd: tree.root });
    expect(status).toBe(0);
    expect(stdout).toMatch(/1 problem/);
    expect(stdout).toMatch(/problem: ast: c\.ts: deleted-file/);
  });
});

describe('diagnose', () => {
  const options = { ...resolveOptions({ root: '/r' }, isolated), contentBudget: 1000, astBudget: 1000 };
  const stats = (content: Partial<ReturnType<typeof emptyLevel>>, ast: Partial<ReturnType<typeof emptyLevel>> = {}) =>
    ({
      schemaVersion: 1,
      root: '/r',
      profile: 'development',
      revision: 0,
      levels: { content: { ...emptyLevel(), ...content }, ast: { ...emptyLevel(), ...ast }, results: emptyLevel(), streams: emptyLevel() },
      content: { budget: 1000, reservedBytes: 0, fragmentation: 0, restamps: 0 },
      ast: { budget: 1000 },
      graph: { nodes: 0, maxNodes: 1 },
      pool: { workers: 1, tasks: 0, busyMs: 0, retriedFiles: 0, started: false },
      disk: { dir: null, bytes: 0, indexedFiles: 0, counters: null },
    }) as Parameters<typeof diagnose>[0]['stats'];
  const clean = { schemaVersion: 1, root: '/r', findings: [], repaired: 0 };

  it('flags caches over half of the process RSS, and the file cache over its budget', () => {
    const report = diagnose({ root: '/r', stats: stats({ bytes: 1200, hits: 1 }, { bytes: 100 }), options, validation: clean, rssBytes: 2000 });
    expect(report.findings.map((finding) => finding.problem)).toEqual(['caches-over-half-rss', 'content-over-budget']);
    expect(report.recommendations.join('\n')).toMatch(/more than half/);
    expect(diagnose({ root: '/r', stats: stats({ bytes: 500 }), options, validation: clean, rssBytes: 10_000 }).findings).toEqual([]);
  });

  it('suggests how to raise a low hit rate, from the last run when this process has no accesses, over the accesses that could have hit', () => {
    // 40 files, 100 accesses: 60 repeated reads, 42 of them hits; 18 repeats missed after 30 evictions.
    const lastRunLevels = { content: { ...emptyLevel(), hits: 42, misses: 58, evictions: 30 }, ast: emptyLevel(), results: emptyLevel(), streams: emptyLevel() };
    const report = diagnose({ root: '/r', stats: stats({}), options, validation: clean, rssBytes: 1e9, lastRunLevels, lastRunFiles: { files: 40, fromDisk: 0 } });
    expect(report.hitRates.source).toBe('last-run');
    expect(report.hitRates.judged?.content).toEqual({ couldHaveHit: 60, hitRate: 0.7 });
    expect(report.recommendations).toContain('content hit rate 0.70 < 0.8 over 60 accesses that could have hit: raise contentBudget or warm first');
    expect(report.problems).toBe(0); // advice, not a problem
  });

  it('gives no budget advice after a cold warm or a warm restart, and says there is too little history', () => {
    // A warm of 500 files: each read once, every read a miss of the fresh process; the restart took them from disk.
    const cold = { hits: 0, misses: 500, evictions: 120 };
    const lastRunLevels = { content: { ...emptyLevel(), ...cold }, ast: { ...emptyLevel(), ...cold }, results: emptyLevel(), streams: emptyLevel() };
    const report = diagnose({ root: '/r', stats: stats({}), options, validation: clean, rssBytes: 1e9, lastRunLevels, lastRunFiles: { files: 500, fromDisk: 500 } });
    expect(report.recommendations).toEqual([]);
    expect(report.findings).toEqual([]);
    expect(report.hitRates.note).toMatch(/content \(500 accesses, 0 of them could have hit\), ast \(500 accesses, 0 of them could have hit\).*500 of its 500 files' ASTs from the disk store/);
    // Live counters with misses but no evictions: every miss was a first read (or after an edit).
    const live = diagnose({ root: '/r', stats: stats({ hits: 5, misses: 400 }), options, validation: clean, rssBytes: 1e9 });
    expect(live.hitRates.judged?.content).toEqual({ couldHaveHit: 5, hitRate: 1 });
    expect(live.recommendations).toEqual([]);
  });

  it('counts alerts firing on the live counters as problems', () => {
    const report = diagnose({ root: '/r', stats: stats({ hits: 10, misses: 90 }), options, validation: clean, rssBytes: 1e9 });
    expect(report.alerts).toEqual([expect.objectContaining({ level: 'content', metric: 'hit-rate' })]);
    expect(report.problems).toBe(1);
  });
});
