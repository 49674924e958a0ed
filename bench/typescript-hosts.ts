/**
 * The SourceFile tier and TypeScript's host interfaces (issue 20), on real code, every ratio against
 * TypeScript itself in the same run:
 *   - `ts.createProgram` through TypeScript's own host (every Program parses every file) against a
 *     first and a second Program through `engine.compilerHost()` (the second finds every SourceFile
 *     in the tier; goal ≥ 3×);
 *   - a SourceFile-tier hit (`engine.sourceFile()`, content validated by fingerprint) against
 *     `ts.createSourceFile` of the same text (goal ≥ 100×);
 *   - bytes per cached SourceFile: the tier's estimate and the heap it really took.
 * Corpora: this repository's tsconfig project (with @types/node and TypeScript's lib files) and
 * every `.d.ts` of node_modules (up to --max-files).
 *
 * Run:   npm run build && node --expose-gc dist/bench/typescript-hosts.js [--runs N] [--max-files N]
 * Writes bench/results/typescript-hosts.json.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { createEngine } from '../engine/engine.js';
import { median } from './stats.js';

const REPO = path.join(__dirname, '..', '..');
const isolated = { env: {}, readConfigFile: false } as const;
const HIT_ROUNDS = 20;

interface Corpus {
  readonly name: string;
  readonly root: string;
  readonly fileNames: string[];
  readonly options: ts.CompilerOptions;
}

function repositoryProject(): Corpus {
  const parsed = ts.getParsedCommandLineOfConfigFile(path.join(REPO, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
  if (parsed === undefined) throw new Error('tsconfig.json does not parse');
  return { name: 'this repository (tsconfig project)', root: REPO, fileNames: parsed.fileNames, options: { ...parsed.options, noEmit: true } };
}

function declarationFiles(maxFiles: number): Corpus {
  const found: string[] = [];
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (found.length >= maxFiles) return;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(full);
      else if (entry.isFile() && entry.name.endsWith('.d.ts')) found.push(full);
    }
  };
  visit(path.join(REPO, 'node_modules'));
  return { name: `node_modules declarations`, root: REPO, fileNames: found.sort(), options: { noEmit: true, types: [], skipLibCheck: true, noResolve: true } };
}

function collect(): void {
  for (let i = 0; i < 3; i++) global.gc?.();
}

function ms(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function programs(corpus: Corpus, runs: number): Record<string, number> {
  const typescriptHost: number[] = [];
  const strataFirst: number[] = [];
  const strataSecond: number[] = [];
  let files = 0;
  for (let run = 0; run < runs; run++) {
    let start = process.hrtime.bigint();
    files = ts.createProgram(corpus.fileNames, corpus.options, ts.createCompilerHost(corpus.options)).getSourceFiles().length;
    typescriptHost.push(ms(start));
    const engine = createEngine({ root: corpus.root, persist: false, executor: 'in-thread', predictive: false }, isolated);
    start = process.hrtime.bigint();
    ts.createProgram(corpus.fileNames, corpus.options, engine.compilerHost(corpus.options));
    strataFirst.push(ms(start));
    start = process.hrtime.bigint();
    ts.createProgram(corpus.fileNames, corpus.options, engine.compilerHost(corpus.options));
    strataSecond.push(ms(start));
    void engine.close();
  }
  const typescriptMs = median(typescriptHost);
  const secondMs = median(strataSecond);
  return { programFiles: files, typescriptHostMs: typescriptMs, strataFirstMs: median(strataFirst), strataSecondMs: secondMs, secondProgramSpeedup: typescriptMs / secondMs };
}

async function tierHits(corpus: Corpus, runs: number): Promise<Record<string, number>> {
  const inRoot = corpus.fileNames.filter((f) => !path.relative(corpus.root, f).startsWith('..'));
  const texts = inRoot.map((f) => readFileSync(f, 'utf8'));
  const parse: number[] = [];
  const hit: number[] = [];
  const engine = createEngine({ root: corpus.root, persist: false, executor: 'in-thread', predictive: false }, isolated);
  await engine.sourceFile(inRoot[0] as string); // TypeScript loaded before the heap is read
  collect();
  const heapBefore = process.memoryUsage().heapUsed;
  for (const file of inRoot) await engine.sourceFile(file);
  collect();
  const heapAfter = process.memoryUsage().heapUsed;
  const tier = engine.stats().sourceFiles;
  for (let run = 0; run < runs; run++) {
    collect();
    let start = process.hrtime.bigint();
    for (let i = 0; i < inRoot.length; i++) ts.createSourceFile(inRoot[i] as string, texts[i] as string, ts.ScriptTarget.Latest, true);
    parse.push(ms(start));
    // A hit is microseconds: the whole corpus HIT_ROUNDS times, after the parses' garbage is gone.
    collect();
    start = process.hrtime.bigint();
    for (let round = 0; round < HIT_ROUNDS; round++) for (const file of inRoot) await engine.sourceFile(file);
    hit.push(ms(start) / HIT_ROUNDS);
  }
  await engine.close();
  const parseMs = median(parse);
  const hitMs = median(hit);
  return {
    files: inRoot.length,
    sourceChars: texts.reduce((sum, text) => sum + text.length, 0),
    parseAllMs: parseMs,
    hitAllMs: hitMs,
    hitSpeedup: parseMs / hitMs,
    hitMicroseconds: (hitMs * 1000) / inRoot.length,
    estimatedBytesPerSourceFile: tier.bytes / tier.entries,
    // The heap includes L1's copy of the text and the engine's bookkeeping: an upper bound.
    measuredHeapBytesPerSourceFile: (heapAfter - heapBefore) / tier.entries,
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (name: string, fallback: number): number => {
    const at = args.indexOf(name);
    return at === -1 ? fallback : Number(args[at + 1]);
  };
  const runs = flag('--runs', 5);
  const maxFiles = flag('--max-files', 1500);
  const report: Record<string, unknown> = { node: process.version, typescript: ts.version, runs };
  const corpora = [repositoryProject(), declarationFiles(maxFiles)];
  // The tier first, for every corpus: its heap figure needs a heap without the Programs' garbage.
  const tiers = [];
  for (const corpus of corpora) tiers.push(await tierHits(corpus, runs));
  for (const [index, corpus] of corpora.entries()) {
    const tier = tiers[index] as Record<string, number>;
    const program = programs(corpus, runs);
    report[corpus.name] = { rootFiles: corpus.fileNames.length, program, tier };
    process.stdout.write(
      `${corpus.name}: ${corpus.fileNames.length} root files, ${program.programFiles} in the Program\n` +
        `  createProgram, TypeScript's host ${program.typescriptHostMs?.toFixed(0)} ms; Strata's host first ${program.strataFirstMs?.toFixed(0)} ms, second ${program.strataSecondMs?.toFixed(0)} ms: ${program.secondProgramSpeedup?.toFixed(1)}x (goal >= 3x)\n` +
        `  SourceFile tier: ${tier.files} files, parse all ${tier.parseAllMs?.toFixed(1)} ms, hit all ${tier.hitAllMs?.toFixed(2)} ms (${tier.hitMicroseconds?.toFixed(1)} us a hit): ${tier.hitSpeedup?.toFixed(0)}x (goal >= 100x)\n` +
        `  bytes per SourceFile: estimated ${tier.estimatedBytesPerSourceFile?.toFixed(0)}, heap ${tier.measuredHeapBytesPerSourceFile?.toFixed(0)}\n`,
    );
  }
  mkdirSync(path.join(REPO, 'bench', 'results'), { recursive: true });
  writeFileSync(path.join(REPO, 'bench', 'results', 'typescript-hosts.json'), JSON.stringify(report, null, 2) + '\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`typescript-hosts: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
