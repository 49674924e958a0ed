/**
 * `npm run bench`: the benchmark suite (bench/suite.ts) — every scenario on one corpus, each with
 * its peer measured in the same run; a table and bench/results/suite.json.
 *
 *   npm run bench -- [--corpus DIR | --real] [--quick] [--only ceiling,cold,restart,cli,cache,persistence,loads,memory,concurrency,warming,change] [--repetitions N] [--json] [--out FILE]
 *
 * Exit 0 when it ran (whatever the figures), 1 when it could not run, 2 on a usage error.
 */
import * as path from 'node:path';
import { buildRealCorpus } from './real-corpus.js';
import { runSuite, type SuiteOptions } from './suite.js';

const USAGE = 'npm run bench -- [--corpus DIR | --real] [--quick] [--only GROUPS] [--repetitions N] [--json] [--out FILE]';

function parseArgs(argv: string[]): SuiteOptions {
  let corpus: string | undefined;
  let out: string | undefined;
  let quick = false;
  let json = false;
  let only: string[] | undefined;
  let real = false;
  let repetitions: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`${arg} needs a value`);
      return next;
    };
    if (arg === '--corpus') corpus = path.resolve(value());
    else if (arg === '--out') out = path.resolve(value());
    else if (arg === '--quick') quick = true;
    else if (arg === '--only') only = value().split(',');
    else if (arg === '--real') real = true;
    else if (arg === '--json') json = true;
    else if (arg === '--repetitions') {
      repetitions = Number(value());
      if (!Number.isInteger(repetitions) || repetitions < 1) throw new UsageError('--repetitions needs a whole number ≥ 1');
    } else throw new UsageError(`unknown argument ${arg} (usage: ${USAGE})`);
  }
  // --real: the real corpus copied out of this project's node_modules (bench/real-corpus.ts).
  if (real && corpus === undefined) corpus = buildRealCorpus().root;
  return { quick, json, ...(corpus !== undefined ? { corpus } : {}), ...(out !== undefined ? { out } : {}), ...(only !== undefined ? { only } : {}), ...(repetitions !== undefined ? { repetitions } : {}) };
}

class UsageError extends Error {}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const report = await runSuite(options);
  if (options.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof UsageError ? error.message : `cannot run: ${(error as Error).stack ?? String(error)}`}\n`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
});
