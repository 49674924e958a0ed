/**
 * The baseline a user would write: one thread, read each file, `ts.createSourceFile` it.
 * Discovery uses Strata's own walker so both sides handle exactly the same files.
 * Prints one JSON line: { files, bytes, durationMs }.
 */
import * as fs from 'node:fs';
import * as ts from 'typescript';
import { discoverSourceFiles } from '../engine/discovery/discovery.js';
import { scriptKindName } from '../shared/script-kind.js';

const KINDS = { ts: ts.ScriptKind.TS, tsx: ts.ScriptKind.TSX, js: ts.ScriptKind.JS, jsx: ts.ScriptKind.JSX } as const;
const MAX_FILE_SIZE = 5 * 1024 * 1024;

async function main(): Promise<void> {
  const started = performance.now();
  const root = process.argv[2];
  if (!root) throw new Error('usage: sequential-parse <root>');
  let files = 0;
  let bytes = 0;
  for await (const event of discoverSourceFiles(root, { includeNodeModules: false, maxFileSize: MAX_FILE_SIZE })) {
    if (event.type !== 'file') continue;
    const buffer = fs.readFileSync(event.absolutePath);
    if (buffer.includes(0)) continue;
    const text = buffer.toString('utf8');
    ts.createSourceFile(event.path, text, ts.ScriptTarget.Latest, false, KINDS[scriptKindName(event.path)]);
    files++;
    bytes += buffer.length;
  }
  process.stdout.write(JSON.stringify({ files, bytes, durationMs: performance.now() - started }) + '\n');
}

void main();
