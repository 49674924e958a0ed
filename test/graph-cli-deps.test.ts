import * as path from 'node:path';
import { runStrata, strataJson } from './helpers/cli.js';
import { makeTree, type TempTree } from './helpers/temp-tree.js';

describe('strata deps (CLI)', () => {
  let tree: TempTree;
  beforeAll(() => {
    tree = makeTree({
      'tsconfig.json': JSON.stringify({ compilerOptions: { paths: { '#lib/*': ['./lib/*'] } } }),
      'src/a.ts': "import { b } from './b.js';\nimport type { L } from '#lib/l';\nimport 'node:fs';\nexport const a = b;\nexport type { L };\n",
      'src/b.ts': "import { c } from './c';\nexport const b = c;\n",
      'src/c.ts': "import { a } from './a';\nexport const c = 1;\nexport const back = () => a;\n",
      'lib/l.ts': 'export type L = 1;\n',
      'README.md': '# not source\n',
    });
  });
  afterAll(() => tree.remove());

  it("prints a file's dependencies, FILE taken relative to the current directory", () => {
    const answer = strataJson(['deps', 'a.ts', '--root', tree.root], path.join(tree.root, 'src'));
    expect(answer).toEqual({
      schemaVersion: 1,
      file: 'src/a.ts',
      tsconfig: 'tsconfig.json',
      dependencies: [
        { specifier: './b.js', resolved: 'src/b.ts', kind: 'import', typeOnly: false, external: false },
        { specifier: '#lib/l', resolved: 'lib/l.ts', kind: 'import', typeOnly: true, external: false },
        { specifier: 'node:fs', resolved: null, kind: 'import', typeOnly: false, external: true },
      ],
    });
  });

  it('prints direct dependents with --reverse, and a flat list with depths with --depth, through a cycle', () => {
    expect(strataJson(['deps', 'src/b.ts', '--reverse'], tree.root)).toEqual({ schemaVersion: 1, file: 'src/b.ts', dependents: [{ path: 'src/a.ts', specifier: './b.js', kind: 'import' }] });
    const deep = strataJson(['deps', 'src/b.ts', '--reverse', '--depth', '5'], tree.root) as { dependents: { path: string; depth: number }[]; depth: number; schemaVersion: number };
    expect(deep.schemaVersion).toBe(1);
    expect(deep.depth).toBe(5);
    expect(deep.dependents.map((d) => [d.path, d.depth])).toEqual([
      ['src/a.ts', 1],
      ['src/c.ts', 2],
    ]);
  });

  it('prints the whole graph without FILE: a key for every source file, sorted, in-root targets only', () => {
    const graph = strataJson(['deps', '--root', tree.root], path.dirname(tree.root));
    expect(graph).toEqual({
      schemaVersion: 1,
      root: tree.root,
      files: { 'lib/l.ts': [], 'src/a.ts': ['lib/l.ts', 'src/b.ts'], 'src/b.ts': ['src/c.ts'], 'src/c.ts': ['src/a.ts'] },
      failed: [],
    });
  });

  it('prints a readable listing on stdout without --json', () => {
    const { status, stdout } = runStrata(['deps', 'src/a.ts'], { cwd: tree.root });
    expect(status).toBe(0);
    expect(stdout).toMatch(/^src\/a\.ts: 3 dependencies \(tsconfig\.json\)/);
    expect(stdout).toMatch(/\.\/b\.js\s+→ src\/b\.ts/);
    expect(stdout).toMatch(/node:fs\s+→ external/);
  });

  it.each([
    [['deps', 'src/a.ts', '--depth', '0'], /--depth.*a positive integer/],
    [['deps', 'src/a.ts', '--depth', 'two'], /--depth.*a positive integer/],
    [['deps', '--reverse'], /--reverse needs a FILE/],
    [['deps', 'src/missing.ts'], /is not a file/],
    [['deps', 'README.md'], /not a source file/],
    [['deps', '../elsewhere.ts'], /not inside the root/],
  ])('exits 2 on %j', (args, message) => {
    const { status, stderr, stdout } = runStrata(args, { cwd: tree.root });
    expect(status).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
  });
});
