import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Engine } from '../engine/engine.js';
import { makeTree, type TempTree } from './helpers/temp-tree.js';
import { OpenEngines } from './helpers/engines.js';
import { flipPackBytes } from './helpers/pack-files.js';

describe('engine.validate', () => {
  let tree: TempTree;
  const engines = new OpenEngines();
  const open = (): Engine => engines.open({ root: tree.root, executor: 'in-thread' });

  beforeEach(() => {
    tree = makeTree({ 'a.ts': "import './b';\nexport const a = 1;\n", 'b.ts': 'export const b = 2;\n', 'c.ts': 'export const c = 3;\n' });
  });
  afterEach(async () => {
    await engines.closeAll();
    tree.remove();
  });

  it('reports nothing on a consistent cache', async () => {
    const engine = open();
    await engine.warm();
    expect(engine.validate().findings).toEqual([]);
  });

  it('finds and repairs L1 content that no longer matches its file', async () => {
    const engine = open();
    await engine.content('a.ts');
    fs.writeFileSync(path.join(tree.root, 'a.ts'), 'export const a = 100;\n');
    expect(engine.validate().findings).toEqual([{ level: 'content', path: 'a.ts', problem: 'stale-content' }]);
    expect(engine.validate({ repair: true }).repaired).toBe(1);
    expect(engine.validate().findings).toEqual([]);
  });

  it('finds and repairs index records of deleted files and corrupt entries', async () => {
    const first = open();
    await first.warm();
    await first.close();
    fs.unlinkSync(path.join(tree.root, 'c.ts'));
    flipPackBytes(tree.root); // one flipped byte in the middle entry
    const engine = open();
    const findings = engine.validate().findings;
    expect(findings).toEqual(expect.arrayContaining([{ level: 'ast', path: 'c.ts', problem: 'deleted-file' }]));
    expect(findings.filter((finding) => finding.problem === 'corrupt-entry').length).toBe(1);
    engine.validate({ repair: true });
    expect(engine.validate().findings).toEqual([]);
    const report = await engine.warm();
    expect(report.parsed).toBe(1); // only the corrupt one is rebuilt
  });

  it('finds and repairs results about files that are gone', async () => {
    const engine = open();
    await engine.results<number>({ id: 'x', version: 1, dependsOnDependencies: false }).compute('b.ts', () => 1);
    fs.unlinkSync(path.join(tree.root, 'b.ts'));
    expect(engine.validate().findings).toEqual(expect.arrayContaining([{ level: 'results', path: 'b.ts', problem: 'orphan-result' }]));
    engine.validate({ repair: true });
    expect(engine.validate().findings.filter((finding) => finding.level === 'results')).toEqual([]);
  });
});
