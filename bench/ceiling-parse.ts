/**
 * One side of the ceiling benchmark (bench/ceiling.ts): what a user's own loop does, in one process —
 * walk the tree with Strata's discovery (so every side handles exactly the same files), then for
 * every `stride`-th file starting at `offset`, read it and `ts.createSourceFile` it with TypeScript's
 * defaults (latest target, script kind from the extension, no parent pointers, JSDoc parsed).
 * Prints one JSON line: { files, bytes, durationMs }.
 *
 *   node dist/bench/ceiling-parse.js <root> [stride offset]
 */
import * as fs from 'node:fs';
import ts from 'typescript';
import { discoverSourceFiles } from '../engine/discovery/discovery.js';

const MAX_FILE_SIZE = 5 * 1024 * 1024;

async function main(): Promise<void> {
  const started = performance.now();
  const [root, strideArg = '1', offsetArg = '0'] = process.argv.slice(2);
  if (!root) throw new Error('usage: ceiling-parse <root> [stride offset]');
  const stride = Number(strideArg);
  const offset = Number(offsetArg);
  const paths: string[] = [];
  for await (const event of discoverSourceFiles(root, { includeNodeModules: false, maxFileSize: MAX_FILE_SIZE })) if (event.type === 'file') paths.push(event.absolutePath);
  paths.sort();
  let files = 0;
  let bytes = 0;
  for (let i = offset; i < paths.length; i += stride) {
    const buffer = fs.readFileSync(paths[i]!);
    if (buffer.includes(0)) continue;
    ts.createSourceFile(paths[i]!, buffer.toString('utf8'), ts.ScriptTarget.Latest);
    files++;
    bytes += buffer.length;
  }
  process.stdout.write(JSON.stringify({ files, bytes, durationMs: performance.now() - started }) + '\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
