import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateMonorepo } from '../bench/corpus.js';
import { runSuite, SUITE_SCHEMA_VERSION, type SuiteReport } from '../bench/suite.js';

/** A hash of every path and its content under `root`, in sorted order. */
function treeHash(root: string): string {
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const full = path.join(dir, entry.name);
      const relative = path.relative(root, full).split(path.sep).join('/');
      if (entry.isDirectory()) {
        hash.update(`d:${relative}\0`);
        walk(full);
      } else {
        hash.update(`f:${relative}\0`);
        hash.update(fs.readFileSync(full));
        hash.update('\0');
      }
    }
  };
  walk(root);
  return hash.digest('hex');
}

describe('bench corpus generator', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-corpus-test-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('generates an identical tree for the same seed and a different one for another seed', () => {
    const a = generateMonorepo(path.join(dir, 'a'), { files: 150, seed: 1234 });
    const b = generateMonorepo(path.join(dir, 'b'), { files: 150, seed: 1234 });
    const c = generateMonorepo(path.join(dir, 'c'), { files: 150, seed: 4321 });
    expect(treeHash(a)).toBe(treeHash(b));
    expect(treeHash(a)).not.toBe(treeHash(c));
  });
});

describe('benchmark suite (runSuite)', () => {
  let dir: string;
  let report: SuiteReport;
  const progress: string[] = [];
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-suite-test-'));
    const corpus = generateMonorepo(path.join(dir, 'corpus'), { files: 60, seed: 7 });
    report = await runSuite({ corpus, quick: true, json: true, out: path.join(dir, 'suite.json'), repetitions: 1, progress: (line) => progress.push(line) });
  }, 150_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('completes a --quick run on a tiny corpus and writes its JSON', () => {
    const written = JSON.parse(fs.readFileSync(path.join(dir, 'suite.json'), 'utf8')) as SuiteReport;
    expect(written.schemaVersion).toBe(SUITE_SCHEMA_VERSION);
    expect(written.quick).toBe(true);
    expect(written.corpus).toMatchObject({ path: path.join(dir, 'corpus'), files: 60 });
    expect(written.corpus.bytes).toBeGreaterThan(0);
    expect(written.machine.cpus).toBeGreaterThan(0);
    expect(typeof written.machine.model).toBe('string');
    expect(written.machine.totalMemory).toBeGreaterThan(0);
    expect(written.machine.node).toBe(process.version);
    expect(written.summary.length).toBeGreaterThan(0);
    expect(written.scenarios).toEqual(report.scenarios);
  });

  it('gives every scenario the documented fields: numbers, or null with a note saying why', () => {
    const names = report.scenarios.map((s) => s.name);
    for (const prefix of ['ceiling: cold warm vs min', 'ceiling: --workers 1', 'ceiling: machine scaling', 'cold start vs sequential', 'cold start vs jest-haste-map', 'warm restart vs jest-haste-map', 'warm restart vs file-entry-cache', 'warm cache', 'persistence', 'memory pressure', 'concurrency: 1 worker', 'concurrency: 4 callers', 'change: one edit', 'change: watcher']) {
      expect(names.some((name) => name.startsWith(prefix))).toBe(true);
    }
    for (const s of report.scenarios) {
      expect(Object.keys(s).sort()).toEqual(['name', 'note', 'peer', 'ratio', 'runs', 'spread', 'strata', 'unit']);
      expect(typeof s.unit).toBe('string');
      expect(s.note.length).toBeGreaterThan(0);
      for (const value of [s.strata, s.peer, s.ratio]) expect(value === null || (typeof value === 'number' && Number.isFinite(value))).toBe(true);
      if (s.strata === null) expect(s.note).toMatch(/not run/);
    }
    // With --quick the watcher is skipped by design; everything else runs on this corpus.
    const missing = report.scenarios.filter((s) => s.strata === null).map((s) => `${s.name}: ${s.note}`);
    expect(missing).toEqual([expect.stringMatching(/^change: watcher/)]);
    const warming = report.scenarios.find((s) => s.name === 'warming: trace hit rate, dependency-warmed vs cold');
    expect(warming?.strata).toBeGreaterThan(warming?.peer ?? 1); // warmed hit rate above cold
    const predictive = report.scenarios.find((s) => s.name === 'warming: trace hit rate, predictive vs cold');
    expect(predictive?.strata).toBeGreaterThan((predictive?.peer ?? 100) + 30); // learned warm far above cold
    const cold = report.scenarios.find((s) => s.name === 'cold start vs jest-haste-map');
    expect(cold?.note).toMatch(/regex and parses nothing/);
  });
});
