import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createEngine, type Engine, type EngineOptions } from '../engine/engine.js';
import type { EntryWarmSource } from '../engine/warming/entry-warming.js';
import type { WarmReport } from '../engine/warming/warm-report.js';
import { warmEntriesThenPredicted } from '../engine/warming/predicted-warm.js';
import { CLI, makeTree, type TempTree } from './helpers/temp-tree.js';
import { gitIn } from './helpers/git.js';
import { isolated, OpenEngines } from './helpers/engines.js';
import { sleep } from './helpers/sleep.js';
import { RACY_WINDOW_NS } from '../engine/content/fingerprint.js';

/** An analyzer's program: main imports a, a imports b, b imports c; side.ts is only read now and then. */
const SOURCES = {
  'src/main.ts': "import { a } from './a';\nexport const main = a;\n",
  'src/a.ts': "import { b } from './b';\nexport const a = b;\n",
  'src/b.ts': "import { c } from './c';\nexport const b = c;\n",
  'src/c.ts': 'export const c = 1;\n',
  'src/side.ts': 'export const side = 2;\n',
  'src/unused.ts': 'export const unused = 3;\n',
};
const VISIT = ['src/main.ts', 'src/a.ts', 'src/b.ts', 'src/c.ts'];

function patternFiles(cacheDir: string): string[] {
  const dir = path.join(cacheDir, 'patterns');
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((name) => name.endsWith('.bin')).map((name) => path.join(dir, name)) : [];
}

describe('predictive warming', () => {
  let tree: TempTree;
  let cacheDir: string;
  const engines = new OpenEngines();
  const open = (options: EngineOptions = {}): Engine => engines.open({ root: tree.root, cacheDir, executor: 'in-thread', ...options });
  /** One analyzer run: visits the program in import order, twice, and closes (saving what it learned). */
  const analyzerRun = async (options: EngineOptions = {}): Promise<void> => {
    const engine = open(options);
    for (let round = 0; round < 2; round++) for (const file of VISIT) await engine.ast(file);
    await engine.content('src/side.ts');
    await engine.close();
  };
  /** Removes the persisted ASTs but keeps what was learned: only learning can make the next run warm. */
  const dropPersistedAsts = (): void => {
    for (const entry of ['packs', 'indexes']) fs.rmSync(path.join(cacheDir, entry), { recursive: true, force: true });
  };

  beforeEach(() => {
    tree = makeTree(SOURCES);
    cacheDir = path.join(tree.root, '.strata-cache');
  });
  afterEach(async () => {
    await engines.closeAll();
    tree.remove();
  });

  it('persists learned patterns and uses them after a restart: the learned files are warm before they are asked for', async () => {
    await analyzerRun();
    const [file] = patternFiles(cacheDir);
    expect(file).toBeDefined();
    expect(fs.statSync(file!).mode & 0o777).toBe(0o600);
    dropPersistedAsts();

    const restarted = open();
    const report = await restarted.warm({ predicted: true });
    expect(report.predicted).toEqual({ learned: 5, warmed: 5 }); // VISIT and side.ts; never unused.ts
    expect(report.parsed).toBe(5);
    expect(report.entries).toBeUndefined();
    for (const visited of VISIT) await restarted.ast(visited);
    expect(restarted.stats().predictive.astAnswers).toEqual({ memory: 4, disk: 0, parsed: 0 });

    // The same restart without the learned warm parses every file on first use.
    dropPersistedAsts();
    const unwarmed = open({ predictive: false });
    for (const visited of VISIT) await unwarmed.ast(visited);
    expect(unwarmed.stats().predictive.astAnswers).toEqual({ memory: 0, disk: 0, parsed: 4 });
  });

  it('prefetches what usually follows a file as soon as it is asked for, and counts the hit', async () => {
    await analyzerRun();
    dropPersistedAsts();
    const engine = open();
    await engine.ast('src/main.ts');
    await engine.prefetchIdle();
    await engine.ast('src/a.ts');
    const stats = engine.stats().predictive;
    expect(stats.astAnswers).toEqual({ memory: 1, disk: 0, parsed: 1 });
    expect(stats.predictions).toBeGreaterThan(0);
    expect(stats.issued).toBeGreaterThan(0);
    expect(stats.hits).toBe(1);
    expect(stats.failures).toBe(0);
  });

  it('never prefetches a file L2 already holds when L1 does not (answered by its stat)', async () => {
    await sleep(Number(RACY_WINDOW_NS / 1_000_000n) + 150); // records of settled files are trusted by stat
    await analyzerRun();
    const engine = open();
    await engine.ast('src/a.ts'); // by stat: into L2, not L1; prefetches what follows it (b, c)
    await engine.prefetchIdle();
    expect(engine.stats().levels.content.misses).toBe(0);
    const issued = engine.stats().predictive.issued;
    await engine.ast('src/main.ts'); // what follows it (a, b, c) is in L2 already
    await engine.prefetchIdle();
    expect(engine.stats().predictive.predictions).toBeGreaterThan(0);
    expect(engine.stats().predictive.issued).toBe(issued);
  });

  it('never prefetches past the memory levels’ room', async () => {
    await analyzerRun();
    dropPersistedAsts();
    const engine = open({ astMaxEntries: 1 });
    await engine.ast('src/main.ts'); // L2 now holds its one entry: no room left
    await engine.prefetchIdle();
    expect(engine.stats().predictive).toMatchObject({ issued: 0 });
    expect(engine.stats().predictive.skipped).toBeGreaterThan(0);
  });

  it('detects a corrupt patterns file: counted, reported, removed and relearned, never a crash', async () => {
    await analyzerRun();
    const [file] = patternFiles(cacheDir);
    fs.writeFileSync(file!, 'garbage where the learned patterns were');
    const engine = open();
    await expect(engine.ast('src/main.ts')).resolves.toMatchObject({ path: path.join(tree.root, 'src/main.ts') });
    expect(engine.stats().predictive).toMatchObject({ corruptPatternFiles: 1, learnedFiles: 1 });
    const report = await engine.warm({ predicted: true });
    expect(report.warnings.some((warning) => warning.message.includes('patterns were corrupt'))).toBe(true);
    await engine.close();
    const relearned = open();
    expect((await relearned.warm({ predicted: true })).predicted).toEqual({ learned: 1, warmed: 1 });
  });

  it('learns nothing and writes no patterns with predictive: false', async () => {
    await analyzerRun({ predictive: false });
    expect(patternFiles(cacheDir)).toEqual([]);
    const engine = open({ predictive: false });
    expect((await engine.warm({ predicted: true })).predicted).toEqual({ learned: 0, warmed: 0 });
    expect(engine.stats().predictive).toMatchObject({ enabled: false, learnedFiles: 0, accesses: 0 });
  });

  it('forgets learned files that were deleted instead of reporting them as failures', async () => {
    await analyzerRun();
    fs.rmSync(path.join(tree.root, 'src/side.ts'));
    const engine = open();
    const report = await engine.warm({ predicted: true });
    expect(report.predicted).toEqual({ learned: 4, warmed: 4 });
    expect(report.failed).toEqual([]);
  });
});

describe('startup warming order (CI: changed files first, learned files after)', () => {
  it('warms the entries and their dependencies before any learned file, each file once', async () => {
    const order: string[] = [];
    const imports: Record<string, string[]> = { 'changed.ts': ['dep.ts'], 'dep.ts': [] };
    const source: EntryWarmSource = {
      root: '/repo',
      async astWithOrigin(file) {
        const relative = file; // warming hands over root-relative paths
        order.push(relative);
        await new Promise((resolve) => setImmediate(resolve));
        return { result: { path: path.join('/repo', relative), size: 0, imports: (imports[relative] ?? []).map((specifier) => ({ specifier, kind: 'import' as const, typeOnly: false, pos: 0, end: 0 })), diagnostics: 0 }, from: 'parsed' };
      },
      resolve: (_from, record) => ({ resolved: path.join('/repo', record.specifier), external: false }),
    } as EntryWarmSource;
    const outcome = await warmEntriesThenPredicted(source, ['changed.ts'], ['learned-1.ts', 'dep.ts', 'learned-2.ts'], { depth: 1, concurrency: 4, deadline: Infinity, memoryCheck: () => null });
    expect(order).toEqual(['changed.ts', 'dep.ts', 'learned-1.ts', 'learned-2.ts']);
    expect(outcome).toMatchObject({ parsed: 4, predicted: 2, depthReached: 1, stoppedBy: null });
  });

  it('stops before the learned files when memory is near its limit', async () => {
    const source = {
      root: '/repo',
      astWithOrigin: async (file: string) => ({ result: { path: file, text: '', imports: [], diagnostics: 0 }, from: 'parsed' as const }),
      resolve: () => ({ resolved: null, external: false }),
    } as unknown as EntryWarmSource;
    const outcome = await warmEntriesThenPredicted(source, ['changed.ts'], ['learned.ts'], { depth: 0, concurrency: 1, deadline: Infinity, memoryCheck: () => 'memory-limit' });
    expect(outcome).toMatchObject({ files: ['changed.ts'], predicted: 0, stoppedBy: 'memory-limit' });
  });

  it('strata warm --changed --profile ci warms the changed files, then what earlier runs learned', async () => {
    const tree = makeTree(SOURCES);
    try {
      const git = gitIn(tree.root);
      fs.writeFileSync(path.join(tree.root, '.gitignore'), 'node_modules\n');
      git('init', '-q');
      git('add', '.');
      git('commit', '-q', '-m', 'init');
      const learner = createEngine({ root: tree.root, executor: 'in-thread', profile: 'ci' }, isolated);
      for (const file of VISIT) await learner.ast(file);
      await learner.close();
      tree.write('src/side.ts', 'export const side = 3;\n');
      const warm = (...args: string[]): WarmReport => {
        const result = spawnSync(process.execPath, [CLI, 'warm', tree.root, '--json', '--profile', 'ci', ...args], { encoding: 'utf8', cwd: tree.root, env: { ...process.env, STRATA_PROFILE: '' } });
        expect(result.stderr).toBe('');
        expect(result.status).toBe(0);
        return JSON.parse(result.stdout) as WarmReport;
      };
      const report = warm('--changed', '--depth', '0');
      expect(report).toMatchObject({ files: 5, entries: { depth: 0 }, predicted: { learned: 4, warmed: 4 } });
      expect(warm('--changed', '--no-predictive', '--depth', '0')).toMatchObject({ files: 1 });
    } finally {
      tree.remove();
    }
  });
});
