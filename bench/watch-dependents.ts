/**
 * Watching a real monorepo (bench/real-monorepo.ts: this project's node_modules packages as a
 * workspace, ≥ 5,000 real source files) with the dependency graph built at the start (issue 22):
 *
 *   1. start: `engine.watch()` (watcher ready and graph built) in a fresh process each run, after
 *      one warm filled L2 on disk; time and RSS, against the watcher alone (the baseline: how
 *      watching started before it named dependents);
 *   2. event → dependents named, for eslint's lib/rules/utils/ast-utils.js (186 importers): edits
 *      one at a time, alternately adding an export (signature changed: every transitive dependent
 *      named) and adding a comment (signature kept: early cutoff, the file alone); time from
 *      chokidar's event, and from the write, to the subscriber holding the event (the first edit,
 *      which also starts the worker pool, apart; the ratio's baseline is the comment edit);
 *   3. subscribeResults(): after one export edit, how many dependents' recomputed results arrive,
 *      and how long until the last one.
 *
 * Run:   npm run build && node dist/bench/watch-dependents.js [--runs 5] [--edits 61]
 * Writes bench/results/watch-dependents.json.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { discoverSourceFiles } from '../engine/discovery/discovery.js';
import { createEngine } from '../engine/engine.js';
import type { WatchEvent } from '../engine/streams/watch-service.js';
import { buildRealMonorepo, WIDELY_IMPORTED } from './real-monorepo.js';
import { median, numberFlag, percentile } from './stats.js';

const PROJECT = path.join(__dirname, '..', '..');
const RESULTS = path.join(PROJECT, 'bench', 'results');
const CHILD = path.join(__dirname, 'watch-start-child.js');

const round = (n: number): number => Math.round(n * 100) / 100;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface StartSample {
  readonly ms: number;
  readonly rssMiB: number;
  readonly graphNodes: number;
  readonly files: number;
}

function startOnce(root: string, cacheDir: string, mode: 'graph' | 'watcher-only' | 'warm'): StartSample {
  const child = spawnSync(process.execPath, [CHILD, root, cacheDir, mode], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`watch-start-child ${mode} failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as StartSample;
}

async function countSourceFiles(root: string): Promise<number> {
  let files = 0;
  for await (const event of discoverSourceFiles(root, { includeNodeModules: false, maxFileSize: 5 * 1024 * 1024 })) if (event.type === 'file') files++;
  return files;
}

async function main(): Promise<void> {
  const runs = numberFlag('--runs', 5);
  const edits = numberFlag('--edits', 61);
  const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'strata-watch-dependents-')));
  const root = path.join(base, 'monorepo');
  const cacheDir = path.join(base, 'cache');
  try {
    const packages = buildRealMonorepo(root);
    const files = await countSourceFiles(root);
    console.log(`real monorepo: ${packages.length} packages, ${files} source files; load average ${os.loadavg().map((n) => n.toFixed(2)).join(' ')}`);

    // 1. Start.
    const warm = startOnce(root, cacheDir, 'warm');
    console.log(`warm (fills L2 on disk): ${Math.round(warm.ms)} ms`);
    const withGraph: StartSample[] = [];
    const watcherOnly: StartSample[] = [];
    for (let run = 0; run < runs; run++) {
      withGraph.push(startOnce(root, cacheDir, 'graph'));
      watcherOnly.push(startOnce(root, cacheDir, 'watcher-only'));
    }
    const start = {
      runs,
      withGraph: { medianMs: Math.round(median(withGraph.map((s) => s.ms))), medianRssMiB: round(median(withGraph.map((s) => s.rssMiB))), graphNodes: withGraph[0]!.graphNodes, watchedFiles: withGraph[0]!.files },
      watcherOnly: { medianMs: Math.round(median(watcherOnly.map((s) => s.ms))), medianRssMiB: round(median(watcherOnly.map((s) => s.rssMiB))) },
      ratio: 0,
    };
    start.ratio = round(start.withGraph.medianMs / start.watcherOnly.medianMs);
    console.log(
      `watch start, median of ${runs}: with the graph ${start.withGraph.medianMs} ms, RSS ${start.withGraph.medianRssMiB} MiB (${start.withGraph.graphNodes} graph nodes); ` +
        `watcher alone ${start.watcherOnly.medianMs} ms, RSS ${start.watcherOnly.medianRssMiB} MiB; ratio ${start.ratio}×`,
    );

    // 2. Event → dependents named.
    const engine = createEngine({ root, cacheDir }, { env: {}, readConfigFile: false });
    const subscription = await engine.subscribe({ bound: 50_000 });
    type Delivery = { event: WatchEvent; deliveredAt: number };
    const waiting: { current: ((delivery: Delivery) => void) | null } = { current: null };
    const loop = (async () => {
      for await (const event of subscription) {
        const deliveredAt = performance.now();
        const resolve = waiting.current;
        if (event.path === WIDELY_IMPORTED && resolve !== null) {
          waiting.current = null;
          resolve({ event, deliveredAt });
        }
      }
    })();
    const file = path.join(root, WIDELY_IMPORTED);
    const samples = { exportEdit: { fromEvent: [] as number[], fromWrite: [] as number[], named: [] as number[] }, commentEdit: { fromEvent: [] as number[], fromWrite: [] as number[], named: [] as number[] } };
    let firstEventNamed = -1;
    let firstEventMs = -1;
    for (let i = 0; i < edits; i++) {
      const exportEdit = i % 2 === 0;
      const got = new Promise<Delivery>((resolve) => (waiting.current = resolve));
      fs.appendFileSync(file, exportEdit ? `module.exports.benchExport${i} = ${i};\n` : `// bench comment ${i}\n`);
      const writtenAt = performance.now();
      const { event, deliveredAt } = await got;
      if (i === 0) {
        // The first edit after the start also starts the worker pool (a watch start after a warm parses nothing): reported apart.
        firstEventNamed = event.invalidated.length - 1;
        firstEventMs = deliveredAt - event.detectedAt;
      } else {
        const into = exportEdit ? samples.exportEdit : samples.commentEdit;
        into.fromEvent.push(deliveredAt - event.detectedAt);
        into.fromWrite.push(deliveredAt - writtenAt);
        into.named.push(event.invalidated.length - 1);
      }
      await sleep(150); // the edit's verify pass settles before the next one
    }
    subscription.close();
    await loop;
    const summary = (s: { fromEvent: number[]; fromWrite: number[]; named: number[] }) => ({
      edits: s.fromEvent.length,
      dependentsNamed: { min: Math.min(...s.named), max: Math.max(...s.named) },
      eventToNamedMs: { p50: round(percentile(s.fromEvent, 50)), p90: round(percentile(s.fromEvent, 90)), p99: round(percentile(s.fromEvent, 99)), max: round(Math.max(...s.fromEvent)) },
      writeToNamedMs: { p50: round(percentile(s.fromWrite, 50)), p99: round(percentile(s.fromWrite, 99)) },
    });
    const naming = { file: WIDELY_IMPORTED, firstEventDependents: firstEventNamed, firstEventToNamedMs: round(firstEventMs), exportEdit: summary(samples.exportEdit), commentEdit: summary(samples.commentEdit), ratio: 0 };
    naming.ratio = round(naming.exportEdit.eventToNamedMs.p99 / naming.commentEdit.eventToNamedMs.p99);
    console.log(
      `${WIDELY_IMPORTED}: first event named ${firstEventNamed} dependents in ${round(firstEventMs)} ms (pool start included); later edits: export edit → named p50 ${naming.exportEdit.eventToNamedMs.p50} ms, p99 ${naming.exportEdit.eventToNamedMs.p99} ms ` +
        `(${naming.exportEdit.dependentsNamed.min}–${naming.exportEdit.dependentsNamed.max} named); comment edit (cut off) p50 ${naming.commentEdit.eventToNamedMs.p50} ms, p99 ${naming.commentEdit.eventToNamedMs.p99} ms ` +
        `(${naming.commentEdit.dependentsNamed.max} named); ratio ${naming.ratio}×`,
    );

    // 3. subscribeResults(): the dependents' recomputed results after one export edit.
    let runsOfAnalyzer = 0;
    const stream = await engine.subscribeResults({ id: 'bench-imports', version: 1 }, ({ ast }) => {
      runsOfAnalyzer++;
      return ast.imports.length;
    });
    fs.appendFileSync(file, 'module.exports.benchResults = true;\n');
    const writtenAt = performance.now();
    let expected = -1;
    let results = 0;
    let errors = 0;
    let lastAt = writtenAt;
    for await (const event of stream) {
      if (event.event === 'change' && event.path === WIDELY_IMPORTED && expected < 0) expected = event.invalidated.filter((f) => /\.[cm]?[jt]sx?$/.test(f)).length;
      else if (event.event === 'result' && event.cause === WIDELY_IMPORTED) results++;
      else if (event.event === 'error' && event.cause === WIDELY_IMPORTED) errors++;
      lastAt = performance.now();
      if (expected >= 0 && results + errors >= expected) break;
    }
    stream.close();
    const resultsPhase = { expected, results, errors, analyzerRuns: runsOfAnalyzer, writeToLastResultMs: Math.round(lastAt - writtenAt) };
    console.log(`subscribeResults: ${results} results (${errors} errors) for ${expected} invalidated files, the analyzer ran ${runsOfAnalyzer} times, last result ${resultsPhase.writeToLastResultMs} ms after the write`);
    await engine.close();

    fs.mkdirSync(RESULTS, { recursive: true });
    const out = path.join(RESULTS, 'watch-dependents.json');
    const report = { schemaVersion: 1, date: new Date().toISOString(), node: process.version, platform: `${os.platform()} ${os.arch()}`, cpus: os.cpus().length, loadAverage: os.loadavg().map(round), packages: packages.length, files, warmMs: Math.round(warm.ms), start, naming, results: resultsPhase };
    fs.writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
    console.log(`wrote ${path.relative(PROJECT, out)}`);
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
