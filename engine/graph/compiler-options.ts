/**
 * The compiler options module resolution runs under, per file (DESIGN.md, "Contract", `strata deps`):
 *
 * - the nearest `tsconfig.json` in the file's directory or above, up to and including the root;
 *   `extends` followed (packages included) by TypeScript's own `getParsedCommandLineOfConfigFile`
 *   over the real file system, so `paths` (with or without `baseUrl`, relative to the config that
 *   declares them), `baseUrl`, `rootDirs`, `customConditions` and the rest mean what they mean to tsc;
 * - `allowJs` always on (JavaScript files are part of the graph);
 * - `module: esnext` + `moduleResolution: bundler` when the config sets neither. When it sets only
 *   one, the other is completed the way that keeps the pair valid for TypeScript: a `module` alone
 *   lets TypeScript derive `moduleResolution` from it (`nodenext` → `nodenext`, ES kinds → `bundler`),
 *   and `moduleResolution: node16 | nodenext` alone gets the matching `module` (TypeScript refuses
 *   any other); any other `moduleResolution` alone gets `module: esnext`;
 * - no tsconfig applies: exactly those defaults.
 *
 * Parsed configs are cached per tsconfig path, together with the stamps (size, mtime, ctime, inode)
 * of the config and every file it extends. The cache is a snapshot: {@link refresh} starts a new one
 * in which every config used is re-stamped once (and re-parsed when changed) and the directory →
 * config lookup is redone, so a caller that refreshes at the start of each query always answers for
 * the configs on disk. {@link invalidate} drops one config (or all) outright.
 *
 * The options object for a config is frozen and keeps its identity until the config changes, so
 * callers can key caches on it (one module-resolution cache per options object).
 *
 * `typescript` is loaded lazily, on the first parse: a warm that resolves nothing never loads it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as ts from 'typescript';
import { preloadTypescript } from '../../workers/typescript-loader.js';

let typescript: typeof ts | null = null;

/**
 * The `typescript` module, loaded on first use through the V8 code cache the parse workers keep
 * (workers/typescript-loader.ts: about a third less load time), or plainly when it has none.
 */
export function loadTypeScript(): typeof ts {
  if (typescript === null) {
    preloadTypescript();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    typescript = require('typescript') as typeof ts;
  }
  return typescript;
}

/** The name of the config file looked up (DESIGN.md: the nearest `tsconfig.json`). */
export const CONFIG_FILE_NAME = 'tsconfig.json';

/** TS18003 "No inputs were found in config file": we never list the config's files, so never report it. */
const NO_INPUTS_FOUND = 18003;

/** The compiler options that apply to a file. */
export interface FileCompilerOptions {
  /** Absolute path of the `tsconfig.json` that applies, or `null` when none does (the defaults). */
  readonly configPath: string | null;
  /** Frozen; the same object while the config (and what it extends) is unchanged. */
  readonly options: ts.CompilerOptions;
  /** Problems TypeScript reported reading the config (flattened messages); options are still usable. */
  readonly diagnostics: readonly string[];
}

interface CachedConfig {
  readonly result: FileCompilerOptions;
  /** The config and every file it extends, with their stamps when parsed. */
  readonly stamps: ReadonlyMap<string, string>;
  /** The snapshot in which the stamps were last checked. */
  checkedIn: number;
}

export interface CompilerOptionsResolverOptions {
  /** The root: the config lookup never goes above it. */
  readonly root: string;
}

export class CompilerOptionsResolver {
  readonly root: string;
  readonly #rootReal: string;
  readonly #configs = new Map<string, CachedConfig>();
  /** Directory → nearest config path (or null), valid for the current snapshot only. */
  readonly #nearest = new Map<string, string | null>();
  #snapshot = 0;
  #defaults: FileCompilerOptions | null = null;

  constructor(options: CompilerOptionsResolverOptions) {
    this.root = path.resolve(options.root);
    this.#rootReal = realpathOr(this.root);
  }

  /** The options for `file` (absolute, or relative to the root). */
  forFile(file: string): FileCompilerOptions {
    const configPath = this.configPathFor(file);
    return configPath === null ? this.defaults() : this.forConfig(configPath);
  }

  /** Absolute path of the `tsconfig.json` that applies to `file`, or null. */
  configPathFor(file: string): string | null {
    const absolute = path.resolve(this.root, file);
    const base = this.#baseOf(absolute);
    if (base === null) return null;
    return this.#nearestFrom(path.dirname(absolute), base);
  }

  /** The options a given `tsconfig.json` yields (parsed once per snapshot at most). */
  forConfig(configPath: string): FileCompilerOptions {
    const key = path.resolve(configPath);
    const cached = this.#configs.get(key);
    if (cached !== undefined) {
      if (cached.checkedIn === this.#snapshot) return cached.result;
      if (stampsMatch(cached.stamps)) {
        cached.checkedIn = this.#snapshot;
        return cached.result;
      }
    }
    const parsed = parseConfig(key, this.root);
    this.#configs.set(key, { ...parsed, checkedIn: this.#snapshot });
    return parsed.result;
  }

  /** The options when no tsconfig applies. */
  defaults(): FileCompilerOptions {
    this.#defaults ??= { configPath: null, options: withStrataDefaults({}), diagnostics: [] };
    return this.#defaults;
  }

  /**
   * Starts a new snapshot: configs are re-stamped on their next use and the directory lookup is
   * redone (a tsconfig.json added or deleted since is seen).
   */
  refresh(): void {
    this.#snapshot++;
    this.#nearest.clear();
  }

  /**
   * Forgets a config: the given tsconfig path, every config that extends it, and the directory lookups.
   * Without a path, forgets everything.
   */
  invalidate(configPath?: string): void {
    this.#nearest.clear();
    if (configPath === undefined) {
      this.#configs.clear();
      return;
    }
    const target = path.resolve(configPath);
    for (const [key, cached] of this.#configs) if (cached.stamps.has(target)) this.#configs.delete(key);
  }

  /** The directory the lookup stops at for this file (the root, or its realpath), or null when outside. */
  #baseOf(absolute: string): string | null {
    if (isInside(this.root, absolute)) return this.root;
    if (isInside(this.#rootReal, absolute)) return this.#rootReal;
    return null;
  }

  #nearestFrom(start: string, base: string): string | null {
    const visited: string[] = [];
    let dir = start;
    let found: string | null = null;
    for (;;) {
      const known = this.#nearest.get(dir);
      if (known !== undefined) {
        found = known;
        break;
      }
      visited.push(dir);
      const candidate = path.join(dir, CONFIG_FILE_NAME);
      if (isFile(candidate)) {
        found = candidate;
        break;
      }
      if (dir === base) break;
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
    for (const each of visited) this.#nearest.set(each, found);
    return found;
  }
}

/** Applies the DESIGN defaults to options read from a config (or to `{}`), and freezes the result. */
export function withStrataDefaults(options: ts.CompilerOptions): ts.CompilerOptions {
  const t = loadTypeScript();
  const result: ts.CompilerOptions = { ...options, allowJs: true };
  if (result.module === undefined && result.moduleResolution === undefined) {
    result.module = t.ModuleKind.ESNext;
    result.moduleResolution = t.ModuleResolutionKind.Bundler;
  } else if (result.module === undefined) {
    const resolution = result.moduleResolution;
    result.module =
      resolution === t.ModuleResolutionKind.Node16 ? t.ModuleKind.Node16 : resolution === t.ModuleResolutionKind.NodeNext ? t.ModuleKind.NodeNext : t.ModuleKind.ESNext;
  }
  return Object.freeze(result);
}

function parseConfig(configPath: string, root: string): { result: FileCompilerOptions; stamps: ReadonlyMap<string, string> } {
  const t = loadTypeScript();
  const diagnostics: string[] = [];
  const report = (diagnostic: ts.Diagnostic): void => {
    if (diagnostic.code !== NO_INPUTS_FOUND) diagnostics.push(t.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
  };
  const host: ts.ParseConfigFileHost = {
    useCaseSensitiveFileNames: t.sys.useCaseSensitiveFileNames,
    getCurrentDirectory: () => root,
    fileExists: (file) => t.sys.fileExists(file),
    readFile: (file) => t.sys.readFile(file),
    // The config's file list is not needed to resolve imports: listing it would walk the whole tree.
    readDirectory: () => [],
    onUnRecoverableConfigFileDiagnostic: report,
  };
  const parsed = t.getParsedCommandLineOfConfigFile(configPath, undefined, host);
  const stamps = new Map<string, string>([[configPath, stampOf(configPath)]]);
  if (parsed === undefined) {
    return { result: { configPath, options: withStrataDefaults({}), diagnostics }, stamps };
  }
  for (const diagnostic of parsed.errors) report(diagnostic);
  const configFile = parsed.options.configFile as ts.TsConfigSourceFile | undefined;
  for (const extended of configFile?.extendedSourceFiles ?? []) {
    const file = path.resolve(extended);
    stamps.set(file, stampOf(file));
  }
  // The spread copies enumerable options only (`configFile`, a whole parsed JSON tree, stays behind).
  return { result: { configPath, options: withStrataDefaults({ ...parsed.options }), diagnostics }, stamps };
}

/** Size, mtime, ctime (ns) and inode: a change to any of them means the config may have changed. */
function stampOf(file: string): string {
  try {
    const s = fs.statSync(file, { bigint: true });
    return `${s.size}:${s.mtimeNs}:${s.ctimeNs}:${s.ino}`;
  } catch {
    return 'missing'; // a config that does not exist (yet) has this stamp; creating it changes it
  }
}

function stampsMatch(stamps: ReadonlyMap<string, string>): boolean {
  for (const [file, stamp] of stamps) if (stampOf(file) !== stamp) return false;
  return true;
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false; // no such file (or unreadable): not a config
  }
}

/** True when `file` is `dir` itself or below it. */
export function isInside(dir: string, file: string): boolean {
  const relative = path.relative(dir, file);
  return relative === '' || (!relative.startsWith('..' + path.sep) && relative !== '..' && !path.isAbsolute(relative));
}

export function realpathOr(file: string): string {
  try {
    return fs.realpathSync.native(file);
  } catch {
    return file; // a root that does not exist (yet): compare by its given path only
  }
}
