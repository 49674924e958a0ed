/** Which index file in a cache directory belongs to a root (root-index.ts keeps the file itself). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { xxh64String } from '../../native-bindings/hash.js';
import { isMissing } from './layout.js';

function realpathOrResolve(dir: string): string {
  try {
    return fs.realpathSync(dir);
  } catch (error) {
    if (isMissing(error)) return path.resolve(dir);
    throw error;
  }
}

/** The root's path relative to the cache directory, with `/` separators. */
export function rootPathRelativeTo(cacheDir: string, root: string): string {
  const relative = path.relative(realpathOrResolve(cacheDir), realpathOrResolve(root));
  return (relative === '' ? '.' : relative).split(path.sep).join('/');
}

/**
 * The id of a root's index in a cache directory: XXH64 of the root's path RELATIVE TO THE CACHE
 * DIRECTORY. A cache directory that moves together with its tree (a fresh clone at another absolute
 * path, with the cache restored at the same place relative to it: the usual CI cache) therefore finds
 * the same index, and its root-relative paths and content hashes decide what is reused. One cache
 * directory holds one index per root.
 */
export function indexIdFor(cacheDir: string, root: string): string {
  return xxh64String(rootPathRelativeTo(cacheDir, root));
}
