/**
 * Peer for the suite's cold-start and warm-restart scenarios (bench/suite.ts): jest-haste-map
 * building its map of a tree with its workers, in this fresh process. It extracts dependencies by
 * regex and parses nothing. Prints one JSON line: { files, durationMs }.
 *
 *   node dist/bench/peer-haste-map.js <root> <cacheDir> cold|warm
 *
 * `cold` resets the haste map's cache; `warm` reuses what a previous run left in <cacheDir>.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

interface HasteMapInstance {
  build(): Promise<{ hasteFS: { getAllFiles(): string[] } }>;
}
/** jest-haste-map 30: instances come from the async `create` (it sets up the cache path). */
interface HasteMapClass {
  create(options: Record<string, unknown>): Promise<HasteMapInstance>;
}

async function main(): Promise<void> {
  const started = performance.now();
  const [root, cacheDirectory, mode] = process.argv.slice(2);
  if (!root || !cacheDirectory || (mode !== 'cold' && mode !== 'warm')) throw new Error('usage: peer-haste-map <root> <cacheDir> cold|warm');
  const rootDir = path.resolve(root);
  fs.mkdirSync(cacheDirectory, { recursive: true });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const HasteMap = (require('jest-haste-map') as { default: HasteMapClass }).default;
  const map = await HasteMap.create({
    rootDir,
    roots: [rootDir],
    extensions: ['ts', 'tsx', 'js', 'jsx', 'mjs', 'cjs', 'mts', 'cts'],
    platforms: [],
    maxWorkers: 2,
    id: 'strata-bench',
    cacheDirectory,
    resetCache: mode === 'cold',
    retainAllFiles: true,
    computeDependencies: true,
    useWatchman: false,
  });
  const { hasteFS } = await map.build();
  process.stdout.write(JSON.stringify({ files: hasteFS.getAllFiles().length, durationMs: performance.now() - started }) + '\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
