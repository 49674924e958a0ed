/**
 * The benchmark suite (issue 7): every scenario on ONE corpus, each with its peer measured in the
 * same run, several repetitions, medians and spread, ratios; a table and bench/results/suite.json.
 *
 *   npm run bench -- [--corpus DIR] [--quick] [--json] [--out FILE]
 *   strata bench [--corpus DIR] [--quick] [--json]
 *
 * Corpus: DIR, or a generated monorepo (bench/corpus.ts, seed 42): 400 files with --quick, else
 * 10,000. Repetitions: 1 with --quick (2 for the cold start), else 3. Scenarios and peers:
 *   - ceiling (bench/ceiling.ts): a cold warm with persistence vs min(one sequential process, N
 *     independent processes on every Nth file), `--workers 1` vs sequential, the machine's scaling;
 *   - cold start: `strata warm --no-persist` vs a sequential read+parse baseline, and vs
 *     jest-haste-map building its map with 2 workers (regex dependency extraction, no parse);
 *   - warm restart: Strata's second (persisted) warm vs jest-haste-map's warm build vs
 *     file-entry-cache's changed-files check (ESLint's cache);
 *   - warm cache: L1 get-hit vs lru-cache (bench/l1-get.ts, benny);
 *   - persistence: encoded AST + lz4 vs the predecessor's JSON tree + gzip, AST load vs re-parse;
 *   - memory pressure: the content budget set to a third of the corpus: hit rate, evictions, RSS;
 *   - concurrency: 1, 2, … cores workers (efficiency), and 4 concurrent `engine.ast()` callers vs 1;
 *   - change: one edit's cascade with DependencyGraph vs string-keyed maps; the watcher (not --quick).
 * Every process-level figure is a whole fresh process timed from spawn to exit. Ratios are oriented
 * so that > 1 means Strata is ahead (time and bytes: peer ÷ Strata; rates: Strata ÷ peer).
 * Exits non-zero only when the suite cannot run, never because a figure is slow.
 *
 * Last recorded: see bench/results/suite.json (figures are labelled with the machine they came from).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { discoverSourceFiles } from '../engine/discovery/discovery.js';
import { DependencyGraph } from '../engine/graph/dependency-graph.js';
import { measureCeiling } from './ceiling.js';
import { generateMonorepo } from './corpus.js';
import { generateEdges } from './graph.js';
import type { L1Figures } from './l1-get.js';
import type { LibraryRestart } from './library-restart.js';
import type { AstLoads } from './ast-loads.js';
import { loadScenario } from './persistence.js';
import { prng } from './seeded-random.js';
import { median, spread } from './stats.js';
import { measureWarming } from './warming-effectiveness.js';

export const SUITE_SCHEMA_VERSION = 1;

const PROJECT = path.join(__dirname, '..', '..');
const DIST_BENCH = path.join(PROJECT, 'dist', 'bench');
const CLI = path.join(PROJECT, 'dist', 'engine', 'cli', 'main.js');
const RESULTS = path.join(PROJECT, 'bench', 'results');
const QUICK_FILES = 400;
const FULL_FILES = 10_000;
const SEED = 42;
/** The memory limit every warming-effectiveness engine runs under. */
const WARMING_MEMORY_LIMIT_MIB = 512;

export interface SuiteOptions {
  /** A directory to benchmark; default: a generated monorepo. */
  readonly corpus?: string;
  readonly quick: boolean;
  /** The caller prints JSON itself: the suite prints no table. */
  readonly json: boolean;
  /** Where the JSON goes. @default bench/results/suite.json */
  readonly out?: string;
  /** Overrides: repetitions of each scenario, and the generated corpus's size. */
  readonly repetitions?: number;
  readonly files?: number;
  /** Skip the benny micro benchmark (L1 vs lru-cache); its row is reported as not run. */
  readonly skipMicro?: boolean;
  /** Run only these scenario groups (cold, restart, cli, cache, persistence, loads, memory, concurrency, warming, change). @default all */
  readonly only?: readonly string[];
  /** Progress lines. @default process.stderr */
  readonly progress?: (line: string) => void;
}

export interface ScenarioResult {
  readonly name: string;
  /** Strata's figure (median of `runs`), or null when not run. */
  readonly strata: number | null;
  /** The peer's figure measured in the same run, or null when the scenario has no peer or did not run. */
  readonly peer: number | null;
  /** > 1: Strata ahead. null when either side is missing. */
  readonly ratio: number | null;
  readonly unit: string;
  readonly runs: number;
  readonly spread: { readonly strata: { min: number; max: number } | null; readonly peer: { min: number; max: number } | null };
  readonly note: string;
}

export interface SuiteReport {
  readonly schemaVersion: number;
  readonly date: string;
  readonly machine: { readonly cpus: number; readonly model: string; readonly totalMemory: number; readonly node: string; readonly platform: string };
  readonly corpus: { readonly path: string; readonly files: number; readonly bytes: number; readonly generated: boolean };
  readonly quick: boolean;
  readonly repetitions: number;
  readonly durationMs: number;
  readonly scenarios: ScenarioResult[];
  readonly summary: string[];
  /** Where the JSON was written. */
  readonly out: string;
}

interface ProcessRun {
  readonly wallMs: number;
  readonly stdout: string;
}

interface WarmJson {
  files: number;
  parsed: number;
  fromCache: number;
  fromDisk: number;
  peakRssBytes: number;
  levels: { content: { hits: number; misses: number; evictions: number; bytes: number; entries: number } };
}

function timed(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const script = args.find((arg) => !arg.startsWith('--')) ?? '';
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve({ wallMs: performance.now() - started, stdout }) : reject(new Error(`${path.basename(script)} ${args.slice(args.indexOf(script) + 1).join(' ')} exited ${code}: ${stderr.trim()}`))));
  });
}

/** A child's JSON output: one document (pretty-printed or one line). */
function lastJsonLine<T>(stdout: string): T {
  const text = stdout.trim();
  if (text.startsWith('{') && text.endsWith('}')) {
    try {
      return JSON.parse(text) as T;
    } catch {
      // several documents: the last line is the one
    }
  }
  const lines = text.split('\n');
  return JSON.parse(lines[lines.length - 1] ?? '{}') as T;
}

const tmpDir = (prefix: string): string => fs.mkdtempSync(path.join(os.tmpdir(), prefix));
const removeDir = (dir: string): void => fs.rmSync(dir, { recursive: true, force: true });
const rate = (files: number, ms: number): number => (files / ms) * 1000;

function row(name: string, unit: string, strata: number[] | null, peer: number[] | null, orientation: 'higher' | 'lower', note: string): ScenarioResult {
  const s = strata && strata.length ? median(strata) : null;
  const p = peer && peer.length ? median(peer) : null;
  const ratio = s === null || p === null || s === 0 || p === 0 ? null : orientation === 'higher' ? s / p : p / s;
  return {
    name,
    strata: s,
    peer: p,
    ratio,
    unit,
    runs: Math.max(strata?.length ?? 0, peer?.length ?? 0),
    spread: { strata: strata && strata.length ? spread(strata) : null, peer: peer && peer.length ? spread(peer) : null },
    note,
  };
}

function notRun(name: string, unit: string, note: string): ScenarioResult {
  return { name, strata: null, peer: null, ratio: null, unit, runs: 0, spread: { strata: null, peer: null }, note };
}

async function sourceFilesOf(root: string): Promise<string[]> {
  const files: string[] = [];
  for await (const event of discoverSourceFiles(root, { includeNodeModules: false, maxFileSize: 5 * 1024 * 1024 })) if (event.type === 'file') files.push(event.absolutePath);
  return files.sort();
}

async function corpusSize(root: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for await (const event of discoverSourceFiles(root, { includeNodeModules: false, maxFileSize: 5 * 1024 * 1024 })) {
    if (event.type !== 'file') continue;
    files++;
    bytes += event.size;
  }
  return { files, bytes };
}

/** Strata's `warm` in a fresh process; returns files/s from spawn to exit and the JSON report. */
async function strataWarm(root: string, extra: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ wallMs: number; filesPerSec: number; report: WarmJson }> {
  const run = await timed([CLI, 'warm', root, '--json', '--quiet', ...extra], env);
  const report = lastJsonLine<WarmJson>(run.stdout);
  return { wallMs: run.wallMs, filesPerSec: rate(report.parsed + report.fromCache, run.wallMs), report };
}

type Log = (line: string) => void;

async function coldStart(root: string, reps: number, log: Log): Promise<ScenarioResult[]> {
  const baseline: number[] = [];
  const strata: number[] = [];
  const haste: number[] = [];
  const rss: number[] = [];
  let strataFiles = 0;
  let hasteFiles = 0;
  for (let rep = 0; rep < reps; rep++) {
    // Rotate the order so page-cache and CPU-boost effects even out.
    const sides = ['baseline', 'strata', 'haste'];
    for (let i = 0; i < rep % 3; i++) sides.push(sides.shift()!);
    for (const side of sides) {
      if (side === 'baseline') {
        const run = await timed([path.join(DIST_BENCH, 'sequential-parse.js'), root]);
        baseline.push(rate(lastJsonLine<{ files: number }>(run.stdout).files, run.wallMs));
      } else if (side === 'strata') {
        const warm = await strataWarm(root, ['--no-persist']);
        strata.push(warm.filesPerSec);
        rss.push(warm.report.peakRssBytes);
        strataFiles = warm.report.files;
      } else {
        const cache = tmpDir('strata-suite-haste-');
        try {
          const run = await timed([path.join(DIST_BENCH, 'peer-haste-map.js'), root, cache, 'cold']);
          hasteFiles = lastJsonLine<{ files: number }>(run.stdout).files;
          haste.push(rate(hasteFiles, run.wallMs));
        } finally {
          removeDir(cache);
        }
      }
    }
    log(`  cold start ${rep + 1}/${reps}: sequential ${baseline.at(-1)!.toFixed(0)}, strata ${strata.at(-1)!.toFixed(0)}, jest-haste-map ${haste.at(-1)!.toFixed(0)} files/s`);
  }
  return [
    row('cold start vs sequential parse', 'files/s', strata, baseline, 'higher', `strata warm --no-persist (default workers, ${strataFiles} files, peak RSS ${mib(median(rss))}) vs one thread reading + ts.createSourceFile; whole processes`),
    row('cold start vs jest-haste-map', 'files/s', strata, haste, 'higher', `jest-haste-map (2 workers, ${hasteFiles} files) extracts dependencies by regex and parses nothing; Strata parses and encodes every file`),
  ];
}

async function ceiling(root: string, log: Log): Promise<ScenarioResult[]> {
  const c = await measureCeiling(root, { log });
  const best = c.median.sequentialMs <= c.median.ceilingMs ? c.sequentialMs : c.ceilingMs;
  const load = `load average ${c.loadAverage.before[0]} → ${c.loadAverage.after[0]}`;
  return [
    row('ceiling: cold warm vs min(sequential, N processes)', 'ms', c.strataMs, best, 'lower', `strata warm, persistence on, defaults (${c.workers} workers, ${c.files} files) vs the faster of one process reading + ts.createSourceFile and ${c.workers} independent processes on every ${c.workers}th file; goal ≥ 0.95×; ${load}`),
    row('ceiling: --workers 1 vs sequential', 'ms', c.strataOneWorkerMs, c.sequentialMs, 'lower', `strata warm --workers 1 vs one process reading + ts.createSourceFile; goal ≥ 0.85×`),
    row('ceiling: machine scaling (N processes vs 1)', 'ms', c.ceilingMs, c.sequentialMs, 'lower', `${c.workers} independent processes vs one: what the cores give bare parsers today; Strata's goal of 1.45× on 2 workers applies where this is ≥ 1.6×`),
  ];
}

async function warmRestart(root: string, reps: number, log: Log): Promise<ScenarioResult[]> {
  const strata: number[] = [];
  const haste: number[] = [];
  const fec: number[] = [];
  const floor: number[] = [];
  const libraryEngine: number[] = [];
  const libraryFloor: number[] = [];
  // Where the environment names a certificate bundle, every Node process parses it at start (~45 ms
  // for Debian's 219 KB on this kind of machine), whatever it runs: the figures are also taken
  // without it, both sides alike, to show what the tools themselves cost.
  const certificates = process.env.NODE_EXTRA_CA_CERTS;
  const withoutCertificates = certificates === undefined ? null : { ...process.env, NODE_EXTRA_CA_CERTS: undefined };
  const strataBare: number[] = [];
  const hasteBare: number[] = [];
  let reparsed = 0;
  for (let rep = 0; rep < reps; rep++) {
    const strataCache = tmpDir('strata-suite-cache-');
    const hasteCache = tmpDir('strata-suite-haste-');
    const fecCache = tmpDir('strata-suite-fec-');
    try {
      await strataWarm(root, ['--cache-dir', strataCache]);
      await timed([path.join(DIST_BENCH, 'peer-haste-map.js'), root, hasteCache, 'cold']);
      await timed([path.join(DIST_BENCH, 'peer-file-entry-cache.js'), root, fecCache]);
      const second = await strataWarm(root, ['--cache-dir', strataCache]);
      reparsed += second.report.parsed;
      strata.push(second.wallMs);
      floor.push((await timed([path.join(DIST_BENCH, 'walk-floor.js'), root])).wallMs);
      haste.push((await timed([path.join(DIST_BENCH, 'peer-haste-map.js'), root, hasteCache, 'warm'])).wallMs);
      fec.push((await timed([path.join(DIST_BENCH, 'peer-file-entry-cache.js'), root, fecCache])).wallMs);
      const library = lastJsonLine<LibraryRestart>((await timed([path.join(DIST_BENCH, 'library-restart.js'), root, strataCache])).stdout);
      libraryEngine.push(median(library.engineMs));
      libraryFloor.push(median(library.floorMs));
      reparsed += library.parsed;
      if (withoutCertificates !== null) {
        const bare = await strataWarm(root, ['--cache-dir', strataCache], withoutCertificates);
        reparsed += bare.report.parsed;
        strataBare.push(bare.wallMs);
        hasteBare.push((await timed([path.join(DIST_BENCH, 'peer-haste-map.js'), root, hasteCache, 'warm'], withoutCertificates)).wallMs);
      }
      const bareNote = withoutCertificates === null ? '' : `; without NODE_EXTRA_CA_CERTS: strata ${strataBare.at(-1)!.toFixed(0)} ms, jest-haste-map ${hasteBare.at(-1)!.toFixed(0)} ms`;
      log(`  warm restart ${rep + 1}/${reps}: strata ${strata.at(-1)!.toFixed(0)} ms, walk + lstat floor ${floor.at(-1)!.toFixed(0)} ms, jest-haste-map ${haste.at(-1)!.toFixed(0)} ms, file-entry-cache ${fec.at(-1)!.toFixed(0)} ms; library ${libraryEngine.at(-1)!.toFixed(0)} ms vs in-process floor ${libraryFloor.at(-1)!.toFixed(0)} ms${bareNote}`);
    } finally {
      removeDir(strataCache);
      removeDir(hasteCache);
      removeDir(fecCache);
    }
  }
  const parsedNote = reparsed === 0 ? 'nothing re-parsed' : `${reparsed} files re-parsed (unexpected)`;
  return [
    row('warm restart vs jest-haste-map', 'ms', strata, haste, 'lower', `new process, unchanged tree: Strata's second warm (every AST ready, ${parsedNote}) vs jest-haste-map's warm build (its file map only)`),
    withoutCertificates === null
      ? notRun('warm restart vs jest-haste-map, without NODE_EXTRA_CA_CERTS', 'ms', 'not run (NODE_EXTRA_CA_CERTS is not set: the row above is this one)')
      : row('warm restart vs jest-haste-map, without NODE_EXTRA_CA_CERTS', 'ms', strataBare, hasteBare, 'lower', `both processes with NODE_EXTRA_CA_CERTS (${path.basename(certificates!)}) unset: what each tool costs beyond Node's own start`),
    row('warm restart vs file-entry-cache', 'ms', strata, fec, 'lower', "file-entry-cache (ESLint's cache) only answers which files changed; Strata also has every AST ready"),
    row('warm restart vs walk + lstat floor', 'ms', strata, floor, 'lower', 'a bare node process (bench/walk-floor.ts) that walks the tree, pruning node_modules and .git, and lstats every source file'),
    row('library restart vs in-process walk + lstat floor', 'ms', libraryEngine, libraryFloor, 'lower', 'one process (bench/library-restart.ts): createEngine + warm() on the unchanged tree vs walkAndStat, alternating, 5 rounds per run (median per run); the goal is a ratio ≥ 0.5 (≤ 2× the floor)'),
  ];
}

/** The CLI's own start: `strata --help` vs `node -e 0`, whole processes, alternating. */
async function cliStart(reps: number, log: Log): Promise<ScenarioResult[]> {
  const help: number[] = [];
  const bare: number[] = [];
  for (let rep = 0; rep < reps * 3; rep++) {
    help.push((await timed([CLI, '--help'])).wallMs);
    bare.push((await timed(['-e', '0'])).wallMs);
  }
  log(`  cli start: strata --help ${median(help).toFixed(0)} ms, node -e 0 ${median(bare).toFixed(0)} ms (medians of ${help.length})`);
  return [row('cli start: strata --help vs node -e 0', 'ms', help, bare, 'lower', `whole processes, ${help.length} alternating runs each; the goal is a ratio ≥ 0.67 (--help ≤ 1.5× node -e 0)`)];
}

async function warmCache(skip: boolean, log: Log): Promise<ScenarioResult[]> {
  if (skip) return [notRun('warm cache: L1 get-hit vs lru-cache (uniform)', 'gets/s', 'not run (micro benchmark skipped)'), notRun('warm cache: L1 get-hit vs lru-cache (zipf)', 'gets/s', 'not run (micro benchmark skipped)')];
  log('  warm cache: L1 vs lru-cache (benny, in a child process)');
  const dir = tmpDir('strata-suite-l1-');
  let l1: L1Figures;
  try {
    const out = path.join(dir, 'l1.json');
    await timed(['--expose-gc', path.join(DIST_BENCH, 'l1-get-child.js'), out]);
    l1 = JSON.parse(fs.readFileSync(out, 'utf8')) as L1Figures;
  } finally {
    removeDir(dir);
  }
  const bookkeeping = l1.bookkeepingBytesPerEntry === null ? '' : `; L1 bookkeeping ${l1.bookkeepingBytesPerEntry.toFixed(0)} B/entry`;
  const note = `same process, ${l1.keys} path keys, same values, stat validation off; benny${bookkeeping}`;
  return [
    row('warm cache: L1 get-hit vs lru-cache (uniform)', 'gets/s', [l1.uniform.strataOpsPerSec], [l1.uniform.lruCacheOpsPerSec], 'higher', note),
    row('warm cache: L1 get-hit vs lru-cache (zipf)', 'gets/s', [l1.zipf.strataOpsPerSec], [l1.zipf.lruCacheOpsPerSec], 'higher', note),
  ];
}

async function persistence(root: string, sample: number, log: Log): Promise<ScenarioResult[]> {
  log(`  persistence: ${sample}-file sample`);
  const load = (await loadScenario(root, sample)) as {
    files: number;
    medianLoadVsReparse: number;
    totalLoadMs: number;
    totalReparseMs: number;
    bytesPerSourceByte: { strataLz4: number; strataGzip: number; predecessorJsonGzip: number };
  };
  const sizes = load.bytesPerSourceByte;
  return [
    row('persistence: bytes on disk per source byte', 'B/B', [sizes.strataLz4], [sizes.predecessorJsonGzip], 'lower', `encoded AST + lz4 vs the predecessor's JSON tree + gzip; encoded AST + gzip ${sizes.strataGzip.toFixed(2)}; ${load.files} files`),
    row('persistence: AST load vs re-read + re-parse', 'ms', [load.totalLoadMs], [load.totalReparseMs], 'lower', `whole sample of ${load.files} files (read, checksum, decompress, decode); median per-file ratio ${load.medianLoadVsReparse.toFixed(2)}×`),
  ];
}

/** Every persisted AST of the corpus loaded in a fresh process (bench/ast-loads.ts), after a real warm filled the cache. */
async function astLoads(root: string, log: Log): Promise<ScenarioResult[]> {
  const cache = tmpDir('strata-suite-loads-');
  try {
    await strataWarm(root, ['--cache-dir', cache]);
    const loads = lastJsonLine<AstLoads>((await timed([path.join(DIST_BENCH, 'ast-loads.js'), root, cache])).stdout);
    const b = loads.breakdownMs;
    const breakdown = `read ${b.read.toFixed(0)} ms, checksum ${b.checksum.toFixed(0)} ms, lz4 + unpack + column check ${b.decompress.toFixed(0)} ms, decode ${b.decode.toFixed(0)} ms (of which the uncompressed ASTs' validation ${b.astValidation.toFixed(0)} ms)`;
    log(`  AST loads: ${loads.files} files, load ${loads.loadMs.toFixed(0)} ms vs re-read + re-parse ${loads.reparseMs.toFixed(0)} ms; engine.ast() ${loads.engineAstMs.toFixed(0)} ms (what its result needs, as a bare loop: ${loads.astContractMs.toFixed(0)} ms); ${breakdown}`);
    return [
      row('AST loads: every persisted AST vs re-read + re-parse', 'ms', [loads.loadMs], [loads.reparseMs], 'lower', `fresh process, whole corpus (${loads.files} files, ${loads.compressedEntries} lz4 entries), each file's fastest of 3 passes; ${breakdown}; goal ≥ 25×`),
      row('AST loads: engine.ast() of every file vs re-read + re-parse', 'ms', [loads.engineAstMs], [loads.reparseMs], 'lower', `a new engine (no warm), one pass: each call stats the file and loads its entry by its unchanged index record (text read on first use: ${loads.engineAstWithTextMs.toFixed(0)} ms with every text read, ${(loads.reparseMs / loads.engineAstWithTextMs).toFixed(1)}×); goal ≥ 25×`),
      row('AST loads: engine.ast() of every file vs a bare loop doing what its result needs', 'ms', [loads.engineAstMs], [loads.astContractMs], 'lower', `stat each file, load its entry (fastest of 3 passes): engine.ast() can be no faster, so re-read + re-parse reaches at most ${(loads.reparseMs / loads.astContractMs).toFixed(1)}× over it`),
    ];
  } finally {
    removeDir(cache);
  }
}

async function memoryPressure(root: string, corpusBytes: number, reps: number, log: Log): Promise<ScenarioResult[]> {
  const budget = Math.max(1, Math.floor(corpusBytes / 3));
  const pressured: number[] = [];
  const free: number[] = [];
  let last: WarmJson | null = null;
  for (let rep = 0; rep < reps; rep++) {
    const warm = await strataWarm(root, ['--no-persist'], { ...process.env, STRATA_CONTENT_BUDGET: String(budget) });
    pressured.push(warm.filesPerSec);
    last = warm.report;
    free.push((await strataWarm(root, ['--no-persist'])).filesPerSec);
    log(`  memory pressure ${rep + 1}/${reps}: budget ${mib(budget)}: ${pressured.at(-1)!.toFixed(0)} vs unconstrained ${free.at(-1)!.toFixed(0)} files/s`);
  }
  const content = last!.levels.content;
  const accesses = content.hits + content.misses;
  const hitRate = accesses === 0 ? null : content.hits / accesses;
  return [
    row('memory pressure: corpus 3× the L1 budget', 'files/s', pressured, free, 'higher', `content budget ${mib(budget)} (corpus ${mib(corpusBytes)}): L1 hit rate ${hitRate === null ? 'n/a (no reads)' : `${(hitRate * 100).toFixed(1)}%`} (a warm reads each file once), ${content.evictions} evictions, L1 holds ${mib(content.bytes)}; peak RSS ${mib(last!.peakRssBytes)} (whole process, workers and L2 included); peer: the same warm with the default budget`),
  ];
}

async function concurrency(root: string, reps: number, log: Log): Promise<ScenarioResult[]> {
  const cores = os.availableParallelism();
  const counts: number[] = [];
  if (cores <= 8) for (let n = 1; n <= cores; n++) counts.push(n);
  else {
    for (let n = 1; n < cores; n *= 2) counts.push(n);
    counts.push(cores);
  }
  const perCount = new Map<number, number[]>();
  for (let rep = 0; rep < reps; rep++) {
    for (const n of counts) {
      const warm = await strataWarm(root, ['--no-persist', '--workers', String(n)]);
      perCount.set(n, [...(perCount.get(n) ?? []), warm.filesPerSec]);
    }
    log(`  concurrency ${rep + 1}/${reps}: ${counts.map((n) => `${n}w ${perCount.get(n)!.at(-1)!.toFixed(0)}`).join(', ')} files/s`);
  }
  const one = median(perCount.get(1)!);
  const rows = counts.map((n) => {
    const measured = perCount.get(n)!;
    return row(`concurrency: ${n} worker${n === 1 ? '' : 's'}`, 'files/s', measured, measured.map(() => n * one), 'higher', n === 1 ? 'strata warm --no-persist --workers 1; the reference for efficiency' : `peer: ${n} × the 1-worker rate (linear scaling); ratio = parallel efficiency; ${cores} cores`);
  });
  const four: number[] = [];
  const single: number[] = [];
  let files = 0;
  let parsed = 0;
  for (let rep = 0; rep < reps; rep++) {
    const a = await timed([path.join(DIST_BENCH, 'engine-callers.js'), root, '4']);
    const b = await timed([path.join(DIST_BENCH, 'engine-callers.js'), root, '1']);
    const ra = lastJsonLine<{ files: number; answers: number; parsed: number }>(a.stdout);
    const rb = lastJsonLine<{ answers: number }>(b.stdout);
    files = ra.files;
    parsed = ra.parsed;
    four.push(rate(ra.answers, a.wallMs));
    single.push(rate(rb.answers, b.wallMs));
    log(`  concurrent callers ${rep + 1}/${reps}: 4 callers ${four.at(-1)!.toFixed(0)}, 1 caller ${single.at(-1)!.toFixed(0)} answers/s`);
  }
  rows.push(row('concurrency: 4 callers vs 1', 'answers/s', four, single, 'higher', `engine.ast() over the same ${files} files from 4 concurrent in-process callers (4 × ${files} answers, ${parsed} parses) vs 1 caller; whole processes`));
  return rows;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

/** One edit's cascade: DependencyGraph vs string-keyed maps, on a graph of the corpus's size. */
function cascade(nodes: number, log: Log): ScenarioResult[] {
  const size = Math.max(nodes, 100);
  log(`  change: cascade on a ${size}-node graph`);
  const edges = generateEdges(size);
  const graph = new DependencyGraph();
  for (const [file, imports] of edges) graph.setDependencies(file, imports);
  const reverse = new Map<string, Set<string>>();
  for (const [file, imports] of edges) for (const target of imports) (reverse.get(target) ?? reverse.set(target, new Set()).get(target)!).add(file);
  const stringCascade = (file: string): number => {
    const seen = new Set<string>([file]);
    const queue = [file];
    while (queue.length) for (const next of reverse.get(queue.pop()!) ?? []) if (!seen.has(next)) (seen.add(next), queue.push(next));
    return seen.size - 1;
  };
  const files = [...edges.keys()];
  const random = prng(7);
  const sample = Array.from({ length: 200 }, () => files[Math.floor(random() * files.length)]!);
  const strata: number[] = [];
  const peer: number[] = [];
  let dependents = 0;
  for (let round = 0; round < 3; round++) for (const file of sample) (graph.transitiveDependents(file), stringCascade(file)); // warm-up: JIT both sides
  for (const file of sample) {
    let t = performance.now();
    dependents += graph.transitiveDependents(file).length;
    strata.push(performance.now() - t);
    t = performance.now();
    stringCascade(file);
    peer.push(performance.now() - t);
  }
  const p99 = (values: number[]): number[] => [percentile(values, 99)];
  return [
    row('change: one edit cascade (p99)', 'ms', p99(strata), p99(peer), 'lower', `every transitive dependent of one file, ${sample.length} random files on a generated ${size}-node graph (bench/graph.ts shape), ${Math.round(dependents / sample.length)} dependents on average; peer: string-keyed maps; p50 ${percentile(strata, 50).toFixed(3)} vs ${percentile(peer, 50).toFixed(3)} ms`),
  ];
}

async function warmingEffectiveness(root: string, files: readonly string[], quick: boolean, log: Log): Promise<ScenarioResult[]> {
  const figures = await measureWarming(root, files, { length: Math.min(600, files.length * 2), memoryLimitMiB: WARMING_MEMORY_LIMIT_MIB, prefetchOnly: !quick, log });
  const { cold, dependency, predictive } = figures;
  const percent = (rate: number): string => `${(rate * 100).toFixed(0)}%`;
  const common = `${figures.traceLength} accesses following imports with repeats, each engine a fresh process under a ${WARMING_MEMORY_LIMIT_MIB} MiB limit; cold ${percent(cold.hitRate)} in ${cold.totalMs.toFixed(0)} ms`;
  return [
    row('warming: trace hit rate, dependency-warmed vs cold', '% hits', [dependency.hitRate * 100], [cold.hitRate * 100], 'higher', `${common}; dependency-warmed (depth 3) ${percent(dependency.hitRate)} in ${dependency.totalMs.toFixed(0)} ms (warm ${dependency.warmMs.toFixed(0)} ms), peak RSS ${mib(dependency.peakRssBytes)}`),
    row('warming: trace hit rate, predictive vs cold', '% hits', [predictive.hitRate * 100], [cold.hitRate * 100], 'higher', `${common}; predictive (learned from a similar earlier trace) ${percent(predictive.hitRate)} in ${predictive.totalMs.toFixed(0)} ms (warm ${predictive.warmMs.toFixed(0)} ms), peak RSS ${mib(predictive.peakRssBytes)}${figures.prefetchOnly === null ? '' : `; prefetch alone (no startup warm) ${percent(figures.prefetchOnly.hitRate)}`}`),
  ];
}

async function watcher(quick: boolean, log: Log): Promise<ScenarioResult[]> {
  const name = 'change: watcher write → subscriber (p99)';
  if (quick) return [notRun(name, 'ms', 'not run with --quick (needs chokidar and a 10,000-file tree in a child process; `npm run bench:watch`)')];
  log('  change: watcher (bench/watch.js, 10,000 files)');
  await timed([path.join(DIST_BENCH, 'watch.js'), '--files', '10000', '--edits', '200', '--storm', '2000']);
  const watch = JSON.parse(fs.readFileSync(path.join(RESULTS, 'watch.json'), 'utf8')) as { latency: { writeToSubscriberMs: { p50: number; p99: number }; chokidarToSubscriberMs: { p99: number } } };
  return [
    row(name, 'ms', [watch.latency.writeToSubscriberMs.p99], null, 'lower', `no peer: absolute figure on this machine; p50 ${watch.latency.writeToSubscriberMs.p50} ms, chokidar event → subscriber p99 ${watch.latency.chokidarToSubscriberMs.p99} ms`),
  ];
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function formatFigure(value: number | null, unit: string): string {
  if (value === null) return '—';
  if (unit === 'gets/s') return `${(value / 1e6).toFixed(2)} M/s`;
  if (unit === 'B/B') return value.toFixed(2);
  if (unit === 'ms') return `${value < 10 ? value.toFixed(2) : value.toFixed(0)} ms`;
  if (unit === '% hits') return `${value.toFixed(0)}% hits`;
  return `${value.toFixed(0)} ${unit}`;
}

/** The table `npm run bench` and `strata bench` print. */
export function formatTable(report: SuiteReport): string {
  const header = ['scenario', 'Strata', 'peer', 'ratio', 'note'];
  const rows = report.scenarios.map((s) => [s.name, formatFigure(s.strata, s.unit), formatFigure(s.peer, s.unit), s.ratio === null ? '—' : `${s.ratio.toFixed(2)}×`, s.note]);
  const widths = header.map((h, i) => (i === 4 ? 0 : Math.max(h.length, ...rows.map((r) => r[i]!.length))));
  const line = (cells: string[]): string => cells.map((cell, i) => (i === 4 ? cell : cell.padEnd(widths[i]!))).join('  ');
  const m = report.machine;
  return [
    `Strata benchmark suite — ${report.corpus.path} (${report.corpus.files} files, ${mib(report.corpus.bytes)})${report.quick ? ', --quick' : ''}, ${report.repetitions} repetition(s), medians`,
    `machine: ${m.cpus} × ${m.model}, ${mib(m.totalMemory)}, Node ${m.node}, ${m.platform}; ratio > 1: Strata ahead`,
    '',
    line(header),
    widths.map((w, i) => '-'.repeat(i === 4 ? 4 : w)).join('  '),
    ...rows.map(line),
    '',
    ...report.summary.map((s) => `* ${s}`),
  ].join('\n');
}

function summarise(scenarios: ScenarioResult[]): string[] {
  const find = (name: string): ScenarioResult | undefined => scenarios.find((s) => s.name === name);
  const ratio = (s: ScenarioResult | undefined): string => (s?.ratio == null ? 'not run' : `${s.ratio.toFixed(2)}×`);
  const lines: string[] = [];
  lines.push(`Ceiling: cold warm ${ratio(find('ceiling: cold warm vs min(sequential, N processes)'))} of min(sequential, N processes) (goal ≥ 0.95×); --workers 1 ${ratio(find('ceiling: --workers 1 vs sequential'))} of sequential (goal ≥ 0.85×); machine scaling ${ratio(find('ceiling: machine scaling (N processes vs 1)'))}.`);
  const cold = find('cold start vs sequential parse');
  lines.push(`Cold start: ${formatFigure(cold?.strata ?? null, 'files/s')} vs sequential ${formatFigure(cold?.peer ?? null, 'files/s')} = ${ratio(cold)}; vs jest-haste-map (no parsing) ${ratio(find('cold start vs jest-haste-map'))}.`);
  const restart = find('warm restart vs jest-haste-map');
  lines.push(`Warm restart: ${formatFigure(restart?.strata ?? null, 'ms')}; ${ratio(restart)} vs jest-haste-map's warm build, ${ratio(find('warm restart vs file-entry-cache'))} vs file-entry-cache, ${ratio(find('warm restart vs walk + lstat floor'))} vs the walk + lstat floor.`);
  lines.push(`CLI start: strata --help ${ratio(find('cli start: strata --help vs node -e 0'))} of node -e 0's speed.`);
  lines.push(`L1 get-hit vs lru-cache: uniform ${ratio(find('warm cache: L1 get-hit vs lru-cache (uniform)'))}, zipf ${ratio(find('warm cache: L1 get-hit vs lru-cache (zipf)'))}.`);
  const bytes = find('persistence: bytes on disk per source byte');
  lines.push(`Persistence: ${formatFigure(bytes?.strata ?? null, 'B/B')} vs ${formatFigure(bytes?.peer ?? null, 'B/B')} bytes per source byte; AST load ${ratio(find('persistence: AST load vs re-read + re-parse'))} faster than re-parsing.`);
  const efficiency = scenarios.filter((s) => s.name.startsWith('concurrency: ') && s.name.endsWith('workers'));
  const best = efficiency.at(-1);
  lines.push(`Concurrency: ${best ? `${best.name.slice('concurrency: '.length)} at ${ratio(best)} efficiency` : 'one core only'}; 4 callers vs 1: ${ratio(find('concurrency: 4 callers vs 1'))}.`);
  const dependencyWarm = find('warming: trace hit rate, dependency-warmed vs cold');
  const predictiveWarm = find('warming: trace hit rate, predictive vs cold');
  lines.push(`Warming: trace hit rate cold ${formatFigure(predictiveWarm?.peer ?? null, '% hits')}, dependency-warmed ${formatFigure(dependencyWarm?.strata ?? null, '% hits')}, predictive ${formatFigure(predictiveWarm?.strata ?? null, '% hits')}.`);
  lines.push(`Change: one edit's cascade p99 ${formatFigure(find('change: one edit cascade (p99)')?.strata ?? null, 'ms')} (${ratio(find('change: one edit cascade (p99)'))} vs string maps).`);
  return lines;
}

async function prepareCorpus(options: SuiteOptions, log: Log): Promise<{ root: string; generated: boolean }> {
  if (options.corpus !== undefined) {
    const root = path.resolve(options.corpus);
    if (!fs.statSync(root, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`corpus ${root} is not a directory`);
    return { root, generated: false };
  }
  const files = options.files ?? (options.quick ? QUICK_FILES : FULL_FILES);
  const root = path.join(RESULTS, 'corpus', `suite-${files}-seed${SEED}`);
  const marker = path.join(root, '.generated');
  if (!fs.existsSync(marker)) {
    log(`generating a ${files}-file monorepo in ${root}`);
    removeDir(root);
    generateMonorepo(root, { files, seed: SEED });
    fs.writeFileSync(marker, `${files} files, seed ${SEED}\n`);
  }
  return { root, generated: true };
}

function checkBuilt(): void {
  const needed = [CLI, ...['sequential-parse.js', 'ceiling-parse.js', 'peer-haste-map.js', 'peer-file-entry-cache.js', 'walk-floor.js', 'library-restart.js', 'ast-loads.js', 'engine-callers.js', 'l1-get-child.js', 'warming-effectiveness.js'].map((f) => path.join(DIST_BENCH, f))];
  const missing = needed.filter((f) => !fs.existsSync(f));
  if (missing.length) throw new Error(`not built (run npx tsc -p tsconfig.json): ${missing.join(', ')}`);
}

/** Runs every scenario on one corpus; writes the JSON; prints the table unless `json`. Throws only when it cannot run. */
export async function runSuite(options: SuiteOptions): Promise<SuiteReport> {
  const started = performance.now();
  const log: Log = options.progress ?? ((line) => process.stderr.write(line + '\n'));
  checkBuilt();
  const { root, generated } = await prepareCorpus(options, log);
  const size = await corpusSize(root);
  if (size.files === 0) throw new Error(`corpus ${root} has no source files`);
  const reps = options.repetitions ?? (options.quick ? 1 : 3);
  const coldReps = options.repetitions ?? (options.quick ? 2 : 3);
  log(`corpus ${root}: ${size.files} files, ${mib(size.bytes)}; ${reps} repetition(s)`);
  const scenarios: ScenarioResult[] = [];
  const wanted = (group: string): boolean => options.only === undefined || options.only.includes(group);
  // Scenario failures other than "cannot run" are reported in the row, never thrown.
  const guarded = async (names: string[], unit: string, body: () => Promise<ScenarioResult[]> | ScenarioResult[]): Promise<void> => {
    try {
      scenarios.push(...(await body()));
    } catch (error) {
      const message = (error as Error).message.split('\n')[0] ?? String(error);
      log(`  ${names[0]}: failed: ${message}`);
      for (const name of names) scenarios.push(notRun(name, unit, `not run: failed: ${message.slice(0, 300)}`));
    }
  };
  if (wanted('ceiling')) {
    log('ceiling');
    await guarded(['ceiling: cold warm vs min(sequential, N processes)', 'ceiling: --workers 1 vs sequential', 'ceiling: machine scaling (N processes vs 1)'], 'ms', () => ceiling(root, log));
  }
  if (wanted('cold')) {
    log('cold start');
    await guarded(['cold start vs sequential parse', 'cold start vs jest-haste-map'], 'files/s', () => coldStart(root, coldReps, log));
  }
  if (wanted('restart')) {
    log('warm restart');
    await guarded(['warm restart vs jest-haste-map', 'warm restart vs jest-haste-map, without NODE_EXTRA_CA_CERTS', 'warm restart vs file-entry-cache', 'warm restart vs walk + lstat floor', 'library restart vs in-process walk + lstat floor'], 'ms', () => warmRestart(root, reps, log));
  }
  if (wanted('cli')) {
    log('cli start');
    await guarded(['cli start: strata --help vs node -e 0'], 'ms', () => cliStart(reps, log));
  }
  if (wanted('cache')) {
    log('warm cache');
    await guarded(['warm cache: L1 get-hit vs lru-cache (uniform)', 'warm cache: L1 get-hit vs lru-cache (zipf)'], 'gets/s', () => warmCache(options.skipMicro === true, log));
  }
  if (wanted('persistence')) {
    log('persistence');
    await guarded(['persistence: bytes on disk per source byte', 'persistence: AST load vs re-read + re-parse'], 'B/B', () => persistence(root, options.quick ? 200 : 2000, log));
  }
  if (wanted('loads')) {
    log('AST loads (whole corpus)');
    await guarded(['AST loads: every persisted AST vs re-read + re-parse', 'AST loads: engine.ast() of every file vs re-read + re-parse', 'AST loads: engine.ast() of every file vs a bare loop doing what its result needs'], 'ms', () => astLoads(root, log));
  }
  if (wanted('memory')) {
    log('memory pressure');
    await guarded(['memory pressure: corpus 3× the L1 budget'], 'files/s', () => memoryPressure(root, size.bytes, reps, log));
  }
  if (wanted('concurrency')) {
    log('concurrency');
    await guarded(['concurrency: 1 worker', 'concurrency: 4 callers vs 1'], 'files/s', () => concurrency(root, reps, log));
  }
  if (wanted('warming')) {
    log('warming effectiveness');
    await guarded(['warming: trace hit rate, dependency-warmed vs cold', 'warming: trace hit rate, predictive vs cold'], '% hits', async () => warmingEffectiveness(root, await sourceFilesOf(root), options.quick, log));
  }
  if (wanted('change')) {
    log('change');
    await guarded(['change: one edit cascade (p99)'], 'ms', () => cascade(size.files, log));
    await guarded(['change: watcher write → subscriber (p99)'], 'ms', () => watcher(options.quick, log));
  }

  const cpus = os.cpus();
  const out = path.resolve(options.out ?? path.join(RESULTS, 'suite.json'));
  const report: SuiteReport = {
    schemaVersion: SUITE_SCHEMA_VERSION,
    date: new Date().toISOString(),
    machine: { cpus: os.availableParallelism(), model: cpus[0]?.model.trim() ?? 'unknown', totalMemory: os.totalmem(), node: process.version, platform: `${process.platform} ${process.arch}` },
    corpus: { path: root, files: size.files, bytes: size.bytes, generated },
    quick: options.quick,
    repetitions: reps,
    durationMs: 0,
    scenarios,
    summary: summarise(scenarios),
    out,
  };
  const final: SuiteReport = { ...report, durationMs: Math.round(performance.now() - started) };
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(final, null, 2) + '\n');
  if (!options.json) process.stdout.write(formatTable(final) + `\n\nwrote ${path.relative(process.cwd(), out) || out} in ${(final.durationMs / 1000).toFixed(0)} s\n`);
  return final;
}
