/**
 * engine.ast() of a file L1 does not hold, in a new engine over a persisted cache: answered by the
 * file's stat against its index record (the restart rule), without reading the file; its text read
 * on first use and checked against the answer's content hash. Real files, real engines.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Engine, EngineOptions } from '../engine/engine.js';
import { RACY_WINDOW_NS } from '../engine/content/fingerprint.js';
import { makeTree, type TempTree } from './helpers/temp-tree.js';
import { sleep } from './helpers/sleep.js';
import { OpenEngines } from './helpers/engines.js';

const SOURCES = {
  'src/a.ts': "import { b } from './b';\nexport const a = b + 1;\n",
  'src/b.ts': 'export const b = 2;\n',
  'src/c.tsx': 'export const C = () => <p>{"é"}</p>;\n',
};

/** A record is trusted only when captured this long after its file's last change (git's racy rule). */
const PAST_RACY_WINDOW_MS = Number(RACY_WINDOW_NS / 1_000_000n) + 150;

describe('engine.ast() answered by the file stat (no read) in a new engine', () => {
  let tree: TempTree;
  const engines = new OpenEngines();
  const open = (options: EngineOptions = {}): Engine => engines.open({ root: tree.root, workers: 1, predictive: false, ...options });
  const contentMisses = (engine: Engine): number => engine.stats().levels.content.misses;
  /** Warms the tree once the racy window of its writes has passed, so that its records are trusted. */
  const warmSettled = async (): Promise<void> => {
    await sleep(PAST_RACY_WINDOW_MS);
    const engine = open();
    await engine.warm();
    await engine.close();
  };

  beforeEach(() => {
    tree = makeTree(SOURCES);
  });
  afterEach(async () => {
    await engines.closeAll();
    tree.remove();
  });

  it('answers from disk without reading the file, equal to a fresh parse, text included', async () => {
    await warmSettled();
    const engine = open();
    const stored = await engine.ast('src/c.tsx');
    expect(contentMisses(engine)).toBe(0); // L1 never asked: the file was not read
    expect(engine.stats().disk.counters?.loaded).toBe(1);
    expect(engine.stats().pool.started).toBe(false);
    const fresh = await open({ persist: false }).ast('src/c.tsx');
    expect(Buffer.from(stored.ast.bytes)).toEqual(Buffer.from(fresh.ast.bytes));
    expect({ ...stored, ast: null }).toEqual({ ...fresh, ast: null }); // spreading reads the text
    expect(stored.text).toBe(SOURCES['src/c.tsx']);
    expect(stored.size).toBe(Buffer.byteLength(SOURCES['src/c.tsx']));
    expect(contentMisses(engine)).toBe(1); // the text's read
    expect(JSON.parse(JSON.stringify({ text: stored.text }))).toEqual({ text: SOURCES['src/c.tsx'] });
  });

  it('sees a same-size edit whose mtime was put back (the ctime moved)', async () => {
    await warmSettled();
    const file = path.join(tree.root, 'src/b.ts');
    const before = fs.statSync(file);
    fs.writeFileSync(file, 'export const b = 7;\n');
    fs.utimesSync(file, before.atime, before.mtime);
    const engine = open();
    const result = await engine.ast('src/b.ts');
    expect(result.text).toBe('export const b = 7;\n');
    const fresh = await open({ persist: false }).ast('src/b.ts');
    expect(Buffer.from(result.ast.bytes)).toEqual(Buffer.from(fresh.ast.bytes));
    expect(contentMisses(engine)).toBe(1); // read, because the stat no longer matched
  });

  it('sees an added, a removed and a renamed file', async () => {
    await warmSettled();
    fs.renameSync(path.join(tree.root, 'src/a.ts'), path.join(tree.root, 'src/moved.ts'));
    fs.writeFileSync(path.join(tree.root, 'src/new.ts'), 'export const n = 1;\n');
    const engine = open();
    await expect(engine.ast('src/a.ts')).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await engine.ast('src/moved.ts')).text).toBe(SOURCES['src/a.ts']);
    expect((await engine.ast('src/new.ts')).text).toBe('export const n = 1;\n');
  });

  it("throws ESTALE for a text read after the file changed, and the next ast() has the new content", async () => {
    await warmSettled();
    const engine = open();
    const old = await engine.ast('src/b.ts');
    fs.writeFileSync(path.join(tree.root, 'src/b.ts'), 'export const b = 3 + 4;\n');
    expect(() => old.text).toThrow(expect.objectContaining({ code: 'ESTALE', path: 'src/b.ts' }));
    const current = await engine.ast('src/b.ts');
    expect(current.text).toBe('export const b = 3 + 4;\n');
    expect(current.contentHash).not.toBe(old.contentHash);
  });

  it('reads a file whose record is racy (warmed within the window of its last change)', async () => {
    const warmed = open();
    await warmed.warm();
    await warmed.close();
    const engine = open();
    const result = await engine.ast('src/a.ts');
    expect(contentMisses(engine)).toBe(1);
    expect(result.text).toBe(SOURCES['src/a.ts']);
  });

  it('still refuses a file over a lowered maxFileSize', async () => {
    await warmSettled();
    const engine = open({ maxFileSize: 8 });
    await expect(engine.ast('src/a.ts')).rejects.toMatchObject({ code: 'ENOTCACHED' });
  });

  it('parses again when the entry the record names is corrupt', async () => {
    await warmSettled();
    const packs = path.join(tree.root, 'node_modules', '.cache', 'strata', 'packs');
    for (const name of fs.readdirSync(packs)) {
      const file = path.join(packs, name);
      const bytes = fs.readFileSync(file);
      for (let i = 64; i < bytes.length - 64; i += 97) bytes[i] = bytes[i]! ^ 0x5a;
      fs.writeFileSync(file, bytes);
    }
    const engine = open();
    const result = await engine.ast('src/a.ts');
    expect(result.imports).toEqual([{ specifier: './b', kind: 'import', typeOnly: false }]);
    expect(engine.stats().disk.counters?.corruptEntries).toBeGreaterThan(0);
    expect(engine.stats().pool.started).toBe(true);
  });
});
