import * as fs from 'node:fs';
import * as path from 'node:path';
import { createEngine, type Engine } from '../engine/engine.js';
import type { AnalyzerResults } from '../engine/results/analyzer-results.js';
import { makeTree, type TempTree } from './helpers/temp-tree.js';
import { sleep } from './helpers/sleep.js';
import { isolated, OpenEngines } from './helpers/engines.js';

describe('engine.results (L3)', () => {
  let tree: TempTree;
  const engines = new OpenEngines();
  const open = (): Engine => engines.open({ root: tree.root, executor: 'in-thread' });
  /** Runs compute for each file and returns the files whose fn ran (i.e. had no valid result). */
  const recomputed = async (results: AnalyzerResults<string>, files: string[]): Promise<string[]> => {
    const ran: string[] = [];
    for (const file of files) await results.compute(file, ({ ast }) => (ran.push(file), `${file}:${ast.imports.length}`));
    return ran;
  };
  const edit = (file: string, text: string): void => fs.writeFileSync(path.join(tree.root, file), text);

  beforeEach(() => {
    tree = makeTree({
      'src/a.ts': "import { b } from './b';\nexport const a = b + 1;\n",
      'src/b.ts': "import { c } from './c';\nexport const b = c * 2;\n",
      'src/c.ts': 'const internal = 1;\nexport const c = internal;\n',
    });
  });
  afterEach(async () => {
    await engines.closeAll();
    tree.remove();
  });

  const FILES = ['src/a.ts', 'src/b.ts', 'src/c.ts'];

  it('returns a stored result until something it depends on changes', async () => {
    const results = open().results<string>({ id: 'count', version: 1 });
    expect(await recomputed(results, FILES)).toEqual(FILES);
    expect(await recomputed(results, FILES)).toEqual([]);
    expect(await results.get('src/a.ts')).toBe('src/a.ts:1');
  });

  it("invalidates exactly a changed leaf's dependents when its exports change", async () => {
    const results = open().results<string>({ id: 'count', version: 1 });
    await recomputed(results, FILES);
    edit('src/c.ts', 'const internal = 1;\nexport const c = internal;\nexport const d = 2;\n');
    expect(await recomputed(results, FILES)).toEqual(['src/b.ts', 'src/c.ts']);
  });

  it('keeps dependents valid when a change preserves the signature (early cutoff)', async () => {
    const results = open().results<string>({ id: 'count', version: 1 });
    await recomputed(results, FILES);
    edit('src/c.ts', 'const internal = 42; // changed\nexport const c = internal;\n');
    expect(await recomputed(results, FILES)).toEqual(['src/c.ts']);
  });

  it('follows re-exports: a change behind `export * from` reaches the importer', async () => {
    edit('src/b.ts', "export * from './c';\n");
    edit('src/a.ts', "import { c } from './b';\nexport const a = c;\n");
    const results = open().results<string>({ id: 'count', version: 1 });
    await recomputed(results, FILES);
    edit('src/c.ts', 'export const c = 1;\nexport const extra = 2;\n');
    expect(await recomputed(results, FILES)).toEqual(['src/a.ts', 'src/b.ts', 'src/c.ts']);
  });

  it('handles import cycles', async () => {
    edit('src/c.ts', "import { a } from './a';\nexport const c = 1;\nexport const viaA = () => a;\n");
    const results = open().results<string>({ id: 'count', version: 1 });
    await recomputed(results, FILES);
    edit('src/a.ts', "import { b } from './b';\nexport const a = b + 1;\nexport const more = 1;\n");
    expect(await recomputed(results, FILES)).toEqual(['src/a.ts', 'src/c.ts']);
  });

  it('recomputes when a dependency is deleted, and reuses the old result when it comes back unchanged', async () => {
    const results = open().results<string>({ id: 'count', version: 1 });
    await recomputed(results, FILES);
    const c = fs.readFileSync(path.join(tree.root, 'src/c.ts'));
    fs.unlinkSync(path.join(tree.root, 'src/c.ts'));
    expect(await recomputed(results, ['src/b.ts'])).toEqual(['src/b.ts']);
    fs.writeFileSync(path.join(tree.root, 'src/c.ts'), c);
    expect(await recomputed(results, ['src/b.ts'])).toEqual([]);
  });

  it('recomputes an importer after a rename of its dependency', async () => {
    const results = open().results<string>({ id: 'count', version: 1 });
    await recomputed(results, FILES);
    fs.renameSync(path.join(tree.root, 'src/c.ts'), path.join(tree.root, 'src/c2.ts'));
    edit('src/b.ts', "import { c } from './c2';\nexport const b = c * 2;\n");
    expect(await recomputed(results, ['src/a.ts', 'src/b.ts', 'src/c2.ts'])).toEqual(['src/b.ts', 'src/c2.ts']);
  });

  it('ignores dependencies for analyzers that do not depend on them', async () => {
    const results = open().results<string>({ id: 'local', version: 1, dependsOnDependencies: false });
    await recomputed(results, FILES);
    edit('src/c.ts', 'export const c = 1;\nexport const d = 2;\n');
    expect(await recomputed(results, FILES)).toEqual(['src/c.ts']);
  });

  it('keeps analyzer versions apart', async () => {
    const engine = open();
    await recomputed(engine.results<string>({ id: 'count', version: 1 }), FILES);
    expect(await recomputed(engine.results<string>({ id: 'count', version: 2 }), FILES)).toEqual(FILES);
  });

  it('runs fn once for concurrent computes of one file', async () => {
    const results = open().results<number>({ id: 'slow', version: 1 });
    let runs = 0;
    const fn = async (): Promise<number> => {
      runs++;
      await sleep(50);
      return 7;
    };
    const answers = await Promise.all([results.compute('src/a.ts', fn), results.compute('src/a.ts', fn), results.compute(path.join(tree.root, 'src/a.ts'), fn)]);
    expect(answers).toEqual([7, 7, 7]);
    expect(runs).toBe(1);
  });

  it('shares one computation between two namespaces of the same analyzer', async () => {
    const engine = open();
    let runs = 0;
    const fn = async (): Promise<number> => {
      runs++;
      await sleep(50);
      return 3;
    };
    const first = engine.results<number>({ id: 'shared', version: 1 });
    const second = engine.results<number>({ id: 'shared', version: 1 });
    expect(await Promise.all([first.compute('src/b.ts', fn), second.compute('src/b.ts', fn)])).toEqual([3, 3]);
    expect(runs).toBe(1);
  });

  it('does not store a result whose computation started before an invalidation', async () => {
    const engine = open();
    const results = engine.results<number>({ id: 'raced', version: 1 });
    const value = await results.compute('src/b.ts', async () => {
      engine.invalidate(['src/c.ts']);
      return 1;
    });
    expect(value).toBe(1);
    expect(await results.get('src/b.ts')).toBeUndefined();
  });

  it('rejects with the abort reason and stores nothing', async () => {
    const results = open().results<number>({ id: 'aborted', version: 1 });
    const controller = new AbortController();
    const running = results.compute('src/a.ts', async () => {
      controller.abort(new Error('stop'));
      return 1;
    }, { signal: controller.signal });
    await expect(running).rejects.toThrow('stop');
    expect(await results.get('src/a.ts')).toBeUndefined();
  });

  it('persists results: valid after a restart with no changes, invalid after a dependency changed while down', async () => {
    const first = open();
    await recomputed(first.results<string>({ id: 'count', version: 1 }), FILES);
    await first.close();
    const second = open();
    expect(await recomputed(second.results<string>({ id: 'count', version: 1 }), FILES)).toEqual([]);
    await second.close();
    edit('src/c.ts', 'export const c = 3;\nexport const added = true;\n');
    const third = open();
    expect(await recomputed(third.results<string>({ id: 'count', version: 1 }), FILES)).toEqual(['src/b.ts', 'src/c.ts']);
  });

  it('keeps results within their cap, recomputing what was evicted', async () => {
    const engine = engines.open({ root: tree.root, executor: 'in-thread', resultsMaxEntries: 2 });
    const results = engine.results<string>({ id: 'capped', version: 1 });
    await recomputed(results, FILES);
    expect(engine.stats().levels.results.entries).toBe(2);
    expect(await recomputed(results, ['src/a.ts'])).toEqual(['src/a.ts']);
    expect(await results.get('src/c.ts')).toBe('src/c.ts:0');
  });

  it('answers every deps and dependents query correctly past the graph-node cap', async () => {
    for (let i = 0; i < 6; i++) tree.write(`src/leaf${i}.ts`, `import { c } from './c';\nexport const l${i} = c;\n`);
    const capped = createEngine({ root: tree.root, executor: 'in-thread', graphMaxNodes: 3 }, isolated);
    const unbounded = open();
    engines.add(capped);
    for (const file of ['src/a.ts', 'src/c.ts', 'src/leaf3.ts']) {
      expect(await capped.deps(file)).toEqual(await unbounded.deps(file));
      expect(await capped.dependents(file)).toEqual(await unbounded.dependents(file));
      expect(await capped.dependents(file, 3)).toEqual(await unbounded.dependents(file, 3));
      expect(capped.stats().graph.nodes).toBeLessThanOrEqual(3);
    }
    expect(((await capped.dependents('src/c.ts')) as { dependents: unknown[] }).dependents).toHaveLength(7);
  });
});
