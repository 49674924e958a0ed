import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { discoverSourceFiles, isSourceFile, SOURCE_EXTENSIONS } from '../engine/discovery/discovery.js';
import type { DiscoveryEvent, DiscoveryOptions } from '../engine/discovery/discovery.js';

const DEFAULTS: DiscoveryOptions = { includeNodeModules: false, maxFileSize: 5 * 1024 * 1024 };

let root: string;
/** A second temporary directory, outside the root, for links that lead out of it. */
let outside: string;

beforeEach(() => {
  root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'strata-discovery-')));
  outside = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'strata-discovery-outside-')));
});

afterEach(() => {
  for (const dir of [root, outside]) removeTree(dir);
});

/**
 * Removes a directory tree without recursion (`fs.rmSync` overflows the stack on the 2,000-deep
 * chain), restoring permissions that a test took away on the way down.
 */
function removeTree(dir: string): void {
  const order: { file: string; directory: boolean }[] = [];
  const stack = [dir];
  while (stack.length > 0) {
    const current = stack.pop()!;
    const stats = fs.lstatSync(current, { throwIfNoEntry: false });
    if (!stats) continue;
    const directory = stats.isDirectory();
    order.push({ file: current, directory });
    if (!directory) continue;
    if ((stats.mode & 0o700) !== 0o700) fs.chmodSync(current, 0o755);
    for (const name of fs.readdirSync(current)) stack.push(path.join(current, name));
  }
  for (const { file, directory } of order.reverse()) {
    if (directory) fs.rmdirSync(file);
    else fs.unlinkSync(file);
  }
}

/** Writes a file under `base` (the root unless given), creating its directories. */
function write(rel: string, content = 'export {};\n', base = root): string {
  const file = path.join(base, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
  return file;
}

function link(rel: string, target: string): void {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.symlinkSync(target, file);
}

async function collect(options: Partial<DiscoveryOptions> = {}, at = root): Promise<DiscoveryEvent[]> {
  const events: DiscoveryEvent[] = [];
  for await (const event of discoverSourceFiles(at, { ...DEFAULTS, ...options })) events.push(event);
  return events;
}

function filePaths(events: readonly DiscoveryEvent[]): string[] {
  return events.flatMap((event) => (event.type === 'file' ? [event.path] : []));
}

function skips(events: readonly DiscoveryEvent[]): { path: string; reason: string }[] {
  return events.flatMap((event) => (event.type === 'skipped' ? [{ path: event.skip.path, reason: event.skip.reason }] : []));
}

describe('isSourceFile', () => {
  it('accepts the eight source extensions, declaration files included, and nothing else', () => {
    for (const extension of SOURCE_EXTENSIONS) expect(isSourceFile(`a${extension}`)).toBe(true);
    expect(isSourceFile('index.d.ts')).toBe(true);
    expect(isSourceFile('dir/a.mts')).toBe(true);
    for (const name of ['a.json', 'a.css', 'a.ts.map', 'README.md', '.ts', 'ts', 'dir.ts/a', 'a.TS']) expect(isSourceFile(name)).toBe(false);
  });
});

describe('discoverSourceFiles', () => {
  it('reports files with a source extension, declaration files included, and not .json or .css', async () => {
    for (const name of ['a.ts', 'b.tsx', 'c.mts', 'd.cts', 'e.js', 'f.jsx', 'g.mjs', 'h.cjs', 'types.d.ts', 'data.json', 'style.css', 'README.md', '.ts']) write(name);
    const events = await collect();
    expect(filePaths(events)).toEqual(['a.ts', 'b.tsx', 'c.mts', 'd.cts', 'e.js', 'f.jsx', 'g.mjs', 'h.cjs', 'types.d.ts']);
    expect(events.every((event) => event.type === 'file')).toBe(true);
  });

  it('gives each file its realpath and its size', async () => {
    write('src/a.ts', 'const a = 1;\n');
    const events = await collect({}, path.join(root, '.', 'src', '..'));
    expect(events).toEqual([{ type: 'file', path: 'src/a.ts', absolutePath: path.join(root, 'src', 'a.ts'), size: 13, stats: expect.anything() }]);
    const stats = events[0]?.type === 'file' ? events[0].stats : undefined;
    // A walk stats with plain (number) stats: the restart path compares them with the index's nanoseconds.
    const expected = fs.statSync(path.join(root, 'src', 'a.ts'));
    expect(stats).toBeInstanceOf(fs.Stats);
    expect([stats?.ino, stats?.size, stats?.mtimeMs, stats?.ctimeMs]).toEqual([expected.ino, expected.size, expected.mtimeMs, expected.ctimeMs]);
  });

  it('walks dot-directories but never .git', async () => {
    write('.config/tool.ts');
    write('.git/hooks/pre-commit.js');
    write('sub/.git/objects/x.js');
    write('sub/y.ts');
    expect(filePaths(await collect())).toEqual(['.config/tool.ts', 'sub/y.ts']);
  });

  it('honours .gitignore files at every depth, relative to their directory, without a git repository', async () => {
    write('.gitignore', ['# generated', '*.gen.ts', 'build/', '/anchored.ts', '**/tmp/**', 'out/', ''].join('\n'));
    write('sub/.gitignore', ['!keep.gen.ts', 'local/', '!out/'].join('\r\n'));
    for (const rel of [
      'a.gen.ts',
      'anchored.ts',
      'build/x.ts',
      'local/kept.ts',
      'out/x.ts',
      'src/build.ts',
      'src/tmp/deep/x.ts',
      'sub/anchored.ts',
      'sub/build/y.ts',
      'sub/keep.gen.ts',
      'sub/local/z.ts',
      'sub/other.gen.ts',
      'sub/out/q.ts',
      'sub/out/w.gen.ts',
    ]) {
      write(rel);
    }
    expect(filePaths(await collect())).toEqual(['local/kept.ts', 'src/build.ts', 'sub/anchored.ts', 'sub/keep.gen.ts', 'sub/out/q.ts']);
  });

  it('lets a deeper .gitignore override a shallower one, and never re-includes a file under an excluded directory', async () => {
    write('.gitignore', 'vendor/\n!vendor/keep.ts\n');
    write('pkg/.gitignore', '*.js\n');
    write('pkg/lib/.gitignore', '!index.js\n');
    for (const rel of ['vendor/keep.ts', 'vendor/other.ts', 'pkg/a.js', 'pkg/b.ts', 'pkg/lib/index.js', 'pkg/lib/util.js']) write(rel);
    expect(filePaths(await collect())).toEqual(['pkg/b.ts', 'pkg/lib/index.js']);
  });

  it('honours .git/info/exclude at the root', async () => {
    write('.git/info/exclude', 'secret/\n*.local.ts\n');
    for (const rel of ['secret/a.ts', 'b.local.ts', 'sub/c.local.ts', 'c.ts']) write(rel);
    expect(filePaths(await collect())).toEqual(['c.ts']);
  });

  it('skips node_modules at any depth unless told to include it', async () => {
    for (const rel of ['node_modules/dep/index.js', 'packages/a/node_modules/dep/index.js', 'packages/a/src/a.ts']) write(rel);
    expect(filePaths(await collect())).toEqual(['packages/a/src/a.ts']);
    expect(filePaths(await collect({ includeNodeModules: true }))).toEqual([
      'node_modules/dep/index.js',
      'packages/a/node_modules/dep/index.js',
      'packages/a/src/a.ts',
    ]);
  });

  it('always skips excludeDirs, node_modules included or not', async () => {
    write('node_modules/.cache/strata/entry.js');
    write('node_modules/dep/index.js');
    write('.cache/x.ts');
    write('a.ts');
    const excludeDirs = [path.join(root, 'node_modules', '.cache', 'strata'), path.join(root, '.cache')];
    expect(filePaths(await collect({ excludeDirs }))).toEqual(['a.ts']);
    expect(filePaths(await collect({ excludeDirs, includeNodeModules: true }))).toEqual(['a.ts', 'node_modules/dep/index.js']);
  });

  it('skips files larger than maxFileSize as too-large', async () => {
    write('big.ts', 'x'.repeat(11));
    write('fits.ts', 'x'.repeat(10));
    const events = await collect({ maxFileSize: 10 });
    expect(events).toEqual([
      { type: 'skipped', skip: { path: 'big.ts', reason: 'too-large' } },
      { type: 'file', path: 'fits.ts', absolutePath: path.join(root, 'fits.ts'), size: 10, stats: expect.anything() },
    ]);
  });

  it('reports a file reached through a symlink inside the root once, under the first path in walk order', async () => {
    write('z/real.ts');
    link('a-link.ts', 'z/real.ts');
    write('lib/x.ts');
    link('zz-link.ts', 'lib/x.ts');
    const events = await collect();
    expect(filePaths(events)).toEqual(['a-link.ts', 'lib/x.ts']);
    expect(events[0]).toMatchObject({ type: 'file', path: 'a-link.ts', absolutePath: path.join(root, 'z', 'real.ts') });
    expect(skips(events)).toEqual([]);
  });

  it('reports both names of a hard-linked file', async () => {
    write('a.ts');
    fs.linkSync(path.join(root, 'a.ts'), path.join(root, 'b.ts'));
    expect(filePaths(await collect())).toEqual(['a.ts', 'b.ts']);
  });

  it('walks a symlinked directory inside the root once', async () => {
    write('real/a.ts');
    link('alias', 'real');
    const events = await collect();
    expect(filePaths(events)).toEqual(['alias/a.ts']);
    expect(events[0]).toMatchObject({ absolutePath: path.join(root, 'real', 'a.ts') });
  });

  it('skips a symlinked file outside the root, and ignores links outside that are not source files', async () => {
    write('shared.ts', 'export {};\n', outside);
    write('notes.txt', 'hi\n', outside);
    link('out.ts', path.join(outside, 'shared.ts'));
    link('notes', path.join(outside, 'notes.txt'));
    expect(await collect()).toEqual([{ type: 'skipped', skip: { path: 'out.ts', reason: 'symlink-outside-root' } }]);
  });

  it('skips a symlinked directory outside the root with one skip for the link', async () => {
    write('lib/a.ts', 'export {};\n', outside);
    write('lib/b.ts', 'export {};\n', outside);
    link('vendor', path.join(outside, 'lib'));
    write('main.ts');
    const events = await collect();
    expect(skips(events)).toEqual([{ path: 'vendor', reason: 'symlink-outside-root' }]);
    expect(filePaths(events)).toEqual(['main.ts']);
  });

  it('skips a directory symlink to an ancestor as symlink-loop and terminates', async () => {
    write('sub/a.ts');
    link('sub/loop', '..');
    link('sub/self', '.');
    link('top', '.');
    const events = await collect();
    expect(filePaths(events)).toEqual(['sub/a.ts']);
    expect(skips(events)).toEqual([
      { path: 'sub/loop', reason: 'symlink-loop' },
      { path: 'sub/self', reason: 'symlink-loop' },
      { path: 'top', reason: 'symlink-loop' },
    ]);
  });

  it('walks a directory reached by two links once, with no skip: a second link is not a loop', async () => {
    write('a/real/x.ts');
    link('b/alias', '../a/real');
    const events = await collect();
    expect(filePaths(events)).toEqual(['a/real/x.ts']);
    expect(events.filter((event) => event.type !== 'file')).toEqual([]);
  });

  it('skips a link that loops on itself (ELOOP) as symlink-loop', async () => {
    link('self.ts', 'self.ts');
    link('ping.js', 'pong.js');
    link('pong.js', 'ping.js');
    expect(skips(await collect())).toEqual([
      { path: 'ping.js', reason: 'symlink-loop' },
      { path: 'pong.js', reason: 'symlink-loop' },
      { path: 'self.ts', reason: 'symlink-loop' },
    ]);
  });

  it('reports a dangling symlink as failed with ENOENT', async () => {
    link('gone.ts', 'nowhere.ts');
    link('gone-data', 'nowhere.json');
    const events = await collect();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'failed', failure: { path: 'gone.ts', code: 'ENOENT' } });
    const message = events[0]?.type === 'failed' ? events[0].failure.message : '';
    expect(message).not.toContain(root);
  });

  it('warns about an unreadable directory and goes on (run as an unprivileged user when the tests run as root)', async () => {
    write('a.ts');
    write('locked/hidden.ts');
    write('z.ts');
    fs.chmodSync(path.join(root, 'locked'), 0o000);
    let events: DiscoveryEvent[];
    if (process.getuid?.() === 0) {
      // root reads anything: walk as `nobody` in a child process, from a copy of the walker that
      // `nobody` can read (the checkout itself may sit in a directory only root can enter).
      fs.chmodSync(root, 0o755);
      const modules = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-walker-'));
      fs.cpSync(path.join(__dirname, '..', 'engine', 'discovery'), path.join(modules, 'engine', 'discovery'), { recursive: true });
      fs.cpSync(path.join(__dirname, '..', 'shared', 'errors.js'), path.join(modules, 'shared', 'errors.js'));
      // The batch lstat of a walk with a snapshot, and the addon it runs when built.
      for (const file of ['backend.js', 'stat-batch.js', 'strata-addon.js', 'strata_native.node']) {
        const from = path.join(__dirname, '..', 'native-bindings', file);
        if (fs.existsSync(from)) fs.cpSync(from, path.join(modules, 'native-bindings', file));
      }
      for (const dependency of ['ignore', 'ini']) fs.cpSync(path.dirname(require.resolve(`${dependency}/package.json`)), path.join(modules, 'node_modules', dependency), { recursive: true });
      for (const dir of [modules, path.join(modules, 'engine'), path.join(modules, 'engine', 'discovery'), path.join(modules, 'shared'), path.join(modules, 'native-bindings'), path.join(modules, 'node_modules')]) fs.chmodSync(dir, 0o755);
      const script = `
        const { discoverSourceFiles } = require(${JSON.stringify(path.join(modules, 'engine', 'discovery', 'discovery.js'))});
        (async () => {
          const events = [];
          for await (const event of discoverSourceFiles(${JSON.stringify(root)}, ${JSON.stringify(DEFAULTS)})) events.push(event);
          process.stdout.write(JSON.stringify(events, (key, value) => (key === 'stats' ? undefined : value)));
        })();`;
      const child = spawnSync(process.execPath, ['-e', script], { uid: 65534, gid: 65534, encoding: 'utf8', cwd: os.tmpdir() });
      fs.rmSync(modules, { recursive: true, force: true });
      expect(child.stderr).toBe('');
      events = JSON.parse(child.stdout) as DiscoveryEvent[];
    } else {
      events = await collect();
    }
    expect(filePaths(events)).toEqual(['a.ts', 'z.ts']);
    const warnings = events.filter((event) => event.type === 'warning');
    expect(warnings).toEqual([{ type: 'warning', path: 'locked', message: expect.stringContaining('EACCES') }]);
  });

  it('handles names with spaces and unicode, ordered by UTF-8 bytes', async () => {
    for (const rel of ['my file.ts', 'ünïcødé/日本語.ts', '😀.ts', 'Ａ.ts', 'B.ts', 'a b/c d.tsx']) write(rel);
    const events = await collect();
    expect(filePaths(events)).toEqual(['B.ts', 'a b/c d.tsx', 'my file.ts', 'ünïcødé/日本語.ts', 'Ａ.ts', '😀.ts']);
    const file = events.find((event) => event.type === 'file' && event.path === 'ünïcødé/日本語.ts');
    expect(file?.type === 'file' && fs.readFileSync(file.absolutePath, 'utf8')).toBe('export {};\n');
  });

  it('walks depth-first with entries sorted by name, the same way every time', async () => {
    for (const rel of ['b.ts', 'a.ts', 'a/z.ts', 'a/b/c.ts', 'a-b.ts', 'A.ts', 'c/d/e/f.ts', 'c.ts', '_.ts']) write(rel);
    const first = filePaths(await collect());
    expect(first).toEqual(['A.ts', '_.ts', 'a/b/c.ts', 'a/z.ts', 'a-b.ts', 'a.ts', 'b.ts', 'c/d/e/f.ts', 'c.ts']);
    expect(filePaths(await collect())).toEqual(first);
  });

  it('walks a 2,000-deep directory chain without overflowing the stack', async () => {
    const deep = path.join(root, ...new Array<string>(2000).fill('d'));
    fs.mkdirSync(deep, { recursive: true });
    fs.writeFileSync(path.join(deep, 'x.ts'), 'export {};\n');
    const events = await collect();
    expect(filePaths(events)).toEqual([`${new Array<string>(2000).fill('d').join('/')}/x.ts`]);
  });

  it('stops cleanly when the consumer stops early', async () => {
    for (let index = 0; index < 50; index++) write(`dir${index}/f.ts`);
    const generator = discoverSourceFiles(root, DEFAULTS);
    const first = await generator.next();
    expect(first.value).toMatchObject({ type: 'file', path: 'dir0/f.ts' });
    await generator.return(undefined);
    expect((await generator.next()).done).toBe(true);
  });

  it('throws the abort reason once the signal aborts', async () => {
    for (let index = 0; index < 10; index++) write(`f${index}.ts`);
    const controller = new AbortController();
    const seen: DiscoveryEvent[] = [];
    const walk = async (): Promise<void> => {
      for await (const event of discoverSourceFiles(root, { ...DEFAULTS, signal: controller.signal })) {
        seen.push(event);
        controller.abort(new Error('stop'));
      }
    };
    await expect(walk()).rejects.toThrow('stop');
    expect(seen).toHaveLength(1);
  });
});
