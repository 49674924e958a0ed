/**
 * A real monorepo from real code, reproducibly: every package installed in this project's
 * node_modules (eslint, @babel/*, jest's packages, lodash, …; their published sources as they are)
 * copied into `packages/<name>` of a workspace, with the workspace links npm, yarn and pnpm create
 * (`node_modules/<name>` → `../packages/<name>`), so that imports across packages resolve inside the
 * root as they do in a real workspace. `typescript` is left out: its 9 MB compiler bundles are over
 * the default `maxFileSize` and its lib `.d.ts` files would dominate the tree.
 *
 * The widely imported file measured on: eslint's `lib/rules/utils/ast-utils.js`, which its rules
 * `require("./utils/ast-utils")` (186 of them in eslint 10.15).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const PROJECT = path.join(__dirname, '..', '..');
const LEFT_OUT = new Set(['typescript', '.bin', '.cache', '.package-lock.json']);

/** The file with many importers, relative to the monorepo's root. */
export const WIDELY_IMPORTED = 'packages/eslint/lib/rules/utils/ast-utils.js';

/** Builds the monorepo under `root` (which must not exist yet); returns the package names. */
export function buildRealMonorepo(root: string, from = path.join(PROJECT, 'node_modules')): string[] {
  const names: string[] = [];
  for (const entry of fs.readdirSync(from).sort()) {
    if (LEFT_OUT.has(entry)) continue;
    if (entry.startsWith('@')) for (const scoped of fs.readdirSync(path.join(from, entry)).sort()) names.push(`${entry}/${scoped}`);
    else names.push(entry);
  }
  fs.mkdirSync(path.join(root, 'node_modules'), { recursive: true });
  fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'real-monorepo', private: true, workspaces: ['packages/*', 'packages/@*/*'] }, null, 2));
  for (const name of names) {
    const source = fs.realpathSync(path.join(from, name));
    const target = path.join(root, 'packages', name);
    // The package's own code only: nested node_modules (other versions of dependencies) stay out.
    fs.cpSync(source, target, { recursive: true, filter: (file) => !path.relative(source, file).split(path.sep).includes('node_modules') });
    const link = path.join(root, 'node_modules', name);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(path.relative(path.dirname(link), target), link, 'dir');
  }
  return names;
}
