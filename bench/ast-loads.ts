/**
 * AST loads at the format's limit (issue 19): in a fresh process, every persisted AST of a corpus
 * (the entries a real `strata warm` wrote into its cache directory) loaded as the engine loads it
 * (pack read, entry checksum, lz4 decompress + unpack, envelope and AST validation), against
 * re-reading and re-parsing the same files with `ts.createSourceFile`. Whole corpus, no sample.
 * Also `engine.ast()` of every file in a new engine (each call stats the file, finds its index
 * record unchanged, and loads the entry; the text is read on first use, which this loop never asks
 * for), with the result's AST touched (its last node's kind), and what that needs done as a bare
 * loop: stat the file, load its entry. engine.ast() can be no faster than that loop, so re-read +
 * re-parse over it is the most engine.ast() could reach. Each side runs three passes; each file's
 * fastest pass is kept (engine.ast(): one pass, a new engine). `engineAstWithTextMs`: a second new
 * engine, each result's text read too.
 * Breakdown of the load, each stage timed apart over the whole corpus: read, checksum,
 * decompress (lz4 + unpack + the column check, one addon call per compressed entry), decode (the
 * rest: envelope, copies of the uncompressed ASTs, EncodedAst.decode); and of that, the validation
 * EncodedAst.decode runs on ASTs not checked while decompressing.
 * Prints one JSON document.
 *
 *   node dist/bench/ast-loads.js <root> <cacheDir>    (the cache dir of a warm of <root>)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { xxh64 } from '../native-bindings/hash.js';
import { EncodedAst } from '../engine/ast/encoded-ast.js';
import { createEngine } from '../engine/engine.js';
import { PackReader, type PackLocation } from '../engine/store/packs.js';
import { decodeIndex } from '../engine/store/root-index-codec.js';
import { decodeAstEntry, decompressedAst } from '../shared/ast-entry.js';
import { CHECKSUMMED_FROM, decodeEntry } from '../shared/entry-format.js';
import { scriptKindName } from '../shared/script-kind.js';

const KINDS = { ts: ts.ScriptKind.TS, tsx: ts.ScriptKind.TSX, js: ts.ScriptKind.JS, jsx: ts.ScriptKind.JSX } as const;
const PASSES = 3;

interface Entry {
  readonly file: string;
  readonly key: string;
  readonly location: PackLocation;
}

/** Every record of the root's index in `cacheDir` (the only index there). */
function entriesOf(root: string, cacheDir: string): Entry[] {
  const indexes = path.join(cacheDir, 'indexes');
  const [name] = fs.readdirSync(indexes).filter((file) => file.endsWith('.idx'));
  if (name === undefined) throw new Error(`no index in ${indexes}: warm ${root} with --cache-dir ${cacheDir} first`);
  const bytes = new Uint8Array(fs.readFileSync(path.join(indexes, name)));
  const probe = decodeIndex(bytes, '');
  const decoded = probe.status === 'other-prefix' ? decodeIndex(bytes, probe.keyPrefix) : probe;
  if (decoded.status !== 'loaded') throw new Error(`index not loadable: ${decoded.status}`);
  return [...decoded.records].map(([file, record]) => ({ file: path.join(root, file), key: record.key, location: record.location }));
}

/** The first pass of the last {@link fastestTotal} (ms): JIT cold, every allocation fresh memory. */
let lastFirstPassMs = 0;

/**
 * Runs `each` over every entry, PASSES times; answers the sum of each entry's fastest time (ms).
 * `fresh`, when given, makes each pass's input outside the timing (a decode marks its bytes checked).
 */
function fastestTotal<T, U = T>(items: readonly T[], each: (item: U) => void, fresh?: (item: T) => U): number {
  const best = items.map(() => Infinity);
  for (let pass = 0; pass < PASSES; pass++) {
    const inputs = fresh === undefined ? (items as unknown as readonly U[]) : items.map(fresh);
    const passStarted = performance.now();
    inputs.forEach((item, i) => {
      const started = performance.now();
      each(item);
      best[i] = Math.min(best[i]!, performance.now() - started);
    });
    if (pass === 0) lastFirstPassMs = performance.now() - passStarted;
  }
  return best.reduce((a, b) => a + b, 0);
}

export interface AstLoads {
  readonly files: number;
  readonly compressedEntries: number;
  readonly loadMs: number;
  /** The load loop's first pass alone (JIT cold, fresh memory: what one pass in a new process pays). */
  readonly loadFirstPassMs: number;
  readonly reparseMs: number;
  readonly engineAstMs: number;
  readonly engineAstWithTextMs: number;
  /** The bare loop doing what an engine.ast() result needs (see the module comment). */
  readonly astContractMs: number;
  readonly breakdownMs: { readonly read: number; readonly checksum: number; readonly decompress: number; readonly decode: number; readonly astValidation: number };
}

export async function measureAstLoads(root: string, cacheDir: string): Promise<AstLoads & Record<string, unknown>> {
  const entries = entriesOf(root, cacheDir);
  const reader = new PackReader(path.join(cacheDir, 'packs'));
  const owned = entries.map((entry) => reader.read(entry.location)!.slice());
  // Whole path, as AstPersistence.load + a consumer's EncodedAst.decode do it.
  const loadMs = fastestTotal(entries, (entry) => void EncodedAst.decode(decodeAstEntry(reader.readTransient(entry.location).bytes!, entry.key).ast));
  const loadFirstPassMs = lastFirstPassMs;
  const reparseMs = fastestTotal(entries, (entry) => void ts.createSourceFile(entry.file, fs.readFileSync(entry.file, 'utf8'), ts.ScriptTarget.Latest, false, KINDS[scriptKindName(entry.file)]));
  // The breakdown, each stage apart.
  const readMs = fastestTotal(entries, (entry) => void reader.readTransient(entry.location));
  const checksumMs = fastestTotal(owned, (bytes) => void xxh64(bytes.subarray(CHECKSUMMED_FROM)));
  const records = owned.map((bytes, i) => decodeEntry(bytes, entries[i]!.key));
  const compressed = records.filter((record) => record.codec === 'lz4-block-v1');
  const decompressMs = fastestTotal(compressed, (record) => void decompressedAst(record.payload, record.rawLength));
  // What EncodedAst.decode checks itself: the columns of the uncompressed ASTs, each pass on new copies.
  const uncompressed = records.filter((record) => record.codec !== 'lz4-block-v1').map((record) => record.payload.slice());
  const validateMs = fastestTotal(uncompressed, (ast) => void EncodedAst.decode(ast), (ast) => ast.slice());
  const astContractMs = fastestTotal(entries, (entry) => {
    if (!fs.statSync(entry.file).isFile()) throw new Error(`${entry.file}: not a file`);
    void EncodedAst.decode(decodeAstEntry(reader.readTransient(entry.location).bytes!, entry.key).ast);
  });
  reader.close();
  const engineAst = await engineAstPass(root, cacheDir, entries, false);
  const engineAstWithText = await engineAstPass(root, cacheDir, entries, true);
  const entryBytes = owned.reduce((sum, bytes) => sum + bytes.byteLength, 0);
  return {
    root,
    files: entries.length,
    compressedEntries: compressed.length,
    entryBytes,
    loadMs,
    reparseMs,
    loadVsReparse: reparseMs / loadMs,
    loadFirstPassMs,
    engineAstMs: engineAst.ms,
    engineAstFiles: engineAst.fromDisk,
    engineAstVsReparse: reparseMs / engineAst.ms,
    engineAstWithTextMs: engineAstWithText.ms,
    engineAstWithTextVsReparse: reparseMs / engineAstWithText.ms,
    astContractMs,
    astContractVsReparse: reparseMs / astContractMs,
    breakdownMs: { read: readMs, checksum: checksumMs, decompress: decompressMs, decode: Math.max(0, loadMs - readMs - checksumMs - decompressMs), astValidation: validateMs },
  };
}

/** engine.ast() of every file in a new engine, one pass; counts the answers from disk. */
async function engineAstPass(root: string, cacheDir: string, entries: readonly Entry[], withText: boolean): Promise<{ ms: number; fromDisk: number }> {
  const engine = createEngine({ root, cacheDir }, { env: {}, readConfigFile: false });
  let fromDisk = 0;
  let touched = 0;
  const started = performance.now();
  for (const entry of entries) {
    const result = await engine.ast(entry.file);
    touched += result.ast.kind(result.ast.nodeCount - 1) + (withText ? result.text.length : 0);
  }
  const ms = performance.now() - started;
  fromDisk = engine.stats().disk.counters?.loaded ?? 0;
  await engine.close();
  if (touched === 0) throw new Error('no AST touched');
  return { ms, fromDisk };
}

if (require.main === module) {
  const [root, cacheDir] = process.argv.slice(2);
  if (root === undefined || cacheDir === undefined) throw new Error('usage: ast-loads <root> <cacheDir>');
  void measureAstLoads(path.resolve(root), cacheDir).then((result) => process.stdout.write(JSON.stringify(result, null, 2) + '\n'));
}
