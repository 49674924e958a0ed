/**
 * Corruption of every kind of cache file (issue 8): packs, the root index, the L3 results file, the
 * last-run file, the lock file, the marker, and the V8 code cache of the parser. Each is damaged in
 * four ways (byte flips, truncation, zero length, garbage); every time the damage is detected,
 * counted (engine.stats().disk.counters, or `strata stats`' `disk.corrupt` for the files only the
 * CLI reads), never served, and the file is rebuilt by the next run.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createEngine, type Engine } from '../engine/engine.js';
import { summarizeCacheDir } from '../engine/cli/stats-command.js';
import { resolveOptions } from '../engine/config/options.js';
import { hasMarker, INDEXES_DIR, PACKS_DIR } from '../engine/store/layout.js';
import { isPackName, listPack } from '../engine/store/packs.js';
import { CODE_CACHE_HEADER_BYTES, unframeCodeCache } from '../workers/typescript-loader.js';
import { parseSource } from '../workers/parse-source.js';
import { prng } from '../bench/seeded-random.js';
import { makeTree, type TempTree } from './helpers/temp-tree.js';
import { recordReliability } from '../bench/reliability-counts.js';
import { isolated } from './helpers/engines.js';

const ANALYZER = { id: 'corruption', version: 1 } as const;
const SOURCES: Record<string, string> = {
  'src/a.ts': "import { b } from './b';\nexport const a = b + 1;\n",
  'src/b.ts': 'export const b = 2;\n',
  'src/c.tsx': 'export const C = () => <p>{1}</p>;\n',
  'src/d.js': "module.exports = require('./b');\n",
  'src/e.ts': `export const e = [${'1, '.repeat(300)}];\n`,
};
const FILES = Object.keys(SOURCES);

type Kind = 'pack' | 'index' | 'results' | 'last-run' | 'lock' | 'marker';
type Damage = 'flip' | 'truncate' | 'zero' | 'garbage';
const KINDS: readonly Kind[] = ['pack', 'index', 'results', 'last-run', 'lock', 'marker'];
const DAMAGES: readonly Damage[] = ['flip', 'truncate', 'zero', 'garbage'];

const cacheDirOf = (root: string): string => path.join(root, 'node_modules', '.cache', 'strata');
const onlyFile = (dir: string, accept: (name: string) => boolean = () => true): string => {
  const names = fs.readdirSync(dir).filter(accept);
  if (names.length !== 1) throw new Error(`expected one file in ${dir}, found ${names.join(', ')}`);
  return path.join(dir, names[0] as string);
};

/** Damages `file`; `regions` limits byte flips to ranges the readers verify (pack records). */
function damage(file: string, how: Damage, random: () => number, regions?: readonly { offset: number; length: number }[]): void {
  const bytes = fs.readFileSync(file);
  switch (how) {
    case 'flip': {
      const ranges = regions ?? [{ offset: 0, length: bytes.length }];
      for (let i = 0; i < 4; i++) {
        const range = ranges[Math.floor(random() * ranges.length)]!;
        const at = range.offset + Math.floor(random() * range.length);
        bytes[at] = bytes[at]! ^ (1 + Math.floor(random() * 255));
      }
      fs.writeFileSync(file, bytes);
      return;
    }
    case 'truncate':
      fs.truncateSync(file, Math.floor(bytes.length * (0.2 + random() * 0.6)));
      return;
    case 'zero':
      fs.truncateSync(file, 0);
      return;
    case 'garbage':
      fs.writeFileSync(file, Buffer.from(Array.from({ length: 64 + Math.floor(random() * 400) }, () => Math.floor(random() * 256))));
  }
}

/** Reads every file through every API and compares with a fresh parse of the disk; answers the number of wrong answers. */
async function wrongAnswers(engine: Engine, root: string): Promise<number> {
  let wrong = 0;
  const results = engine.results<string>(ANALYZER);
  for (const rel of FILES) {
    const text = fs.readFileSync(path.join(root, rel), 'utf8');
    const fresh = parseSource(path.join(root, rel), text);
    const ast = await engine.ast(rel);
    if (ast.text !== text || !Buffer.from(ast.ast.bytes).equals(Buffer.from(fresh.ast)) || JSON.stringify(ast.imports) !== JSON.stringify(fresh.imports)) wrong++;
    if (!(await engine.content(rel)).equals(Buffer.from(text))) wrong++;
    const value = await results.compute(rel, ({ ast: record }) => `${record.imports.length}|${record.ast.nodeCount}`);
    if (value !== `${fresh.imports.length}|${fresh.nodeCount}`) wrong++;
  }
  return wrong;
}

describe('corrupt cache files', () => {
  let template: TempTree;
  let work: string;
  const random = prng(0x5eed);
  let corruptions = 0;
  let operations = 0;

  beforeAll(async () => {
    template = makeTree(SOURCES);
    const engine = createEngine({ root: template.root, executor: 'in-thread' }, isolated);
    await engine.warm();
    await wrongAnswers(engine, template.root); // fills L3, so a results file is written on close
    await engine.close();
    for (const dir of ['results', 'runs', PACKS_DIR, INDEXES_DIR]) expect(fs.readdirSync(path.join(cacheDirOf(template.root), dir)).length).toBeGreaterThan(0);
  });
  afterAll(() => {
    template.remove();
    recordReliability('corruption', { corruptions, operations, wrongAnswers: 0 });
  });
  beforeEach(() => {
    work = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'strata-corrupt-')));
    fs.cpSync(template.root, work, { recursive: true });
  });
  afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

  /** Damages one file of `kind`; answers where it was. */
  function corrupt(kind: Kind, how: Damage): string {
    const dir = cacheDirOf(work);
    corruptions++;
    switch (kind) {
      case 'pack': {
        const file = onlyFile(path.join(dir, PACKS_DIR), isPackName);
        damage(file, how, random, listPack(file) ?? undefined);
        return file;
      }
      case 'index': {
        const file = onlyFile(path.join(dir, INDEXES_DIR));
        damage(file, how, random);
        return file;
      }
      case 'results':
      case 'last-run': {
        const file = onlyFile(path.join(dir, kind === 'results' ? 'results' : 'runs'));
        damage(file, how, random);
        return file;
      }
      case 'lock': {
        // What a killed writer leaves: a lock naming a process that is gone, written a while ago.
        const dead = spawnSync(process.execPath, ['-e', '0']).pid ?? 2 ** 22 + 1;
        const file = path.join(dir, 'store.lock');
        fs.writeFileSync(file, JSON.stringify({ pid: dead, startTime: '1', hostname: os.hostname(), acquiredAtMs: Date.now() - 60_000, token: 'abcdef0123456789' }), { mode: 0o600 });
        damage(file, how, random);
        const past = new Date(Date.now() - 60_000);
        fs.utimesSync(file, past, past);
        return file;
      }
      case 'marker': {
        const file = path.join(dir, 'STRATA_CACHE_DIR.json');
        damage(file, how, random);
        return file;
      }
    }
  }

  const cases = KINDS.flatMap((kind) => DAMAGES.map((how) => [kind, how] as const));
  it.each(cases)('%s, %s: detected, counted, never served, rebuilt', async (kind, how) => {
    const file = corrupt(kind, how);
    const summaryBefore = summarizeCacheDir(resolveOptions({ root: work }, isolated), {});
    // An edit, so that this run saves its index (and takes the store lock) whatever was damaged.
    fs.writeFileSync(path.join(work, 'src/b.ts'), 'export const b = 3;\n');
    const engine = createEngine({ root: work, executor: 'in-thread' }, isolated);
    let wrong: number;
    let counters;
    try {
      const report = await engine.warm();
      expect(report.files).toBe(FILES.length);
      expect(report.failed).toEqual([]);
      wrong = await wrongAnswers(engine, work);
      operations += 1 + FILES.length * 3;
      counters = engine.stats().disk.counters;
    } finally {
      await engine.close();
    }
    expect(wrong).toBe(0);
    expect(counters).not.toBeNull();
    switch (kind) {
      case 'pack':
        expect(counters!.corruptEntries).toBeGreaterThan(0);
        break;
      case 'index':
        expect(counters!.corruptIndexes).toBe(1);
        expect(summaryBefore.disk.corrupt).toEqual([path.relative(cacheDirOf(work), file)]);
        break;
      case 'results':
        expect(counters!.corruptResults).toBe(1);
        expect(summaryBefore.disk.corrupt).toEqual([path.relative(cacheDirOf(work), file)]);
        break;
      case 'last-run':
        expect(summaryBefore.disk.corrupt).toEqual([path.relative(cacheDirOf(work), file)]);
        expect(summaryBefore.lastRun).toBeNull();
        break;
      case 'lock':
        expect(counters!.locksRecovered).toBe(1);
        break;
      case 'marker':
        expect(counters!.corruptMarkers).toBe(1);
        break;
    }
    // Rebuilt: the next run finds every file valid, loads every entry from disk, counts nothing corrupt.
    const summary = summarizeCacheDir(resolveOptions({ root: work }, isolated), {});
    expect(summary.disk.corrupt).toEqual([]);
    expect(summary.lastRun?.files).toBe(FILES.length);
    expect(hasMarker(cacheDirOf(work))).toBe(true);
    expect(fs.existsSync(path.join(cacheDirOf(work), 'store.lock'))).toBe(false);
    const again = createEngine({ root: work, executor: 'in-thread' }, isolated);
    try {
      expect(await wrongAnswers(again, work)).toBe(0);
      const after = again.stats().disk.counters!;
      expect(after).toMatchObject({ corruptEntries: 0, corruptIndexes: 0, corruptResults: 0, corruptMarkers: 0, missingEntries: 0, loaded: FILES.length });
      expect(again.stats().pool.started).toBe(false); // nothing parsed: every AST came from the rebuilt store
    } finally {
      await again.close();
    }
  });

  it('never hands a damaged V8 code cache to V8 (a flipped byte there aborts the process), and rewrites it', () => {
    const v8Dir = path.join(work, 'v8');
    const loader = path.join(__dirname, '..', 'workers', 'typescript-loader.js');
    const script = `const l = require(${JSON.stringify(loader)}); const r = l.preloadTypescript();
      const ts = require('typescript'); const sf = ts.createSourceFile('a.ts', 'export const a = [1, 2].map((v) => v * 2);', 99, true);
      l.saveTypescriptCodeCache(); process.stdout.write(JSON.stringify({ codeCache: r.codeCache, statements: sf.statements.length }));`;
    const load = (): { codeCache: string; statements: number } => {
      const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, STRATA_V8_CACHE: '', STRATA_V8_CACHE_DIR: v8Dir } });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      return JSON.parse(run.stdout) as { codeCache: string; statements: number };
    };
    expect(load()).toEqual({ codeCache: 'miss', statements: 1 });
    const file = onlyFile(v8Dir);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(load()).toEqual({ codeCache: 'hit', statements: 1 });
    const payload = { offset: CODE_CACHE_HEADER_BYTES, length: fs.statSync(file).size - CODE_CACHE_HEADER_BYTES };
    for (const how of DAMAGES) {
      corruptions++;
      damage(file, how, random, [payload]);
      expect(unframeCodeCache(fs.readFileSync(file))).toBeNull();
      expect(load()).toEqual({ codeCache: 'rejected', statements: 1 }); // detected; before the frame, 'flip' aborted V8
      expect(unframeCodeCache(fs.readFileSync(file))).not.toBeNull(); // rewritten
    }
    expect(load()).toEqual({ codeCache: 'hit', statements: 1 });
  }, 60_000);

  it('counts how pool workers loaded the parser, a damaged code cache as rejected, in stats().pool.codeCache', () => {
    const v8Dir = path.join(work, 'v8-pool');
    const engineModule = path.join(__dirname, '..', 'engine', 'engine.js');
    // A child process: worker threads take their environment (STRATA_V8_CACHE_DIR) from the real process.
    const script = `const { createEngine } = require(${JSON.stringify(engineModule)});
      (async () => { const e = createEngine({ root: ${JSON.stringify(work)}, workers: 1, persist: false }, { env: {}, readConfigFile: false });
      await e.warm(); const counts = e.stats().pool.codeCache; await e.close(); process.stdout.write(JSON.stringify(counts)); })();`;
    const warmOnce = (): Record<string, number> => {
      const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, STRATA_V8_CACHE: '', STRATA_V8_CACHE_DIR: v8Dir } });
      expect(run.status).toBe(0);
      return JSON.parse(run.stdout) as Record<string, number>;
    };
    expect(warmOnce()).toEqual({ hit: 0, miss: 1, rejected: 0, off: 0 });
    expect(warmOnce()).toEqual({ hit: 1, miss: 0, rejected: 0, off: 0 });
    corruptions++;
    const file = onlyFile(v8Dir);
    damage(file, 'flip', random, [{ offset: CODE_CACHE_HEADER_BYTES, length: fs.statSync(file).size - CODE_CACHE_HEADER_BYTES }]);
    expect(warmOnce()).toEqual({ hit: 0, miss: 0, rejected: 1, off: 0 });
    expect(warmOnce()).toEqual({ hit: 1, miss: 0, rejected: 0, off: 0 }); // rewritten
  }, 60_000);
});
