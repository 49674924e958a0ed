/**
 * The examples' second runs against the tools they stand in for (issue 20), whole processes, the
 * same edits, in one run:
 *   - examples/typecheck against `tsc --incremental --noEmit`, on a copy of this repository's
 *     tsconfig project: cold, unchanged, an edit inside a function body of a widely imported module
 *     (engine/paths.ts), an edit that adds an export to it; the output is checked equal to tsc's.
 *   - examples/eslint against `eslint --cache`, on copies of real CommonJS packages (commander,
 *     prom-client, systeminformation, cli-progress, @babel/core): cold, unchanged, a body edit of a
 *     non-exported helper (prom-client's util.js `hashObject`), an export renamed (`isObject`):
 *     which files each re-lints, and how many of the new errors `eslint --cache` misses.
 * Medians of --runs repetitions (each on a fresh copy).
 *
 * Run:   npm run build && node dist/bench/examples.js [--runs N] [--only typecheck|eslint]
 * Writes bench/results/examples.json.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runEslint, writeBaselineConfig } from '../examples/eslint/eslint-baseline.js';
import { median } from './stats.js';

const REPO = path.join(__dirname, '..', '..');
const TSC = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
const TYPECHECK = path.join(REPO, 'dist', 'examples', 'typecheck', 'typecheck.js');
const LINT = path.join(REPO, 'dist', 'examples', 'eslint', 'lint.js');
const PROJECT_DIRS = ['engine', 'workers', 'shared', 'native-bindings', 'bench', 'test', 'examples'];
const LINT_PACKAGES = ['commander/lib', 'prom-client/lib', 'systeminformation/lib', 'cli-progress/lib', '@babel/core/lib'];

interface Timed {
  readonly ms: number;
  readonly stdout: string;
  readonly stderr: string;
}

function timed(args: string[], cwd: string): Timed {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, stdout: result.stdout, stderr: result.stderr };
}

function scratch(prefix: string): string {
  return fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
}

function edit(file: string, from: string, to: string): void {
  const text = fs.readFileSync(file, 'utf8');
  if (!text.includes(from)) throw new Error(`${file} no longer contains ${JSON.stringify(from)}: update the benchmark's edit`);
  fs.writeFileSync(file, text.replace(from, to));
}

type Row = Record<string, number | string | boolean>;

function typecheckRun(run: number): Record<string, Row> {
  const root = scratch('strata-bench-typecheck-');
  for (const dir of PROJECT_DIRS) fs.cpSync(path.join(REPO, dir), path.join(root, dir), { recursive: true, filter: (f) => !f.includes(`${path.sep}results`) });
  fs.copyFileSync(path.join(REPO, 'tsconfig.json'), path.join(root, 'tsconfig.json'));
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(root, 'node_modules'));
  const cache = path.join(root, '.strata-cache');
  const tscIncremental = (): Timed => timed([TSC, '--noEmit', '--incremental', '--tsBuildInfoFile', path.join(root, '.tsbuildinfo'), '-p', 'tsconfig.json'], root);
  const strata = (): Timed => timed([TYPECHECK, '-p', 'tsconfig.json', '--cache-dir', cache], root);
  const checked = (t: Timed): number => Number(/(\d+) files checked/.exec(t.stderr)?.[1] ?? NaN);
  const rows: Record<string, Row> = {};
  const scenario = (name: string): void => {
    const tsc = tscIncremental();
    const ours = strata();
    const plain = timed([TSC, '--noEmit', '-p', 'tsconfig.json'], root);
    rows[name] = { tscIncrementalMs: tsc.ms, strataMs: ours.ms, tscPlainMs: plain.ms, strataChecked: checked(ours), sameOutputAsTsc: ours.stdout === plain.stdout };
    process.stdout.write(`  typecheck run ${run + 1}, ${name}: tsc --incremental ${tsc.ms.toFixed(0)} ms, strata ${ours.ms.toFixed(0)} ms (${checked(ours)} checked), tsc ${plain.ms.toFixed(0)} ms, same output ${ours.stdout === plain.stdout}\n`);
  };
  try {
    scenario('cold');
    scenario('unchanged');
    edit(path.join(root, 'engine', 'paths.ts'), 'const absolute = path.resolve(root, input);', `const absolute = path.resolve(root, input); // edit ${run}`);
    scenario('body edit');
    fs.appendFileSync(path.join(root, 'engine', 'paths.ts'), `\nexport const benchExport${run} = ${run};\n`);
    scenario('export added');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  return rows;
}

function eslintRun(run: number): Record<string, Row> {
  const root = scratch('strata-bench-eslint-');
  for (const pkg of LINT_PACKAGES) fs.cpSync(path.join(REPO, 'node_modules', pkg), path.join(root, pkg.replace('/', '__')), { recursive: true });
  writeBaselineConfig(root);
  const cacheLocation = path.join(root, 'eslint-results-cache');
  const cache = path.join(root, '.strata-cache');
  const eslintCached = (): Timed => timed([path.join(path.dirname(require.resolve('eslint/package.json')), 'bin', 'eslint.js'), '--cache', '--cache-location', cacheLocation, '--format', 'json', '.'], root);
  const strata = (): Timed => timed([LINT, '.', '--cache-dir', cache], root);
  const linted = (t: Timed): number => Number(/(\d+) linted/.exec(t.stderr)?.[1] ?? NaN);
  const errorLines = (output: string): Set<string> => new Set(output.split('\n').filter((line) => line.includes(': error ')));
  const rows: Record<string, Row> = {};
  const scenario = (name: string): void => {
    const eslint = eslintCached();
    const ours = strata();
    const truth = errorLines(runEslint(root).output); // a full ESLint run, no cache
    const eslintNow = errorLines(runEslint(root, { cacheLocation }).output); // what the cached run reports now
    const oursNow = errorLines(ours.stdout);
    const missedByEslint = [...truth].filter((line) => !eslintNow.has(line)).length;
    const missedByStrata = [...truth].filter((line) => !oursNow.has(line)).length;
    rows[name] = { eslintCacheMs: eslint.ms, strataMs: ours.ms, strataLinted: linted(ours), eslintCacheMissedErrors: missedByEslint, strataMissedErrors: missedByStrata };
    process.stdout.write(`  eslint run ${run + 1}, ${name}: eslint --cache ${eslint.ms.toFixed(0)} ms (misses ${missedByEslint} errors), strata ${ours.ms.toFixed(0)} ms (${linted(ours)} linted, misses ${missedByStrata})\n`);
  };
  try {
    scenario('cold');
    scenario('unchanged');
    const util = path.join(root, 'prom-client__lib', 'util.js');
    edit(util, '\treturn fastHashObject(keys, labels);', `\treturn fastHashObject(keys, labels); // edit ${run}`);
    scenario('body edit');
    edit(util, 'exports.isObject = function isObject(obj) {', 'exports.isPlainObject = function isObject(obj) {');
    scenario('export renamed');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  return rows;
}

/** Medians of each numeric column over the runs; booleans must hold in every run. */
function summarize(runs: Array<Record<string, Row>>): Record<string, Row> {
  const summary: Record<string, Row> = {};
  for (const scenario of Object.keys(runs[0] ?? {})) {
    const row: Row = {};
    for (const column of Object.keys(runs[0]?.[scenario] ?? {})) {
      const values = runs.map((r) => r[scenario]?.[column]);
      row[column] = typeof values[0] === 'boolean' ? values.every((v) => v === true) : median(values as number[]);
    }
    summary[scenario] = row;
  }
  return summary;
}

function main(): void {
  const args = process.argv.slice(2);
  const at = args.indexOf('--runs');
  const runs = at === -1 ? 3 : Number(args[at + 1]);
  const onlyAt = args.indexOf('--only');
  const only = onlyAt === -1 ? null : args[onlyAt + 1];
  const report: Record<string, unknown> = { node: process.version, runs };
  if (only !== 'eslint') {
    const typecheck = summarize(Array.from({ length: runs }, (_, run) => typecheckRun(run)));
    report.typecheck = typecheck;
    process.stdout.write(`typecheck (medians of ${runs}):\n${JSON.stringify(typecheck, null, 2)}\n`);
  }
  if (only !== 'typecheck') {
    const eslint = summarize(Array.from({ length: runs }, (_, run) => eslintRun(run)));
    report.eslint = eslint;
    process.stdout.write(`eslint (medians of ${runs}):\n${JSON.stringify(eslint, null, 2)}\n`);
  }
  fs.mkdirSync(path.join(REPO, 'bench', 'results'), { recursive: true });
  fs.writeFileSync(path.join(REPO, 'bench', 'results', 'examples.json'), JSON.stringify(report, null, 2) + '\n');
}

main();
