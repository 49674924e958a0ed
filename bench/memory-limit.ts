/**
 * Memory-aware warming benchmark (issue 5): a generated monorepo that does not fit under the limits
 * (10,000 files, ~76 MB of source, plus four 2 MB files), warmed by the real CLI in fresh processes:
 *
 *   - the baseline: `strata warm --no-persist` without a limit (its peak RSS says what the tree wants);
 *   - then `--memory-limit L` for each L: the process's RSS high-water mark (getrusage, every thread
 *     counted, between samples too) against L. The goal: never above 1.10 × L.
 *
 * Reports, per limit, the median of --runs runs: peak RSS / limit, files handled, stoppedBy, duration
 * against the baseline's.
 *
 * Run:   npm run build && node dist/bench/memory-limit.js [--files 10000] [--runs 3] [--limits 256,384,512]
 * Writes bench/results/memory-limit.json.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateMonorepo } from './corpus.js';
import { median } from './stats.js';

const PROJECT = path.join(__dirname, '..', '..');
const RESULTS = path.join(PROJECT, 'bench', 'results');
const CLI = path.join(PROJECT, 'dist', 'engine', 'cli', 'main.js');
const MIB = 1024 * 1024;
/** The goal: peak RSS within 10% of the limit. */
const GOAL_RATIO = 1.1;

function flag(name: string, fallback: string): string {
  const index = process.argv.indexOf(name);
  return index < 0 ? fallback : (process.argv[index + 1] ?? fallback);
}

interface RunResult {
  readonly maxRssBytes: number;
  readonly files: number;
  readonly failed: number;
  readonly stoppedBy: string | null;
  readonly durationMs: number;
  readonly workers: number;
}

function warm(root: string, limitMiB: number | null): RunResult {
  const args = [CLI, 'warm', root, '--json', '--no-persist', ...(limitMiB === null ? [] : ['--memory-limit', String(limitMiB)])];
  const result = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 * MIB, env: { PATH: process.env.PATH } });
  if (result.status !== 0) throw new Error(`strata warm exited ${result.status}: ${result.stderr}`);
  const report = JSON.parse(result.stdout) as { processMaxRssBytes: number; files: number; failed: unknown[]; stoppedBy: string | null; durationMs: number; workers: number };
  return { maxRssBytes: report.processMaxRssBytes, files: report.files, failed: report.failed.length, stoppedBy: report.stoppedBy, durationMs: report.durationMs, workers: report.workers };
}

function summarize(runs: readonly RunResult[]): { maxRssMiB: number; files: number; failed: number; stoppedBy: (string | null)[]; durationMs: number; workers: number } {
  return {
    maxRssMiB: Math.round(median(runs.map((run) => run.maxRssBytes)) / MIB),
    files: median(runs.map((run) => run.files)),
    failed: median(runs.map((run) => run.failed)),
    stoppedBy: runs.map((run) => run.stoppedBy),
    durationMs: Math.round(median(runs.map((run) => run.durationMs))),
    workers: median(runs.map((run) => run.workers)),
  };
}

function main(): void {
  const files = Number(flag('--files', '10000'));
  const runs = Number(flag('--runs', '3'));
  const limits = flag('--limits', '256,384,512').split(',').map(Number);
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'strata-memory-bench-')));
  try {
    generateMonorepo(root, { files });
    // Large files: the ones that must parse alone.
    const large = fs.readFileSync(require.resolve('typescript/lib/typescript.js'), 'utf8').slice(0, 2_000_000);
    fs.mkdirSync(path.join(root, 'vendor'));
    for (let i = 0; i < 4; i++) fs.writeFileSync(path.join(root, 'vendor', `large-${i}.js`), `${large}\n// ${i}\n`);

    const baselineRuns: RunResult[] = [];
    for (let i = 0; i < runs; i++) baselineRuns.push(warm(root, null));
    const baseline = summarize(baselineRuns);
    console.log(`no limit: peak RSS ${baseline.maxRssMiB} MiB, ${baseline.files} files in ${baseline.durationMs} ms, ${baseline.workers} workers`);

    const rows = limits.map((limitMiB) => {
      const results: RunResult[] = [];
      for (let i = 0; i < runs; i++) results.push(warm(root, limitMiB));
      const summary = summarize(results);
      const worstRatio = Math.max(...results.map((run) => run.maxRssBytes / (limitMiB * MIB)));
      const row = {
        limitMiB,
        ...summary,
        peakOverLimit: Math.round((summary.maxRssMiB / limitMiB) * 1000) / 1000,
        worstPeakOverLimit: Math.round(worstRatio * 1000) / 1000,
        withinGoal: worstRatio <= GOAL_RATIO,
        durationVsNoLimit: Math.round((summary.durationMs / baseline.durationMs) * 100) / 100,
      };
      console.log(
        `--memory-limit ${limitMiB}: peak RSS ${row.maxRssMiB} MiB = ${row.peakOverLimit}× the limit (worst ${row.worstPeakOverLimit}×, goal ≤ ${GOAL_RATIO}×), ` +
          `${row.files} files (${row.failed} failed), stopped by ${JSON.stringify(row.stoppedBy)}, ${row.workers} worker(s), ${row.durationMs} ms = ${row.durationVsNoLimit}× the unlimited warm`,
      );
      return row;
    });
    fs.mkdirSync(RESULTS, { recursive: true });
    const out = { benchmark: 'memory-limit', date: new Date().toISOString(), machine: { cores: os.cpus().length, totalMemoryMiB: Math.round(os.totalmem() / MIB) }, files: files + 4, runs, goalRatio: GOAL_RATIO, noLimit: baseline, limits: rows };
    fs.writeFileSync(path.join(RESULTS, 'memory-limit.json'), `${JSON.stringify(out, null, 2)}\n`);
    console.log(`wrote ${path.relative(PROJECT, path.join(RESULTS, 'memory-limit.json'))}`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

main();
