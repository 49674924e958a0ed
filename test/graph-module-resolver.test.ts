import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { CompilerOptionsResolver } from '../engine/graph/compiler-options.js';
import { ModuleResolver, resolveImport } from '../engine/graph/module-resolver.js';
import type { ImportKind } from '../shared/imports.js';
import { makeTree, type TempTree } from './helpers/temp-tree.js';

/** What a resolution looks like from the root: root-relative `resolved`. */
interface Seen {
  resolved: string | null;
  external: boolean;
}

function resolverFor(root: string): (from: string, specifier: string, kind?: ImportKind, typeOnly?: boolean) => Seen {
  const resolver = new ModuleResolver({ root });
  return (from, specifier, kind = 'import', typeOnly = false) => {
    const { resolved, external } = resolver.resolve(path.join(root, from), { specifier, kind, typeOnly });
    return { resolved: resolved === null ? null : path.relative(root, resolved).split(path.sep).join('/'), external };
  };
}

const internal = (resolved: string | null): Seen => ({ resolved, external: false });
const external = (resolved: string | null = null): Seen => ({ resolved, external: true });

describe('ModuleResolver in a project with a tsconfig (extends, baseUrl, paths)', () => {
  let tree: TempTree;
  let resolve: ReturnType<typeof resolverFor>;
  beforeAll(() => {
    tree = makeTree({
      'tsconfig.base.json': JSON.stringify({ compilerOptions: { baseUrl: './src', paths: { '@app/*': ['app/*'], '~lib': ['lib/index.ts'], '@ws2/*': ['../packages/*/src/index.ts'] } } }),
      'tsconfig.json': JSON.stringify({ extends: './tsconfig.base.json', compilerOptions: { strict: true } }),
      'src/a.ts': 'export {};\n',
      'src/b.ts': 'export const b = 1;\n',
      'src/c.js': 'export const c = 1;\n',
      'src/m.mts': 'export const m = 1;\n',
      'src/dir/index.ts': 'export type T = 1;\n',
      'src/helpers.ts': 'export const h = 1;\n',
      'src/data.json': '{"x":1}\n',
      'src/styles.css': '.x{}\n',
      'src/logo.svg': '<svg/>\n',
      'src/app/feature.ts': 'export const f = 1;\n',
      'src/lib/index.ts': 'export const l = 1;\n',
      'src/types.d.ts': 'declare const g: number;\n',
      'src/globals.d.ts': 'declare const h: number;\n',
      'node_modules/pkg/package.json': JSON.stringify({ name: 'pkg', exports: { '.': { types: './index.d.ts', default: './index.js' }, './sub': { types: './sub.d.ts', default: './sub.js' } } }),
      'node_modules/pkg/index.d.ts': 'export declare const p: number;\n',
      'node_modules/pkg/index.js': 'exports.p = 1;\n',
      'node_modules/pkg/sub.d.ts': 'export declare const s: number;\n',
      'node_modules/pkg/sub.js': 'exports.s = 1;\n',
      'node_modules/@types/globals-pkg/index.d.ts': 'declare const gp: number;\n',
      'packages/shared/package.json': JSON.stringify({ name: '@ws/shared', exports: { '.': './src/index.ts', './utils': './src/utils.ts' } }),
      'packages/shared/src/index.ts': 'export const s = 1;\n',
      'packages/shared/src/utils.ts': 'export const u = 1;\n',
      'packages/shared/tsconfig.json': JSON.stringify({ compilerOptions: { module: 'nodenext' } }),
      'packages/shared/src/uses.ts': 'export {};\n',
    });
    fs.mkdirSync(path.join(tree.root, 'node_modules', '@ws'), { recursive: true });
    fs.symlinkSync(path.join('..', '..', 'packages', 'shared'), path.join(tree.root, 'node_modules', '@ws', 'shared'), 'dir');
    resolve = resolverFor(tree.root);
  });
  afterAll(() => tree.remove());

  it('resolves relative imports with and without an extension', () => {
    expect(resolve('src/a.ts', './b')).toEqual(internal('src/b.ts'));
    expect(resolve('src/a.ts', './b.ts')).toEqual(internal('src/b.ts'));
    expect(resolve('src/a.ts', './c')).toEqual(internal('src/c.js'));
  });

  it('maps a .js specifier to the .ts source and .mjs to .mts, as TypeScript does', () => {
    expect(resolve('src/a.ts', './b.js')).toEqual(internal('src/b.ts'));
    expect(resolve('src/a.ts', './m.mjs')).toEqual(internal('src/m.mts'));
    expect(resolve('src/a.ts', './c.js')).toEqual(internal('src/c.js'));
  });

  it('resolves a directory to its index file', () => {
    expect(resolve('src/a.ts', './dir')).toEqual(internal('src/dir/index.ts'));
  });

  it('honours paths and baseUrl from the config the tsconfig extends', () => {
    expect(resolve('src/a.ts', '@app/feature')).toEqual(internal('src/app/feature.ts'));
    expect(resolve('src/a.ts', '~lib')).toEqual(internal('src/lib/index.ts'));
    expect(resolve('src/a.ts', 'helpers')).toEqual(internal('src/helpers.ts'));
    expect(resolve('src/a.ts', '@ws2/shared')).toEqual(internal('packages/shared/src/index.ts'));
  });

  it('reports an unresolved paths alias as the project’s own broken import, not an external one', () => {
    expect(resolve('src/a.ts', '@app/missing')).toEqual(internal(null));
  });

  it('resolves a workspace package symlinked into node_modules to its in-root source, through its exports map', () => {
    expect(resolve('src/a.ts', '@ws/shared')).toEqual(internal('packages/shared/src/index.ts'));
    expect(resolve('src/a.ts', '@ws/shared/utils')).toEqual(internal('packages/shared/src/utils.ts'));
  });

  it('resolves an installed package through its package.json exports map, as external', () => {
    expect(resolve('src/a.ts', 'pkg')).toEqual(external('node_modules/pkg/index.d.ts'));
    expect(resolve('src/a.ts', 'pkg/sub')).toEqual(external('node_modules/pkg/sub.d.ts'));
    expect(resolve('src/a.ts', 'pkg/not-exported')).toEqual(external(null));
  });

  it('reports builtins and packages that are not installed as external with no resolved file', () => {
    expect(resolve('src/a.ts', 'node:fs')).toEqual(external(null));
    expect(resolve('src/a.ts', 'fs')).toEqual(external(null));
    expect(resolve('src/a.ts', 'left-pad')).toEqual(external(null));
  });

  it('points imports of JSON, CSS and other non-source files at the file when it exists', () => {
    expect(resolve('src/a.ts', './data.json')).toEqual(internal('src/data.json'));
    expect(resolve('src/a.ts', './styles.css')).toEqual(internal('src/styles.css'));
    expect(resolve('src/a.ts', './logo.svg')).toEqual(internal('src/logo.svg'));
    expect(resolve('src/a.ts', './missing.css')).toEqual(internal(null));
  });

  it('resolves /// <reference path> relative to the file, with TypeScript’s extension rule, and <reference types>', () => {
    expect(resolve('src/a.ts', './types.d.ts', 'reference', false)).toEqual(internal('src/types.d.ts'));
    expect(resolve('src/a.ts', 'globals.d.ts', 'reference', false)).toEqual(internal('src/globals.d.ts'));
    expect(resolve('src/a.ts', 'globals', 'reference', false)).toEqual(internal('src/globals.d.ts'));
    expect(resolve('src/a.ts', 'nothing-here', 'reference', false)).toEqual(internal(null));
    expect(resolve('src/a.ts', 'globals-pkg', 'reference', true)).toEqual(external('node_modules/@types/globals-pkg/index.d.ts'));
    expect(resolve('src/a.ts', 'not-installed', 'reference', true)).toEqual(external(null));
  });

  it('resolves every import kind', () => {
    for (const kind of ['import', 'export', 'dynamic-import', 'require', 'import-equals', 'import-type'] as const) {
      expect([kind, resolve('src/a.ts', './b', kind)]).toEqual([kind, internal('src/b.ts')]);
    }
  });

  it('reports a file outside the root as external with no resolved path', () => {
    const outside = path.join(path.dirname(tree.root), `${path.basename(tree.root)}-outside.ts`);
    fs.writeFileSync(outside, 'export const o = 1;\n');
    try {
      expect(resolve('src/a.ts', `../../${path.basename(outside)}`)).toEqual(external(null));
    } finally {
      fs.rmSync(outside);
    }
  });

  it('uses the nearest tsconfig.json of each file', () => {
    const options = new CompilerOptionsResolver({ root: tree.root });
    expect(options.configPathFor('src/a.ts')).toBe(path.join(tree.root, 'tsconfig.json'));
    expect(options.configPathFor('packages/shared/src/uses.ts')).toBe(path.join(tree.root, 'packages/shared/tsconfig.json'));
    expect(options.forFile('packages/shared/src/uses.ts').options.module).toBe(ts.ModuleKind.NodeNext);
    // packages/shared has its own config without paths: the root's aliases do not apply there.
    expect(resolve('packages/shared/src/uses.ts', '@app/feature')).toEqual(external(null));
  });

  it('agrees with ts.resolveModuleName called directly with the same options', () => {
    const options = new CompilerOptionsResolver({ root: tree.root }).forFile('src/a.ts').options;
    const from = path.join(tree.root, 'src/a.ts');
    for (const specifier of ['./b', './b.js', './dir', '@app/feature', 'helpers', '@ws/shared', 'pkg/sub']) {
      const direct = ts.resolveModuleName(specifier, from, options, ts.sys, undefined, undefined, ts.ModuleKind.ESNext).resolvedModule?.resolvedFileName ?? null;
      expect(resolveImport(from, { specifier, kind: 'import', typeOnly: false }, { root: tree.root, compilerOptions: options }).resolved).toBe(direct && path.resolve(direct));
    }
  });
});

describe('CompilerOptionsResolver', () => {
  let tree: TempTree;
  afterEach(() => tree.remove());

  it('applies allowJs, module esnext and moduleResolution bundler when no tsconfig applies', () => {
    tree = makeTree({ 'src/a.ts': '' });
    const { configPath, options } = new CompilerOptionsResolver({ root: tree.root }).forFile('src/a.ts');
    expect(configPath).toBeNull();
    expect(options).toMatchObject({ allowJs: true, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler });
  });

  it('forces allowJs on and keeps what the config sets', () => {
    tree = makeTree({ 'tsconfig.json': JSON.stringify({ compilerOptions: { allowJs: false, module: 'nodenext', customConditions: ['source'] } }), 'a.ts': '' });
    const { options } = new CompilerOptionsResolver({ root: tree.root }).forFile('a.ts');
    expect(options).toMatchObject({ allowJs: true, module: ts.ModuleKind.NodeNext, customConditions: ['source'] });
    expect(options.moduleResolution).toBeUndefined(); // TypeScript derives nodenext from module
  });

  it('stops the lookup at the root', () => {
    tree = makeTree({ 'tsconfig.json': '{}', 'inner/src/a.ts': '' });
    const { configPath } = new CompilerOptionsResolver({ root: path.join(tree.root, 'inner') }).forFile('src/a.ts');
    expect(configPath).toBeNull();
  });

  it('keeps the options object while the config is unchanged and re-reads it after a change, extends included', () => {
    tree = makeTree({ 'base.json': JSON.stringify({ compilerOptions: { paths: { '@x/*': ['x/*'] } } }), 'tsconfig.json': JSON.stringify({ extends: './base.json' }), 'a.ts': '' });
    const resolver = new CompilerOptionsResolver({ root: tree.root });
    const first = resolver.forFile('a.ts').options;
    resolver.refresh();
    expect(resolver.forFile('a.ts').options).toBe(first);
    tree.write('base.json', JSON.stringify({ compilerOptions: { paths: { '@y/*': ['y/*'] } } }));
    resolver.refresh();
    const second = resolver.forFile('a.ts').options;
    expect(second).not.toBe(first);
    expect(second.paths).toEqual({ '@y/*': ['y/*'] });
  });

  it('sees a tsconfig.json created after a refresh, and forgets one on invalidate', () => {
    tree = makeTree({ 'pkg/a.ts': '' });
    const resolver = new CompilerOptionsResolver({ root: tree.root });
    expect(resolver.configPathFor('pkg/a.ts')).toBeNull();
    tree.write('pkg/tsconfig.json', '{}');
    resolver.refresh();
    expect(resolver.configPathFor('pkg/a.ts')).toBe(path.join(tree.root, 'pkg/tsconfig.json'));
    resolver.invalidate(path.join(tree.root, 'pkg/tsconfig.json'));
    expect(resolver.forFile('pkg/a.ts').configPath).toBe(path.join(tree.root, 'pkg/tsconfig.json'));
  });

  it('reports a config TypeScript cannot read and falls back to the defaults', () => {
    tree = makeTree({ 'tsconfig.json': '{ "extends": "./nope.json" }', 'a.ts': '' });
    const result = new CompilerOptionsResolver({ root: tree.root }).forFile('a.ts');
    expect(result.diagnostics.join('\n')).toMatch(/nope\.json/);
    expect(result.options.allowJs).toBe(true);
  });
});

describe('ModuleResolver resolution modes and conditions', () => {
  let tree: TempTree;
  afterEach(() => tree.remove());

  const dual = {
    'node_modules/dual/package.json': JSON.stringify({ name: 'dual', exports: { '.': { import: './esm.js', require: './cjs.js' } } }),
    'node_modules/dual/esm.js': 'export const x = 1;\n',
    'node_modules/dual/cjs.js': 'exports.x = 1;\n',
  };

  it('uses the import condition for imports and the require condition for require under the bundler defaults', () => {
    tree = makeTree({ ...dual, 'src/a.ts': '' });
    const resolve = resolverFor(tree.root);
    expect(resolve('src/a.ts', 'dual', 'import')).toEqual(external('node_modules/dual/esm.js'));
    expect(resolve('src/a.ts', 'dual', 'dynamic-import')).toEqual(external('node_modules/dual/esm.js'));
    expect(resolve('src/a.ts', 'dual', 'require')).toEqual(external('node_modules/dual/cjs.js'));
    expect(resolve('src/a.ts', 'dual', 'import-equals')).toEqual(external('node_modules/dual/cjs.js'));
  });

  it('follows the file’s module format under nodenext (package.json type, .mts/.cts)', () => {
    tree = makeTree({ ...dual, 'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'nodenext' } }), 'package.json': JSON.stringify({ type: 'commonjs' }), 'src/a.ts': '', 'src/b.mts': '', 'src/c.cts': '' });
    const resolve = resolverFor(tree.root);
    expect(resolve('src/a.ts', 'dual', 'import')).toEqual(external('node_modules/dual/cjs.js'));
    expect(resolve('src/a.ts', 'dual', 'dynamic-import')).toEqual(external('node_modules/dual/esm.js'));
    expect(resolve('src/b.mts', 'dual', 'import')).toEqual(external('node_modules/dual/esm.js'));
    expect(resolve('src/c.cts', 'dual', 'import')).toEqual(external('node_modules/dual/cjs.js'));
  });

  it('honours customConditions, and rootDirs', () => {
    tree = makeTree({
      'tsconfig.json': JSON.stringify({ compilerOptions: { customConditions: ['source'], rootDirs: ['src', 'generated'] } }),
      'packages/lib/package.json': JSON.stringify({ name: 'lib', exports: { '.': { source: './src/index.ts', default: './dist/index.js' } } }),
      'packages/lib/src/index.ts': 'export const l = 1;\n',
      'packages/lib/dist/index.js': 'export const l = 1;\n',
      'src/a.ts': '',
      'generated/schema.ts': 'export const s = 1;\n',
    });
    fs.mkdirSync(path.join(tree.root, 'node_modules'), { recursive: true });
    fs.symlinkSync(path.join('..', 'packages', 'lib'), path.join(tree.root, 'node_modules', 'lib'), 'dir');
    const resolve = resolverFor(tree.root);
    expect(resolve('src/a.ts', 'lib')).toEqual(internal('packages/lib/src/index.ts'));
    expect(resolve('src/a.ts', './schema')).toEqual(internal('generated/schema.ts'));
  });

  it('replaces an arbitrary-extension declaration (.d.css.ts) by the stylesheet it declares', () => {
    tree = makeTree({ 'tsconfig.json': JSON.stringify({ compilerOptions: { allowArbitraryExtensions: true } }), 'src/a.ts': '', 'src/x.css': '.x{}', 'src/x.d.css.ts': 'export {};\n' });
    expect(resolverFor(tree.root)('src/a.ts', './x.css')).toEqual(internal('src/x.css'));
  });

  it('sees files added after a refresh', () => {
    tree = makeTree({ 'src/a.ts': '' });
    const resolver = new ModuleResolver({ root: tree.root });
    const from = path.join(tree.root, 'src/a.ts');
    const record = { specifier: './late', kind: 'import', typeOnly: false } as const;
    expect(resolver.resolve(from, record).resolved).toBeNull();
    tree.write('src/late.ts', 'export {};\n');
    resolver.refresh();
    expect(resolver.resolve(from, record).resolved).toBe(path.join(tree.root, 'src/late.ts'));
  });
});
