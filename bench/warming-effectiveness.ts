/**
 * Warming effectiveness (issue 5): an analyzer's access trace (following imports from a few entry
 * files, with repeats) replayed against three fresh engines, each in its own process with the same
 * memory limit and an empty AST store:
 *   - cold: no warming, no prediction;
 *   - dependency: `warm({ entries, depth: 3 })` from the trace's entry files first;
 *   - predictive: `warm({ predicted: true })` from the patterns an earlier run learned while replaying
 *     a different but similar trace (other repeats, some imports not followed), with prefetch on;
 *   - prefetch only: the same learned patterns, no startup warm: only prefetching on access.
 * Hit rate = share of the trace's `ast()` calls answered from memory (stats().predictive.astAnswers,
 * which leaves out the engine's own warming and prefetching). Time to finish = warm + replay.
 * Peak RSS is sampled every 5 ms and compared with the limit. Writes
 * bench/results/warming-effectiveness.json.
 *
 *   npm run bench:warming -- [--files 2000] [--length 1500] [--memory-limit 512] [--corpus DIR]
 *
 * Last recorded: see bench/results/warming-effectiveness.json and the README's *Measured* section.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Engine } from '../engine/engine.js';
import { generateMonorepo } from './corpus.js';
import { prng } from './seeded-random.js';

const PROJECT = path.join(__dirname, '..', '..');
const RESULTS = path.join(PROJECT, 'bench', 'results');
const SELF = path.join(PROJECT, 'dist', 'bench', 'warming-effectiveness.js');
const SEED = 42;
const ENTRY_COUNT = 3;
const DEPENDENCY_DEPTH = 3;
const RSS_SAMPLE_MS = 5;

export type WarmingScenario = 'learn' | 'cold' | 'dependency' | 'predictive' | 'prefetch';

export interface ScenarioFigures {
  readonly scenario: WarmingScenario;
  readonly accesses: number;
  /** Share of the trace's ast() calls answered from memory. */
  readonly hitRate: number;
  readonly answers: { readonly memory: number; readonly disk: number; readonly parsed: number };
  readonly warmMs: number;
  readonly replayMs: number;
  /** Warm + replay. */
  readonly totalMs: number;
  readonly warmedFiles: number;
  readonly stoppedBy: string | null;
  readonly peakRssBytes: number;
  readonly memoryLimitBytes: number;
  readonly prefetch: { readonly issued: number; readonly hits: number; readonly failures: number; readonly skipped: number; readonly predictions: number; readonly learnedFiles: number };
}

export interface WarmingFigures {
  readonly traceLength: number;
  readonly distinctFiles: number;
  readonly entries: readonly string[];
  readonly memoryLimitMiB: number;
  readonly cold: ScenarioFigures;
  readonly dependency: ScenarioFigures;
  readonly predictive: ScenarioFigures;
  /** null when not asked for (the suite's --quick run skips it). */
  readonly prefetchOnly: ScenarioFigures | null;
  /** Predictive hit rate ÷ cold hit rate (Infinity when cold had no hits). */
  readonly hitRateVsCold: number;
  readonly peakWithinLimit: boolean;
}

/**
 * An analyzer's access trace: from the entry files, follow resolved in-root imports depth-first (as
 * a linter walking its program would), now and then revisiting a file seen earlier, and skipping
 * each import with probability `skipImports` (a differently configured run).
 */
export async function accessTrace(engine: Engine, entries: readonly string[], length: number, seed: number, skipImports = 0): Promise<string[]> {
  const random = prng(seed);
  const trace: string[] = [];
  const visited = new Set<string>();
  const stack = [...entries].reverse();
  while (trace.length < length && stack.length > 0) {
    const file = stack.pop()!;
    if (visited.has(file)) continue;
    visited.add(file);
    trace.push(file);
    if (trace.length > 3 && random() < 0.25) trace.push(trace[Math.floor(random() * (trace.length - 1))]!);
    const answer = await engine.deps(file).catch(() => null);
    for (const dependency of answer?.dependencies ?? []) {
      if (dependency.resolved !== null && !dependency.external && random() >= skipImports) stack.push(dependency.resolved);
    }
  }
  return trace.slice(0, length);
}

/** Entry files: the first `count` package index files (an analyzer's configured entry points). */
export function entryFiles(files: readonly string[], count = ENTRY_COUNT): string[] {
  const indexes = files.filter((file) => /(^|\/)index\.[cm]?[jt]sx?$/.test(file));
  return (indexes.length > 0 ? indexes : files).slice(0, count);
}

/**
 * Builds the learning and measured traces, runs the four child processes and returns the figures.
 * `files` are absolute source paths of `root`.
 */
export async function measureWarming(root: string, files: readonly string[], options: { length: number; memoryLimitMiB: number; prefetchOnly?: boolean; log?: (line: string) => void }): Promise<WarmingFigures> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createEngine } = require('../engine/engine.js') as typeof import('../engine/engine.js');
  const entries = entryFiles(files);
  const tracer = createEngine({ root, executor: 'in-thread', persist: false, predictive: false }, { env: {}, readConfigFile: false });
  let learning: string[];
  let measured: string[];
  try {
    learning = await accessTrace(tracer, entries, options.length, 11, 0.1);
    measured = await accessTrace(tracer, entries, options.length, 12, 0.1);
  } finally {
    await tracer.close();
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bench-warming-'));
  try {
    const write = (name: string, trace: readonly string[]): string => {
      const file = path.join(work, name);
      fs.writeFileSync(file, JSON.stringify({ entries, trace }));
      return file;
    };
    const learningFile = write('learning.json', learning);
    const measuredFile = write('measured.json', measured);
    const learnedCache = path.join(work, 'learned-cache');
    log(`  traces: ${measured.length} accesses (${new Set(measured).size} files) from ${entries.length} entries; learning trace ${learning.length} accesses, ${sharedShare(learning, measured)}% of its files shared`);
    await runChild('learn', root, learningFile, learnedCache, options.memoryLimitMiB);
    // Keep only what was learned: the predictive engine must not profit from persisted ASTs.
    for (const dir of ['packs', 'indexes', 'results', 'runs']) fs.rmSync(path.join(learnedCache, dir), { recursive: true, force: true });
    const run = async (scenario: WarmingScenario, cacheDir: string): Promise<ScenarioFigures> => {
      const figures = await runChild(scenario, root, measuredFile, cacheDir, options.memoryLimitMiB);
      log(`  ${scenario}: hit rate ${(figures.hitRate * 100).toFixed(1)}%, ${figures.totalMs.toFixed(0)} ms (warm ${figures.warmMs.toFixed(0)} + replay ${figures.replayMs.toFixed(0)}), peak RSS ${mib(figures.peakRssBytes)} of ${mib(figures.memoryLimitBytes)}`);
      return figures;
    };
    const cold = await run('cold', path.join(work, 'cold-cache'));
    const dependency = await run('dependency', path.join(work, 'dependency-cache'));
    const learnedOnly = path.join(work, 'learned-only-cache');
    fs.cpSync(learnedCache, learnedOnly, { recursive: true });
    const predictive = await run('predictive', learnedCache);
    const prefetchOnly = options.prefetchOnly === false ? null : await run('prefetch', learnedOnly);
    return {
      traceLength: measured.length,
      distinctFiles: new Set(measured).size,
      entries: entries.map((entry) => path.relative(root, entry)),
      memoryLimitMiB: options.memoryLimitMiB,
      cold,
      dependency,
      predictive,
      prefetchOnly,
      hitRateVsCold: cold.hitRate === 0 ? Infinity : predictive.hitRate / cold.hitRate,
      peakWithinLimit: [cold, dependency, predictive, prefetchOnly].every((figures) => figures === null || figures.peakRssBytes <= figures.memoryLimitBytes),
    };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function sharedShare(a: readonly string[], b: readonly string[]): number {
  const other = new Set(b);
  const mine = new Set(a);
  return Math.round((100 * [...mine].filter((file) => other.has(file)).length) / Math.max(1, mine.size));
}

function runChild(scenario: WarmingScenario, root: string, traceFile: string, cacheDir: string, memoryLimitMiB: number): Promise<ScenarioFigures> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SELF, '--child', scenario, root, traceFile, cacheDir, String(memoryLimitMiB)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(stdout) as ScenarioFigures) : reject(new Error(`${scenario} scenario exited ${code}: ${stderr.trim()}`))));
  });
}

/** One scenario in this (fresh) process: warm as the scenario says, replay the trace, report. */
async function child(scenario: WarmingScenario, root: string, traceFile: string, cacheDir: string, memoryLimitMiB: number): Promise<ScenarioFigures> {
  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), RSS_SAMPLE_MS);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createEngine } = require('../engine/engine.js') as typeof import('../engine/engine.js');
  const { entries, trace } = JSON.parse(fs.readFileSync(traceFile, 'utf8')) as { entries: string[]; trace: string[] };
  const predictive = scenario === 'learn' || scenario === 'predictive' || scenario === 'prefetch';
  const engine = createEngine({ root, cacheDir, memoryLimit: `${memoryLimitMiB}MiB`, predictive }, { env: {}, readConfigFile: false });
  try {
    const warmStarted = performance.now();
    const report = scenario === 'dependency' ? await engine.warm({ entries, depth: DEPENDENCY_DEPTH }) : scenario === 'predictive' ? await engine.warm({ predicted: true }) : null;
    const warmMs = performance.now() - warmStarted;
    const replayStarted = performance.now();
    for (const file of trace) {
      // The analyzer's own work on each file: one walk of its tree.
      const answer = await engine.ast(file).catch(() => null);
      let nodes = 0;
      answer?.ast.walk(() => void nodes++);
    }
    const replayMs = performance.now() - replayStarted;
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    const stats = engine.stats().predictive;
    const answered = stats.astAnswers.memory + stats.astAnswers.disk + stats.astAnswers.parsed;
    return {
      scenario,
      accesses: trace.length,
      hitRate: answered === 0 ? 0 : stats.astAnswers.memory / answered,
      answers: stats.astAnswers,
      warmMs,
      replayMs,
      totalMs: warmMs + replayMs,
      warmedFiles: report?.files ?? 0,
      stoppedBy: report?.stoppedBy ?? null,
      peakRssBytes: peakRss,
      memoryLimitBytes: memoryLimitMiB * 1024 * 1024,
      prefetch: { issued: stats.issued, hits: stats.hits, failures: stats.failures, skipped: stats.skipped, predictions: stats.predictions, learnedFiles: stats.learnedFiles },
    };
  } finally {
    clearInterval(sampler);
    await engine.close();
  }
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

function formatFigures(figures: WarmingFigures): string {
  const line = (name: string, s: ScenarioFigures): string =>
    `${name.padEnd(11)} ${`${(s.hitRate * 100).toFixed(1)}%`.padStart(7)} ${`${s.totalMs.toFixed(0)} ms`.padStart(9)} ${`${s.warmMs.toFixed(0)} ms`.padStart(9)} ${`${s.replayMs.toFixed(0)} ms`.padStart(9)} ${mib(s.peakRssBytes).padStart(9)}  ${s.prefetch.issued} issued / ${s.prefetch.hits} hits`;
  return [
    `trace: ${figures.traceLength} accesses to ${figures.distinctFiles} files from ${figures.entries.join(', ')}; memory limit ${figures.memoryLimitMiB} MiB`,
    `scenario    hit rate     total      warm    replay  peak RSS  prefetch`,
    line('cold', figures.cold),
    line('dependency', figures.dependency),
    line('predictive', figures.predictive),
    ...(figures.prefetchOnly === null ? [] : [line('prefetch', figures.prefetchOnly)]),
    `predictive vs cold hit rate: ${Number.isFinite(figures.hitRateVsCold) ? `${figures.hitRateVsCold.toFixed(2)}×` : 'cold had no hits'}; peak RSS within the limit: ${figures.peakWithinLimit ? 'yes' : 'NO'}`,
  ].join('\n');
}

async function sourceFiles(root: string): Promise<string[]> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { discoverSourceFiles } = require('../engine/discovery/discovery.js') as typeof import('../engine/discovery/discovery.js');
  const files: string[] = [];
  for await (const event of discoverSourceFiles(root, { includeNodeModules: false, maxFileSize: 5 * 1024 * 1024 })) if (event.type === 'file') files.push(event.absolutePath);
  return files.sort();
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--child') {
    const [, scenario, root, traceFile, cacheDir, limit] = argv;
    process.stdout.write(JSON.stringify(await child(scenario as WarmingScenario, root!, traceFile!, cacheDir!, Number(limit))));
    return;
  }
  const flag = (name: string, fallback: string): string => {
    const at = argv.indexOf(name);
    return at >= 0 && argv[at + 1] !== undefined ? argv[at + 1]! : fallback;
  };
  const fileCount = Number(flag('--files', '2000'));
  const length = Number(flag('--length', '1500'));
  const memoryLimitMiB = Number(flag('--memory-limit', '512'));
  let root = flag('--corpus', '');
  if (root === '') {
    root = path.join(RESULTS, 'corpus', `warming-${fileCount}-seed${SEED}`);
    if (!fs.existsSync(path.join(root, '.generated'))) {
      fs.rmSync(root, { recursive: true, force: true });
      generateMonorepo(root, { files: fileCount, seed: SEED });
      fs.writeFileSync(path.join(root, '.generated'), `${fileCount} files, seed ${SEED}\n`);
    }
  }
  root = path.resolve(root);
  const files = await sourceFiles(root);
  process.stderr.write(`warming effectiveness on ${root} (${files.length} files)\n`);
  const figures = await measureWarming(root, files, { length, memoryLimitMiB });
  const cpus = os.cpus();
  const out = path.join(RESULTS, 'warming-effectiveness.json');
  const record = { date: new Date().toISOString(), machine: { cpus: os.availableParallelism(), model: cpus[0]?.model.trim() ?? 'unknown', node: process.version }, corpus: { path: root, files: files.length }, ...figures };
  fs.mkdirSync(RESULTS, { recursive: true });
  fs.writeFileSync(out, JSON.stringify(record, (_key, value: unknown) => (value === Infinity ? null : value), 2) + '\n');
  process.stdout.write(formatFigures(figures) + `\nwrote ${path.relative(process.cwd(), out) || out}\n`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`bench:warming: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  });
}
