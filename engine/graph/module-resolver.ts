/**
 * Resolves one import record of a file to the file it names, with TypeScript's own resolution
 * (DESIGN.md, "Contract", `strata deps`): never a home-made resolver.
 *
 * - Module specifiers (`import`, `export`, `dynamic-import`, `require`, `import-equals`,
 *   `import-type`): `ts.resolveModuleName`, with one `ts.createModuleResolutionCache` per options
 *   object, under the resolution mode TypeScript itself would use at that usage (`require` and
 *   `import x = require()` resolve as CommonJS, `import()` as ESM unless the file's emit transforms
 *   it, the rest by the file's module format; see {@link resolutionModeFor}).
 * - `/// <reference path>` (`reference`, typeOnly false): a path relative to the file, exactly as the
 *   program does it (`ts.resolveTripleslashReference`, then the file itself when it has an extension,
 *   else the first of `.ts`, `.tsx`, `.d.ts` that exists).
 * - `/// <reference types>` (`reference`, typeOnly true): `ts.resolveTypeReferenceDirective`.
 *
 * Then, beyond what TypeScript resolves (DESIGN.md: imports of non-source files are recorded):
 * a relative specifier TypeScript leaves unresolved (`./styles.css`, a JSON file without
 * `resolveJsonModule`) resolves to the file at that path relative to the importing file when one
 * exists, and a `.d.css.ts`-style declaration (`allowArbitraryExtensions`) is replaced by the file it
 * declares when that file exists.
 *
 * Classification: a resolved file outside the root (or its realpath) is `external` with
 * `resolved: null`; one inside the root but under a `node_modules` directory is `external` with its
 * path (an installed package); anything else inside the root is internal. With `preserveSymlinks` off
 * (the default) TypeScript returns the realpath of what it finds in node_modules, so a workspace
 * package symlinked into node_modules resolves to its in-root source, internal. An unresolved
 * specifier is external when it is a builtin (`fs`, `node:fs`) or a bare name no `paths` pattern
 * claims (a package not installed); an unresolved relative specifier or `paths` alias is internal
 * and unresolved (a broken import).
 */
import { isBuiltin } from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as ts from 'typescript';
import type { ImportKind, ImportRecord } from '../../shared/imports.js';
import { CompilerOptionsResolver, isInside, loadTypeScript, realpathOr, type FileCompilerOptions } from './compiler-options.js';

/** Where one import record leads. */
export interface ResolvedImport {
  /** Absolute path of the file it names, only when that file is inside the root; else null. */
  readonly resolved: string | null;
  /** A builtin, an installed package (node_modules), or a file outside the root. */
  readonly external: boolean;
}

/** TypeScript's caches for one options object. */
export interface ResolutionCaches {
  readonly modules: ts.ModuleResolutionCache;
  readonly typeReferences: ts.TypeReferenceDirectiveResolutionCache;
  /** Importing file → its module-format facts (TypeScript's `impliedNodeFormat` and package scope). */
  readonly fileFormats: Map<string, FileFormat>;
}

/** Everything {@link resolveImport} needs besides the file and the record. */
export interface ResolveContext {
  /** The root: only files inside it (or inside its realpath) are reported as `resolved`. */
  readonly root: string;
  readonly compilerOptions: ts.CompilerOptions;
  /** @default a host over the real file system ({@link createResolutionHost}) */
  readonly host?: ts.ModuleResolutionHost;
  /** Caches for exactly these compiler options. @default none: every call resolves from scratch */
  readonly caches?: ResolutionCaches;
  /** The root's realpath, when the caller already knows it. @default computed */
  readonly rootReal?: string;
}

/** A module-resolution host over the real file system, with `realpath` (symlinked packages resolve to their targets). */
export function createResolutionHost(currentDirectory: string): ts.ModuleResolutionHost {
  const t = loadTypeScript();
  const sys = t.sys;
  return {
    fileExists: (file) => sys.fileExists(file),
    readFile: (file) => sys.readFile(file),
    directoryExists: (dir) => sys.directoryExists(dir),
    getDirectories: (dir) => sys.getDirectories(dir),
    realpath: (file) => (sys.realpath ? sys.realpath(file) : file),
    getCurrentDirectory: () => currentDirectory,
    useCaseSensitiveFileNames: sys.useCaseSensitiveFileNames,
  };
}

/** Fresh caches for one options object. */
export function createResolutionCaches(currentDirectory: string, options: ts.CompilerOptions, host?: ts.ModuleResolutionHost): ResolutionCaches {
  const t = loadTypeScript();
  const caseSensitive = host?.useCaseSensitiveFileNames;
  const sensitive = typeof caseSensitive === 'function' ? caseSensitive() : (caseSensitive ?? t.sys.useCaseSensitiveFileNames);
  const canonical = sensitive ? (name: string): string => name : (name: string): string => name.toLowerCase();
  const modules = t.createModuleResolutionCache(currentDirectory, canonical, options);
  const typeReferences = t.createTypeReferenceDirectiveResolutionCache(currentDirectory, canonical, options, modules.getPackageJsonInfoCache());
  return { modules, typeReferences, fileFormats: new Map() };
}

/** Resolves one import record of `fromFile` (absolute) under the given compiler options. */
export function resolveImport(fromFile: string, record: ImportRecord, context: ResolveContext): ResolvedImport {
  const t = loadTypeScript();
  const options = context.compilerOptions;
  const host = context.host ?? createResolutionHost(context.root);
  const caches = context.caches;
  const root = { root: path.resolve(context.root), rootReal: context.rootReal ?? realpathOr(path.resolve(context.root)) };
  const specifier = record.specifier;

  if (record.kind === 'reference' && !record.typeOnly) {
    return classify(referencedPath(t, specifier, fromFile, host), root);
  }
  const format = fileFormatOf(t, fromFile, options, host, caches);
  if (record.kind === 'reference') {
    const mode = defaultResolutionModeForFile(t, format, options);
    const result = t.resolveTypeReferenceDirective(specifier, fromFile, options, host, undefined, caches?.typeReferences, mode);
    const file = result.resolvedTypeReferenceDirective?.resolvedFileName;
    if (file !== undefined) return classify(file, root);
    return unresolved(t, specifier, fromFile, options, root);
  }
  const mode = resolutionModeFor(t, record.kind, format, options);
  const result = t.resolveModuleName(specifier, fromFile, options, host, caches?.modules, undefined, mode);
  const file = result.resolvedModule?.resolvedFileName;
  if (file !== undefined) return classify(declaredFileOf(file, specifier) ?? file, root);
  return unresolved(t, specifier, fromFile, options, root);
}

/**
 * Resolves import records with the compiler options of each importing file's nearest tsconfig,
 * keeping one set of TypeScript caches per options object.
 *
 * Caches are a snapshot of the file system: {@link refresh} drops them (and starts a new
 * compiler-options snapshot), so a caller that refreshes at the start of each query answers from disk.
 */
export class ModuleResolver {
  readonly root: string;
  readonly compilerOptions: CompilerOptionsResolver;
  readonly #rootReal: string;
  /** Created on first use (it loads typescript). */
  #host: ts.ModuleResolutionHost | undefined;
  #caches = new WeakMap<ts.CompilerOptions, ResolutionCaches>();

  constructor(options: { readonly root: string; readonly compilerOptions?: CompilerOptionsResolver; readonly host?: ts.ModuleResolutionHost }) {
    this.root = path.resolve(options.root);
    this.#rootReal = realpathOr(this.root);
    this.compilerOptions = options.compilerOptions ?? new CompilerOptionsResolver({ root: this.root });
    this.#host = options.host;
  }

  /** Resolves one record of `fromFile` (absolute). */
  resolve(fromFile: string, record: ImportRecord): ResolvedImport {
    return this.resolveWith(fromFile, record, this.compilerOptions.forFile(fromFile));
  }

  /** Resolves one record under options already looked up for `fromFile`. */
  resolveWith(fromFile: string, record: ImportRecord, config: FileCompilerOptions): ResolvedImport {
    const host = this.#hostFor();
    return resolveImport(fromFile, record, { root: this.root, rootReal: this.#rootReal, compilerOptions: config.options, host, caches: this.#cachesFor(config.options, host) });
  }

  /** Drops every cache: the next resolution sees the file system (and the configs) as they are now. */
  refresh(): void {
    this.#caches = new WeakMap();
    this.compilerOptions.refresh();
  }

  #hostFor(): ts.ModuleResolutionHost {
    this.#host ??= createResolutionHost(this.root);
    return this.#host;
  }

  #cachesFor(options: ts.CompilerOptions, host: ts.ModuleResolutionHost): ResolutionCaches {
    let caches = this.#caches.get(options);
    if (caches === undefined) {
      caches = createResolutionCaches(this.root, options, host);
      this.#caches.set(options, caches);
    }
    return caches;
  }
}

// --- resolution mode -------------------------------------------------------------------------

/**
 * TypeScript's computed-option helpers and module-format workers. They are exported by the
 * `typescript` module at run time but not declared in its typings; `typescript` is pinned to an
 * exact version (package.json), and {@link internals} fails loudly if one is missing.
 */
interface TypeScriptInternals {
  getEmitModuleKind(options: ts.CompilerOptions): ts.ModuleKind;
  importSyntaxAffectsModuleResolution(options: ts.CompilerOptions): boolean;
  emitModuleKindIsNonNodeESM(kind: ts.ModuleKind): boolean;
  getImpliedNodeFormatForFileWorker(fileName: string, cache: ts.PackageJsonInfoCache | undefined, host: ts.ModuleResolutionHost, options: ts.CompilerOptions): ts.ResolutionMode | FileFormat;
  getImpliedNodeFormatForEmitWorker(file: FileFormatSource, options: ts.CompilerOptions): ts.ResolutionMode;
  getEmitModuleFormatOfFileWorker(file: FileFormatSource, options: ts.CompilerOptions): ts.ModuleKind;
  getDefaultResolutionModeForFileWorker(file: FileFormatSource, options: ts.CompilerOptions): ts.ResolutionMode;
}

const INTERNAL_NAMES: readonly (keyof TypeScriptInternals)[] = [
  'getEmitModuleKind',
  'importSyntaxAffectsModuleResolution',
  'emitModuleKindIsNonNodeESM',
  'getImpliedNodeFormatForFileWorker',
  'getImpliedNodeFormatForEmitWorker',
  'getEmitModuleFormatOfFileWorker',
  'getDefaultResolutionModeForFileWorker',
];

let checkedInternals: TypeScriptInternals | null = null;

function internals(t: typeof ts): TypeScriptInternals {
  if (checkedInternals !== null) return checkedInternals;
  const candidate = t as unknown as Record<string, unknown>;
  for (const name of INTERNAL_NAMES) {
    if (typeof candidate[name] !== 'function') throw new Error(`typescript ${t.version} lacks ${name}: the module resolver needs the pinned typescript version`);
  }
  checkedInternals = t as unknown as TypeScriptInternals;
  return checkedInternals;
}

/** What TypeScript's format workers read from a source file: its name, `impliedNodeFormat` and package scope. */
export interface FileFormatSource {
  readonly fileName: string;
  readonly impliedNodeFormat: ts.ResolutionMode;
  readonly packageJsonScope?: unknown;
}

/** The module-format facts of an importing file. */
export interface FileFormat extends FileFormatSource {
  readonly packageJsonLocations?: readonly string[];
}

function fileFormatOf(t: typeof ts, fromFile: string, options: ts.CompilerOptions, host: ts.ModuleResolutionHost, caches: ResolutionCaches | undefined): FileFormat {
  const known = caches?.fileFormats.get(fromFile);
  if (known !== undefined) return known;
  // The same computation TypeScript's program makes for each source file it creates.
  const implied = internals(t).getImpliedNodeFormatForFileWorker(fromFile, caches?.modules.getPackageJsonInfoCache(), host, options);
  const format: FileFormat = typeof implied === 'object' ? { ...implied, fileName: fromFile } : { fileName: fromFile, impliedNodeFormat: implied };
  caches?.fileFormats.set(fromFile, format);
  return format;
}

/**
 * The resolution mode TypeScript uses for a usage of this kind in this file: its
 * `getModeForUsageLocation` without a `resolution-mode` attribute (records do not carry one), that
 * is `getEmitSyntaxForUsageLocationWorker` when the import syntax affects resolution.
 */
export function resolutionModeFor(t: typeof ts, kind: Exclude<ImportKind, 'reference'>, file: FileFormatSource, options: ts.CompilerOptions): ts.ResolutionMode {
  const internal = internals(t);
  if (!internal.importSyntaxAffectsModuleResolution(options)) return undefined;
  switch (kind) {
    case 'require':
    case 'import-equals':
      return t.ModuleKind.CommonJS;
    case 'dynamic-import':
      return shouldTransformImportCall(t, file, options) ? t.ModuleKind.CommonJS : t.ModuleKind.ESNext;
    case 'import':
    case 'export':
    case 'import-type': {
      const emit = internal.getEmitModuleFormatOfFileWorker(file, options);
      if (emit === t.ModuleKind.CommonJS) return t.ModuleKind.CommonJS;
      return internal.emitModuleKindIsNonNodeESM(emit) || emit === t.ModuleKind.Preserve ? t.ModuleKind.ESNext : undefined;
    }
  }
}

/** TypeScript's `shouldTransformImportCallWorker`. */
function shouldTransformImportCall(t: typeof ts, file: FileFormatSource, options: ts.CompilerOptions): boolean {
  const internal = internals(t);
  const moduleKind = internal.getEmitModuleKind(options);
  if ((t.ModuleKind.Node16 <= moduleKind && moduleKind <= t.ModuleKind.NodeNext) || moduleKind === t.ModuleKind.Preserve) return false;
  return internal.getEmitModuleFormatOfFileWorker(file, options) < t.ModuleKind.ES2015;
}

/** The mode of a `/// <reference types>` without `resolution-mode`: the file's default. */
function defaultResolutionModeForFile(t: typeof ts, file: FileFormatSource, options: ts.CompilerOptions): ts.ResolutionMode {
  return internals(t).getDefaultResolutionModeForFileWorker(file, options);
}

// --- references, non-source files, classification ---------------------------------------------

/** Extensions tried, in order, for a `/// <reference path>` without one (TypeScript's first group). */
const REFERENCE_EXTENSIONS = ['.ts', '.tsx', '.d.ts'] as const;

/** The file a `/// <reference path>` names, as the program finds it; null when there is none. */
function referencedPath(t: typeof ts, specifier: string, fromFile: string, host: ts.ModuleResolutionHost): string | null {
  const target = t.resolveTripleslashReference(specifier, fromFile);
  if (path.basename(target).includes('.')) return host.fileExists(target) ? target : null;
  for (const extension of REFERENCE_EXTENSIONS) if (host.fileExists(target + extension)) return target + extension;
  return null;
}

/**
 * `./styles.css` resolved by TypeScript to `./styles.d.css.ts` (allowArbitraryExtensions): the
 * dependency is the stylesheet itself when it exists.
 */
function declaredFileOf(resolved: string, specifier: string): string | null {
  const match = /\.d\.([^./\\]+)\.ts$/.exec(resolved);
  if (match === null || !specifier.endsWith('.' + match[1])) return null;
  const declared = resolved.slice(0, resolved.length - '.d.'.length - (match[1]?.length ?? 0) - '.ts'.length) + '.' + match[1];
  return isFile(declared) ? declared : null;
}

function unresolved(t: typeof ts, specifier: string, fromFile: string, options: ts.CompilerOptions, root: RootPaths): ResolvedImport {
  if (t.isExternalModuleNameRelative(specifier)) {
    // A non-source file TypeScript does not resolve: the file at that path, when there is one.
    const candidate = path.resolve(path.dirname(fromFile), specifier);
    return isFile(candidate) ? classify(candidate, root) : { resolved: null, external: false };
  }
  if (isBuiltin(specifier)) return { resolved: null, external: true };
  return { resolved: null, external: !matchesPathsPattern(specifier, options.paths) };
}

/** Whether a `paths` key (`@app/*`, `~utils`) claims the specifier: such an import is the project's own. */
function matchesPathsPattern(specifier: string, paths: ts.MapLike<string[]> | undefined): boolean {
  if (paths === undefined) return false;
  for (const pattern of Object.keys(paths)) {
    const star = pattern.indexOf('*');
    if (star === -1) {
      if (pattern === specifier) return true;
    } else {
      const prefix = pattern.slice(0, star);
      const suffix = pattern.slice(star + 1);
      if (specifier.length >= prefix.length + suffix.length && specifier.startsWith(prefix) && specifier.endsWith(suffix)) return true;
    }
  }
  return false;
}

interface RootPaths {
  readonly root: string;
  readonly rootReal: string;
}

function classify(file: string | null, root: RootPaths): ResolvedImport {
  if (file === null) return { resolved: null, external: false };
  const absolute = path.resolve(file);
  const base = isInside(root.root, absolute) ? root.root : isInside(root.rootReal, absolute) ? root.rootReal : null;
  if (base === null) return { resolved: null, external: true };
  const segments = path.relative(base, absolute).split(path.sep);
  return { resolved: absolute, external: segments.includes('node_modules') };
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false; // no such file: nothing to point at
  }
}
