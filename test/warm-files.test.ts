import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Engine, EngineOptions } from '../engine/engine.js';
import { makeTree, type TempTree } from './helpers/temp-tree.js';
import { OpenEngines } from './helpers/engines.js';

describe('Engine.warm({ files })', () => {
  let tree: TempTree;
  let cacheDir: string;
  const engines = new OpenEngines();
  const open = (options: EngineOptions = {}): Engine => engines.open({ root: tree.root, workers: 2, cacheDir, ...options });

  beforeEach(() => {
    tree = makeTree();
    cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-files-cache-'));
    for (let i = 0; i < 40; i++) tree.write(`src/file-${i}.ts`, `export const v${i} = ${i};\n`);
  });
  afterEach(async () => {
    await engines.closeAll();
    tree.remove();
    fs.rmSync(cacheDir, { recursive: true, force: true });
  });

  it('warms only the files named, absolute or root-relative, and answers them from memory next time', async () => {
    const engine = open({ persist: false });
    const report = await engine.warm({ files: ['src/file-1.ts', path.join(tree.root, 'src/file-2.ts'), 'src/file-1.ts'] });
    expect(report).toMatchObject({ files: 2, parsed: 2, fromCache: 0, failed: [], skipped: [], stoppedBy: null });
    expect(engine.stats().levels.ast.entries).toBe(2);
    expect(await engine.warm({ files: ['src/file-2.ts'] })).toMatchObject({ files: 1, parsed: 0, fromMemory: 1 });
  });

  it('keeps the index records of the files it was not asked about', async () => {
    expect(await open().warm()).toMatchObject({ files: 40, parsed: 40 });
    tree.write('src/file-3.ts', 'export const changed = 3;\n');
    expect(await open().warm({ files: ['src/file-3.ts'] })).toMatchObject({ files: 1, parsed: 1 });
    // A later whole warm in a new process still finds every other file in the index.
    expect(await open().warm()).toMatchObject({ files: 40, parsed: 0, fromDisk: 40 });
  });

  it('reports each file that cannot be warmed, typed, and warms the rest', async () => {
    const outside = makeTree({ 'elsewhere.ts': 'export {};\n' });
    try {
      fs.symlinkSync(path.join(outside.root, 'elsewhere.ts'), path.join(tree.root, 'src/link-out.ts'));
      fs.mkdirSync(path.join(tree.root, 'src/dir.ts'));
      tree.write('src/huge.ts', `export const s = "${'x'.repeat(2048)}";\n`);
      const report = await open({ persist: false, maxFileSize: 1024 }).warm({ files: ['src/gone.ts', 'src/link-out.ts', 'src/dir.ts', 'src/huge.ts', 'src/file-0.ts'] });
      expect(report.parsed).toBe(1);
      expect(report.failed).toEqual([expect.objectContaining({ path: 'src/gone.ts', code: 'ENOENT' }), expect.objectContaining({ path: 'src/dir.ts', code: 'EISDIR' })]);
      expect(report.skipped).toEqual([
        { path: 'src/link-out.ts', reason: 'symlink-outside-root' },
        { path: 'src/huge.ts', reason: 'too-large' },
      ]);
      expect(report.files).toBe(5);
    } finally {
      outside.remove();
    }
  });

  it('rejects paths outside the root, non-source files, and files combined with entries', async () => {
    const engine = open({ persist: false });
    await expect(engine.warm({ files: ['../elsewhere.ts'] })).rejects.toMatchObject({ code: 'ENOTINROOT' });
    await expect(engine.warm({ files: ['README.md'] })).rejects.toMatchObject({ code: 'ENOTCACHED' });
    await expect(engine.warm({ files: ['src/file-1.ts'], entries: ['src/file-2.ts'] })).rejects.toMatchObject({ code: 'EINVALIDOPTION' });
    expect(engine.stats().pool.started).toBe(false);
  });
});
