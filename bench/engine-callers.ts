/**
 * Concurrency scenario helper (bench/suite.ts): <callers> concurrent in-process `engine.ast()`
 * callers, each asking for every file of <root> (same files, same order), on one engine without
 * persistence, in this fresh process. Prints one JSON line:
 * { files, callers, answers, durationMs, parsed } — `answers` = callers × files.
 *
 *   node dist/bench/engine-callers.js <root> <callers>
 */
import * as path from 'node:path';
import { discoverSourceFiles } from '../engine/discovery/discovery.js';
import { createEngine } from '../engine/engine.js';

async function main(): Promise<void> {
  const [root, callersArg] = process.argv.slice(2);
  const callers = Number(callersArg);
  if (!root || !Number.isInteger(callers) || callers < 1) throw new Error('usage: engine-callers <root> <callers>');
  const files: string[] = [];
  for await (const event of discoverSourceFiles(root, { includeNodeModules: false, maxFileSize: 5 * 1024 * 1024 })) {
    if (event.type === 'file') files.push(path.join(root, event.path));
  }
  const engine = createEngine({ root, persist: false });
  let failed = 0;
  const started = performance.now();
  try {
    const caller = async (): Promise<void> => {
      for (const file of files) {
        try {
          await engine.ast(file);
        } catch {
          failed++; // counted and reported: a file the engine refuses is not a benchmark failure
        }
      }
    };
    await Promise.all(Array.from({ length: callers }, caller));
  } finally {
    const durationMs = performance.now() - started;
    const parsed = engine.stats().levels.ast.misses;
    await engine.close();
    process.stdout.write(JSON.stringify({ files: files.length, callers, answers: callers * files.length, failed, parsed, durationMs }) + '\n');
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
