/**
 * Cold warm benchmark (issue: the backbone). On the same files, in one run, each side a whole
 * fresh process timed from spawn to exit:
 *   (a) sequential baseline: read each file and ts.createSourceFile it on the main thread;
 *   (b) `strata warm --no-persist` cold (discovery, pool start, parse, encode, imports included).
 * Prints files/s for both and the ratio (median of --runs), the hardware ceiling (two baseline
 * processes at once, against one: what the cores give two fully independent parsers), L1 get-hit vs lru-cache, L1
 * bookkeeping, and Strata's peak RSS against its budgets. Writes bench/results/warm.json.
 *
 * Then the ceiling benchmark (bench/ceiling.ts) on the same corpora: persisted cold warm against
 * min(sequential, N processes), `--workers 1` against sequential (bench/results/ceiling.json).
 *
 *   npm run bench:warm -- [dir ...] [--runs 5] [--generate 3000] [--no-l1] [--no-ceiling]
 *
 * Default corpora: this project's node_modules (real code) and a generated 10,000-file monorepo.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatCeiling, measureCeiling, writeCeilingResults, type CeilingResult } from './ceiling.js';
import { generateMonorepo } from './corpus.js';
import { runL1Benchmark, type L1Figures } from './l1-get.js';
import { median, spread } from './stats.js';
import { timedProcess } from './timed-warm.js';

const PROJECT = path.join(__dirname, '..', '..');
const CLI = path.join(PROJECT, 'dist', 'engine', 'cli', 'main.js');
const BASELINE = path.join(PROJECT, 'dist', 'bench', 'sequential-parse.js');
const RESULTS = path.join(PROJECT, 'bench', 'results');

interface CorpusResult {
  readonly corpus: string;
  readonly files: number;
  readonly bytes: number;
  readonly baselineFilesPerSec: number[];
  readonly strataFilesPerSec: number[];
  readonly strataPeakRssBytes: number[];
  /** Two baseline processes at once, files/s of both together: what the cores allow at best. */
  readonly twoProcessFilesPerSec: number[];
  readonly median: { readonly baseline: number; readonly strata: number; readonly ratio: number; readonly hardwareCeiling: number };
}

async function benchCorpus(root: string, runs: number): Promise<CorpusResult> {
  const baseline: number[] = [];
  const strata: number[] = [];
  const rss: number[] = [];
  const twoProcesses: number[] = [];
  let files = 0;
  let bytes = 0;
  for (let run = 0; run < runs; run++) {
    // Alternate which side goes first so page-cache and CPU-boost effects even out.
    const order = run % 2 === 0 ? ['baseline', 'strata'] : ['strata', 'baseline'];
    for (const side of order) {
      if (side === 'baseline') {
        const result = await timedProcess([BASELINE, root]);
        const parsed = JSON.parse(result.stdout) as { files: number; bytes: number };
        files = parsed.files;
        bytes = parsed.bytes;
        baseline.push((parsed.files / result.wallMs) * 1000);
      } else {
        const result = await timedProcess([CLI, 'warm', root, '--json', '--no-persist', '--quiet']);
        const report = JSON.parse(result.stdout) as { parsed: number; fromCache: number; peakRssBytes: number };
        strata.push(((report.parsed + report.fromCache) / result.wallMs) * 1000);
        rss.push(report.peakRssBytes);
      }
    }
    const pair = await Promise.all([timedProcess([BASELINE, root]), timedProcess([BASELINE, root])]);
    twoProcesses.push(((2 * files) / Math.max(pair[0].wallMs, pair[1].wallMs)) * 1000);
    process.stderr.write(`  run ${run + 1}/${runs}: baseline ${baseline.at(-1)!.toFixed(0)} files/s, strata ${strata.at(-1)!.toFixed(0)} files/s\n`);
  }
  const medianBaseline = median(baseline);
  const medianStrata = median(strata);
  return {
    corpus: root,
    files,
    bytes,
    baselineFilesPerSec: baseline,
    strataFilesPerSec: strata,
    strataPeakRssBytes: rss,
    twoProcessFilesPerSec: twoProcesses,
    median: { baseline: medianBaseline, strata: medianStrata, ratio: medianStrata / medianBaseline, hardwareCeiling: median(twoProcesses) / medianBaseline },
  };
}

function parseArgs(argv: string[]): { dirs: string[]; runs: number; generate: number; l1: boolean; ceiling: boolean } {
  const dirs: string[] = [];
  let runs = 5;
  let generate = 10_000;
  let l1 = true;
  let ceiling = true;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--runs') runs = Number(argv[++i]);
    else if (arg === '--generate') generate = Number(argv[++i]);
    else if (arg === '--no-l1') l1 = false;
    else if (arg === '--no-ceiling') ceiling = false;
    else dirs.push(path.resolve(arg));
  }
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
  return { dirs, runs, generate, l1, ceiling };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const dirs = [...args.dirs];
  if (dirs.length === 0) {
    dirs.push(path.join(PROJECT, 'node_modules'));
    const generated = path.join(PROJECT, 'bench', 'results', 'corpus', `generated-${args.generate}`);
    if (!fs.existsSync(generated)) generateMonorepo(generated, { files: args.generate });
    dirs.push(generated);
  }
  const corpora: CorpusResult[] = [];
  for (const dir of dirs) {
    process.stderr.write(`corpus ${dir}\n`);
    corpora.push(await benchCorpus(dir, args.runs));
  }
  const l1: L1Figures | null = args.l1 ? await runL1Benchmark() : null;
  const ceilings: CeilingResult[] = [];
  if (args.ceiling) {
    for (const dir of dirs) {
      process.stderr.write(`ceiling ${dir}\n`);
      ceilings.push(await measureCeiling(dir, { runs: Math.max(3, Math.min(args.runs, 5)) }));
    }
  }

  const rows = corpora.map((c) => [
    path.relative(PROJECT, c.corpus) || c.corpus,
    String(c.files),
    `${(c.bytes / 1024 / 1024).toFixed(1)} MB`,
    c.median.baseline.toFixed(0),
    c.median.strata.toFixed(0),
    `${c.median.ratio.toFixed(2)}×`,
    `${c.median.hardwareCeiling.toFixed(2)}×`,
    `${(median(c.strataPeakRssBytes) / 1024 / 1024).toFixed(0)} MB`,
  ]);
  printTable(['corpus', 'files', 'source', 'sequential files/s', 'strata files/s', 'ratio', 'ceiling (2 processes)', 'strata peak RSS'], rows);
  if (l1) {
    process.stdout.write(
      `\nL1 get-hit vs lru-cache (${l1.keys} keys, stat validation off): uniform ${(l1.uniform.strataOpsPerSec / 1e6).toFixed(2)} M/s vs ${(l1.uniform.lruCacheOpsPerSec / 1e6).toFixed(2)} M/s = ${l1.uniform.ratio.toFixed(2)}×; ` +
        `zipf ${(l1.zipf.strataOpsPerSec / 1e6).toFixed(2)} M/s vs ${(l1.zipf.lruCacheOpsPerSec / 1e6).toFixed(2)} M/s = ${l1.zipf.ratio.toFixed(2)}×\n`,
    );
    if (l1.bookkeepingBytesPerEntry !== null) {
      process.stdout.write(`L1 bookkeeping: ${l1.bookkeepingBytesPerEntry.toFixed(0)} B/entry = ${(l1.bookkeepingShareOfBudget! * 100).toFixed(2)}% of the 75 MB budget at ${l1.keys} entries\n`);
    }
  }
  if (ceilings.length > 0) {
    process.stdout.write('\nCeiling (bench/ceiling.ts):\n' + ceilings.map((c) => formatCeiling(c)).join('\n') + '\n');
    process.stdout.write(`wrote ${path.relative(process.cwd(), writeCeilingResults(ceilings))}\n`);
  }
  fs.mkdirSync(RESULTS, { recursive: true });
  const out = path.join(RESULTS, 'warm.json');
  fs.writeFileSync(out, JSON.stringify({ schemaVersion: 1, date: new Date().toISOString(), node: process.version, runs: args.runs, corpora: corpora.map((c) => ({ ...c, spread: { baseline: spread(c.baselineFilesPerSec), strata: spread(c.strataFilesPerSec) } })), l1 }, null, 2));
  process.stdout.write(`\nwrote ${path.relative(process.cwd(), out)}\n`);
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ');
  process.stdout.write(line(header) + '\n' + widths.map((w) => '-'.repeat(w)).join('  ') + '\n' + rows.map(line).join('\n') + '\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
