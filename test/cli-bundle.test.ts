/**
 * The CLI bundle and its V8 code cache: `strata warm` runs from the bundle with the same result as
 * from the modules, the code cache is written once (after a warm that parsed nothing) and then used,
 * and a corrupt, truncated or foreign code cache is never handed to V8: the run succeeds and the
 * cache is rewritten.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { BUNDLE_FILE, bundleText, collectModules, vendoredPackages, VENDORED_PACKAGES } from '../engine/cli/bundle-build.js';
import { CLI_CODE_CACHE_HEADER_BYTES, codeCacheFileFor, frameCliCodeCache, unframeCliCodeCache } from '../engine/cli/code-cache.js';
import { CLI, makeTree, type TempTree } from './helpers/temp-tree.js';

const DIST = path.join(__dirname, '..');
const BUNDLE = path.join(DIST, BUNDLE_FILE);

describe('the bundle builder', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bundle-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('bundles what the entry requires, keeps file names, defers the rest to Node, and stays ASCII', async () => {
    const write = (file: string, text: string): void => {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), text);
    };
    write('a/entry.js', "#!/usr/bin/env node\nconst b = require('./b.js');\nexports.value = () => b.name + ' ' + require('node:path').basename(__filename);\nexports.later = () => import('node:os');\n");
    write('a/b.js', "// 'déjà vu' — comments may hold anything\nexports.name = 'caf\u00e9 ' + require('../c/d.js').n + ' ' + /[–—]/.test('—');\n");
    write('c/d.js', "exports.n = 42; // require('./missing.js') is not a module\n");
    const modules = collectModules(dir, 'a/entry.js');
    expect([...modules.keys()]).toEqual(['a/entry.js', 'a/b.js', 'c/d.js']);
    const text = bundleText(modules);
    expect(/[^\x00-\x7f]/.test(text)).toBe(false);
    const imported: string[] = [];
    const factory = new vm.Script(text, { filename: path.join(dir, 'bundle.js') }).runInThisContext();
    const load = factory(require, createRequire, dir, (specifier: string) => {
      imported.push(specifier);
      return Promise.resolve(require(specifier)); // jest's module runtime has no import()
    });
    const entry = load('a/entry.js');
    expect(entry.value()).toBe('caf\u00e9 42 true entry.js');
    expect(typeof (await entry.later()).cpus).toBe('function');
    expect(imported).toEqual(['node:os']);
  });

  it("shares one namespace object per built-in between modules (tsc's __importStar)", () => {
    const star = 'var __importStar = (this && this.__importStar) || function (mod) { const result = { default: mod }; for (const k of Object.keys(mod)) Object.defineProperty(result, k, { enumerable: true, get: () => mod[k] }); return result; };\n';
    fs.writeFileSync(path.join(dir, 'a.js'), `${star}const path = __importStar(require("node:path"));\nexports.path = path;\nexports.other = require('./b.js').path;\n`);
    fs.writeFileSync(path.join(dir, 'b.js'), `${star}const path = __importStar(require("node:path"));\nexports.path = path;\n`);
    const text = bundleText(collectModules(dir, 'a.js'));
    expect(text).not.toContain('__importStar(require(');
    const load = new vm.Script(text, { filename: path.join(dir, 'bundle.js') }).runInThisContext()(require, createRequire, dir, () => Promise.reject(new Error('no import')));
    const a = load('a.js');
    expect(a.path).toBe(a.other);
    expect(a.path.join('x', 'y')).toBe(path.join('x', 'y'));
    expect(a.path.default).toBe(require('node:path'));
  });

  it('runs vendored packages from the bundle, and refuses one that is not self-contained', () => {
    fs.writeFileSync(path.join(dir, 'a.js'), "exports.answer = require('some-package').answer;\nexports.path = require('node:path').sep;\n");
    const text = bundleText(collectModules(dir, 'a.js'), new Map([['some-package', 'module.exports = { answer: 42 };\n']]));
    const load = new vm.Script(text, { filename: path.join(dir, 'bundle.js') }).runInThisContext()(require, createRequire, dir, () => Promise.reject(new Error('no import')));
    expect(load('a.js')).toEqual({ answer: 42, path: '/' });
    expect([...vendoredPackages(DIST).keys()]).toEqual([...VENDORED_PACKAGES]);
    fs.mkdirSync(path.join(dir, 'node_modules', 'needs-more'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'node_modules', 'needs-more', 'index.js'), "module.exports = require('fs');\n");
    expect(() => vendoredPackages(dir, ['needs-more'])).toThrow(/not self-contained/);
  });

  it('refuses a dynamic import it cannot run', () => {
    fs.writeFileSync(path.join(dir, 'x.js'), 'exports.f = (name) => import(name);\n');
    expect(() => bundleText(collectModules(dir, 'x.js'))).toThrow(/dynamic import/);
  });
});

describe('the code cache frame', () => {
  const data = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff));
  const framed = Buffer.concat([frameCliCodeCache(data, 123n), data]);

  it('gives back the payload for the same bundle only', () => {
    expect(unframeCliCodeCache(framed, 123n)).toEqual(data);
    expect(unframeCliCodeCache(framed, 124n)).toBeNull();
  });

  it('refuses a flipped byte, a truncated file and a foreign one', () => {
    const flipped = Buffer.from(framed);
    flipped.writeUInt8(flipped.readUInt8(CLI_CODE_CACHE_HEADER_BYTES + 100) ^ 0x40, CLI_CODE_CACHE_HEADER_BYTES + 100);
    expect(unframeCliCodeCache(flipped, 123n)).toBeNull();
    expect(unframeCliCodeCache(framed.subarray(0, framed.length - 1), 123n)).toBeNull();
    expect(unframeCliCodeCache(framed.subarray(0, CLI_CODE_CACHE_HEADER_BYTES), 123n)).toBeNull();
    expect(unframeCliCodeCache(data, 123n)).toBeNull();
  });
});

describe('strata warm from the bundle', () => {
  let tree: TempTree;
  let v8Dir: string;
  beforeEach(() => {
    tree = makeTree({ 'src/a.ts': "import { b } from './b';\nexport const a = b + 1;\n", 'src/b.ts': 'export const b = 2;\n' });
    v8Dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-v8-'));
  });
  afterEach(() => {
    tree.remove();
    fs.rmSync(v8Dir, { recursive: true, force: true });
  });

  const warm = (env: Record<string, string> = {}, args: string[] = []) => {
    const result = spawnSync(process.execPath, [CLI, 'warm', tree.root, '--json', '--quiet', ...args], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, STRATA_V8_CACHE_DIR: v8Dir, ...env },
      timeout: 60_000,
    });
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    return JSON.parse(result.stdout) as { files: number; parsed: number; fromDisk: number };
  };
  const cacheFile = (): string => codeCacheFileFor(BUNDLE, { STRATA_V8_CACHE_DIR: v8Dir });

  it('exists after the build', () => {
    expect(fs.existsSync(BUNDLE)).toBe(true);
    expect(fs.statSync(BUNDLE).mtimeMs).toBeGreaterThanOrEqual(fs.statSync(CLI).mtimeMs);
  });

  it('writes the code cache after a warm that parsed nothing, not after a cold one', () => {
    expect(warm()).toMatchObject({ files: 2, parsed: 2 });
    expect(fs.existsSync(cacheFile())).toBe(false);
    expect(warm()).toMatchObject({ files: 2, parsed: 0, fromDisk: 2 });
    expect(fs.existsSync(cacheFile())).toBe(true);
  });

  it('answers as the modules do, writes the code cache once, then runs from it', () => {
    expect(warm({ STRATA_BUNDLE: 'off' })).toMatchObject({ files: 2, parsed: 2 });
    expect(fs.existsSync(cacheFile())).toBe(false); // not the bundle's run
    const fromBundle = warm();
    expect(fromBundle).toMatchObject({ files: 2, parsed: 0, fromDisk: 2 });
    expect(warm({ STRATA_BUNDLE: 'off' })).toMatchObject({ files: 2, parsed: 0, fromDisk: 2 });
    const written = fs.readFileSync(cacheFile());
    const stamp = fs.statSync(cacheFile()).mtimeMs;
    expect(warm()).toMatchObject({ files: 2, parsed: 0, fromDisk: 2 });
    expect(fs.statSync(cacheFile()).mtimeMs).toBe(stamp); // a hit rewrites nothing
    expect(fs.readFileSync(cacheFile())).toEqual(written);
  });

  it.each([
    ['a flipped payload byte', (bytes: Buffer) => bytes.map((byte, i) => (i === bytes.length - 100 ? byte ^ 0xff : byte))],
    ['a truncated file', (bytes: Buffer) => bytes.subarray(0, bytes.length >> 1)],
    ['another bundle', (bytes: Buffer) => bytes.map((byte, i) => (i === 16 ? byte ^ 1 : byte))],
    ['garbage', (bytes: Buffer) => Buffer.alloc(bytes.length, 0x5a)],
  ])('ignores and rewrites a code cache with %s', (_, spoil) => {
    warm();
    warm();
    const good = fs.readFileSync(cacheFile());
    fs.writeFileSync(cacheFile(), spoil(good));
    expect(warm()).toMatchObject({ files: 2, parsed: 0, fromDisk: 2 });
    const rewritten = fs.readFileSync(cacheFile());
    expect(rewritten.length).toBeGreaterThan(CLI_CODE_CACHE_HEADER_BYTES);
    expect(rewritten.subarray(0, CLI_CODE_CACHE_HEADER_BYTES).subarray(16)).toEqual(good.subarray(16, CLI_CODE_CACHE_HEADER_BYTES));
    expect(warm()).toMatchObject({ files: 2, parsed: 0, fromDisk: 2 });
  });

  it('runs without a code cache when told to, or when it cannot write one', () => {
    expect(warm({ STRATA_V8_CACHE: 'off' })).toMatchObject({ files: 2, parsed: 2 });
    expect(fs.existsSync(cacheFile())).toBe(false);
    const blocked = path.join(v8Dir, 'file');
    fs.writeFileSync(blocked, '');
    expect(warm({ STRATA_V8_CACHE_DIR: path.join(blocked, 'below') })).toMatchObject({ files: 2, parsed: 0 });
    expect(fs.readdirSync(v8Dir)).toEqual(['file']);
  });

  it('runs the dynamic import of --budget auto', () => {
    expect(warm({}, ['--budget', 'auto'])).toMatchObject({ files: 2, parsed: 2 });
  });
});
