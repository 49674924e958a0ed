/**
 * Everything that shapes a `ts.SourceFile` besides its text, and the key it makes. The key follows
 * TypeScript's documentRegistry: the compilation-settings key (the compiler options that change a
 * parse or a bind: target, module, jsx, moduleDetection, alwaysStrict, …), then the per-file source
 * options (language version, implied node format, JSDoc parsing mode), parent pointers and script
 * kind. The content hash is checked beside the key, so a file keeps one entry per setting.
 */
import type * as ts from 'typescript';

/** What a caller may set; each field defaults as `engine.sourceFile()` always did. */
export interface SourceFileSettings {
  /** @default ts.ScriptTarget.Latest */
  readonly languageVersion?: ts.ScriptTarget;
  /** ESM or CommonJS, as a Program decides per file from package.json `type`. @default undefined */
  readonly impliedNodeFormat?: ts.ResolutionMode;
  /** @default ts.JSDocParsingMode.ParseAll (TypeScript's default) */
  readonly jsDocParsingMode?: ts.JSDocParsingMode;
  /** @default true */
  readonly setParentNodes?: boolean;
  /** @default from the extension (.ts/.mts/.cts → TS, .tsx → TSX, .js/.mjs/.cjs → JS, .jsx → JSX) */
  readonly scriptKind?: ts.ScriptKind;
  /** The compiler options the file is bound under (their source-file-affecting part is keyed). */
  readonly compilerOptions?: ts.CompilerOptions;
}

/** Settings with every default filled in, and the key they make. */
export interface ResolvedSourceFileSettings {
  readonly languageVersion: ts.ScriptTarget;
  readonly impliedNodeFormat: ts.ResolutionMode;
  readonly jsDocParsingMode: ts.JSDocParsingMode;
  readonly setParentNodes: boolean;
  readonly scriptKind: ts.ScriptKind;
  /** TypeScript's own decision of whether a file is a module, from the compiler options. */
  readonly setExternalModuleIndicator: ((file: ts.SourceFile) => void) | undefined;
  /** Compilation-settings key + source options; with the path, the tier's key. */
  readonly key: string;
}

/** `ts.getSetExternalModuleIndicator` is internal (a Program uses it); present at run time in 5.x and 6.x. */
type WithModuleIndicator = typeof ts & { readonly getSetExternalModuleIndicator?: (options: ts.CompilerOptions) => (file: ts.SourceFile) => void };

/** Compilation-settings keys by options object: a Program asks once per file with the same object. */
const settingsKeys = new WeakMap<ts.CompilerOptions, string>();

/**
 * Resolutions of frozen settings objects by script kind: `sourceFile(path)` (the frozen defaults)
 * resolves once per kind. Objects a caller may still change are resolved on every call.
 */
const resolutions = new WeakMap<SourceFileSettings, Map<ts.ScriptKind, ResolvedSourceFileSettings>>();

export function resolveSettings(typescript: typeof ts, registryKey: (options: ts.CompilerOptions) => string, fileName: string, given: SourceFileSettings): ResolvedSourceFileSettings {
  const scriptKind = given.scriptKind ?? scriptKindFromName(typescript, fileName);
  if (!Object.isFrozen(given)) return resolve(typescript, registryKey, scriptKind, given);
  let byKind = resolutions.get(given);
  if (byKind === undefined) resolutions.set(given, (byKind = new Map()));
  let resolved = byKind.get(scriptKind);
  if (resolved === undefined) byKind.set(scriptKind, (resolved = resolve(typescript, registryKey, scriptKind, given)));
  return resolved;
}

function resolve(typescript: typeof ts, registryKey: (options: ts.CompilerOptions) => string, scriptKind: ts.ScriptKind, given: SourceFileSettings): ResolvedSourceFileSettings {
  const languageVersion = given.languageVersion ?? typescript.ScriptTarget.Latest;
  const jsDocParsingMode = given.jsDocParsingMode ?? typescript.JSDocParsingMode.ParseAll;
  const setParentNodes = given.setParentNodes ?? true;
  const options = given.compilerOptions;
  let settingsKey = '';
  let setExternalModuleIndicator: ResolvedSourceFileSettings['setExternalModuleIndicator'];
  if (options !== undefined) {
    settingsKey = settingsKeys.get(options) ?? registryKey(options);
    settingsKeys.set(options, settingsKey);
    setExternalModuleIndicator = (typescript as WithModuleIndicator).getSetExternalModuleIndicator?.(options);
  }
  const impliedNodeFormat = given.impliedNodeFormat;
  return {
    languageVersion,
    impliedNodeFormat,
    jsDocParsingMode,
    setParentNodes,
    scriptKind,
    setExternalModuleIndicator,
    key: `${settingsKey}|${languageVersion}|${impliedNodeFormat ?? ''}|${jsDocParsingMode}|${setParentNodes ? 1 : 0}|${scriptKind}`,
  };
}

/** TypeScript's script kind from the extension (its getScriptKindFromFileName): anything unknown is TS. */
function scriptKindFromName(typescript: typeof ts, fileName: string): ts.ScriptKind {
  const dot = fileName.lastIndexOf('.');
  switch (dot === -1 ? '' : fileName.slice(dot).toLowerCase()) {
    case '.js':
    case '.cjs':
    case '.mjs':
      return typescript.ScriptKind.JS;
    case '.jsx':
      return typescript.ScriptKind.JSX;
    case '.tsx':
      return typescript.ScriptKind.TSX;
    case '.json':
      return typescript.ScriptKind.JSON;
    default:
      return typescript.ScriptKind.TS;
  }
}

/** Parses `text` as TypeScript's host would with these settings. */
export function parseWith(typescript: typeof ts, fileName: string, text: string, settings: ResolvedSourceFileSettings): ts.SourceFile {
  const options: ts.CreateSourceFileOptions = {
    languageVersion: settings.languageVersion,
    impliedNodeFormat: settings.impliedNodeFormat,
    jsDocParsingMode: settings.jsDocParsingMode,
    ...(settings.setExternalModuleIndicator ? { setExternalModuleIndicator: settings.setExternalModuleIndicator } : {}),
  };
  return typescript.createSourceFile(fileName, text, options, settings.setParentNodes, settings.scriptKind);
}
