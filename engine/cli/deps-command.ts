/**
 * `strata deps [FILE] [--reverse] [--depth N]` (DESIGN.md, "Contract"): a file's dependencies, its
 * dependents, or the whole graph. FILE is resolved against the current directory.
 *
 * - `deps FILE`: `{ file, tsconfig, dependencies: [{ specifier, resolved, kind, typeOnly, external }] }`
 * - `deps FILE --depth N`: `{ file, depth, dependencies: [{ path, depth, via, specifier, kind }] }`
 *   (in-root files within N edges, de-duplicated)
 * - `deps FILE --reverse`: `{ file, dependents: [{ path, specifier, kind }] }`
 * - `deps FILE --reverse --depth N`: `{ file, depth, dependents: [{ path, depth, via, specifier, kind }] }`
 * - `deps`: `{ root, files: { "<file>": ["<resolved dependency>", ...] }, failed }`
 *
 * Every object has `schemaVersion`. Answers that need the whole graph warm the engine first (parsing
 * what the cache lacks, on all cores), then read every file through the engine, which revalidates it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { createEngine } from '../engine.js';
import { isSourceFile } from '../discovery/source-files.js';
import { DependencyService, engineDepsSource, type DependenciesAnswer, type DependentsAnswer, type TransitiveDependenciesAnswer, type TransitiveDependentsAnswer, type WholeGraphAnswer } from '../graph/deps-service.js';
import { isInside, loadTypeScript, realpathOr } from '../graph/compiler-options.js';
import { resolveOptions } from '../config/options.js';
import { REPORT_SCHEMA_VERSION } from '../warming/warm-report.js';
import { commonOptions, machineFor, optionsFromCommon, type CommonFlags } from './common.js';
import { EXIT_OK } from './exit-codes.js';
import { printJson } from './output.js';
import { UsageError } from './usage-error.js';

interface DepsFlags extends CommonFlags {
  reverse?: boolean;
  depth?: string;
}

export function registerDeps(program: Command, setExit: (code: number) => void): void {
  const command = program
    .command('deps [file]')
    .description("a file's dependencies (or, with --reverse, its dependents); without FILE, the whole graph")
    .option('--reverse', 'list the files that import FILE instead of the files it imports')
    .option('--depth <n>', 'follow imports transitively up to N edges (a flat, de-duplicated list with each depth)');
  commonOptions(command).action(async (file: string | undefined, flags: DepsFlags) => {
    const depth = flags.depth === undefined ? undefined : depthFlag(flags.depth);
    if (file === undefined && flags.reverse) throw new UsageError('--reverse needs a FILE: strata deps FILE --reverse');
    if (file === undefined && depth !== undefined) throw new UsageError('--depth needs a FILE: strata deps FILE --depth N');
    const options = optionsFromCommon(undefined, flags);
    const root = resolveOptions(options).root;
    const target = file === undefined ? undefined : fileArgument(file, root, flags.reverse === true);
    // A whole-graph answer warms on all cores; a single file's answer parses at most the few files
    // it reads, cheaper in this thread (which loads TypeScript to resolve anyway) than starting workers.
    const wholeGraph = target === undefined || flags.reverse === true;
    loadTypeScript(); // every answer resolves: load it first, through the V8 code cache, before any parse needs it
    const engine = createEngine({ ...options, executor: wholeGraph ? 'pool' : 'in-thread' }, { machine: await machineFor(options) });
    try {
      const service = new DependencyService(engineDepsSource(engine));
      const quiet = flags.quiet === true && !flags.json;
      if (target === undefined) {
        await engine.warm();
        const answer = await service.wholeGraph();
        emit(flags.json === true, quiet, answer, formatWholeGraph);
      } else if (flags.reverse) {
        await engine.warm();
        if (depth === undefined) emit(flags.json === true, quiet, await service.dependentsOf(target), formatDependents);
        else emit(flags.json === true, quiet, await service.dependentsOf(target, depth), formatTransitiveDependents);
      } else if (depth === undefined) {
        emit(flags.json === true, quiet, await service.dependenciesOf(target), formatDependencies);
      } else {
        emit(flags.json === true, quiet, await service.transitiveDependenciesOf(target, depth), formatTransitiveDependencies);
      }
      setExit(EXIT_OK);
    } finally {
      await engine.close();
    }
  });
}

function depthFlag(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new UsageError(`Invalid value for --depth: "${value}". Accepted: a positive integer.`);
  return n;
}

/** FILE resolved against the current directory; it must exist inside the root (and be a source file unless reversed). */
function fileArgument(file: string, root: string, reverse: boolean): string {
  const absolute = path.resolve(process.cwd(), file);
  if (!isInside(root, absolute) && !isInside(realpathOr(root), absolute)) throw new UsageError(`FILE ${file} is not inside the root ${root} (see --root)`);
  if (!isFile(absolute)) throw new UsageError(`FILE ${file} is not a file`);
  if (!reverse && !isSourceFile(absolute)) throw new UsageError(`FILE ${file} is not a source file (.ts .tsx .mts .cts .js .jsx .mjs .cjs); --reverse lists the importers of any file`);
  return absolute;
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false; // missing or unreadable: reported as a usage error by the caller
  }
}

function emit<T extends object>(json: boolean, quiet: boolean, answer: T, format: (answer: T) => string): void {
  if (json) printJson({ schemaVersion: REPORT_SCHEMA_VERSION, ...answer });
  else if (!quiet) process.stdout.write(format(answer) + '\n');
}

function formatDependencies(answer: DependenciesAnswer): string {
  const header = `${answer.file}: ${plural(answer.dependencies.length, 'dependency', 'dependencies')} (${answer.tsconfig ?? 'no tsconfig.json: defaults'})`;
  const width = Math.max(0, ...answer.dependencies.map((d) => d.specifier.length));
  const lines = answer.dependencies.map((d) => {
    const where = d.resolved ?? (d.external ? 'external' : 'unresolved');
    const notes = [d.kind, ...(d.typeOnly ? ['type-only'] : []), ...(d.external && d.resolved !== null ? ['external'] : [])].join(', ');
    return `  ${d.specifier.padEnd(width)}  → ${where}  (${notes})`;
  });
  return [header, ...lines].join('\n');
}

function formatTransitiveDependencies(answer: TransitiveDependenciesAnswer): string {
  const header = `${answer.file}: ${plural(answer.dependencies.length, 'file', 'files')} imported within ${plural(answer.depth, 'edge', 'edges')}`;
  return [header, ...answer.dependencies.map((d) => `  ${d.depth}  ${d.path}${d.depth > 1 ? `  (via ${d.via})` : ''}`)].join('\n');
}

function formatDependents(answer: DependentsAnswer): string {
  const header = `${answer.file}: ${plural(new Set(answer.dependents.map((d) => d.path)).size, 'dependent', 'dependents')}`;
  return [header, ...answer.dependents.map((d) => `  ${d.path}  (${d.kind} '${d.specifier}')`)].join('\n');
}

function formatTransitiveDependents(answer: TransitiveDependentsAnswer): string {
  const header = `${answer.file}: ${plural(answer.dependents.length, 'dependent', 'dependents')} within ${plural(answer.depth, 'edge', 'edges')}`;
  return [header, ...answer.dependents.map((d) => `  ${d.depth}  ${d.path}${d.depth > 1 ? `  (via ${d.via})` : ''}`)].join('\n');
}

function formatWholeGraph(answer: WholeGraphAnswer): string {
  const entries = Object.entries(answer.files);
  const edges = entries.reduce((sum, [, deps]) => sum + deps.length, 0);
  const lines = [`${answer.root}: ${plural(entries.length, 'source file', 'source files')}, ${plural(edges, 'edge', 'edges')}`];
  for (const [file, deps] of entries) lines.push(deps.length === 0 ? `  ${file}` : `  ${file} → ${deps.join(', ')}`);
  for (const failure of answer.failed) lines.push(`  failed ${failure.path}: ${failure.code} ${failure.message}`);
  return lines.join('\n');
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}
