/**
 * A real corpus, reproducibly: every source file of this project's installed `node_modules`
 * (typescript, eslint, jest, @babel, lodash, @sinclair/typebox, piscina, …: real JavaScript,
 * TypeScript and declaration files) copied into a plain tree, keeping each package's own directory
 * layout. `node_modules` path segments become `_nm`, so that discovery walks them as it would a
 * monorepo's packages; files over {@link MAX_FILE_BYTES} are left out (a handful of bundles, e.g.
 * typescript's own 9 MB `typescript.js`, which would only time TypeScript's parser on one file).
 *
 *   node dist/bench/real-corpus.js [DIR]     # default: bench/results/corpus/real-node-modules
 *
 * The copy is made once (a `.corpus` marker lists what it holds) and reused while the lock file is
 * the same; prints the directory.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { xxh64String } from '../native-bindings/hash.js';
import { isSourceFile } from '../engine/discovery/source-files.js';

const PROJECT = path.join(__dirname, '..', '..');
export const DEFAULT_REAL_CORPUS = path.join(PROJECT, 'bench', 'results', 'corpus', 'real-node-modules');
/** Larger files are left out of the copy (see the module comment). */
export const MAX_FILE_BYTES = 1024 * 1024;
const MARKER = '.corpus';

export interface RealCorpus {
  readonly root: string;
  readonly files: number;
  readonly bytes: number;
}

/** The corpus at `root`, copied from `source` (default: this project's node_modules) unless already there for this lock file. */
export function buildRealCorpus(root: string = DEFAULT_REAL_CORPUS, source: string = path.join(PROJECT, 'node_modules')): RealCorpus {
  const lock = fs.readFileSync(path.join(PROJECT, 'package-lock.json'), 'utf8');
  const identity = `node_modules of package-lock ${xxh64String(lock)}, files ≤ ${MAX_FILE_BYTES} bytes`;
  const marker = path.join(root, MARKER);
  const existing = fs.existsSync(marker) ? (JSON.parse(fs.readFileSync(marker, 'utf8')) as RealCorpus & { identity: string }) : null;
  if (existing !== null && existing.identity === identity) return { root, files: existing.files, bytes: existing.bytes };
  fs.rmSync(root, { recursive: true, force: true });
  let files = 0;
  let bytes = 0;
  // Sorted, depth-first: the same tree for the same node_modules.
  const stack: string[] = [''];
  while (stack.length > 0) {
    const relative = stack.pop() as string;
    const entries = fs.readdirSync(path.join(source, relative), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? 1 : -1));
    for (const entry of entries) {
      const childRelative = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) {
        if (entry.name === '.bin' || entry.name === '.cache' || entry.name === '.git') continue;
        stack.push(childRelative);
      } else if (entry.isFile() && isSourceFile(entry.name)) {
        const from = path.join(source, childRelative);
        const size = fs.statSync(from).size;
        if (size > MAX_FILE_BYTES) continue;
        const to = path.join(root, ...childRelative.split('/').map((segment) => (segment === 'node_modules' ? '_nm' : segment)));
        fs.mkdirSync(path.dirname(to), { recursive: true });
        fs.copyFileSync(from, to);
        files++;
        bytes += size;
      }
    }
  }
  fs.writeFileSync(marker, JSON.stringify({ identity, root, files, bytes }) + '\n');
  return { root, files, bytes };
}

if (require.main === module) {
  const corpus = buildRealCorpus(process.argv[2] !== undefined ? path.resolve(process.argv[2]) : undefined);
  process.stdout.write(`${corpus.root}\t${corpus.files} files\t${(corpus.bytes / 1024 / 1024).toFixed(1)} MiB\n`);
}
