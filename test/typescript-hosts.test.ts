/**
 * engine.compilerHost() and engine.documentRegistry(): Programs and LanguageServices built through
 * Strata report exactly what TypeScript's own host and registry report, on real packages (this
 * repository's own tsconfig project, piscina's TypeScript sources) and on a fixture of bad inputs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { ageFile, makeTree, type TempTree } from './helpers/temp-tree.js';
import { OpenEngines } from './helpers/engines.js';

const REPO = path.join(__dirname, '..', '..');
const engines = new OpenEngines();
afterEach(() => engines.closeAll());

/** Every diagnostic of a Program, as text TypeScript's formatter writes (paths, positions, messages). */
function allDiagnostics(program: ts.Program): string[] {
  const diagnostics = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics(), ...program.getSyntacticDiagnostics(), ...program.getSemanticDiagnostics()];
  const host: ts.FormatDiagnosticsHost = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => REPO, getNewLine: () => '\n' };
  return diagnostics.map((d) => ts.formatDiagnostic(d, host));
}

/**
 * Diagnostics through TypeScript's host and through Strata's. The second Strata Program is the one
 * checked: every SourceFile it holds came from the tier (the first Program's, already bound), which
 * is the reuse that must not change an answer. `checkFirst` checks the first one too.
 */
function compare(root: string, fileNames: readonly string[], options: ts.CompilerOptions, checkFirst = true): { strata: string[]; typescript: string[]; files: number } {
  const engine = engines.open({ root, persist: false, executor: 'in-thread' });
  const typescript = allDiagnostics(ts.createProgram(fileNames, options, ts.createCompilerHost(options)));
  const first = ts.createProgram(fileNames, options, engine.compilerHost(options));
  if (checkFirst) expect(allDiagnostics(first)).toEqual(typescript);
  const parses = engine.stats().sourceFiles.parses;
  const second = ts.createProgram(fileNames, options, engine.compilerHost(options));
  expect(engine.stats().sourceFiles.parses).toBe(parses);
  expect(second.getSourceFiles().map((sf) => sf.fileName)).toEqual(first.getSourceFiles().map((sf) => sf.fileName));
  return { strata: allDiagnostics(second), typescript, files: first.getSourceFiles().length };
}

describe('compilerHost(): the diagnostics of TypeScript’s own host', () => {
  test("this repository's tsconfig project", () => {
    const parsed = ts.getParsedCommandLineOfConfigFile(path.join(REPO, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
    if (parsed === undefined) throw new Error('tsconfig.json did not parse');
    const { strata, typescript, files } = compare(REPO, parsed.fileNames, { ...parsed.options, noEmit: true }, false);
    expect(files).toBeGreaterThan(200);
    expect(strata).toEqual(typescript);
  });

  test("piscina's TypeScript sources, strict: real errors, reported identically", () => {
    const src = path.join(REPO, 'node_modules', 'piscina', 'src');
    const files = fs.readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => path.join(src, f));
    const options: ts.CompilerOptions = { strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16, types: ['node'], typeRoots: [path.join(REPO, 'node_modules', '@types')] };
    const { strata, typescript } = compare(REPO, files, options, false);
    expect(typescript.filter((d) => d.includes('TS2339') || d.includes('TS2307')).length).toBeGreaterThan(0); // semantic errors
    expect(strata).toEqual(typescript);
  });

  describe('a fixture of bad and unusual inputs', () => {
    let tree: TempTree;
    beforeEach(() => {
      tree = makeTree({
        'package.json': JSON.stringify({ name: 'fixture', type: 'module' }),
        'src/ok.ts': "import data from './data.json';\nexport const n: number = data.count;\n",
        'src/data.json': '{ "count": 3 }',
        'src/types.ts': "export const s: string = 1;\nimport { missing } from './nowhere.js';\n",
        'src/syntax.ts': 'export function (\n',
        'src/esm.mts': "import { n } from './ok.js';\nexport const m = n satisfies number;\n",
        'src/legacy.cts': 'export = 1;\n',
        'src/script.js': '// @ts-check\nconst x = /** @type {number} */ ("no");\n',
        'src/bom.ts': '\uFEFFexport const withBom = 1;\n',
        'src/utf16.ts': Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('export const wide: string = 2;\n', 'utf16le')]),
      });
    });
    afterEach(() => tree.remove());

    const options: ts.CompilerOptions = { strict: true, noEmit: true, allowJs: true, checkJs: true, resolveJsonModule: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, types: [] };
    const roots = (t: TempTree): string[] => ['ok.ts', 'types.ts', 'syntax.ts', 'esm.mts', 'legacy.cts', 'script.js', 'bom.ts', 'utf16.ts', 'gone.ts'].map((f) => path.join(t.root, 'src', f));

    test('type errors, a syntax error, a missing module and a missing root file, JSON, ESM and CJS formats, JS, BOMs', () => {
      const { strata, typescript } = compare(tree.root, roots(tree), options);
      expect(typescript.some((d) => d.includes('TS2322'))).toBe(true); // type error
      expect(typescript.some((d) => d.includes('TS2307'))).toBe(true); // missing module
      expect(typescript.some((d) => d.includes('TS6053'))).toBe(true); // root file not found
      expect(strata).toEqual(typescript);
    });

    test('after edits, a vanished file and a new one, the second Program still matches a fresh TypeScript Program', () => {
      const engine = engines.open({ root: tree.root, persist: false, executor: 'in-thread' });
      for (const f of fs.readdirSync(path.join(tree.root, 'src'))) ageFile(path.join(tree.root, 'src', f));
      ts.createProgram(roots(tree), options, engine.compilerHost(options));
      fs.writeFileSync(path.join(tree.root, 'src/types.ts'), "export const s: string = 'fixed';\n");
      fs.rmSync(path.join(tree.root, 'src/ok.ts'));
      tree.write('src/nowhere.ts', 'export const missing = 1;\n');
      tree.write('src/gone.ts', 'export const back = true;\n');
      const strata = allDiagnostics(ts.createProgram(roots(tree), options, engine.compilerHost(options)));
      const typescript = allDiagnostics(ts.createProgram(roots(tree), options, ts.createCompilerHost(options)));
      expect(strata).toEqual(typescript);
      expect(strata.some((d) => d.includes('src/types.ts') && d.includes('TS2322'))).toBe(false);
    });

    test('a new directory is seen by getDirectories even when the directory changed in the same second', () => {
      const engine = engines.open({ root: tree.root, persist: false, executor: 'in-thread' });
      const host = engine.compilerHost(options);
      expect(host.getDirectories?.(tree.root)).toEqual(['src']);
      fs.mkdirSync(path.join(tree.root, 'lib'));
      expect(host.getDirectories?.(tree.root).sort()).toEqual(['lib', 'src']);
      expect(host.directoryExists?.(path.join(tree.root, 'lib'))).toBe(true);
      expect(host.readFile(path.join(tree.root, 'src/bom.ts'))).toBe(ts.sys.readFile(path.join(tree.root, 'src/bom.ts')));
      expect(host.readFile(path.join(tree.root, 'src/utf16.ts'))).toBe(ts.sys.readFile(path.join(tree.root, 'src/utf16.ts')));
      expect(host.readFile(path.join(tree.root, 'src/none.ts'))).toBeUndefined();
    });
  });
});

describe('documentRegistry()', () => {
  let tree: TempTree;
  beforeEach(() => {
    tree = makeTree({ 'a.ts': 'export const a = 1;\n', 'b.ts': "import { a } from './a';\nexport const b: string = a;\n" });
  });
  afterEach(() => tree.remove());

  function languageService(registry: ts.DocumentRegistry | undefined, texts: Map<string, { text: string; version: number }>): ts.LanguageService {
    const options: ts.CompilerOptions = { strict: true, noEmit: true, types: [] };
    const host: ts.LanguageServiceHost = {
      getCompilationSettings: () => options,
      getScriptFileNames: () => [...texts.keys()],
      getScriptVersion: (f) => `${texts.get(f)?.version ?? 0}`,
      getScriptSnapshot: (f) => {
        const known = texts.get(f);
        if (known) return ts.ScriptSnapshot.fromString(known.text);
        const text = ts.sys.readFile(f);
        return text === undefined ? undefined : ts.ScriptSnapshot.fromString(text);
      },
      getCurrentDirectory: () => tree.root,
      getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
      fileExists: ts.sys.fileExists,
      readFile: ts.sys.readFile,
    };
    return ts.createLanguageService(host, registry);
  }

  const texts = (): Map<string, { text: string; version: number }> =>
    new Map(['a.ts', 'b.ts'].map((f) => [path.join(tree.root, f), { text: fs.readFileSync(path.join(tree.root, f), 'utf8'), version: 1 }]));
  const messages = (service: ts.LanguageService, file: string): string[] => service.getSemanticDiagnostics(file).map((d) => `${d.start}:${d.code}`);

  test('a LanguageService reports what it reports with its own registry; a second one parses nothing again; an edit is seen', () => {
    const engine = engines.open({ root: tree.root, persist: false, executor: 'in-thread' });
    const b = path.join(tree.root, 'b.ts');
    const reference = languageService(undefined, texts());
    const first = languageService(engine.documentRegistry(), texts());
    expect(messages(first, b)).toEqual(messages(reference, b));
    expect(messages(first, b).length).toBe(1);
    const parses = engine.stats().sourceFiles.parses;
    expect(parses).toBeGreaterThan(2); // a.ts, b.ts and the lib files

    const second = languageService(engine.documentRegistry(), texts());
    expect(messages(second, b)).toEqual(messages(reference, b));
    expect(engine.stats().sourceFiles.parses).toBe(parses);
    expect(second.getProgram()?.getSourceFile(b)).toBe(first.getProgram()?.getSourceFile(b));

    // An editor's unsaved text (another snapshot, a new version): the new text is what is checked.
    const edited = texts();
    edited.set(b, { text: "import { a } from './a';\nexport const b: number = a;\n", version: 2 });
    const third = languageService(engine.documentRegistry(), edited);
    expect(messages(third, b)).toEqual([]);
    expect(third.getProgram()?.getSourceFile(b)?.text).toContain('b: number');
    expect(messages(second, b).length).toBe(1); // the other service still sees its own text
  });
});
