/**
 * strata-typecheck: `tsc --noEmit` for a tsconfig project, with each file's semantic diagnostics
 * kept in Strata's L3 across runs. A file is checked again only when its own text changed or the
 * type-level shape (its declaration output, as `tsc --incremental` hashes it) of something it
 * imports, directly or transitively, changed: an edit inside a function body rechecks that file
 * alone. The Program is built through `engine.compilerHost()`, so its SourceFiles come from the
 * SourceFile tier. Output (stdout) and exit status are tsc's; a summary goes to stderr.
 */
import * as path from 'node:path';
import ts from 'typescript';
import { createEngine, StrataError, type Engine } from '../../engine/index.js';
import { checkOrder, digest, type CheckOrder, type FileGroup } from './check-order.js';

/** One diagnostic as L3 keeps it: plain data, with the message chain already flattened as tsc prints it. */
interface StoredDiagnostic {
  readonly start: number | undefined;
  readonly length: number | undefined;
  readonly category: number;
  readonly code: number;
  readonly message: string;
}

/** A file's check as L3 keeps it: valid while `inputs` (its text and its imports' shapes) holds. */
interface FileCheck {
  readonly inputs: string;
  readonly shape: string;
  readonly diagnostics: StoredDiagnostic[];
}

export interface TypecheckReport {
  /** What tsc --noEmit prints. */
  readonly output: string;
  /** tsc's exit status: 0 clean, 2 with errors (1 when the config itself is broken). */
  readonly exitCode: number;
  /** Files whose semantic diagnostics came from L3. */
  readonly reused: number;
  /** Root-relative files checked this run. */
  readonly checked: string[];
}

export interface TypecheckOptions {
  readonly cacheDir?: string;
  /** Directory the printed paths are relative to. @default process.cwd() */
  readonly cwd?: string;
}

const ANALYZER = { id: 'strata-typecheck', version: `1+${ts.version}`, dependsOnDependencies: false } as const;

export async function typecheck(configPath: string, options: TypecheckOptions = {}): Promise<TypecheckReport> {
  const cwd = options.cwd ?? process.cwd();
  const configFile = path.resolve(cwd, configPath);
  const root = path.dirname(configFile);
  const configDiagnostics: ts.Diagnostic[] = [];
  const parsed = ts.getParsedCommandLineOfConfigFile(configFile, undefined, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => configDiagnostics.push(d) });
  if (parsed === undefined) return { output: format(configDiagnostics, cwd), exitCode: 1, reused: 0, checked: [] };
  const engine = createEngine({ root, ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }) });
  try {
    return await run(engine, parsed, cwd);
  } finally {
    await engine.close();
  }
}

async function run(engine: Engine, parsed: ts.ParsedCommandLine, cwd: string): Promise<TypecheckReport> {
  const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options, host: engine.compilerHost(parsed.options), configFileParsingDiagnostics: ts.getConfigFileParsingDiagnostics(parsed) });
  // tsc's order: config, syntax; only when both are clean, options and globals; only then semantics.
  const diagnostics: ts.Diagnostic[] = [...program.getConfigFileParsingDiagnostics(), ...program.getSyntacticDiagnostics()];
  const report = (reused: number, checked: string[]): TypecheckReport => ({ output: format(diagnostics, cwd), exitCode: errorCount(diagnostics) > 0 ? 2 : 0, reused, checked });
  if (diagnostics.length > 0) return report(0, []);
  diagnostics.push(...program.getOptionsDiagnostics());
  if (diagnostics.length > 0) return report(0, []);
  // The same files with declaration output on: its checker gives the semantic diagnostics (declaration
  // output does not change them) and each file's shape. `oldProgram` keeps every SourceFile. Nothing
  // below asks for the checker unless a file must be checked: an unchanged tree binds nothing.
  const shapes = ts.createProgram({ rootNames: parsed.fileNames, options: declarationOptions(parsed.options), host: engine.compilerHost(declarationOptions(parsed.options)), oldProgram: program });
  const order = await checkOrder(engine, shapes);
  const { checks, reused, checked } = await checkGroups(engine, shapes, order);
  const programWide = await programDiagnostics(engine, shapes, order);
  // tsc reports semantic diagnostics only when there are no global ones.
  diagnostics.push(...programWide.global);
  if (programWide.global.length === 0) diagnostics.push(...programWide.untracked, ...checks);
  return report(reused, checked);
}

/** Each group from L3 while its inputs hold, else checked now and stored. */
async function checkGroups(engine: Engine, program: ts.Program, order: CheckOrder): Promise<{ checks: ts.Diagnostic[]; reused: number; checked: string[] }> {
  const results = engine.results<FileCheck>(ANALYZER);
  const checks: ts.Diagnostic[] = [];
  const checked: string[] = [];
  let reused = 0;
  const groupShapes = new Map<FileGroup, string>();
  for (const group of order.groups) {
    const inputs = digest(`${order.globalDigest}\n${group.files.map((sf) => sf.text).join('\0')}\n${group.dependencies.map((d) => groupShapes.get(d)).join('\n')}`);
    const stored = await Promise.all(group.files.map((sf) => cached(results, sf.fileName)));
    const valid = stored.every((check) => check?.inputs === inputs);
    const fileChecks = valid ? (stored as FileCheck[]) : group.files.map((sf) => checkFile(program, sf, inputs));
    if (valid) reused += group.files.length;
    else {
      for (const [index, sf] of group.files.entries()) {
        checked.push(path.relative(engine.root, sf.fileName).split(path.sep).join('/'));
        await results.set(sf.fileName, fileChecks[index] as FileCheck);
      }
    }
    for (const [index, sf] of group.files.entries()) checks.push(...(fileChecks[index] as FileCheck).diagnostics.map((d) => revive(d, sf)));
    // A group's shape covers its files' shapes and, through its dependencies' group shapes, everything
    // it reaches: an importer's inputs change exactly when a shape anywhere below it changed.
    groupShapes.set(group, digest(`${fileChecks.map((check) => check.shape).join('|')}>${group.dependencies.map((d) => groupShapes.get(d)).join(',')}`));
  }
  return { checks, reused, checked };
}

/** Global diagnostics and the untracked files' (lib, node_modules, scripts) as L3 keeps them. */
interface ProgramCheck {
  readonly digest: string;
  readonly global: StoredDiagnostic[];
  readonly untracked: Record<string, StoredDiagnostic[]>;
}

const PROGRAM_ANALYZER = { id: 'strata-typecheck-program', version: ANALYZER.version, dependsOnDependencies: false } as const;

/**
 * The diagnostics that belong to the whole Program, reused while every file's text and every
 * group's inputs are what they were (kept in L3 beside the first tracked file), else computed.
 */
async function programDiagnostics(engine: Engine, program: ts.Program, order: CheckOrder): Promise<{ global: ts.Diagnostic[]; untracked: ts.Diagnostic[] }> {
  const anchor = order.groups[0]?.files[0];
  const wholeDigest = digest(`${order.globalDigest}\n${order.groups.map((g) => g.files.map((sf) => `${sf.fileName}\0${sf.text}`).join('\0')).join('\n')}`);
  const results = engine.results<ProgramCheck>(PROGRAM_ANALYZER);
  const stored = anchor === undefined ? undefined : await cached(results, anchor.fileName);
  const fileOf = (name: string): ts.SourceFile | undefined => program.getSourceFile(name);
  if (stored?.digest === wholeDigest) {
    return {
      global: stored.global.map((d) => revive(d, undefined)),
      untracked: Object.entries(stored.untracked).flatMap(([name, list]) => list.map((d) => revive(d, fileOf(name)))),
    };
  }
  const global = program.getGlobalDiagnostics();
  const untracked = order.untracked.flatMap((sf) => program.getSemanticDiagnostics(sf));
  if (anchor !== undefined) {
    const byFile: Record<string, StoredDiagnostic[]> = {};
    for (const d of untracked) (byFile[d.file?.fileName ?? ''] ??= []).push(store(d));
    await results.set(anchor.fileName, { digest: wholeDigest, global: global.map(store), untracked: byFile });
  }
  return { global: [...global], untracked };
}

async function cached<T>(results: { get(file: string): Promise<T | undefined> }, file: string): Promise<T | undefined> {
  try {
    return await results.get(file);
  } catch (error) {
    if (error instanceof StrataError) return undefined; // not servable from L2 (vanished mid-run, too large): check it
    throw error;
  }
}

function checkFile(program: ts.Program, sourceFile: ts.SourceFile, inputs: string): FileCheck {
  const diagnostics = program.getSemanticDiagnostics(sourceFile).map(store);
  let declaration = '';
  if (!sourceFile.isDeclarationFile) program.emit(sourceFile, (name, text) => void (name.endsWith('.d.ts') || name.endsWith('.d.mts') || name.endsWith('.d.cts') ? (declaration += text) : undefined), undefined, true);
  const shape = digest(sourceFile.isDeclarationFile ? sourceFile.text : declaration);
  return { inputs, shape, diagnostics };
}

function declarationOptions(options: ts.CompilerOptions): ts.CompilerOptions {
  return { ...options, noEmit: false, declaration: true, emitDeclarationOnly: true, declarationMap: false, sourceMap: false, inlineSourceMap: false, incremental: false, composite: false, tsBuildInfoFile: undefined, noEmitOnError: false };
}

function store(diagnostic: ts.Diagnostic): StoredDiagnostic {
  return { start: diagnostic.start, length: diagnostic.length, category: diagnostic.category, code: diagnostic.code, message: ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n') };
}

function revive(stored: StoredDiagnostic, file: ts.SourceFile | undefined): ts.Diagnostic {
  return { file, start: stored.start, length: stored.length, category: stored.category, code: stored.code, messageText: stored.message };
}

function errorCount(diagnostics: readonly ts.Diagnostic[]): number {
  return diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error).length;
}

/** As tsc prints without --pretty: sorted, deduplicated, paths relative to the working directory. */
function format(diagnostics: readonly ts.Diagnostic[], cwd: string): string {
  const host: ts.FormatDiagnosticsHost = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => cwd, getNewLine: () => '\n' };
  return ts.formatDiagnostics(ts.sortAndDeduplicateDiagnostics(diagnostics), host);
}

/* The command: strata-typecheck [-p tsconfig.json] [--cache-dir DIR] */
if (require.main === module) {
  const args = process.argv.slice(2);
  const flag = (name: string): string | undefined => {
    const at = args.indexOf(name);
    return at === -1 ? undefined : args[at + 1];
  };
  const cacheDir = flag('--cache-dir');
  typecheck(flag('-p') ?? flag('--project') ?? 'tsconfig.json', cacheDir === undefined ? {} : { cacheDir }).then(
    (report) => {
      process.stdout.write(report.output);
      process.stderr.write(`strata-typecheck: ${report.checked.length} files checked, ${report.reused} from L3\n`);
      process.exitCode = report.exitCode;
    },
    (error: unknown) => {
      process.stderr.write(`strata-typecheck: ${(error as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
