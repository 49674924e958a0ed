/**
 * One measured watch start, in a process of its own (bench/watch-dependents.ts runs several):
 * `node dist/bench/watch-start-child.js ROOT CACHE_DIR MODE`, MODE `graph` (engine.watch(): watcher
 * ready and the dependency graph built) or `watcher-only` (the watcher alone, as before the graph
 * was built at the start: the baseline), or `warm` (a warm that fills L2 on disk, not measured).
 * Prints one JSON line: { ms, rssMiB, graphNodes, files }.
 */
import { createEngine } from '../engine/engine.js';
import { WatchService } from '../engine/streams/watch-service.js';

async function main(): Promise<void> {
  const [root, cacheDir, mode] = process.argv.slice(2);
  if (!root || !cacheDir || !mode) throw new Error('usage: watch-start-child ROOT CACHE_DIR graph|watcher-only|warm');
  const engine = createEngine({ root, cacheDir }, { env: {}, readConfigFile: false });
  const started = performance.now();
  let files = 0;
  if (mode === 'warm') files = (await engine.warm()).files;
  else if (mode === 'graph') files = (await engine.watch()).stats().knownFiles;
  else {
    const service = new WatchService(engine, { cacheDir });
    await service.ready();
    files = service.stats().knownFiles;
    await service.close();
  }
  const ms = performance.now() - started;
  const rssMiB = process.memoryUsage().rss / 1024 / 1024;
  process.stdout.write(JSON.stringify({ ms, rssMiB, graphNodes: engine.stats().graph.nodes, files }) + '\n');
  await engine.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
