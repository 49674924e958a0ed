/**
 * Real corpora for the ceiling benchmark (issue 18), built reproducibly from pinned npm packages:
 * `npm pack` fetches each tarball through npm's own client (its cache answers after the first time),
 * `tar` unpacks it, and the source files are copied into a tree with no `node_modules` in its path
 * (so a default warm sees them):
 *
 *   - `npm-8k`: every source file of rxjs 7.8.2, three 0.170.0, effect 3.10.0, zod 3.23.8 and
 *     date-fns 4.1.0 (less date-fns's `.d.cts` copies of its `.d.ts` files): ~7,700 files, ~48 MB of
 *     published TypeScript sources, declaration files, ES modules and CommonJS builds;
 *   - `npm-500`: hand-written TypeScript sources: rxjs's `src/**\/*.ts`, effect's public modules
 *     (`src/*.ts`) and the nested folders of its `src/internal/`: ~530 files, ~5 MB.
 *
 *   node dist/bench/npm-corpora.js [npm-8k|npm-500]   → prints the corpus directory
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const PROJECT = path.join(__dirname, '..', '..');
const CORPUS_ROOT = path.join(PROJECT, 'bench', 'results', 'corpus');
const SOURCE_FILE = /\.(?:[cm]?[jt]s|[jt]sx)$/;

export const PACKAGES = ['rxjs@7.8.2', 'three@0.170.0', 'effect@3.10.0', 'zod@3.23.8', 'date-fns@4.1.0'] as const;

export type RealCorpusName = 'npm-8k' | 'npm-500';

/** Which files of an unpacked package (paths relative to its `package/` folder) a corpus takes. */
const SELECTIONS: Readonly<Record<RealCorpusName, (spec: string, file: string) => boolean>> = {
  'npm-8k': (spec, file) => !(spec.startsWith('date-fns@') && file.endsWith('.d.cts')),
  'npm-500': (spec, file) => {
    if (!file.endsWith('.ts') || file.endsWith('.d.ts')) return false;
    if (spec.startsWith('rxjs@')) return file.startsWith('src/');
    // effect: its public modules and the nested folders of its internals (not src/internal/*.ts).
    if (spec.startsWith('effect@')) return file.startsWith('src/') && !/^src\/internal\/[^/]+$/.test(file);
    return false;
  },
};

/** The unpacked package (fetched with `npm pack` on first use). */
function unpacked(spec: string): string {
  const packs = path.join(CORPUS_ROOT, 'packs');
  const dir = path.join(packs, spec.replace(/[@/]/g, '_'));
  if (fs.existsSync(path.join(dir, 'package', 'package.json'))) return path.join(dir, 'package');
  fs.mkdirSync(packs, { recursive: true });
  const tarball = execFileSync('npm', ['pack', spec, '--silent', '--pack-destination', packs], { encoding: 'utf8' }).trim().split('\n').pop()!;
  const staging = `${dir}.tmp`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true });
  execFileSync('tar', ['xzf', path.join(packs, tarball), '-C', staging]);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(staging, dir);
  return path.join(dir, 'package');
}

function* sourceFiles(dir: string, prefix = ''): Generator<string> {
  for (const entry of fs.readdirSync(path.join(dir, prefix), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const relative = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) yield* sourceFiles(dir, relative);
    else if (entry.isFile() && SOURCE_FILE.test(entry.name)) yield relative;
  }
}

/** Builds (once) and returns the corpus directory. */
export function realCorpus(name: RealCorpusName): string {
  const root = path.join(CORPUS_ROOT, name);
  const marker = path.join(root, '.complete');
  if (fs.existsSync(marker)) return root;
  const staging = `${root}.tmp`;
  fs.rmSync(staging, { recursive: true, force: true });
  for (const spec of PACKAGES) {
    const from = unpacked(spec);
    const into = path.join(staging, 'packages', spec.replace(/@[^@]*$/, '').replace(/\//g, '__'));
    for (const file of sourceFiles(from)) {
      if (!SELECTIONS[name](spec, file)) continue;
      fs.mkdirSync(path.dirname(path.join(into, file)), { recursive: true });
      fs.copyFileSync(path.join(from, file), path.join(into, file));
    }
  }
  fs.writeFileSync(path.join(staging, 'package.json'), JSON.stringify({ name: `strata-bench-${name}`, private: true, packages: PACKAGES }, null, 2) + '\n');
  fs.writeFileSync(path.join(staging, '.complete'), '');
  fs.rmSync(root, { recursive: true, force: true });
  fs.renameSync(staging, root);
  return root;
}

if (require.main === module) {
  const name = (process.argv[2] ?? 'npm-8k') as RealCorpusName;
  if (!(name in SELECTIONS)) {
    process.stderr.write(`usage: npm-corpora [${Object.keys(SELECTIONS).join('|')}]\n`);
    process.exitCode = 2;
  } else {
    process.stdout.write(realCorpus(name) + '\n');
  }
}
