/**
 * Persistence benchmark (issue: L2 persistence). In one run, on the same tree:
 *   - restart: `strata warm` of an unchanged tree in a new process vs the cold warm (whole processes,
 *     spawn to exit); and the cost of persisting (cold with persistence vs `--no-persist`);
 *   - one file's AST from disk (read, checksum, decompress, decode: ready to walk) vs re-reading and
 *     re-parsing that file, median of per-file ratios over a real corpus;
 *   - bytes on disk per byte of source: encoded AST + lz4 (Strata), the same + gzip, and the
 *     predecessor's approach (a plain serialised JSON tree + gzip).
 * Writes bench/results/persistence.json.
 *
 *   npm run bench:persistence -- [--tree DIR] [--real DIR] [--runs 3] [--generate 10000] [--sample 2000]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import * as ts from 'typescript';
import { EncodedAst } from '../engine/ast/encoded-ast.js';
import { discoverSourceFiles } from '../engine/discovery/discovery.js';
import { PackReader, PackWriter, type PackLocation } from '../engine/store/packs.js';
import { decodeAstEntry, packedAst, encodeAstEntry } from '../shared/ast-entry.js';
import { decodeEntry } from '../shared/entry-format.js';
import { scriptKindName } from '../shared/script-kind.js';
import { parseSource } from '../workers/parse-source.js';
import { generateMonorepo } from './corpus.js';
import { median, spread } from './stats.js';
import { timedWarm as timedWarmProcess } from './timed-warm.js';

const PROJECT = path.join(__dirname, '..', '..');
const RESULTS = path.join(PROJECT, 'bench', 'results');
const KINDS = { ts: ts.ScriptKind.TS, tsx: ts.ScriptKind.TSX, js: ts.ScriptKind.JS, jsx: ts.ScriptKind.JSX } as const;

type WarmReport = { parsed: number; fromDisk: number; files: number; diskBytes: number };
const timedWarm = (root: string, cacheDir: string, extra: string[]) => timedWarmProcess<WarmReport>(root, cacheDir, extra);

export async function restartScenario(tree: string, runs: number): Promise<Record<string, unknown>> {
  const cold: number[] = [];
  const restart: number[] = [];
  const noPersist: number[] = [];
  let files = 0;
  let diskBytes = 0;
  for (let run = 0; run < runs; run++) {
    const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bench-cache-'));
    try {
      // The two cold warms swap order every run, so a machine speeding up or slowing down during
      // the benchmark does not favour either side of the persisting cost.
      const memoryFirst = run % 2 === 1;
      const memoryBefore = memoryFirst ? await timedWarm(tree, cacheDir, ['--no-persist']) : null;
      const first = await timedWarm(tree, cacheDir, []);
      const second = await timedWarm(tree, cacheDir, []);
      const memory = memoryBefore ?? (await timedWarm(tree, cacheDir, ['--no-persist']));
      if (second.report.parsed !== 0) throw new Error(`restart parsed ${second.report.parsed} files`);
      cold.push(first.wallMs);
      restart.push(second.wallMs);
      noPersist.push(memory.wallMs);
      files = first.report.files;
      diskBytes = first.report.diskBytes;
      process.stderr.write(`  run ${run + 1}/${runs}: cold ${first.wallMs.toFixed(0)} ms, restart ${second.wallMs.toFixed(0)} ms, cold --no-persist ${memory.wallMs.toFixed(0)} ms${memoryFirst ? ' (ran first)' : ''}\n`);
    } finally {
      fs.rmSync(cacheDir, { recursive: true, force: true });
    }
  }
  return {
    tree,
    files,
    diskBytes,
    coldMs: cold,
    restartMs: restart,
    coldNoPersistMs: noPersist,
    median: {
      coldMs: median(cold),
      restartMs: median(restart),
      restartSpeedup: median(cold) / median(restart),
      persistOverhead: median(cold) / median(noPersist) - 1,
      // The same cost from each run's own pair (less sensitive to a slow stretch of the machine).
      persistOverheadPaired: median(cold.map((ms, i) => ms / (noPersist[i] as number))) - 1,
    },
    spread: { coldMs: spread(cold), restartMs: spread(restart), coldNoPersistMs: spread(noPersist) },
  };
}

interface JsonNode {
  k: number;
  p: number;
  e: number;
  c?: JsonNode[];
}

/** The predecessor's persisted form: a plain object tree of the same nodes. */
function jsonTree(node: ts.Node): JsonNode {
  const children: JsonNode[] = [];
  ts.forEachChild(node, (child) => {
    children.push(jsonTree(child));
  });
  return children.length ? { k: node.kind, p: node.pos, e: node.end, c: children } : { k: node.kind, p: node.pos, e: node.end };
}

export async function loadScenario(real: string, sample: number): Promise<Record<string, unknown>> {
  const files: string[] = [];
  for await (const event of discoverSourceFiles(real, { includeNodeModules: false, maxFileSize: 1024 * 1024 })) {
    if (event.type === 'file') files.push(event.absolutePath);
  }
  const step = Math.max(1, Math.floor(files.length / sample));
  const chosen = files.filter((_, i) => i % step === 0).slice(0, sample);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bench-packs-'));
  const writer = new PackWriter(dir);
  let sourceBytes = 0;
  let lz4Bytes = 0;
  let gzipBytes = 0;
  let jsonGzipBytes = 0;
  const prepared: { file: string; key: string }[] = [];
  for (const [i, file] of chosen.entries()) {
    const text = fs.readFileSync(file, 'utf8');
    let parsed;
    try {
      parsed = parseSource(file, text);
    } catch {
      continue; // too deep for TypeScript's recursive parser
    }
    const key = `k${i}`;
    const entry = encodeAstEntry(key, parsed, 'lz4-block-v1');
    writer.append(key, entry);
    sourceBytes += Buffer.byteLength(text);
    lz4Bytes += entry.byteLength;
    // gzip gets the same bytes lz4 does (the packed AST, shared/packed-ast.ts), in the same envelope.
    gzipBytes += zlib.gzipSync(packedAst(parsed.ast)).byteLength + entry.byteLength - decodeEntry(entry, key).payload.byteLength;
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, KINDS[scriptKindName(file)]);
    jsonGzipBytes += zlib.gzipSync(JSON.stringify(jsonTree(sf))).byteLength;
    prepared.push({ file, key });
  }
  const flushed = writer.flush();
  if (flushed === null) throw new Error('nothing written');
  const reader = new PackReader(dir);
  const load = (file: { key: string }, location: PackLocation): number => {
    const t = performance.now();
    const bytes = reader.readTransient(location).bytes; // as the engine loads (AstPersistence.load)
    EncodedAst.decode(decodeAstEntry(bytes!, file.key).ast);
    return performance.now() - t;
  };
  const reparse = (file: { file: string }): number => {
    const t = performance.now();
    ts.createSourceFile(file.file, fs.readFileSync(file.file, 'utf8'), ts.ScriptTarget.Latest, false, KINDS[scriptKindName(file.file)]);
    return performance.now() - t;
  };
  const locations = prepared.map(({ key }) => flushed.locations.get(key)!);
  // Figure of record: each side in its own passes over the corpus, as a tool loads (or parses) a
  // project's files one after another; three passes, each file's fastest kept.
  const loadMs = prepared.map(() => Infinity);
  const parseMs = prepared.map(() => Infinity);
  for (let pass = 0; pass < 3; pass++) prepared.forEach((file, i) => (loadMs[i] = Math.min(loadMs[i]!, load(file, locations[i]!))));
  for (let pass = 0; pass < 3; pass++) prepared.forEach((file, i) => (parseMs[i] = Math.min(parseMs[i]!, reparse(file))));
  const ratios = prepared.map((_, i) => parseMs[i]! / loadMs[i]!);
  // Also reported: each load right after a parse of the same file, three rounds, fastest kept. The
  // parse evicts the CPU caches the load then misses, which weighs on a 10 µs load far more than
  // on a 45 µs parse: a lower bound, not the typical case.
  const interleavedRatios = prepared.map((file, i) => {
    let loaded = Infinity;
    let parsed = Infinity;
    for (let round = 0; round < 3; round++) {
      loaded = Math.min(loaded, load(file, locations[i]!));
      parsed = Math.min(parsed, reparse(file));
    }
    return parsed / loaded;
  });
  if (process.env.STRATA_BENCH_DEBUG) prepared.forEach(({ file }, i) => process.stderr.write(`${fs.statSync(file).size}\t${(loadMs[i]! * 1000).toFixed(1)}\t${(parseMs[i]! * 1000).toFixed(1)}\n`));
  const loadTotal = loadMs.reduce((a, b) => a + b, 0);
  const parseTotal = parseMs.reduce((a, b) => a + b, 0);
  reader.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return {
    corpus: real,
    files: prepared.length,
    sourceBytes,
    medianLoadVsReparse: median(ratios),
    medianLoadVsReparseInterleaved: median(interleavedRatios),
    medianLoadUs: median(loadMs) * 1000,
    medianReparseUs: median(parseMs) * 1000,
    totalLoadMs: loadTotal,
    totalReparseMs: parseTotal,
    bytesPerSourceByte: { strataLz4: lz4Bytes / sourceBytes, strataGzip: gzipBytes / sourceBytes, predecessorJsonGzip: jsonGzipBytes / sourceBytes },
  };
}

function parseArgs(argv: string[]): { tree: string | null; real: string; runs: number; generate: number; sample: number } {
  let tree: string | null = null;
  let real = path.join(PROJECT, 'node_modules');
  let runs = 3;
  let generate = 10_000;
  let sample = 2000;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = (): string => argv[++i] ?? '';
    if (arg === '--tree') tree = path.resolve(next());
    else if (arg === '--real') real = path.resolve(next());
    else if (arg === '--runs') runs = Number(next());
    else if (arg === '--generate') generate = Number(next());
    else if (arg === '--sample') sample = Number(next());
    else throw new Error(`unknown argument ${arg}`);
  }
  return { tree, real, runs, generate, sample };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const tree = args.tree ?? path.join(RESULTS, 'corpus', `generated-${args.generate}`);
  if (!fs.existsSync(tree)) generateMonorepo(tree, { files: args.generate });
  process.stderr.write(`restart scenario on ${tree}\n`);
  const restart = await restartScenario(tree, args.runs);
  process.stderr.write(`load-vs-reparse and sizes on ${args.real}\n`);
  const load = await loadScenario(args.real, args.sample);
  const r = restart.median as { coldMs: number; restartMs: number; restartSpeedup: number; persistOverhead: number; persistOverheadPaired: number };
  const sizes = load.bytesPerSourceByte as { strataLz4: number; strataGzip: number; predecessorJsonGzip: number };
  process.stdout.write(
    [
      `restart of an unchanged ${restart.files}-file tree: ${r.restartMs.toFixed(0)} ms vs cold ${r.coldMs.toFixed(0)} ms = ${r.restartSpeedup.toFixed(1)}× faster (whole processes, median of ${args.runs})`,
      `persisting costs the cold warm ${(r.persistOverhead * 100).toFixed(1)}% (cold with persistence vs --no-persist, medians; median of the runs' own pairs: ${(r.persistOverheadPaired * 100).toFixed(1)}%)`,
      `one AST from disk vs re-read + re-parse: median ${(load.medianLoadVsReparse as number).toFixed(1)}× faster over ${load.files} real files (median ${(load.medianLoadUs as number).toFixed(1)} µs vs ${(load.medianReparseUs as number).toFixed(1)} µs; totals ${(load.totalLoadMs as number).toFixed(0)} ms vs ${(load.totalReparseMs as number).toFixed(0)} ms); each load right after a parse: ${(load.medianLoadVsReparseInterleaved as number).toFixed(1)}×`,
      `bytes on disk per source byte: encoded AST + lz4 ${sizes.strataLz4.toFixed(2)}, + gzip ${sizes.strataGzip.toFixed(2)}, predecessor (JSON tree + gzip) ${sizes.predecessorJsonGzip.toFixed(2)}`,
    ].join('\n') + '\n',
  );
  fs.mkdirSync(RESULTS, { recursive: true });
  fs.writeFileSync(path.join(RESULTS, 'persistence.json'), JSON.stringify({ schemaVersion: 1, date: new Date().toISOString(), node: process.version, restart, load }, null, 2));
}

if (require.main === module) main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
