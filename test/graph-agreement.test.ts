/**
 * The graph agrees with TypeScript's own resolution, checked independently: each file is parsed here
 * with `ts.createSourceFile` (its module format from `ts.getImpliedNodeFormatForFile`), every module
 * usage TypeScript sees is found on the tree, its resolution mode taken from
 * `ts.getModeForUsageLocation` on the real node, and it is resolved with `ts.resolveModuleName`
 * (references: `ts.resolveTripleslashReference`, `ts.resolveTypeReferenceDirective`) under the
 * options of the nearest tsconfig as TypeScript parses it (plus DESIGN's `allowJs`). The service's
 * answer for the same file (through a real engine) must name the same file for every import.
 *
 * The only disagreements allowed are the ones DESIGN asks for: an import of a non-source file that
 * TypeScript leaves unresolved (`./styles.css`) points at the file when it exists.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { generateMonorepo } from '../bench/corpus.js';
import { discoverSourceFiles } from '../engine/discovery/discovery.js';
import { createEngine } from '../engine/engine.js';
import { DependencyService, engineDepsSource } from '../engine/graph/deps-service.js';
import type { ImportKind } from '../shared/imports.js';
import { makeTree, type TempTree } from './helpers/temp-tree.js';

interface Usage {
  readonly kind: ImportKind;
  readonly specifier: string;
  readonly typeOnly: boolean;
  /** Root-relative file TypeScript resolves it to when inside the root, else null. */
  readonly expected: string | null;
}

interface Agreement {
  readonly files: number;
  readonly imports: number;
  readonly agreeing: number;
  /** Agreeing imports that name an in-root file (the rest agree on null: externals, builtins, broken). */
  readonly agreeingInRoot: number;
  /** Disagreements DESIGN asks for (non-source files TypeScript does not resolve), with the reason. */
  readonly explained: string[];
  readonly unexplained: string[];
  /** Usages one side saw and the other did not (extraction, not resolution). */
  readonly unmatched: string[];
}

/** TypeScript's view of a tree, built from its public API only. */
class TypeScriptOracle {
  readonly #root: string;
  readonly #configs = new Map<string, ts.CompilerOptions>();
  readonly #caches = new Map<ts.CompilerOptions, ts.ModuleResolutionCache>();

  constructor(root: string) {
    this.#root = root;
  }

  usagesOf(file: string): Usage[] {
    const options = this.#optionsFor(file);
    const cache = this.#cacheFor(options);
    const implied = ts.getImpliedNodeFormatForFile(file, cache.getPackageJsonInfoCache(), ts.sys, options);
    const sf = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), { languageVersion: ts.ScriptTarget.ESNext, impliedNodeFormat: implied }, true);
    const usages: Usage[] = [];
    const add = (kind: ImportKind, literal: ts.StringLiteralLike, typeOnly: boolean): void => {
      const mode = ts.getModeForUsageLocation(sf, literal, options);
      const resolved = ts.resolveModuleName(literal.text, file, options, ts.sys, cache, undefined, mode).resolvedModule?.resolvedFileName;
      usages.push({ kind, specifier: literal.text, typeOnly, expected: this.#inRoot(resolved) });
    };
    for (const ref of sf.referencedFiles) {
      const target = ts.resolveTripleslashReference(ref.fileName, file);
      const found = path.extname(target) !== '' ? [target] : ['.ts', '.tsx', '.d.ts'].map((ext) => target + ext);
      usages.push({ kind: 'reference', specifier: ref.fileName, typeOnly: false, expected: this.#inRoot(found.find((f) => ts.sys.fileExists(f))) });
    }
    for (const ref of sf.typeReferenceDirectives) {
      const resolved = ts.resolveTypeReferenceDirective(ref.fileName, file, options, ts.sys).resolvedTypeReferenceDirective?.resolvedFileName;
      usages.push({ kind: 'reference', specifier: ref.fileName, typeOnly: true, expected: this.#inRoot(resolved) });
    }
    const visit = (node: ts.Node): void => {
      if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) add('import', node.moduleSpecifier, node.importClause?.isTypeOnly === true);
      else if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier)) add('export', node.moduleSpecifier, node.isTypeOnly);
      else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
        add('import-equals', node.moduleReference.expression, node.isTypeOnly);
      } else if (ts.isCallExpression(node)) {
        const first = node.arguments[0];
        if (first !== undefined && ts.isStringLiteralLike(first)) {
          const callee = node.expression;
          const isImportDefer = ts.isMetaProperty(callee) && callee.keywordToken === ts.SyntaxKind.ImportKeyword && callee.name.text === 'defer';
          if (callee.kind === ts.SyntaxKind.ImportKeyword || isImportDefer) add('dynamic-import', first, false);
          else if (ts.isIdentifier(node.expression) && node.expression.text === 'require' && node.arguments.length === 1) add('require', first, false);
        }
      } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
        add('import-type', node.argument.literal, true);
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
    return usages;
  }

  #inRoot(file: string | undefined): string | null {
    if (file === undefined) return null;
    const relative = path.relative(this.#root, path.resolve(file));
    return relative.startsWith('..') || path.isAbsolute(relative) ? null : relative.split(path.sep).join('/');
  }

  /** The nearest tsconfig.json up to the root, parsed by TypeScript; DESIGN's allowJs and defaults on top. */
  #optionsFor(file: string): ts.CompilerOptions {
    let dir = path.dirname(file);
    let config: string | null = null;
    for (;;) {
      if (ts.sys.fileExists(path.join(dir, 'tsconfig.json'))) {
        config = path.join(dir, 'tsconfig.json');
        break;
      }
      if (dir === this.#root || path.dirname(dir) === dir) break;
      dir = path.dirname(dir);
    }
    const key = config ?? '';
    let options = this.#configs.get(key);
    if (options === undefined) {
      const parsed = config === null ? undefined : ts.getParsedCommandLineOfConfigFile(config, undefined, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
      options = { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, ...parsed?.options, allowJs: true };
      this.#configs.set(key, options);
    }
    return options;
  }

  #cacheFor(options: ts.CompilerOptions): ts.ModuleResolutionCache {
    let cache = this.#caches.get(options);
    if (cache === undefined) {
      cache = ts.createModuleResolutionCache(this.#root, (name) => name, options);
      this.#caches.set(options, cache);
    }
    return cache;
  }
}

/** Compares the service's answer with TypeScript's for every source file under the root. */
async function agreementOn(root: string): Promise<Agreement> {
  const engine = createEngine({ root, executor: 'in-thread', persist: false }, { env: {}, readConfigFile: false });
  const service = new DependencyService(engineDepsSource(engine));
  const oracle = new TypeScriptOracle(root);
  const result = { files: 0, imports: 0, agreeing: 0, agreeingInRoot: 0, explained: [] as string[], unexplained: [] as string[], unmatched: [] as string[] };
  try {
    for await (const event of discoverSourceFiles(root, { includeNodeModules: false, maxFileSize: 5 * 1024 * 1024 })) {
      if (event.type !== 'file') continue;
      result.files++;
      const ours = (await service.dependenciesOf(event.path)).dependencies;
      const theirs = oracle.usagesOf(path.join(root, event.path));
      const key = (u: { kind: string; specifier: string; typeOnly: boolean }): string => `${u.kind} ${u.typeOnly ? 'type ' : ''}'${u.specifier}'`;
      const expected = new Map(theirs.map((u) => [key(u), u]));
      for (const entry of ours) {
        const usage = expected.get(key(entry));
        expected.delete(key(entry));
        if (usage === undefined) {
          result.unmatched.push(`${event.path}: ${key(entry)} found by Strata only`);
          continue;
        }
        result.imports++;
        const where = `${event.path}: ${key(entry)} → Strata ${entry.resolved ?? 'null'}, TypeScript ${usage.expected ?? 'null'}`;
        if (entry.resolved === usage.expected) {
          result.agreeing++;
          if (entry.resolved !== null) result.agreeingInRoot++;
        }
        else if (usage.expected === null && entry.resolved !== null && !/\.[cm]?[jt]sx?$/.test(entry.resolved)) result.explained.push(`${where} (a non-source file TypeScript does not resolve: DESIGN records it)`);
        else result.unexplained.push(where);
      }
      for (const missing of expected.keys()) result.unmatched.push(`${event.path}: ${missing} found by TypeScript only`);
    }
  } finally {
    await engine.close();
  }
  return result;
}

function rate(a: Agreement): number {
  return a.imports === 0 ? 1 : a.agreeing / a.imports;
}

function describeAgreement(name: string, a: Agreement): string {
  const lines = [`${name}: ${a.agreeing}/${a.imports} imports of ${a.files} files agree with TypeScript (${(rate(a) * 100).toFixed(2)}%; ${a.agreeingInRoot} of them name an in-root file)`];
  for (const line of [...a.explained, ...a.unexplained, ...a.unmatched]) lines.push(`  ${line}`);
  return lines.join('\n');
}

const REPOSITORY = path.join(__dirname, '..', '..');

describe('Dependency graph agreement with TypeScript', () => {
  it("agrees with ts.resolveModuleName on every import of this repository's own sources", async () => {
    // Discovery honours .gitignore: dist/ and the generated corpora under bench/results are left out.
    const agreement = await agreementOn(REPOSITORY);
    process.stderr.write(describeAgreement('this repository', agreement) + '\n');
    expect(agreement.files).toBeGreaterThan(50);
    expect(agreement.imports).toBeGreaterThan(300);
    expect(agreement.unexplained).toEqual([]);
    expect(agreement.unmatched).toEqual([]);
    expect(rate(agreement)).toBeGreaterThanOrEqual(0.99);
  });

  describe('on a generated monorepo with workspace packages symlinked into node_modules', () => {
    let tree: TempTree;
    beforeAll(() => {
      tree = makeTree();
      generateMonorepo(tree.root, { files: 1200, packages: 6, seed: 7 });
      for (let p = 0; p < 6; p++) {
        fs.mkdirSync(path.join(tree.root, 'node_modules', '@corpus'), { recursive: true });
        fs.symlinkSync(path.join('..', '..', 'packages', `pkg-${p}`), path.join(tree.root, 'node_modules', '@corpus', `pkg-${p}`), 'dir');
      }
      // A package that reaches its siblings through the symlinks (no paths alias), and one with a stylesheet.
      tree.write('packages/pkg-0/tsconfig.json', JSON.stringify({ compilerOptions: { module: 'nodenext' } }));
      tree.write('packages/pkg-0/src/workspace.ts', "import { x } from '@corpus/pkg-1';\nimport './theme.css';\nexport { x };\n");
      tree.write('packages/pkg-0/src/theme.css', ':root{}\n');
    });
    afterAll(() => tree.remove());

    it('agrees on at least 99% of imports, and every disagreement is a non-source file', async () => {
      const agreement = await agreementOn(tree.root);
      process.stderr.write(describeAgreement('generated monorepo', agreement) + '\n');
      expect(agreement.files).toBe(1201);
      expect(agreement.unexplained).toEqual([]);
      expect(agreement.unmatched).toEqual([]);
      expect(agreement.explained).toHaveLength(1);
      expect(rate(agreement)).toBeGreaterThanOrEqual(0.99);
    });
  });
});
