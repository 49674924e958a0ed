/**
 * The ceiling benchmark (issue 18): a cold warm against the machine's own parallel ceiling, on the
 * same files, in one run, each side a whole fresh process timed from spawn to exit, medians of
 * `runs` (≥ 3), the sides' order rotated every repetition:
 *   (a) sequential: one process, read + `ts.createSourceFile` (TypeScript's defaults) — bench/ceiling-parse.ts;
 *   (b) ceiling: N independent processes at once, each doing (a) on every Nth file (N = the warm's workers);
 *   (c) `strata warm` cold, persistence on (a fresh cache directory), defaults;
 *   (d) the same with `--workers 1`.
 * Ratios are speeds (> 1: the first is faster): (c) vs min(a, b) [goal ≥ 0.95], (d) vs (a)
 * [goal ≥ 0.85], (c) vs (a) [≥ 1.45 where the machine scales ≥ 1.6], and the machine's scaling (a)/(b).
 * The load average (os.loadavg) is recorded before and after: the machine is shared.
 *
 *   npm run bench:ceiling -- [dir ...] [--runs 3]     (default: the real corpora of bench/npm-corpora.ts)
 *
 * Writes bench/results/ceiling.json. `npm run bench:warm` and `strata bench` run it too.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { realCorpus } from './npm-corpora.js';
import { median, spread } from './stats.js';

const PROJECT = path.join(__dirname, '..', '..');
const CLI = path.join(PROJECT, 'dist', 'engine', 'cli', 'main.js');
const PARSE = path.join(PROJECT, 'dist', 'bench', 'ceiling-parse.js');
const RESULTS = path.join(PROJECT, 'bench', 'results');
export const MIN_RUNS = 3;

export interface CeilingResult {
  readonly corpus: string;
  readonly files: number;
  readonly bytes: number;
  readonly workers: number;
  readonly runs: number;
  /** Wall times in ms, one per run, of each side. */
  readonly sequentialMs: number[];
  readonly ceilingMs: number[];
  readonly strataMs: number[];
  readonly strataOneWorkerMs: number[];
  readonly strataPeakRssBytes: number[];
  readonly loadAverage: { readonly before: number[]; readonly after: number[] };
  readonly median: { readonly sequentialMs: number; readonly ceilingMs: number; readonly strataMs: number; readonly strataOneWorkerMs: number };
  /** Speed ratios of the medians (> 1: the first named is faster). */
  readonly ratios: { readonly strataVsBest: number; readonly oneWorkerVsSequential: number; readonly strataVsSequential: number; readonly machineScaling: number };
  readonly goals: { readonly strataVsBest: boolean; readonly oneWorkerVsSequential: boolean; readonly scalingGoalApplies: boolean; readonly strataVsSequential: boolean | null };
}

interface ProcessRun {
  readonly wallMs: number;
  readonly stdout: string;
}

function timed(args: string[]): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve({ wallMs: performance.now() - started, stdout }) : reject(new Error(`${args.map((a) => path.basename(a)).join(' ')} exited ${code}: ${stderr.trim()}`))));
  });
}

function lastJson<T>(stdout: string): T {
  const text = stdout.trim();
  try {
    return JSON.parse(text) as T;
  } catch {
    return JSON.parse(text.split('\n').pop() ?? '{}') as T;
  }
}

interface WarmJson {
  files: number;
  parsed: number;
  fromCache: number;
  fromDisk: number;
  workers: number;
  peakRssBytes: number;
}

/** A cold warm in a fresh process with a fresh cache directory (persistence on). */
async function coldWarm(root: string, extra: string[]): Promise<{ wallMs: number; report: WarmJson }> {
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-ceiling-'));
  try {
    const run = await timed([CLI, 'warm', root, '--json', '--quiet', '--cache-dir', cacheDir, ...extra]);
    const report = lastJson<WarmJson>(run.stdout);
    // Files with the same content as another one are answered from memory; none may come from disk.
    if (report.fromDisk !== 0) throw new Error(`a cold warm answered ${report.fromDisk} files from the disk cache`);
    return { wallMs: run.wallMs, report };
  } finally {
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
}

const loadAverage = (): number[] => os.loadavg().map((load) => Math.round(load * 100) / 100);

export async function measureCeiling(root: string, options: { runs?: number; log?: (line: string) => void } = {}): Promise<CeilingResult> {
  const runs = Math.max(MIN_RUNS, options.runs ?? MIN_RUNS);
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const before = loadAverage();
  const sequential: number[] = [];
  const ceiling: number[] = [];
  const strata: number[] = [];
  const oneWorker: number[] = [];
  const rss: number[] = [];
  // The warm's default worker count decides N; a first warm (not counted) finds it and fills the page cache.
  const probe = await coldWarm(root, []);
  const workers = Math.max(1, probe.report.workers);
  let files = 0;
  let bytes = 0;
  for (let run = 0; run < runs; run++) {
    const sides = ['sequential', 'ceiling', 'strata', 'one-worker'];
    for (let i = 0; i < run % sides.length; i++) sides.push(sides.shift()!);
    for (const side of sides) {
      if (side === 'sequential') {
        const result = await timed([PARSE, root]);
        const parsed = lastJson<{ files: number; bytes: number }>(result.stdout);
        files = parsed.files;
        bytes = parsed.bytes;
        sequential.push(result.wallMs);
      } else if (side === 'ceiling') {
        const started = performance.now();
        await Promise.all(Array.from({ length: workers }, (_, k) => timed([PARSE, root, String(workers), String(k)])));
        ceiling.push(performance.now() - started);
      } else if (side === 'strata') {
        const warm = await coldWarm(root, []);
        strata.push(warm.wallMs);
        rss.push(warm.report.peakRssBytes);
      } else {
        oneWorker.push((await coldWarm(root, ['--workers', '1'])).wallMs);
      }
    }
    log(`  ceiling ${run + 1}/${runs}: sequential ${sequential.at(-1)!.toFixed(0)} ms, ${workers} processes ${ceiling.at(-1)!.toFixed(0)} ms, strata ${strata.at(-1)!.toFixed(0)} ms, strata --workers 1 ${oneWorker.at(-1)!.toFixed(0)} ms (load ${loadAverage()[0]})`);
  }
  const m = { sequentialMs: median(sequential), ceilingMs: median(ceiling), strataMs: median(strata), strataOneWorkerMs: median(oneWorker) };
  const best = Math.min(m.sequentialMs, m.ceilingMs);
  const ratios = { strataVsBest: best / m.strataMs, oneWorkerVsSequential: m.sequentialMs / m.strataOneWorkerMs, strataVsSequential: m.sequentialMs / m.strataMs, machineScaling: m.sequentialMs / m.ceilingMs };
  const scalingGoalApplies = workers >= 2 && ratios.machineScaling >= 1.6;
  return {
    corpus: root,
    files,
    bytes,
    workers,
    runs,
    sequentialMs: sequential,
    ceilingMs: ceiling,
    strataMs: strata,
    strataOneWorkerMs: oneWorker,
    strataPeakRssBytes: rss,
    loadAverage: { before, after: loadAverage() },
    median: m,
    ratios,
    goals: {
      strataVsBest: ratios.strataVsBest >= 0.95,
      oneWorkerVsSequential: ratios.oneWorkerVsSequential >= 0.85,
      scalingGoalApplies,
      strataVsSequential: scalingGoalApplies ? ratios.strataVsSequential >= 1.45 : null,
    },
  };
}

/** The lines printed for one corpus. */
export function formatCeiling(result: CeilingResult, label = path.relative(PROJECT, result.corpus) || result.corpus): string {
  const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  const { median: m, ratios: r, goals: g } = result;
  const mark = (ok: boolean): string => (ok ? 'met' : 'not met');
  return [
    `${label}: ${result.files} files, ${(result.bytes / 1024 / 1024).toFixed(1)} MB; ${result.runs} runs, medians; load average ${result.loadAverage.before.join(' ')} → ${result.loadAverage.after.join(' ')}`,
    `  (a) sequential read + ts.createSourceFile    ${s(m.sequentialMs)}`,
    `  (b) N = ${result.workers} independent processes, every Nth file  ${s(m.ceilingMs)}   machine scaling (a)/(b) ${r.machineScaling.toFixed(2)}×`,
    `  (c) strata warm, cold, defaults              ${s(m.strataMs)}   vs min(a, b) ${r.strataVsBest.toFixed(2)}× (goal ≥ 0.95: ${mark(g.strataVsBest)}); vs (a) ${r.strataVsSequential.toFixed(2)}×${g.scalingGoalApplies ? ` (goal ≥ 1.45 at scaling ≥ 1.6: ${mark(g.strataVsSequential === true)})` : ''}`,
    `  (d) strata warm, cold, --workers 1           ${s(m.strataOneWorkerMs)}   vs (a) ${r.oneWorkerVsSequential.toFixed(2)}× (goal ≥ 0.85: ${mark(g.oneWorkerVsSequential)})`,
  ].join('\n');
}

export function writeCeilingResults(results: readonly CeilingResult[], file = path.join(RESULTS, 'ceiling.json')): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const cpus = os.cpus();
  fs.writeFileSync(file, JSON.stringify({ schemaVersion: 1, date: new Date().toISOString(), machine: { cpus: os.availableParallelism(), model: cpus[0]?.model.trim() ?? 'unknown', node: process.version }, corpora: results.map((r) => ({ ...r, spread: { sequentialMs: spread(r.sequentialMs), ceilingMs: spread(r.ceilingMs), strataMs: spread(r.strataMs), strataOneWorkerMs: spread(r.strataOneWorkerMs) } })) }, null, 2) + '\n');
  return file;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const dirs: string[] = [];
  let runs = MIN_RUNS;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') runs = Number(argv[++i]);
    else dirs.push(path.resolve(argv[i]!));
  }
  if (!Number.isInteger(runs) || runs < MIN_RUNS) throw new Error(`--runs must be an integer ≥ ${MIN_RUNS}`);
  if (dirs.length === 0) dirs.push(realCorpus('npm-8k'), realCorpus('npm-500'));
  const results: CeilingResult[] = [];
  for (const dir of dirs) {
    process.stderr.write(`corpus ${dir}\n`);
    results.push(await measureCeiling(dir, { runs }));
    process.stdout.write(formatCeiling(results.at(-1)!) + '\n');
  }
  process.stdout.write(`wrote ${path.relative(process.cwd(), writeCeilingResults(results))}\n`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  });
}
