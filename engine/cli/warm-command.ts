/** `strata warm [root]`: discover, read, parse and cache every source file; report. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isSourceFile } from '../discovery/source-files.js';
import type { Command } from 'commander';
import { createEngine } from '../engine.js';
import type { StrataOptions } from '../config/options.js';
import { EXIT_INTERRUPTED, EXIT_OK } from './exit-codes.js';
import { UsageError } from './usage-error.js';
import { createProgress, log, printJson } from './output.js';
import { summarize } from './warm-summary.js';
import { commonOptions, machineFor, optionsFromCommon } from './common.js';
import type { WarmFlags } from './warm-argv.js';
import { remoteFromFlags, remoteOptions } from './remote-flags.js';

export function registerWarm(program: Command, startedAt: number, setExit: (code: number) => void): void {
  const command = program
    .command('warm [root]')
    .description('read and parse every source file under the root into the cache, and report')
    .option('--entry <file...>', 'warm only these files (relative to the current directory) and their dependencies')
    .option('--depth <n>', 'dependency depth from the --entry files (default: the profile: 3, or 1 in ci)')
    .option('--changed', 'warm the files git reports as changed or untracked (and their dependencies) instead of the whole tree, then the files earlier runs learned to use')
    .option('--predicted', 'warm the files earlier runs learned to use (after --entry files when given) instead of the whole tree')
    .option('--no-predictive', 'neither learn access patterns nor warm learned files')
    .option('--workers <n>', 'parse workers (capped at the cores available)')
    .option('--memory-limit <MiB>', 'cap the RSS of the whole process, workers included, in MiB')
    .option('--time-limit <seconds>', 'stop cleanly after this many seconds, keeping what finished')
    .option('--no-persist', 'keep everything in memory for this run')
    .option('--budget <mode>', 'size memory levels from the profile or the machine (profile, auto)')
    .option('--include <dir...>', 'walk into directories skipped by default (node_modules)');
  commonOptions(remoteOptions(command)).action((root: string | undefined, flags: WarmFlags) => warmAction(root, flags, startedAt, setExit));
}

/** What `strata warm` does once its command line is parsed. */
export async function warmAction(root: string | undefined, flags: WarmFlags, startedAt: number, setExit: (code: number) => void): Promise<void> {
  const options: StrataOptions = {
    ...optionsFromCommon(root, flags),
    ...(flags.workers !== undefined ? { workers: flagNumber('--workers', flags.workers) } : {}),
    ...(flags.memoryLimit !== undefined ? { memoryLimit: `${flagNumber('--memory-limit', flags.memoryLimit)}MiB` } : {}),
    ...(flags.timeLimit !== undefined ? { warmTimeLimit: `${flagNumber('--time-limit', flags.timeLimit)}s` } : {}),
    ...(flags.persist === false ? { persist: false } : {}),
    ...(flags.predictive === false ? { predictive: false } : {}),
    ...(flags.budget !== undefined ? { budget: flags.budget as StrataOptions['budget'] } : {}),
    ...(flags.include !== undefined ? { includeNodeModules: includesNodeModules(flags.include) } : {}),
  };
  const remote = remoteFromFlags(flags);
  if (remote !== undefined) options.remote = remote;
  const engine = createEngine(options, { machine: await machineFor(options) });
  const controller = new AbortController();
  const interrupt = (): void => controller.abort();
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  const progress = createProgress(!flags.quiet);
  try {
    if (flags.predicted && flags.changed) throw new UsageError('--changed already warms the learned files after the changed ones. Accepted: one of --changed, --predicted.');
    if (flags.depth !== undefined && flags.entry === undefined && !flags.changed) throw new UsageError('--depth applies to the files named by --entry (or --changed). Accepted: --entry FILE... --depth N.');
    if (flags.entry !== undefined && flags.changed) throw new UsageError('--entry and --changed name the files to warm in two ways. Accepted: one of them.');
    const depth = flags.depth === undefined ? undefined : flagCount('--depth', flags.depth);
    const changed = flags.changed ? changedSourceFiles(engine.root) : undefined;
    const entries = flags.entry?.map((file) => path.resolve(file)) ?? changed;
    // CI order: what the change touched (and its dependencies) first, then what runs usually need.
    const predicted = flags.predicted === true || (flags.changed === true && entries !== undefined);
    const report = await engine.warm({
      signal: controller.signal,
      startedAt,
      onProgress: (p) => progress.update(p.done, p.found),
      ...(entries !== undefined ? { entries } : {}),
      ...(depth !== undefined ? { depth } : {}),
      ...(predicted ? { predicted } : {}),
    });
    progress.stop();
    // The process's RSS high-water mark (getrusage): what --memory-limit is about, between samples too.
    if (flags.json) printJson({ ...report, processMaxRssBytes: process.resourceUsage().maxRSS * 1024 });
    else if (!flags.quiet) log(summarize(report));
    setExit(report.stoppedBy === 'interrupted' ? EXIT_INTERRUPTED : EXIT_OK);
  } finally {
    progress.stop();
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    await engine.close();
  }
}

function flagNumber(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`Invalid value for ${flag}: "${value}". Accepted: a positive number.`);
  return n;
}

/** Changed source files from git; the whole tree (undefined) when the root is not a git checkout. */
function changedSourceFiles(root: string): string[] | undefined {
  // Loaded on first use (it loads node:child_process).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { gitChangedFiles } = require('../discovery/git-changes.js') as typeof import('../discovery/git-changes.js');
  const files = gitChangedFiles(root);
  if (files === null) {
    log('strata: --changed: the root is not a git checkout; warming the whole tree');
    return undefined;
  }
  return files.filter((file) => isSourceFile(file) && fs.existsSync(file));
}

function flagCount(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0) throw new UsageError(`Invalid value for ${flag}: "${value}". Accepted: an integer ≥ 0.`);
  return n;
}

function includesNodeModules(dirs: string[]): boolean {
  for (const dir of dirs) if (dir !== 'node_modules') throw new UsageError(`Invalid value for --include: "${dir}". Accepted: node_modules.`);
  return true;
}

