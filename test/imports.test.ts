import ts from 'typescript';

import { EncodedAst } from '../engine/ast/encoded-ast.js';
import type { ImportKind, ImportRecord } from '../shared/imports.js';
import { parserIdentity, parseSource, scriptKindOf, toSourceFile } from '../workers/parse-source.js';

/** Records as compact tuples, so expectations read like the source. */
type Expected = [specifier: string, kind: ImportKind, typeOnly: boolean];

function importsOf(path: string, text: string): Expected[] {
  return parseSource(path, text).imports.map((record: ImportRecord): Expected => [record.specifier, record.kind, record.typeOnly]);
}

describe('parseSource imports', () => {
  it('finds import declarations, with clause-level `import type` as the only type-only form', () => {
    const text = [
      "import def from 'default';",
      "import * as ns from 'namespace';",
      "import { a, b as c } from 'named';",
      "import 'side-effect';",
      "import type T from 'type-default';",
      "import type { U } from 'type-named';",
      "import type * as V from 'type-namespace';",
      // Not type-only: 'inline-type' is still loaded at run time (`import {} from 'inline-type'`
      // under verbatimModuleSyntax).
      "import { type W, x } from 'inline-type';",
      "import { type Y } from 'inline-type-only';",
      "import json from './data.json' with { type: 'json' };",
      "import esc from '\\u0061bc';",
    ].join('\n');
    expect(importsOf('imports.ts', text)).toEqual([
      ['default', 'import', false],
      ['namespace', 'import', false],
      ['named', 'import', false],
      ['side-effect', 'import', false],
      ['type-default', 'import', true],
      ['type-named', 'import', true],
      ['type-namespace', 'import', true],
      ['inline-type', 'import', false],
      ['inline-type-only', 'import', false],
      ['./data.json', 'import', false],
      ['abc', 'import', false],
    ]);
  });

  it('finds re-exports with a module specifier and nothing for local exports', () => {
    const text = [
      "export * from 'star';",
      "export * as ns from 'star-as';",
      "export { x } from 'named';",
      "export { default as y } from 'default';",
      "export type { T } from 'type-named';",
      "export type * from 'type-star';",
      "export { type U } from 'inline-type';",
      'const z = 1;',
      'export { z };',
      'export default z;',
      'export const w = 2;',
    ].join('\n');
    expect(importsOf('exports.ts', text)).toEqual([
      ['star', 'export', false],
      ['star-as', 'export', false],
      ['named', 'export', false],
      ['default', 'export', false],
      ['type-named', 'export', true],
      ['type-star', 'export', true],
      ['inline-type', 'export', false],
    ]);
  });

  it('finds dynamic imports with a string or no-substitution template first argument only', () => {
    const text = [
      "const a = import('plain');",
      'const b = import(`template`);',
      "const c = import('with-options', { with: { type: 'json' } });",
      "const d = import.defer('deferred');",
      'const e = import(name);',
      'const f = import(`tpl-${name}`);',
      "const g = import('pre' + 'fix');",
      'const h = import.meta.url;',
      "async function later() { return (await import('nested')).x; }",
    ].join('\n');
    expect(importsOf('dynamic.ts', text)).toEqual([
      ['plain', 'dynamic-import', false],
      ['template', 'dynamic-import', false],
      ['with-options', 'dynamic-import', false],
      ['deferred', 'dynamic-import', false],
      ['nested', 'dynamic-import', false],
    ]);
  });

  it('finds require calls of the identifier `require` with exactly one literal argument only', () => {
    const text = [
      "const a = require('plain');",
      // A no-substitution template counts, as in TypeScript's own isRequireCall.
      'const b = require(`template`);',
      'const c = require(name);',
      "const d = require('one', 'two');",
      'const e = require();',
      "const f = a.require('member');",
      "const g = require.resolve('resolve');",
      "const h = new require('constructed');",
      "const i = require('pre' + 'fix');",
      "function inner() { return require('nested'); }",
    ].join('\n');
    expect(importsOf('require.js', text)).toEqual([
      ['plain', 'require', false],
      ['template', 'require', false],
      ['nested', 'require', false],
    ]);
  });

  it('finds import-equals declarations with an external module reference only', () => {
    const text = [
      "import fs = require('fs');",
      "import type T = require('type-only');",
      "export import e = require('exported');",
      'import A = B.C;',
      'namespace N { export const x = 1; }',
      'import D = N;',
    ].join('\n');
    expect(importsOf('equals.ts', text)).toEqual([
      ['fs', 'import-equals', false],
      ['type-only', 'import-equals', true],
      ['exported', 'import-equals', false],
    ]);
  });

  it('finds import types, always type-only', () => {
    const text = [
      "type A = import('qualified').T;",
      "let b: typeof import('typeof');",
      "type C = import('bare');",
      "type D = import('generic').G<string>;",
      "type E = import('with-attributes', { with: { 'resolution-mode': 'import' } }).T;",
      "function f(x: import('parameter').P): void {}",
    ].join('\n');
    expect(importsOf('types.ts', text)).toEqual([
      ['qualified', 'import-type', true],
      ['typeof', 'import-type', true],
      ['bare', 'import-type', true],
      ['generic', 'import-type', true],
      ['with-attributes', 'import-type', true],
      ['parameter', 'import-type', true],
    ]);
  });

  it('lists reference directives first, in source order: path not type-only, types type-only, lib ignored', () => {
    const text = [
      '/// <reference types="node" />',
      '/// <reference path="./globals.d.ts" />',
      '/// <reference lib="es2022" />',
      '/// <reference types="jest" />',
      "import x from 'after';",
    ].join('\n');
    expect(importsOf('refs.d.ts', text)).toEqual([
      ['node', 'reference', true],
      ['./globals.d.ts', 'reference', false],
      ['jest', 'reference', true],
      ['after', 'import', false],
    ]);
  });

  it('keeps every kind in source order, duplicates included, nested ones in place', () => {
    const text = [
      "import 'a';",
      "declare module 'ambient' {",
      "  import b = require('b');",
      "  export * from 'c';",
      '}',
      "class K { m() { return import('d'); } p: import('e').E; }",
      "import 'a';",
      "const f = require('f');",
    ].join('\n');
    expect(importsOf('order.ts', text)).toEqual([
      ['a', 'import', false],
      ['b', 'import-equals', false],
      ['c', 'export', false],
      ['d', 'dynamic-import', false],
      ['e', 'import-type', true],
      ['a', 'import', false],
      ['f', 'require', false],
    ]);
  });

  it('finds imports in TSX and JSX, and none in JSX text that looks like code', () => {
    const tsx = [
      "import React from 'react';",
      "import type { FC } from 'react-types';",
      "const Lazy = React.lazy(() => import('./Lazy'));",
      "export const App: FC = () => <div title=\"require('attr')\">require('text') import('text') {require('expr')}<Lazy /></div>;",
    ].join('\n');
    expect(importsOf('App.tsx', tsx)).toEqual([
      ['react', 'import', false],
      ['react-types', 'import', true],
      ['./Lazy', 'dynamic-import', false],
      ['expr', 'require', false],
    ]);
    const jsx = [
      "const React = require('react');",
      "export default function Page() { return <main>import x from 'no'; {import('./chunk')}</main>; }",
    ].join('\n');
    expect(importsOf('Page.jsx', jsx)).toEqual([
      ['react', 'require', false],
      ['./chunk', 'dynamic-import', false],
    ]);
  });

  it('finds requires in a .cjs file and imports in a .mjs file', () => {
    const cjs = "'use strict';\nconst path = require('node:path');\nmodule.exports = { load: () => require('./impl.cjs') };\n";
    expect(importsOf('index.cjs', cjs)).toEqual([
      ['node:path', 'require', false],
      ['./impl.cjs', 'require', false],
    ]);
    const mjs = "import { readFile } from 'node:fs/promises';\nexport { helper } from './helper.mjs';\n";
    expect(importsOf('index.mjs', mjs)).toEqual([
      ['node:fs/promises', 'import', false],
      ['./helper.mjs', 'export', false],
    ]);
  });

  it('still yields the imports of a file with syntax errors, with a diagnostics count above zero', () => {
    const text = "import a from 'a';\nconst x = ;\nconst b = require('b');\nexport * from 'c';\nlet y = 5 +;\nclass { }\nimport('d');\nimport e from;\n";
    const parsed = parseSource('broken.ts', text);
    expect(parsed.imports).toEqual([
      { specifier: 'a', kind: 'import', typeOnly: false },
      { specifier: 'b', kind: 'require', typeOnly: false },
      { specifier: 'c', kind: 'export', typeOnly: false },
      { specifier: 'd', kind: 'dynamic-import', typeOnly: false },
    ]);
    expect(parsed.diagnostics).toBeGreaterThan(0);
    expect(EncodedAst.decode(parsed.ast).nodeCount).toBe(parsed.nodeCount);
  });

  it('reports no imports and no diagnostics for an empty or import-free file', () => {
    expect(parseSource('empty.ts', '')).toMatchObject({ imports: [], diagnostics: 0, nodeCount: 2 });
    expect(parseSource('plain.js', 'const x = 1;\n')).toMatchObject({ imports: [], diagnostics: 0 });
  });
});

describe('parseSource', () => {
  it('picks the script kind from the extension', () => {
    const kinds = ['a.ts', 'a.mts', 'a.cts', 'a.d.ts', 'a.d.mts', 'A.TS', 'a.tsx', 'a.js', 'a.mjs', 'a.cjs', 'a.jsx', 'a.JSX'].map((path) => ts.ScriptKind[scriptKindOf(path)]);
    expect(kinds).toEqual(['TS', 'TS', 'TS', 'TS', 'TS', 'TS', 'TSX', 'JS', 'JS', 'JS', 'JSX', 'JSX']);
  });

  it('parses JSX only where the script kind allows it', () => {
    const text = 'const e = <T>(x);\n';
    // In .ts, `<T>(x)` is a type assertion; in .tsx it is an unterminated JSX element.
    expect(parseSource('cast.ts', text).diagnostics).toBe(0);
    expect(parseSource('cast.tsx', text).diagnostics).toBeGreaterThan(0);
  });

  it('accepts a language version as the "latest" setting or as a ts.ScriptTarget', () => {
    const text = "export const f = async () => import('m');\n";
    const latest = parseSource('v.ts', text, 'latest');
    const es5 = parseSource('v.ts', text, ts.ScriptTarget.ES5);
    expect(latest.imports).toEqual(es5.imports);
    expect(latest.ast).toEqual(parseSource('v.ts', text).ast);
  });

  it('names the parser and its version', () => {
    expect(parserIdentity()).toEqual({ id: 'typescript', version: ts.version });
  });

  it('builds a real SourceFile with parent pointers and the same tree as the encoding', () => {
    const text = "/** doc */\nimport x from 'x';\nexport const y = x;\n";
    const sf = toSourceFile('real.ts', text);
    const first = sf.statements[0]!;
    expect(first.parent).toBe(sf);
    expect(first.getText(sf)).toBe("import x from 'x';");
    expect(ts.getJSDocCommentsAndTags(first).length).toBe(1);
    const ast = EncodedAst.decode(parseSource('real.ts', text).ast);
    expect(ast.children(0).map((i) => ast.kind(i))).toEqual([...sf.statements.map((s) => s.kind), sf.endOfFileToken.kind]);
  });
});
