/**
 * Reliability run (issue 8): runs the reliability test files through jest with one size, collects
 * the counts each test records (test/helpers/reliability-counts.ts) and writes the README's table
 * to `bench/results/reliability.json` (under the size's name) and stdout.
 *
 *   node dist/bench/reliability.js           the `npm test` sizes (a few minutes)
 *   npm run soak                              the soak: 100,000 model operations, 300 kill -9, a
 *                                             100,000-file load test, 60 s of concurrent clears
 *
 * Soak sizes come from STRATA_SOAK_OPS, STRATA_SOAK_KILLS, STRATA_SOAK_FILES and
 * STRATA_SOAK_CONCURRENCY_MS when set (the README's figures name the sizes they ran).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ReliabilityCounts } from './reliability-counts.js';

const FILES = [
  'model-based',
  'persistence',
  'persistence-background',
  'store-processes',
  'store-hostile-data',
  'reliability-corruption',
  'reliability-concurrency',
  'reliability-security',
  'bad-input',
];

const SOAK_DEFAULTS: Readonly<Record<string, string>> = {
  STRATA_SOAK_OPS: '100000',
  STRATA_SOAK_KILLS: '300',
  STRATA_SOAK_FILES: '100000',
  STRATA_SOAK_CONCURRENCY_MS: '60000',
};

type Line = ReliabilityCounts & { readonly area: string };

const MiB = 1024 * 1024;

function main(): void {
  const soak = process.argv.includes('--soak');
  const size = soak ? 'soak' : 'test';
  const sizes: Record<string, string> = {};
  if (soak) for (const [name, value] of Object.entries(SOAK_DEFAULTS)) sizes[name] = process.env[name] ?? value;
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'strata-reliability-')), 'counts.jsonl');
  fs.writeFileSync(out, '');
  const jest = require.resolve('jest/bin/jest');
  const started = Date.now();
  const run = spawnSync(process.execPath, [jest, '--runInBand', ...FILES.map((name) => path.join(__dirname, '..', 'test', `${name}.test.js`))], {
    stdio: 'inherit',
    env: { ...process.env, ...sizes, STRATA_RELIABILITY_OUT: out },
  });
  const lines = fs
    .readFileSync(out, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Line);
  fs.rmSync(path.dirname(out), { recursive: true, force: true });
  const sum = (pick: (line: Line) => number | undefined): number => lines.reduce((total, line) => total + (pick(line) ?? 0), 0);
  const rss = lines.filter((line) => line.peakRssBytes !== undefined);
  const totals = {
    operations: sum((line) => line.operations),
    crashes: sum((line) => line.crashes),
    corruptions: sum((line) => line.corruptions),
    badInputs: sum((line) => line.badInputs),
    wrongAnswers: sum((line) => line.wrongAnswers) + (run.status === 0 ? 0 : 1),
    missingFiles: sum((line) => line.missingFiles),
    peakRssMiB: Math.round(Math.max(0, ...rss.map((line) => line.peakRssBytes ?? 0)) / MiB),
    rssBudgetMiB: Math.round(Math.max(0, ...rss.map((line) => line.rssBudgetBytes ?? 0)) / MiB),
  };
  const result = {
    size,
    sizes,
    command: soak ? 'npm run soak' : 'node dist/bench/reliability.js',
    jestExitCode: run.status,
    durationMs: Date.now() - started,
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, node: process.version, platform: `${process.platform}-${process.arch}` },
    totals,
    areas: lines,
  };
  const file = path.join(__dirname, '..', '..', 'bench', 'results', 'reliability.json');
  let previous: Record<string, unknown> = {};
  try {
    previous = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    previous = {}; // first run
  }
  fs.writeFileSync(file, `${JSON.stringify({ ...previous, [size]: result }, null, 2)}\n`);
  process.stdout.write(
    [
      `reliability (${size}${soak ? ` ${JSON.stringify(sizes)}` : ''}), ${(result.durationMs / 60_000).toFixed(1)} min, jest exit ${run.status}`,
      `| operations run | crashes injected | corruptions injected | bad inputs tried | stale or wrong answers | files missing from a report | peak RSS / budget |`,
      `| ${totals.operations} | ${totals.crashes} | ${totals.corruptions} | ${totals.badInputs} | ${totals.wrongAnswers} | ${totals.missingFiles} | ${totals.peakRssMiB} MiB / ${totals.rssBudgetMiB} MiB |`,
      `written to ${path.relative(process.cwd(), file)}`,
    ].join('\n') + '\n',
  );
  process.exitCode = run.status === 0 ? 0 : 1;
}

main();
