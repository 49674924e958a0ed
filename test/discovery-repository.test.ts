/**
 * Discovery's ignore sources from outside the root, on real git repositories (checked against git's
 * own `ls-files --exclude-standard`), and pnpm's node_modules layout walked once without a false
 * symlink-loop skip. The watcher's ignore rules use the same layers (streams/ignore-rules.ts).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { discoverSourceFiles, isSourceFile, type DiscoveryEvent } from '../engine/discovery/discovery.js';
import { IgnoreRules } from '../engine/streams/ignore-rules.js';
import { gitIn } from './helpers/git.js';

let base: string;
let home: string;
const savedEnv = { HOME: process.env.HOME, XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME, GIT_CONFIG_NOSYSTEM: process.env.GIT_CONFIG_NOSYSTEM };

beforeEach(() => {
  base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'strata-repo-')));
  // A home of the test's own: git (and discovery) read ~/.gitconfig and ~/.config/git/ignore there.
  home = path.join(base, 'home');
  fs.mkdirSync(home);
  process.env.HOME = home;
  delete process.env.XDG_CONFIG_HOME;
  process.env.GIT_CONFIG_NOSYSTEM = '1';
});

afterEach(() => {
  for (const [key, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  fs.rmSync(base, { recursive: true, force: true });
});

function write(file: string, content = 'export {};\n'): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
}

async function discover(root: string, includeNodeModules = false): Promise<DiscoveryEvent[]> {
  const events: DiscoveryEvent[] = [];
  for await (const event of discoverSourceFiles(root, { includeNodeModules, maxFileSize: 1 << 20 })) events.push(event);
  return events;
}

const filesOf = (events: readonly DiscoveryEvent[]): string[] => events.flatMap((event) => (event.type === 'file' ? [event.path] : []));
const othersOf = (events: readonly DiscoveryEvent[]): DiscoveryEvent[] => events.filter((event) => event.type !== 'file');

/** The source files git itself considers not ignored under `dir` (tracked or not), relative to `dir`. */
function gitVisible(dir: string): string[] {
  // The test's HOME explicitly: jest's process.env is not the one a child inherits.
  const result = spawnSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: dir, encoding: 'utf8', env: { ...process.env } });
  if (result.status !== 0) throw new Error(result.stderr);
  return result.stdout.split('\n').filter((line) => line !== '' && isSourceFile(line)).sort();
}

/** A repository whose ignore rules live above the root `packages/app`, in every source git has. */
function repositoryWithOuterRules(top: string): string {
  gitIn(base)('init', '-q', top);
  write(path.join(top, '.gitignore'), '*.gen.ts\n/packages/app/vendored/\n');
  write(path.join(top, 'packages/.gitignore'), 'dist/\n!keep.gen.ts\n');
  write(path.join(top, '.git/info/exclude'), '*.local.ts\n');
  write(path.join(home, '.config/git/ignore'), '*.scratch.ts\n'); // git's default core.excludesFile
  const app = path.join(top, 'packages/app');
  for (const rel of ['src/a.ts', 'src/b.gen.ts', 'src/keep.gen.ts', 'dist/out.js', 'vendored/v.ts', 'src/me.local.ts', 'src/notes.scratch.ts', 'src/deep/c.ts']) write(path.join(app, rel));
  return app;
}

describe('ignore rules from outside the root', () => {
  it('applies .gitignore files above the root, info/exclude and the default core.excludesFile, as git does', async () => {
    const app = repositoryWithOuterRules(path.join(base, 'repo'));
    const events = await discover(app);
    expect(filesOf(events)).toEqual(['src/a.ts', 'src/deep/c.ts', 'src/keep.gen.ts']);
    expect(filesOf(events)).toEqual(gitVisible(app));
    expect(othersOf(events)).toEqual([]);
  });

  it('reads core.excludesFile from ~/.gitconfig and from the repository config, which wins', async () => {
    const top = path.join(base, 'repo');
    const app = repositoryWithOuterRules(top);
    write(path.join(home, 'global-ignore'), 'deep/\n');
    write(path.join(home, '.gitconfig'), '[Core]\n\texcludesFile = ~/global-ignore\n');
    expect(filesOf(await discover(app))).toEqual(['src/a.ts', 'src/keep.gen.ts', 'src/notes.scratch.ts']);
    expect(filesOf(await discover(app))).toEqual(gitVisible(app));
    write(path.join(base, 'repo-ignore'), 'a.ts\n');
    gitIn(top)('config', 'core.excludesFile', path.join(base, 'repo-ignore'));
    expect(filesOf(await discover(app))).toEqual(['src/deep/c.ts', 'src/keep.gen.ts', 'src/notes.scratch.ts']);
    expect(filesOf(await discover(app))).toEqual(gitVisible(app));
  });

  it('finds the shared info/exclude of a linked worktree (.git is a file there)', async () => {
    const top = path.join(base, 'repo');
    const git = gitIn(base);
    git('init', '-q', top);
    write(path.join(top, 'README.md'), '# r\n');
    gitIn(top)('add', '.');
    gitIn(top)('commit', '-qm', 'first');
    const worktree = path.join(base, 'worktree');
    gitIn(top)('worktree', 'add', '-q', worktree);
    write(path.join(top, '.git/info/exclude'), '*.local.ts\n');
    for (const rel of ['a.ts', 'b.local.ts']) write(path.join(worktree, rel));
    expect(fs.statSync(path.join(worktree, '.git')).isFile()).toBe(true);
    expect(filesOf(await discover(worktree))).toEqual(['a.ts']);
    expect(filesOf(await discover(worktree))).toEqual(gitVisible(worktree));
  });

  it('applies none of them to a root that they ignore, and says so', async () => {
    const app = repositoryWithOuterRules(path.join(base, 'repo'));
    const vendored = path.join(app, 'vendored');
    const events = await discover(vendored);
    expect(filesOf(events)).toEqual(['v.ts']);
    expect(othersOf(events)).toEqual([{ type: 'warning', path: '.', message: expect.stringContaining('the root is ignored by the ignore rules above it') }]);
  });

  it('gives the watcher the same rules', () => {
    const app = repositoryWithOuterRules(path.join(base, 'repo'));
    const rules = new IgnoreRules(app, false, null);
    const ignored = ['src/b.gen.ts', 'dist/out.js', 'vendored/v.ts', 'src/me.local.ts', 'src/notes.scratch.ts'].filter((rel) => rules.isIgnored(rel, false));
    expect(ignored).toEqual(['src/b.gen.ts', 'dist/out.js', 'vendored/v.ts', 'src/me.local.ts', 'src/notes.scratch.ts']);
    expect(rules.isIgnored('src/keep.gen.ts', false)).toBe(false);
    expect(rules.isIgnored('src/a.ts', false)).toBe(false);
  });
});

describe("pnpm's layout", () => {
  /** What `pnpm install` lays out for a workspace: a content store under .pnpm, links into it, workspace links. */
  function pnpmWorkspace(root: string): void {
    const link = (at: string, target: string): void => {
      fs.mkdirSync(path.dirname(path.join(root, at)), { recursive: true });
      fs.symlinkSync(target, path.join(root, at), 'dir');
    };
    write(path.join(root, 'pnpm-workspace.yaml'), "packages:\n  - 'packages/*'\n");
    write(path.join(root, 'node_modules/.pnpm/tslib@2.8.1/node_modules/tslib/tslib.js'), 'module.exports = {};\n');
    write(path.join(root, 'node_modules/.pnpm/dep@1.0.0/node_modules/dep/index.js'), "require('tslib');\n");
    link('node_modules/.pnpm/dep@1.0.0/node_modules/tslib', '../../tslib@2.8.1/node_modules/tslib');
    link('node_modules/.pnpm/node_modules/tslib', '../tslib@2.8.1/node_modules/tslib'); // pnpm's hoisted links
    link('node_modules/.pnpm/node_modules/dep', '../dep@1.0.0/node_modules/dep');
    link('node_modules/tslib', '.pnpm/tslib@2.8.1/node_modules/tslib');
    write(path.join(root, 'packages/lib/src/index.ts'), 'export const lib = 1;\n');
    write(path.join(root, 'packages/app/src/main.ts'), "import { lib } from 'lib';\nexport const app = lib;\n");
    link('packages/app/node_modules/lib', '../../lib'); // the workspace link
    link('packages/app/node_modules/dep', '../../../node_modules/.pnpm/dep@1.0.0/node_modules/dep');
    link('packages/app/node_modules/tslib', '../../../node_modules/.pnpm/tslib@2.8.1/node_modules/tslib');
  }

  it('walks each package once with no symlink-loop skip, node_modules skipped or included', async () => {
    const root = path.join(base, 'ws');
    pnpmWorkspace(root);
    const skipped = await discover(root);
    expect(filesOf(skipped)).toEqual(['packages/app/src/main.ts', 'packages/lib/src/index.ts']);
    expect(othersOf(skipped)).toEqual([]);
    const included = await discover(root, true);
    // Each file once, under the first path the walk meets it by (a link before the store's own entry).
    expect(filesOf(included)).toEqual(['node_modules/.pnpm/dep@1.0.0/node_modules/dep/index.js', 'node_modules/.pnpm/dep@1.0.0/node_modules/tslib/tslib.js', 'packages/app/node_modules/lib/src/index.ts', 'packages/app/src/main.ts']);
    const reals = included.flatMap((event) => (event.type === 'file' ? [event.absolutePath] : []));
    expect(new Set(reals).size).toBe(4);
    expect(reals).toContain(path.join(root, 'packages/lib/src/index.ts'));
    expect(othersOf(included)).toEqual([]);
  });

  it('still skips a real loop inside it', async () => {
    const root = path.join(base, 'ws');
    pnpmWorkspace(root);
    fs.symlinkSync('../..', path.join(root, 'packages/lib/src/up'), 'dir');
    const events = await discover(root);
    expect(othersOf(events)).toEqual([expect.objectContaining({ type: 'skipped', skip: { path: 'packages/lib/src/up', reason: 'symlink-loop' } })]);
  });
});
