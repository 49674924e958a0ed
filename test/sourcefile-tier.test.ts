/**
 * The SourceFile tier (engine/sourcefiles): real ts.SourceFiles kept in memory while their content
 * and settings hold, on real files, through `engine.sourceFile()` and the compiler host.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import ts from 'typescript';
import { prometheusText } from '../engine/ops/prometheus.js';
import { ageFile, makeTree, type TempTree } from './helpers/temp-tree.js';
import { OpenEngines } from './helpers/engines.js';

const engines = new OpenEngines();
let tree: TempTree;

beforeEach(() => {
  tree = makeTree({
    'src/a.ts': 'export const a: number = 1;\n',
    'src/b.ts': "import { a } from './a';\nexport const b = a + 1;\n",
    'src/broken.ts': 'export const = ;\nfunction (\n',
  });
  for (const file of ['src/a.ts', 'src/b.ts', 'src/broken.ts']) ageFile(path.join(tree.root, file));
});

afterEach(async () => {
  await engines.closeAll();
  tree.remove();
});

const open = (extra: { sourceFileBudget?: number } = {}) => engines.open({ root: tree.root, persist: false, executor: 'in-thread', ...extra });

describe('engine.sourceFile()', () => {
  test('answers from the tier while the content holds: the same object, one parse', async () => {
    const engine = open();
    const first = await engine.sourceFile('src/a.ts');
    const again = await engine.sourceFile(path.join(tree.root, 'src/a.ts'));
    expect(again).toBe(first);
    expect(first.fileName).toBe(path.join(tree.root, 'src/a.ts'));
    expect(first.statements[0]?.parent).toBe(first); // parent pointers, as before
    const stats = engine.stats().sourceFiles;
    expect(stats).toMatchObject({ parses: 1, hits: 1, misses: 1, entries: 1 });
    expect(stats.bytes).toBeGreaterThan(0);
  });

  test('callers that ask at once share one parse', async () => {
    const engine = open();
    const all = await Promise.all(Array.from({ length: 8 }, () => engine.sourceFile('src/b.ts')));
    for (const sourceFile of all) expect(sourceFile).toBe(all[0]);
    expect(engine.stats().sourceFiles.parses).toBe(1);
  });

  test('an edit is never served stale: same size, same second, no invalidate call', async () => {
    const engine = open();
    const file = path.join(tree.root, 'src/a.ts');
    fs.writeFileSync(file, 'export const a: number = 1;\n');
    const before = await engine.sourceFile(file); // racy: within the same second as the write
    fs.writeFileSync(file, 'export const z: number = 9;\n'); // same size
    const after = await engine.sourceFile(file);
    expect(after).not.toBe(before);
    expect(after.text).toBe('export const z: number = 9;\n');
  });

  test('invalidate() drops the entry through the revision clock', async () => {
    const engine = open();
    const first = await engine.sourceFile('src/a.ts');
    expect(engine.stats().sourceFiles.entries).toBe(1);
    engine.invalidate(['src/a.ts']);
    expect(engine.stats().sourceFiles.entries).toBe(0);
    const second = await engine.sourceFile('src/a.ts');
    expect(second).not.toBe(first);
    expect(second.text).toBe(first.text);
  });

  test('every setting that shapes a SourceFile is part of the key; options that do not are not', async () => {
    const engine = open();
    const plain = await engine.sourceFile('src/a.ts');
    const noParents = await engine.sourceFile('src/a.ts', { setParentNodes: false });
    const es5 = await engine.sourceFile('src/a.ts', { languageVersion: ts.ScriptTarget.ES5 });
    const noJsDoc = await engine.sourceFile('src/a.ts', { jsDocParsingMode: ts.JSDocParsingMode.ParseNone });
    const asJs = await engine.sourceFile('src/a.ts', { scriptKind: ts.ScriptKind.JS });
    const esm = await engine.sourceFile('src/a.ts', { impliedNodeFormat: ts.ModuleKind.ESNext });
    const strict = await engine.sourceFile('src/a.ts', { compilerOptions: { strict: true, target: ts.ScriptTarget.ES2022 } });
    const distinct = new Set([plain, noParents, es5, noJsDoc, asJs, esm, strict]);
    expect(distinct.size).toBe(7);
    expect(noParents.statements[0]?.parent).toBeUndefined();
    expect((asJs as ts.SourceFile & { scriptKind: ts.ScriptKind }).scriptKind).toBe(ts.ScriptKind.JS);
    // noEmit and outDir change nothing about a parse or a bind: same entry.
    const sameStrict = await engine.sourceFile('src/a.ts', { compilerOptions: { strict: true, target: ts.ScriptTarget.ES2022, noEmit: true, outDir: 'out' } });
    expect(sameStrict).toBe(strict);
    // alwaysStrict changes binding: its own entry.
    const alwaysStrict = await engine.sourceFile('src/a.ts', { compilerOptions: { strict: true, target: ts.ScriptTarget.ES2022, alwaysStrict: false } });
    expect(alwaysStrict).not.toBe(strict);
  });

  test('a file with syntax errors still yields its SourceFile with the parse diagnostics', async () => {
    const engine = open();
    const broken = await engine.sourceFile('src/broken.ts');
    const host = engine.compilerHost({ noEmit: true });
    const program = ts.createProgram([path.join(tree.root, 'src/broken.ts')], { noEmit: true }, host);
    const typescriptProgram = ts.createProgram([path.join(tree.root, 'src/broken.ts')], { noEmit: true });
    const syntax = program.getSyntacticDiagnostics();
    expect(syntax.length).toBeGreaterThan(0);
    expect(syntax.map((d) => [d.start, d.code])).toEqual(typescriptProgram.getSyntacticDiagnostics().map((d) => [d.start, d.code]));
    expect(broken.statements.length).toBeGreaterThan(0);
  });

  test('the budget holds: least recently used SourceFiles go, one larger than the budget is served, not kept', async () => {
    for (let i = 0; i < 40; i++) tree.write(`many/m${i}.ts`, `export function f${i}(x: number): number {\n  return x * ${i} + ${i};\n}\n`.repeat(20));
    const budget = 400_000;
    const engine = open({ sourceFileBudget: budget });
    for (let i = 0; i < 40; i++) await engine.sourceFile(`many/m${i}.ts`);
    const stats = engine.stats().sourceFiles;
    expect(stats.bytes).toBeLessThanOrEqual(budget);
    expect(stats.evictions).toBeGreaterThan(0);
    expect(stats.entries).toBeLessThan(40);
    // The most recent is kept; the oldest went first.
    expect(await engine.sourceFile('many/m39.ts')).toBe(await engine.sourceFile('many/m39.ts'));
    const parsesBefore = engine.stats().sourceFiles.parses;
    await engine.sourceFile('many/m0.ts');
    expect(engine.stats().sourceFiles.parses).toBe(parsesBefore + 1);

    tree.write('huge.ts', 'export const big = [\n' + '  { a: 1, b: "two", c: [3, 4] },\n'.repeat(20_000) + '];\n');
    const huge = await engine.sourceFile('huge.ts');
    expect(huge.statements.length).toBe(1);
    expect(engine.stats().sourceFiles.unstored).toBe(1);
    expect(engine.stats().sourceFiles.bytes).toBeLessThanOrEqual(budget);
  });

  test('stats() and Prometheus carry the tier', async () => {
    const engine = open();
    await engine.sourceFile('src/a.ts');
    await engine.sourceFile('src/a.ts');
    const stats = engine.stats();
    expect(Object.keys(stats.levels).sort()).toEqual(['ast', 'content', 'results', 'streams']);
    expect(stats.sourceFiles).toMatchObject({ hits: 1, misses: 1, parses: 1, entries: 1, budget: 256 * 1024 * 1024 });
    const text = await prometheusText(stats);
    expect(text).toMatch(/^strata_sourcefile_hits_total 1$/m);
    expect(text).toMatch(/^strata_sourcefile_parses_total 1$/m);
    expect(text).toMatch(/^strata_sourcefile_entries 1$/m);
  });
});

describe('files outside the root', () => {
  let outside: string;
  beforeEach(() => {
    outside = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'strata-outside-')));
  });
  afterEach(() => fs.rmSync(outside, { recursive: true, force: true }));

  test('are served read-only through fingerprint validation: an edit is seen, a vanished file is undefined', () => {
    const engine = open();
    const file = path.join(outside, 'types.d.ts');
    fs.writeFileSync(file, 'declare const x: number;\n');
    const host = engine.compilerHost({});
    const first = host.getSourceFile(file, ts.ScriptTarget.Latest);
    expect(first?.text).toBe('declare const x: number;\n');
    expect(host.getSourceFile(file, ts.ScriptTarget.Latest)).toBe(first);
    fs.writeFileSync(file, 'declare const y: string;\n'); // same size, same second
    const edited = host.getSourceFile(file, ts.ScriptTarget.Latest);
    expect(edited?.text).toBe('declare const y: string;\n');
    fs.rmSync(file);
    expect(host.getSourceFile(file, ts.ScriptTarget.Latest)).toBeUndefined();
    expect(host.fileExists(file)).toBe(false);
    expect(fs.readdirSync(outside)).toEqual([]); // nothing was written outside the root
  });

  test("TypeScript's lib files come from the tier on a second Program", () => {
    const engine = open();
    const options: ts.CompilerOptions = { noEmit: true, target: ts.ScriptTarget.ES2022 };
    const roots = [path.join(tree.root, 'src/b.ts')];
    const first = ts.createProgram(roots, options, engine.compilerHost(options));
    const libs = first.getSourceFiles().filter((sf) => !sf.fileName.startsWith(tree.root));
    expect(libs.length).toBeGreaterThan(0);
    const parses = engine.stats().sourceFiles.parses;
    const second = ts.createProgram(roots, options, engine.compilerHost(options));
    expect(engine.stats().sourceFiles.parses).toBe(parses);
    for (const lib of libs) expect(second.getSourceFile(lib.fileName)).toBe(lib);
  });
});
