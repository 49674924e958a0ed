import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Engine, EngineOptions } from '../engine/engine.js';
import type { WarmReport } from '../engine/warming/warm-report.js';
import { RACY_WINDOW_NS } from '../engine/content/fingerprint.js';
import { CLI, makeTree, type TempTree } from './helpers/temp-tree.js';
import { envCount, recordReliability } from '../bench/reliability-counts.js';
import { prng } from '../bench/seeded-random.js';
import { sleep } from './helpers/sleep.js';
import { OpenEngines } from './helpers/engines.js';

/** Processes killed mid-warm: a handful in `npm test`, hundreds in the soak (STRATA_SOAK_KILLS). */
const KILLS = envCount('STRATA_SOAK_KILLS', 4);

const SOURCES = {
  'src/a.ts': "import { b } from './b';\nexport const a = b + 1;\n",
  'src/b.ts': 'export const b = 2;\n',
  'src/c.tsx': 'export const C = () => <p>{1}</p>;\n',
  'src/d.js': "module.exports = require('./e.cjs');\n",
  'src/e.cjs': 'module.exports = 5;\n',
};


function cacheDirOf(root: string): string {
  return path.join(root, 'node_modules', '.cache', 'strata');
}

function packFiles(root: string): string[] {
  const dir = path.join(cacheDirOf(root), 'packs');
  return fs.readdirSync(dir).filter((name) => name.endsWith('.pack')).map((name) => path.join(dir, name));
}

describe('L2 persistence', () => {
  let tree: TempTree;
  const engines = new OpenEngines();
  const open = (options: EngineOptions = {}, root = tree.root): Engine => engines.open({ root, workers: 1, ...options });
  const warmOnce = async (options: EngineOptions = {}, root = tree.root): Promise<WarmReport> => {
    const engine = open(options, root);
    const report = await engine.warm();
    await engine.close();
    return report;
  };

  beforeEach(() => {
    tree = makeTree(SOURCES);
  });
  afterEach(async () => {
    await engines.closeAll();
    tree.remove();
  });

  it('answers a second warm in a new engine from disk, parsing nothing', async () => {
    const first = await warmOnce();
    expect(first).toMatchObject({ parsed: 5, fromDisk: 0 });
    expect(first.diskBytes).toBeGreaterThan(0);
    const second = await warmOnce();
    expect(second).toMatchObject({ files: 5, parsed: 0, fromDisk: 5, fromCache: 5 });
  });

  it('indexes files with identical content in the run that parsed one of them', async () => {
    // Same text, so one AST key: the copy is answered from memory while b's entry is still pending.
    tree.write('src/copy-of-b.ts', SOURCES['src/b.ts']);
    // A file changed within RACY_WINDOW_NS of its stat is re-read on purpose: let the window pass.
    await sleep(Number(RACY_WINDOW_NS / 1_000_000n) + 100);
    const engine = open();
    await engine.ast('src/b.ts');
    expect(await engine.warm()).toMatchObject({ files: 6, parsed: 4, fromMemory: 2 });
    await engine.close();
    const second = await warmOnce();
    // Every file answered by its index record: no file read, no content hashed, nothing re-indexed.
    expect(second).toMatchObject({ files: 6, parsed: 0, fromDisk: 6 });
    expect(second.levels.content.misses).toBe(0);
  });

  it('loads an AST from disk that equals a fresh parse', async () => {
    await warmOnce();
    const fromDisk = open();
    const stored = await fromDisk.ast('src/a.ts');
    expect(fromDisk.stats().disk.counters?.loaded).toBe(1);
    expect(fromDisk.stats().pool.started).toBe(false);
    const fresh = await open({ persist: false }).ast('src/a.ts');
    expect(Buffer.from(stored.ast.bytes)).toEqual(Buffer.from(fresh.ast.bytes));
    expect(stored.imports).toEqual(fresh.imports);
  });

  it('re-parses what changed between runs and forgets deleted files', async () => {
    await warmOnce();
    fs.writeFileSync(path.join(tree.root, 'src/b.ts'), "import './a';\nexport const b = 3;\n");
    fs.unlinkSync(path.join(tree.root, 'src/e.cjs'));
    fs.renameSync(path.join(tree.root, 'src/c.tsx'), path.join(tree.root, 'src/renamed.tsx'));
    const second = await warmOnce();
    expect(second.files).toBe(4);
    expect(second.parsed).toBe(1); // b.ts; the renamed file has a stored entry for its content
    expect(second.fromDisk).toBe(3);
    const engine = open();
    expect((await engine.ast('src/b.ts')).imports).toEqual([{ specifier: './a', kind: 'import', typeOnly: false }]);
    await expect(engine.ast('src/e.cjs')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('reuses a cache restored next to a fresh copy of the tree (new path, new mtimes)', async () => {
    await warmOnce();
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-clone-'));
    try {
      fs.cpSync(tree.root, copy, { recursive: true, preserveTimestamps: false });
      const later = new Date(Date.now() + 60_000);
      for (const name of Object.keys(SOURCES)) fs.utimesSync(path.join(copy, name), later, later);
      const report = await warmOnce({}, copy);
      expect(report).toMatchObject({ files: 5, parsed: 0, fromDisk: 5 });
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });

  it('detects a corrupt entry, never serves it, and rebuilds it', async () => {
    await warmOnce();
    for (const pack of packFiles(tree.root)) {
      const bytes = fs.readFileSync(pack);
      for (let i = 64; i < bytes.length - 64; i += 97) bytes[i] = bytes[i]! ^ 0x5a;
      fs.writeFileSync(pack, bytes);
    }
    const engine = open();
    const result = await engine.ast('src/a.ts');
    expect(result.imports).toEqual([{ specifier: './b', kind: 'import', typeOnly: false }]);
    expect(engine.stats().disk.counters?.corruptEntries).toBeGreaterThan(0);
    expect(engine.stats().pool.started).toBe(true); // rebuilt by parsing
    await engine.close();
    const again = open();
    await again.ast('src/a.ts');
    expect(again.stats().disk.counters?.loaded).toBe(1); // the rebuilt entry is on disk now
  });

  it('writes nothing with persist off', async () => {
    const report = await warmOnce({ persist: false });
    expect(report.diskBytes).toBe(0);
    expect(fs.existsSync(cacheDirOf(tree.root))).toBe(false);
  });

  it('runs in memory with a warning when the cache directory is unusable', async () => {
    const blocker = path.join(tree.root, 'not-a-dir');
    fs.writeFileSync(blocker, 'x');
    const report = await warmOnce({ cacheDir: path.join(blocker, 'cache') });
    expect(report.parsed).toBe(5);
    expect(report.warnings.some((warning) => warning.message.includes('running in memory'))).toBe(true);
  });

  it(`survives kill -9 in the middle of warming and persisting (${KILLS} kills)`, async () => {
    const random = prng(0xdead);
    const sourceOf = (i: number, version: number): string => `export const v${i} = [${'1, '.repeat(400)}${version}];\n`;
    const versions = Array.from({ length: 80 }, () => 0);
    for (let i = 0; i < 80; i++) tree.write(`gen/f${i}.ts`, sourceOf(i, 0));
    let checks = 0;
    for (let kill = 0; kill < KILLS; kill++) {
      // Some edits first, so that every warm has parsing and persisting to do when it is killed.
      for (let edit = 0; edit < 10; edit++) {
        const i = Math.floor(random() * 80);
        tree.write(`gen/f${i}.ts`, sourceOf(i, ++versions[i]!));
      }
      const child = spawn(process.execPath, [CLI, 'warm', tree.root, '--json', '--workers', '1'], { stdio: 'ignore' });
      const exited = new Promise((resolve) => child.on('exit', resolve));
      await sleep(100 + Math.floor(random() * 1000));
      child.kill('SIGKILL');
      await exited;
      // No entry that reads as valid but is not: the index loads and every record it holds verifies.
      const check = open({ executor: 'in-thread' });
      const findings = check.validate().findings.filter((finding) => finding.level === 'ast');
      expect(findings).toEqual([]);
      expect(check.stats().disk.counters).toMatchObject({ corruptEntries: 0, corruptIndexes: 0 });
      const i = Math.floor(random() * 80);
      expect((await check.ast(`gen/f${i}.ts`)).text).toBe(sourceOf(i, versions[i]!));
      await check.close();
      checks += 2;
    }
    const after = spawnSync(process.execPath, [CLI, 'warm', tree.root, '--json', '--workers', '1'], { encoding: 'utf8' });
    expect(after.status).toBe(0);
    const report = JSON.parse(after.stdout) as WarmReport;
    expect(report.files).toBe(85);
    expect(report.failed).toEqual([]);
    const engine = open();
    for (let i = 0; i < 80; i += 7) {
      const result = await engine.ast(`gen/f${i}.ts`);
      expect(result.text).toBe(sourceOf(i, versions[i]!));
      expect(result.ast.end(0)).toBe(result.text.length);
    }
    expect(engine.stats().disk.counters?.corruptEntries).toBe(0);
    recordReliability('crash: kill -9 of strata warm', { crashes: KILLS, operations: checks + 1 + 12, wrongAnswers: 0, missingFiles: 85 - report.files });
  }, 120_000 + KILLS * 5_000);
});

describe('strata clear', () => {
  it('empties a marked cache directory and refuses one without the marker', async () => {
    const tree = makeTree(SOURCES);
    try {
      const warm = spawnSync(process.execPath, [CLI, 'warm', tree.root, '--json'], { encoding: 'utf8' });
      expect(warm.status).toBe(0);
      const cleared = spawnSync(process.execPath, [CLI, 'clear', tree.root, '--json'], { encoding: 'utf8' });
      expect(cleared.status).toBe(0);
      expect(JSON.parse(cleared.stdout)).toMatchObject({ cleared: true });
      const unmarked = path.join(tree.root, 'plain');
      fs.mkdirSync(unmarked);
      fs.writeFileSync(path.join(unmarked, 'keep.txt'), 'keep');
      const refused = spawnSync(process.execPath, [CLI, 'clear', tree.root, '--cache-dir', unmarked], { encoding: 'utf8' });
      expect(refused.status).toBe(2);
      expect(refused.stderr).toContain('cacheDir');
      expect(fs.existsSync(path.join(unmarked, 'keep.txt'))).toBe(true);
      const root = spawnSync(process.execPath, [CLI, 'clear', tree.root, '--cache-dir', tree.root], { encoding: 'utf8' });
      expect(root.status).toBe(2);
      expect(fs.existsSync(path.join(tree.root, 'src/a.ts'))).toBe(true);
    } finally {
      tree.remove();
    }
  });
});
