/**
 * The library's restart of an unchanged tree (issue 19): `createEngine` + `warm()` with a cache
 * directory a previous warm filled, against the in-process floor (bench/walk-floor.ts's
 * `walkAndStat`: readdir + lstat of every source file), alternating in ONE process, so that both
 * see the same page cache and the same warmed-up V8. Modules are loaded before any timing; each
 * engine is new (the index and the directory snapshot read from disk), closed after its warm.
 * Prints one JSON line: { files, parsed, floorMs: [...], engineMs: [...] }.
 *
 *   node dist/bench/library-restart.js <root> <cacheDir> [rounds=5]
 */
import { createEngine } from '../engine/engine.js';
import { walkAndStat } from './walk-floor.js';

export interface LibraryRestart {
  readonly files: number;
  readonly parsed: number;
  readonly floorMs: number[];
  readonly engineMs: number[];
}

export async function measureLibraryRestart(root: string, cacheDir: string, rounds: number): Promise<LibraryRestart> {
  const floorMs: number[] = [];
  const engineMs: number[] = [];
  let files = 0;
  let parsed = 0;
  for (let round = 0; round < rounds; round++) {
    let started = performance.now();
    walkAndStat(root);
    floorMs.push(performance.now() - started);
    started = performance.now();
    const engine = createEngine({ root, cacheDir }, { env: {}, readConfigFile: false });
    const report = await engine.warm();
    engineMs.push(performance.now() - started);
    await engine.close();
    files = report.files;
    parsed += report.parsed;
  }
  return { files, parsed, floorMs, engineMs };
}

if (require.main === module) {
  const [root, cacheDir, rounds = '5'] = process.argv.slice(2);
  if (root === undefined || cacheDir === undefined) throw new Error('usage: library-restart <root> <cacheDir> [rounds]');
  void measureLibraryRestart(root, cacheDir, Number(rounds)).then((result) => process.stdout.write(JSON.stringify(result) + '\n'));
}
