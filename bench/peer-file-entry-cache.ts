/**
 * Peer for the suite's warm-restart scenario (bench/suite.ts): file-entry-cache's changed-files
 * check (what ESLint's `--cache` does, metadata strategy) over the same files Strata handles, in
 * this fresh process. The first run against an empty <cacheDir> records every file; the next finds
 * which changed. Prints one JSON line: { files, changed, durationMs }.
 *
 *   node dist/bench/peer-file-entry-cache.js <root> <cacheDir>
 */
import * as fileEntryCache from 'file-entry-cache';
import { discoverSourceFiles } from '../engine/discovery/discovery.js';

async function main(): Promise<void> {
  const started = performance.now();
  const [root, cacheDir] = process.argv.slice(2);
  if (!root || !cacheDir) throw new Error('usage: peer-file-entry-cache <root> <cacheDir>');
  const files: string[] = [];
  for await (const event of discoverSourceFiles(root, { includeNodeModules: false, maxFileSize: 5 * 1024 * 1024 })) {
    if (event.type === 'file') files.push(event.absolutePath);
  }
  const cache = fileEntryCache.create('strata-bench', cacheDir);
  const changed = cache.getUpdatedFiles(files);
  cache.reconcile();
  process.stdout.write(JSON.stringify({ files: files.length, changed: changed.length, durationMs: performance.now() - started }) + '\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
