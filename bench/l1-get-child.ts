/**
 * The suite's warm-cache scenario (bench/suite.ts) in a process of its own: runs bench/l1-get.ts's
 * `runL1Benchmark()` (benny, L1 get-hit vs lru-cache) and writes its figures as JSON to <outFile>,
 * so that benny's console output never mixes with the suite's stdout (`--json`).
 *
 *   node --expose-gc dist/bench/l1-get-child.js <outFile>
 */
import * as fs from 'node:fs';
import { runL1Benchmark } from './l1-get.js';

async function main(): Promise<void> {
  const out = process.argv[2];
  if (!out) throw new Error('usage: l1-get-child <outFile>');
  fs.writeFileSync(out, JSON.stringify(await runL1Benchmark()) + '\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
