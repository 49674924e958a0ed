import * as fs from 'node:fs';
import * as path from 'node:path';
import { createEngine, type Engine } from '../engine/engine.js';
import { DependencyService, engineDepsSource, type DependencyEntry } from '../engine/graph/deps-service.js';
import { makeTree, type TempTree } from './helpers/temp-tree.js';

const FIXTURE = {
  'tsconfig.json': JSON.stringify({ compilerOptions: { paths: { '@app/*': ['./src/app/*'] } } }),
  'src/index.ts': [
    '/// <reference path="./globals.d.ts" />',
    '/// <reference types="ambient" />',
    "import { b } from './b';",
    "import type { T } from './types';",
    "export * from './c.js';",
    "const lazy = import('./lazy');",
    "import path = require('node:path');",
    "type U = import('./types').U;",
    "import feature from '@app/feature';",
    "import data from './data.json';",
    "import './styles.css';",
    "import { ws } from '@ws/shared';",
    "import 'left-pad';",
    "import './missing';",
    'export const all = [b, lazy, path, feature, data, ws];',
    'export type { T, U };',
    '',
  ].join('\n'),
  'src/legacy.cjs': "const { b } = require('./b');\nmodule.exports = b;\n",
  'src/b.ts': "import { c } from './c';\nexport const b = c;\n",
  'src/c.ts': "import { a } from './cycle-a';\nexport const c = a;\n",
  'src/cycle-a.ts': "import { b } from './b';\nexport const a = 1;\nexport const again = () => b;\n",
  'src/lazy.ts': 'export default 1;\n',
  'src/types.ts': 'export type T = 1;\nexport type U = 2;\n',
  'src/globals.d.ts': 'declare const G: number;\n',
  'src/app/feature.ts': 'export default 1;\n',
  'src/data.json': '{"x":1}\n',
  'src/styles.css': '.x{}\n',
  'packages/shared/package.json': JSON.stringify({ name: '@ws/shared', main: './src/index.ts' }),
  'packages/shared/src/index.ts': 'export const ws = 1;\n',
  'node_modules/@types/ambient/index.d.ts': 'declare const AMBIENT: number;\n',
  'node_modules/ignored/index.ts': 'export {};\n',
};

describe('DependencyService on a real engine', () => {
  let tree: TempTree;
  let engine: Engine;
  let service: DependencyService;

  beforeEach(() => {
    tree = makeTree(FIXTURE);
    fs.mkdirSync(path.join(tree.root, 'node_modules', '@ws'), { recursive: true });
    fs.symlinkSync(path.join('..', '..', 'packages', 'shared'), path.join(tree.root, 'node_modules', '@ws', 'shared'), 'dir');
    engine = createEngine({ root: tree.root, executor: 'in-thread', persist: false }, { env: {}, readConfigFile: false });
    service = new DependencyService(engineDepsSource(engine));
  });
  afterEach(async () => {
    await engine.close();
    tree.remove();
  });

  it('lists every import of a file, resolved, with its kind, typeOnly and external flags, in source order', async () => {
    const answer = await service.dependenciesOf(path.join(tree.root, 'src/index.ts'));
    expect(answer.file).toBe('src/index.ts');
    expect(answer.tsconfig).toBe('tsconfig.json');
    const entry = (specifier: string, resolved: string | null, kind: DependencyEntry['kind'], typeOnly = false, external = false): DependencyEntry => ({ specifier, resolved, kind, typeOnly, external });
    expect(answer.dependencies).toEqual([
      entry('./globals.d.ts', 'src/globals.d.ts', 'reference'),
      entry('ambient', 'node_modules/@types/ambient/index.d.ts', 'reference', true, true),
      entry('./b', 'src/b.ts', 'import'),
      entry('./types', 'src/types.ts', 'import', true),
      entry('./c.js', 'src/c.ts', 'export'),
      entry('./lazy', 'src/lazy.ts', 'dynamic-import'),
      entry('node:path', null, 'import-equals', false, true),
      entry('./types', 'src/types.ts', 'import-type', true),
      entry('@app/feature', 'src/app/feature.ts', 'import'),
      entry('./data.json', 'src/data.json', 'import'),
      entry('./styles.css', 'src/styles.css', 'import'),
      entry('@ws/shared', 'packages/shared/src/index.ts', 'import'),
      entry('left-pad', null, 'import', false, true),
      entry('./missing', null, 'import'),
    ]);
  });

  it('resolves require in a CommonJS file', async () => {
    const answer = await service.dependenciesOf('src/legacy.cjs');
    expect(answer.dependencies).toEqual([{ specifier: './b', resolved: 'src/b.ts', kind: 'require', typeOnly: false, external: false }]);
  });

  it('lists direct dependents with the import that makes each one', async () => {
    const answer = await service.dependentsOf('src/b.ts');
    expect(answer).toEqual({
      file: 'src/b.ts',
      dependents: [
        { path: 'src/cycle-a.ts', specifier: './b', kind: 'import' },
        { path: 'src/index.ts', specifier: './b', kind: 'import' },
        { path: 'src/legacy.cjs', specifier: './b', kind: 'require' },
      ],
    });
    expect((await service.dependentsOf('src/styles.css')).dependents).toEqual([{ path: 'src/index.ts', specifier: './styles.css', kind: 'import' }]);
  });

  it('lists dependents within a depth once each, at their shortest depth, through a cycle', async () => {
    // c <- b <- { index, legacy, cycle-a }, c <- index (export *), cycle-a -> b -> c -> cycle-a is a cycle.
    const deep = await service.dependentsOf('src/c.ts', 5);
    expect(deep.dependents.map((d) => [d.path, d.depth, d.via])).toEqual([
      ['src/b.ts', 1, 'src/c.ts'],
      ['src/index.ts', 1, 'src/c.ts'],
      ['src/cycle-a.ts', 2, 'src/b.ts'],
      ['src/legacy.cjs', 2, 'src/b.ts'],
    ]);
    expect(deep.dependents[1]).toMatchObject({ specifier: './c.js', kind: 'export' });
    const shallow = await service.dependentsOf('src/c.ts', 1);
    expect(shallow.dependents.map((d) => d.path)).toEqual(['src/b.ts', 'src/index.ts']);
  });

  it('lists transitive dependencies within a depth, reading only what it reaches', async () => {
    const answer = await service.transitiveDependenciesOf('src/b.ts', 10);
    expect(answer.dependencies.map((d) => [d.path, d.depth])).toEqual([
      ['src/c.ts', 1],
      ['src/cycle-a.ts', 2],
    ]);
  });

  it('gives the whole graph with a key for every source file and in-root, non-external targets only', async () => {
    const graph = await service.wholeGraph();
    expect(graph.root).toBe(tree.root);
    expect(Object.keys(graph.files)).toEqual([
      'packages/shared/src/index.ts',
      'src/app/feature.ts',
      'src/b.ts',
      'src/c.ts',
      'src/cycle-a.ts',
      'src/globals.d.ts',
      'src/index.ts',
      'src/lazy.ts',
      'src/legacy.cjs',
      'src/types.ts',
    ]);
    expect(graph.files['src/index.ts']).toEqual([
      'packages/shared/src/index.ts',
      'src/app/feature.ts',
      'src/b.ts',
      'src/c.ts',
      'src/data.json',
      'src/globals.d.ts',
      'src/lazy.ts',
      'src/styles.css',
      'src/types.ts',
    ]);
    expect(graph.files['src/cycle-a.ts']).toEqual(['src/b.ts']);
    expect(graph.failed).toEqual([]);
  });

  it('answers from the files as they are now: an edited import and a deleted file are seen on the next query', async () => {
    expect((await service.dependentsOf('src/c.ts')).dependents.map((d) => d.path)).toEqual(['src/b.ts', 'src/index.ts']);
    tree.write('src/b.ts', 'export const b = 2; // no imports any more\n');
    fs.rmSync(path.join(tree.root, 'src/lazy.ts'));
    expect((await service.dependentsOf('src/c.ts')).dependents.map((d) => d.path)).toEqual(['src/index.ts']);
    const graph = await service.wholeGraph();
    expect(Object.keys(graph.files)).not.toContain('src/lazy.ts');
    expect(graph.files['src/index.ts']).not.toContain('src/lazy.ts');
    expect(service.graph.has('src/lazy.ts')).toBe(false);
    expect((await service.dependentsOf('src/lazy.ts')).dependents).toEqual([]);
    expect((await service.dependenciesOf('src/index.ts')).dependencies.find((d) => d.specifier === './lazy')).toMatchObject({ resolved: null, external: false });
    tree.write('src/lazy.ts', 'export default 2;\n');
    expect((await service.dependentsOf('src/lazy.ts')).dependents).toEqual([{ path: 'src/index.ts', specifier: './lazy', kind: 'dynamic-import' }]);
  });

  it('keeps a source file it cannot read as a key with no edges, and reports it', async () => {
    tree.write('src/bad.ts', Buffer.from([0x63, 0x6f, 0x6e, 0x73, 0x74, 0x20, 0xff, 0xfe, 0x0a]));
    const graph = await service.wholeGraph();
    expect(graph.files['src/bad.ts']).toEqual([]);
    expect(graph.failed).toEqual([expect.objectContaining({ path: 'src/bad.ts', code: 'EINVALIDUTF8' })]);
  });

  it('refuses a file outside the root', async () => {
    await expect(service.dependenciesOf(path.join(path.dirname(tree.root), 'elsewhere.ts'))).rejects.toMatchObject({ code: 'ENOTINROOT' });
  });
});
