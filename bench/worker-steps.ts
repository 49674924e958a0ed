/**
 * What a parse worker does per file, step by step, against the bare parse the ceiling benchmark's
 * sequential side does — in one thread, no profiler, the parser's JIT warm (the first pass is thrown
 * away), medians of the passes after it. A profile of a whole warm says where a worker's time goes;
 * this says what each step costs on its own, which a noisy shared machine blurs less.
 *
 * Steps, for every file: TypeScript's default parse (the baseline), the workers' parse (no JSDoc),
 * encoding + import extraction, the export signature, the persisted entry (pack, lz4, framing).
 * Prints each step as a ratio of the default parse and writes bench/results/worker-steps.json.
 *
 *   node dist/bench/worker-steps.js [dir] [--passes 4]    (default dir: the npm-8k corpus)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import ts from 'typescript';
import { discoverSourceFiles } from '../engine/discovery/discovery.js';
import { COMPRESS_MIN_BYTES, encodeAstEntry } from '../shared/ast-entry.js';
import { encodeSourceFile } from '../workers/ast-encoder.js';
import { exportSignature } from '../workers/export-signature.js';
import { parseSource, scriptKindOf } from '../workers/parse-source.js';
import { realCorpus } from './npm-corpora.js';

const MAX_FILE_SIZE = 5 * 1024 * 1024;
const STEPS = ['defaultParse', 'workerParse', 'encode', 'signature', 'entry'] as const;
type Step = (typeof STEPS)[number];

function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[sorted.length >> 1]!;
}

/** One pass over every file; milliseconds per step. */
function pass(files: readonly { path: string; text: string }[]): Record<Step, number> {
  const spent: Record<Step, number> = { defaultParse: 0, workerParse: 0, encode: 0, signature: 0, entry: 0 };
  for (let i = 0; i < files.length; i++) {
    const { path: file, text } = files[i]!;
    let mark = performance.now();
    const lap = (step: Step): void => {
      const now = performance.now();
      spent[step] += now - mark;
      mark = now;
    };
    ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, scriptKindOf(file));
    lap('defaultParse');
    // The workers' own options (workers/parse-source.ts), without the steps parseSource fuses after it.
    const sf = ts.createSourceFile(file, text, { languageVersion: ts.ScriptTarget.Latest, jsDocParsingMode: ts.JSDocParsingMode.ParseNone }, false, scriptKindOf(file));
    lap('workerParse');
    const encoded = encodeSourceFile(sf, { packFrom: COMPRESS_MIN_BYTES });
    lap('encode');
    const signature = exportSignature(sf);
    lap('signature');
    encodeAstEntry(`k${i}`, { ast: encoded.ast, imports: encoded.imports, diagnostics: 0, nodeCount: encoded.nodeCount, signature, packed: encoded.packed }, 'lz4-block-v1');
    lap('entry');
  }
  return spent;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let passes = 4;
  const dirs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--passes') passes = Number(argv[++i]);
    else dirs.push(argv[i]!);
  }
  if (!Number.isInteger(passes) || passes < 2) throw new Error('--passes must be an integer ≥ 2 (the first is not counted)');
  const root = dirs[0] ?? realCorpus('npm-8k');
  const files: { path: string; text: string }[] = [];
  for await (const event of discoverSourceFiles(root, { includeNodeModules: false, maxFileSize: MAX_FILE_SIZE })) {
    if (event.type !== 'file') continue;
    const buffer = fs.readFileSync(event.absolutePath);
    if (!buffer.includes(0)) files.push({ path: event.absolutePath, text: buffer.toString('utf8') });
  }
  parseSource('check.ts', 'export const x = 1;\n'); // the same modules as a worker, loaded before timing
  const loadBefore = os.loadavg();
  const perPass: Record<Step, number>[] = [];
  for (let i = 0; i < passes; i++) perPass.push(pass(files));
  const counted = perPass.slice(1);
  const medians = Object.fromEntries(STEPS.map((step) => [step, median(counted.map((spent) => spent[step]))])) as Record<Step, number>;
  const base = medians.defaultParse;
  const ratios = Object.fromEntries(STEPS.map((step) => [step, medians[step] / base])) as Record<Step, number>;
  const workerTotal = ratios.workerParse + ratios.encode + ratios.signature + ratios.entry;
  console.log(`${root}: ${files.length} files; ${passes - 1} passes counted, medians; load average ${loadBefore.map((x) => x.toFixed(2)).join(' ')} → ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  for (const step of STEPS) console.log(`  ${step.padEnd(13)} ${medians[step].toFixed(0).padStart(7)} ms   ${ratios[step].toFixed(3)}× the default parse`);
  console.log(`  a worker's per-file CPU: ${workerTotal.toFixed(3)}× the default parse → (d) can reach at most ~${(1 / workerTotal).toFixed(2)}× (a)`);
  const out = path.join(__dirname, '..', '..', 'bench', 'results', 'worker-steps.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ root, files: files.length, passes, medianMs: medians, ratioToDefaultParse: ratios, workerTotal, loadAverage: { before: loadBefore, after: os.loadavg() } }, null, 2) + '\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
