/**
 * Security of the cache (issue 8): every directory and file the store creates, now or later, is
 * owner-only; paths given to the engine or found in an index never reach outside the root or the
 * cache directory; keys are hashes, so no name in the cache directory comes from a source path.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createEngine } from '../engine/engine.js';
import { DiskStore } from '../engine/store/disk-store.js';
import { astKeyPrefix, DEFAULT_PARSE_SETTINGS, installedParser } from '../engine/ast/keys.js';
import { FileLock } from '../engine/store/lock.js';
import { STORE_LOCK_NAME } from '../engine/store/layout.js';
import { makeTree, type TempTree } from './helpers/temp-tree.js';
import { recordReliability } from '../bench/reliability-counts.js';
import { isolated } from './helpers/engines.js';

const HOSTILE_PATHS = ['../../x.ts', '../outside.ts', 'src/../../x.ts', '/etc/passwd', '..', ''];

function listTree(dir: string): { file: string; mode: number; isDir: boolean }[] {
  const out: { file: string; mode: number; isDir: boolean }[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const file = path.join(entry.parentPath, entry.name);
    out.push({ file: path.relative(dir, file), mode: fs.lstatSync(file).mode & 0o777, isDir: entry.isDirectory() });
  }
  return out;
}

describe('cache security', () => {
  let tree: TempTree;
  let previousUmask: number;
  beforeEach(() => {
    previousUmask = process.umask(0o022); // the common default: what the store must tighten
    tree = makeTree({ 'src/a.ts': "import { b } from './b';\nexport const a = b;\n", 'src/b.ts': 'export const b = 1;\n' });
  });
  afterEach(() => {
    process.umask(previousUmask);
    tree.remove();
  });

  it('creates every directory 0o700 and every file 0o600, including those created later (results, last run, lock, quarantine)', async () => {
    const cacheDir = path.join(tree.root, 'node_modules', '.cache', 'strata');
    const first = createEngine({ root: tree.root, executor: 'in-thread' }, isolated);
    await first.warm();
    await first.results<number>({ id: 'modes', version: 1 }).compute('src/a.ts', ({ ast }) => ast.imports.length);
    await first.close();
    // Later: a corrupt index is quarantined, a lock is held, a new pack and index are written.
    const index = fs.readdirSync(path.join(cacheDir, 'indexes'))[0]!;
    fs.writeFileSync(path.join(cacheDir, 'indexes', index), 'garbage');
    fs.writeFileSync(path.join(tree.root, 'src/b.ts'), 'export const b = 2;\n');
    const second = createEngine({ root: tree.root, executor: 'in-thread' }, isolated);
    await second.warm();
    const lock = new FileLock(cacheDir, STORE_LOCK_NAME);
    expect(lock.tryAcquire()).toBe(true);
    const entries = listTree(cacheDir);
    lock.release();
    await second.close();
    const names = entries.map((entry) => entry.file);
    for (const expected of ['STRATA_CACHE_DIR.json', 'store.lock', 'packs', 'indexes', 'results', 'runs']) expect(names).toContain(expected);
    expect(names.some((name) => name.endsWith('.corrupt'))).toBe(true);
    expect(names.filter((name) => name.endsWith('.pack')).length).toBeGreaterThanOrEqual(2);
    for (const entry of entries) expect({ file: entry.file, mode: entry.mode.toString(8) }).toEqual({ file: entry.file, mode: entry.isDir ? '700' : '600' });
    expect(fs.statSync(cacheDir).mode & 0o777).toBe(0o700);
    // Keys are hashes: no name in the cache directory carries a source path.
    for (const name of names) expect(name).not.toMatch(/src|\.ts$/);
  });

  it('refuses paths outside the root in every engine call, answering ENOTINROOT', async () => {
    fs.writeFileSync(path.join(path.dirname(tree.root), 'outside.ts'), 'export const leak = 1;\n');
    const engine = createEngine({ root: path.join(tree.root, 'src'), executor: 'in-thread', cacheDir: path.join(tree.root, 'cache') }, isolated);
    try {
      for (const hostile of HOSTILE_PATHS) {
        for (const call of [() => engine.content(hostile), () => engine.ast(hostile), () => engine.contentView(hostile), () => engine.sourceFile(hostile)]) {
          await expect(call()).rejects.toMatchObject({ code: 'ENOTINROOT' });
        }
      }
      expect(engine.invalidate.bind(engine, ['../../x.ts'])).toThrow(expect.objectContaining({ code: 'ENOTINROOT' }));
    } finally {
      await engine.close();
      fs.rmSync(path.join(path.dirname(tree.root), 'outside.ts'), { force: true });
    }
    recordReliability('security: hostile paths', { badInputs: HOSTILE_PATHS.length * 4 + 1, operations: HOSTILE_PATHS.length * 4 + 1, wrongAnswers: 0 });
  });

  it('never reads or writes outside the root for index records whose paths climb out of it', async () => {
    const outsideDir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'strata-outside-')));
    try {
      fs.writeFileSync(path.join(outsideDir, 'victim.ts'), 'export const victim = 1;\n');
      const before = fs.statSync(path.join(outsideDir, 'victim.ts'));
      const warm = createEngine({ root: tree.root, executor: 'in-thread' }, isolated);
      await warm.warm();
      await warm.close();
      // Forge records that name files outside the root, pointing at a real entry.
      const opened = DiskStore.open({ root: tree.root, cacheDir: null, env: {}, keyPrefix: astKeyPrefix(installedParser(), DEFAULT_PARSE_SETTINGS), maxBytes: 2 ** 40, maxAgeMs: 2 ** 40 });
      if (opened.store === null) throw new Error(opened.warning);
      const index = new Map(opened.store.loadIndex());
      const record = index.get('src/b.ts')!;
      const climb = path.relative(tree.root, path.join(outsideDir, 'victim.ts')).split(path.sep).join('/');
      for (const hostile of [climb, '../../x.ts', 'src/../../y.ts']) index.set(hostile, { ...record, size: Number(before.size), ino: before.ino === undefined ? 0n : BigInt(before.ino), dev: BigInt(before.dev) });
      expect(opened.store.saveIndex(index)).toBe(true);
      opened.store.close();
      const engine = createEngine({ root: tree.root, executor: 'in-thread' }, isolated);
      const report = await engine.warm();
      expect(report.files).toBe(2); // the forged records name no file of the root
      // An index holding a path Strata never writes is not Strata's: quarantined whole, counted, rebuilt.
      expect(engine.stats().disk.counters?.corruptIndexes).toBe(1);
      expect(report.parsed).toBe(2); // rebuilt from the sources: the index is what located the entries
      await expect(engine.ast(climb)).rejects.toMatchObject({ code: 'ENOTINROOT' });
      expect(engine.validate({ repair: true }).findings.every((finding) => finding.path !== 'src/a.ts' && finding.path !== 'src/b.ts')).toBe(true);
      await engine.close();
      const reopened = DiskStore.open({ root: tree.root, cacheDir: null, env: {}, keyPrefix: astKeyPrefix(installedParser(), DEFAULT_PARSE_SETTINGS), maxBytes: 2 ** 40, maxAgeMs: 2 ** 40 });
      expect([...reopened.store!.loadIndex().keys()].sort()).toEqual(['src/a.ts', 'src/b.ts']); // the warm dropped them
      reopened.store!.close();
      expect(fs.readdirSync(outsideDir)).toEqual(['victim.ts']);
      expect(fs.statSync(path.join(outsideDir, 'victim.ts')).mtimeMs).toBe(before.mtimeMs);
      recordReliability('security: hostile index paths', { badInputs: 3, operations: 3, wrongAnswers: 0 });
    } finally {
      fs.rmSync(outsideDir, { recursive: true, force: true });
    }
  });
});
