import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { createEngine } from '../engine/engine.js';
import type { WarmReport } from '../engine/warming/warm-report.js';
import { CLI, makeTree, type TempTree } from './helpers/temp-tree.js';
import { gitIn } from './helpers/git.js';

const CHAIN = {
  'src/a.ts': "import { b } from './b';\nimport 'node:fs';\nexport const a = b;\n",
  'src/b.ts': "import { c } from './c';\nexport const b = c;\n",
  'src/c.ts': "import { d } from './d';\nexport const c = d;\n",
  'src/d.ts': "import { a } from './a';\nexport const d = 1;\nexport const back = () => a;\n",
  'src/unrelated.ts': 'export const u = 1;\n',
  'src/broken.ts': "import './a';\nexport const = ;\n",
};

describe('dependency warming (--entry, --depth)', () => {
  let tree: TempTree;
  beforeEach(() => {
    tree = makeTree(CHAIN);
  });
  afterEach(() => tree.remove());

  it('warms the entries and their dependencies down to the depth, cycle-safe', async () => {
    const engine = createEngine({ root: tree.root, executor: 'in-thread', persist: false }, { env: {}, readConfigFile: false });
    try {
      const shallow = await engine.warm({ entries: ['src/a.ts'], depth: 1 });
      expect(shallow).toMatchObject({ files: 2, parsed: 2, entries: { depth: 1, depthReached: 1 } });
      const deep = await engine.warm({ entries: ['src/a.ts'], depth: 10 });
      expect(deep).toMatchObject({ files: 4, parsed: 2, fromMemory: 2, entries: { depth: 10, depthReached: 3 } });
      expect(deep.files).toBe(deep.parsed + deep.fromCache + deep.failed.length + deep.skipped.length);
    } finally {
      await engine.close();
    }
  });

  it('uses the profile depth by default (1 in ci) and reports parse errors', async () => {
    const engine = createEngine({ root: tree.root, executor: 'in-thread', persist: false, profile: 'ci' }, { env: {}, readConfigFile: false });
    try {
      const report = await engine.warm({ entries: [path.join(tree.root, 'src/broken.ts')] });
      expect(report).toMatchObject({ files: 2, parseErrors: 1, entries: { depth: 1, depthReached: 1 } });
    } finally {
      await engine.close();
    }
  });

  it('takes --entry and --depth on the command line, and refuses --depth alone', () => {
    const run = (args: string[]): ReturnType<typeof spawnSync> => spawnSync(process.execPath, [CLI, 'warm', tree.root, '--json', '--no-persist', ...args], { encoding: 'utf8', cwd: tree.root });
    const result = run(['--entry', 'src/b.ts', '--depth', '2']);
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout as string) as WarmReport).toMatchObject({ files: 3, entries: { depth: 2, depthReached: 2 } });
    const alone = run(['--depth', '2']);
    expect(alone.status).toBe(2);
    expect(alone.stderr).toContain('--depth');
    expect(run(['--entry', 'src/a.ts', '--depth', 'deep']).status).toBe(2);
  });
});

describe('strata warm --changed', () => {
  it('warms what git reports as changed or untracked, and the whole tree outside a checkout', () => {
    const tree = makeTree(CHAIN);
    try {
      const git = gitIn(tree.root);
      const warm = (...args: string[]): WarmReport => {
        const result = spawnSync(process.execPath, [CLI, 'warm', tree.root, '--json', '--no-persist', ...args], { encoding: 'utf8', cwd: tree.root });
        expect(result.status).toBe(0);
        return JSON.parse(result.stdout) as WarmReport;
      };
      expect(warm('--changed').files).toBe(6); // not a checkout yet: the whole tree
      git('init', '-q');
      git('add', '.');
      git('commit', '-q', '-m', 'init');
      expect(warm('--changed').files).toBe(0);
      tree.write('src/c.ts', "import { d } from './d';\nexport const c = d + 1;\n");
      tree.write('src/new.ts', 'export const n = 1;\n');
      tree.write('notes.md', 'not source');
      expect(warm('--changed', '--depth', '0')).toMatchObject({ files: 2, entries: { depth: 0 } });
      expect(warm('--changed', '--depth', '1').files).toBe(3); // c's dependency d too
    } finally {
      tree.remove();
    }
  });
});
