/**
 * The floor an unchanged-tree check is judged against (issue 19): a bare Node process that walks
 * the tree (`readdirSync` with file types, pruning `node_modules` and `.git`) and `lstatSync`s
 * every source file, nothing else: no ignore files, no index, no cache. Imports only node:fs.
 * Prints one JSON line: { files, durationMs } (durationMs from the script's first line).
 *
 *   node dist/bench/walk-floor.js <root>
 */
import * as fs from 'node:fs';

const started = performance.now();
const SOURCE = /\.(?:[cm]?[jt]s|[jt]sx)$/;

/** Walks `root` and lstats each source file; answers how many there were. */
export function walkAndStat(root: string): number {
  let files = 0;
  const stack = [root];
  while (stack.length > 0) {
    const dir = stack.pop() as string;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      const name = entry.name;
      if (entry.isDirectory()) {
        if (name !== 'node_modules' && name !== '.git') stack.push(`${dir}/${name}`);
      } else if (SOURCE.test(name)) {
        fs.lstatSync(`${dir}/${name}`);
        files++;
      }
    }
  }
  return files;
}

if (require.main === module) {
  const root = process.argv[2];
  if (root === undefined) throw new Error('usage: walk-floor <root>');
  const files = walkAndStat(fs.realpathSync(root));
  process.stdout.write(JSON.stringify({ files, durationMs: performance.now() - started }) + '\n');
}
