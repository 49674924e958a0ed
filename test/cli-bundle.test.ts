/**
 * The CLI bundle (esbuild, bundle-build.ts): it is what the sources build, leaves packages to Node but
 * the bundled ones, finds the files beside it and shares one namespace object per built-in; `strata
 * warm` runs from it (and only that) with the same report as from the modules.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { BUNDLE_FILE, BUNDLED_PACKAGES, sharedBuiltins, writeBundle } from '../engine/cli/bundle-build.js';
import { codeCacheFileFor } from '../engine/cli/bundle-load.js';
import { ageFile, CLI, makeTree, type TempTree } from './helpers/temp-tree.js';

const DIST = path.join(__dirname, '..');
const ROOT = path.join(DIST, '..');
const BUNDLE = path.join(DIST, BUNDLE_FILE);

/** Runs `script` in a fresh Node (jest's module runtime is not Node's). */
const node = (script: string) => spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { PATH: process.env.PATH }, timeout: 60_000 });

describe('the bundle', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bundle-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('exists after the build, is ASCII, and exports what main.ts takes from it', () => {
    expect(fs.existsSync(BUNDLE)).toBe(true);
    expect(fs.statSync(BUNDLE).mtimeMs).toBeGreaterThanOrEqual(fs.statSync(CLI).mtimeMs);
    expect(/[^\x00-\x7f]/.test(fs.readFileSync(BUNDLE, 'latin1'))).toBe(false);
    const run = node(`console.log(Object.keys(require(${JSON.stringify(BUNDLE)})).join(' '))`);
    expect({ status: run.status, stdout: run.stdout, stderr: run.stderr }).toEqual({ status: 0, stdout: 'main\n', stderr: '' });
  });

  it('has a V8 code cache from the build that V8 takes; one of other bytes is refused, and the bundle still runs', () => {
    const load = (bundle: string, env: Record<string, string> = {}) =>
      spawnSync(process.execPath, ['-e', `const l = require(${JSON.stringify(path.join(DIST, 'engine/cli/bundle-load.js'))}).loadBundle(${JSON.stringify(bundle)}); console.log(l.codeCache, typeof l.exports.main)`], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env } });
    expect(fs.statSync(codeCacheFileFor(BUNDLE)).size).toBeGreaterThan(100_000);
    expect(load(BUNDLE).stdout).toBe('hit function\n');
    expect(load(BUNDLE, { STRATA_BUNDLE_CACHE: 'off' }).stdout).toBe('none function\n');
    // The same cache beside a bundle of other text (beside the real one: its requires resolve the
    // same): V8 refuses it and compiles the bundle itself; so it does a cache of other bytes.
    const copy = path.join(path.dirname(BUNDLE), `strata-bundle-test-${process.pid}.js`);
    try {
      fs.writeFileSync(copy, fs.readFileSync(BUNDLE, 'utf8') + '\n// another build\n');
      fs.copyFileSync(codeCacheFileFor(BUNDLE), codeCacheFileFor(copy));
      expect(load(copy)).toMatchObject({ stdout: 'rejected function\n', stderr: '' });
      fs.writeFileSync(codeCacheFileFor(copy), 'not a code cache');
      expect(load(copy)).toMatchObject({ stdout: 'rejected function\n', stderr: '' });
    } finally {
      fs.rmSync(copy, { force: true });
      fs.rmSync(codeCacheFileFor(copy), { force: true });
    }
  });

  it('is what the sources build, leaving packages to Node but the bundled ones', async () => {
    const metafile = await writeBundle(ROOT, path.join(dir, 'bundle.js'));
    expect(fs.readFileSync(path.join(dir, 'bundle.js'))).toEqual(fs.readFileSync(BUNDLE));
    const packageOf = (file: string): string | null => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file)?.[1] ?? null;
    const bundled = new Set(Object.keys(metafile.inputs).map(packageOf).filter((name) => name !== null));
    for (const name of BUNDLED_PACKAGES) expect(bundled).toContain(name);
    for (const name of ['typescript', 'piscina', 'chokidar', 'prom-client', 'systeminformation', 'lz4-napi', '@node-rs/xxhash', 'commander']) expect(bundled).not.toContain(name);
    const external = new Set(Object.values(metafile.inputs).flatMap((input) => input.imports.filter((i) => i.external).map((i) => i.path)));
    for (const name of ['typescript', 'piscina', 'chokidar', 'systeminformation', 'lz4-napi', '@node-rs/xxhash', 'commander']) expect(external).toContain(name);
    // One namespace object per built-in (sharedBuiltins), not a copy in each module that imports it.
    const text = fs.readFileSync(BUNDLE, 'latin1');
    expect(text).not.toMatch(/__toESM\(require\("node:|__importStar\(/);
    expect(text.match(/__reExport\(\w+, ?require\("node:fs"\)\)/g)).toHaveLength(1); // minified: no space
  });

  it('finds the files beside it where its modules look for them (__dirname is the bundle\'s directory)', () => {
    const here = path.dirname(BUNDLE);
    expect(fs.existsSync(path.join(here, '..', '..', 'workers', 'worker.js'))).toBe(true); // pool/parse-pool.ts
    expect(fs.existsSync(path.join(here, '..', '..', 'bench', 'suite.js'))).toBe(true); // cli/bench-command.ts
    const version = (JSON.parse(fs.readFileSync(path.join(here, '..', '..', '..', 'package.json'), 'utf8')) as { version: string }).version; // cli/cli.ts
    const run = node(`require(${JSON.stringify(BUNDLE)}).main(['--version']).then((code) => { process.exitCode = code; })`);
    expect({ status: run.status, stdout: run.stdout, stderr: run.stderr }).toEqual({ status: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('shares one namespace object per built-in between modules, with its default export and live names', async () => {
    fs.writeFileSync(path.join(dir, 'a.ts'), "import * as path from 'node:path';\nimport { b } from './b';\nexport const a = { path, b, c: () => (require('./c') as { c: unknown }).c };\n");
    fs.writeFileSync(path.join(dir, 'b.ts'), "import * as path from 'node:path';\nimport fs, { existsSync } from 'node:fs';\nexport const b = { path, fs, existsSync };\n");
    fs.writeFileSync(path.join(dir, 'c.ts'), "import * as path from 'node:path';\nexport const c = path;\n");
    await build({ entryPoints: [path.join(dir, 'a.ts')], outfile: path.join(dir, 'out.js'), bundle: true, platform: 'node', format: 'cjs', plugins: [sharedBuiltins], logLevel: 'silent' });
    const run = node(`const { a } = require(${JSON.stringify(path.join(dir, 'out.js'))});
      console.log(a.path === a.b.path, a.path === a.c(), a.path.join('x', 'y'), a.path.default === require('node:path'), a.b.fs === require('node:fs'), a.b.existsSync === require('node:fs').existsSync);`);
    expect({ status: run.status, stdout: run.stdout, stderr: run.stderr }).toEqual({ status: 0, stdout: 'true true x/y true true true\n', stderr: '' });
  });
});

describe('strata warm from the bundle', () => {
  const sources = { 'src/a.ts': "import { b } from './b';\nexport const a = b + 1;\n", 'src/b.ts': 'export const b = 2;\n' };
  let tree: TempTree;
  let probeDir: TempTree;
  let probe: string;
  /** The sources, aged past the racy window: a restart then answers every file from its index record
   * alone, whichever runs first (a racy record is re-read once, and the two reports would differ). */
  const agedTree = (): TempTree => {
    const made = makeTree(sources);
    for (const file of Object.keys(sources)) ageFile(path.join(made.root, file));
    return made;
  };
  beforeEach(() => {
    tree = agedTree();
    probeDir = makeTree();
    // Preloaded into the CLI: writes to stderr, at exit, which of the bundle and cli.js Node loaded.
    probe = probeDir.write('probe.js', `process.on('exit', () => { const files = Object.keys(require.cache); process.stderr.write(JSON.stringify({ bundle: files.includes(${JSON.stringify(BUNDLE)}), modules: files.includes(${JSON.stringify(path.join(path.dirname(BUNDLE), 'cli.js'))}) })); });\n`);
  });
  afterEach(() => {
    tree.remove();
    probeDir.remove();
  });

  /**
   * A warm of the tree; answers the report and whether it ran from the bundle. The restart lane is
   * off: these runs are about the bundle (test/restart-lane.test.ts runs the lane through the CLI).
   */
  const warm = (env: Record<string, string> = {}, args: string[] = []) => {
    const result = spawnSync(process.execPath, ['-r', probe, CLI, 'warm', tree.root, '--json', '--quiet', ...args], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, STRATA_RESTART: 'off', ...env },
      timeout: 60_000,
    });
    expect(result.status).toBe(0);
    const loaded = JSON.parse(result.stderr) as { bundle: boolean; modules: boolean };
    expect(loaded.bundle).toBe(!loaded.modules);
    return { report: JSON.parse(result.stdout) as Record<string, unknown> & { files: number; parsed: number; fromDisk: number; workers: number }, bundled: loaded.bundle };
  };
  /** A report without what differs between any two runs (times, memory). */
  const stable = ({ durationMs, filesPerSec, peakRssBytes, processMaxRssBytes, ...report }: Record<string, unknown>) => {
    for (const figure of [durationMs, filesPerSec, peakRssBytes, processMaxRssBytes]) expect(typeof figure).toBe('number');
    return report;
  };

  it('parses a cold tree in the workers (the worker file found from the bundle)', () => {
    const cold = warm();
    expect(cold.bundled).toBe(true);
    expect(cold.report).toMatchObject({ files: 2, parsed: 2 });
    expect(cold.report.workers).toBeGreaterThan(0);
  });

  it('answers as the modules do', () => {
    const cold = warm({ STRATA_BUNDLE: 'off' });
    expect(cold).toMatchObject({ bundled: false, report: { files: 2, parsed: 2 } });
    const fromBundle = warm();
    expect(fromBundle).toMatchObject({ bundled: true, report: { files: 2, parsed: 0, fromDisk: 2 } });
    const fromModules = warm({ STRATA_BUNDLE: 'off' });
    expect(fromModules).toMatchObject({ bundled: false, report: { files: 2, parsed: 0, fromDisk: 2 } });
    expect(stable(fromBundle.report)).toEqual(stable(fromModules.report));
    // Both cold warms alike too (the second one on a fresh tree, from the bundle).
    tree.remove();
    tree = agedTree();
    const coldBundled = warm();
    expect(coldBundled.bundled).toBe(true);
    expect({ ...stable(coldBundled.report), root: null }).toEqual({ ...stable(cold.report), root: null });
  });

  it('leaves every other command line to the modules', () => {
    expect(warm({}, ['--include', 'node_modules'])).toMatchObject({ bundled: false, report: { files: 2, parsed: 2 } });
  });

  it('runs the dynamic import of --budget auto', () => {
    expect(warm({}, ['--budget', 'auto'])).toMatchObject({ bundled: true, report: { files: 2, parsed: 2 } });
  });
});
