/**
 * The restart's check of an unchanged tree, git's `status` fast path: with a directory snapshot, stat
 * every stored directory and file in one batch (stat-prefetch.ts) and compare, in one loop, without a
 * walk's frames, items and events. It answers only when the walk the snapshot stands for would find
 * exactly the stored files, every one unchanged by the caller's test; at the first thing a walk would
 * handle otherwise it gives up, and the caller walks (handing it the setup and the stats taken, so
 * that nothing is resolved, read or stat'ed twice). It gives up on:
 * - another walk key (root, options, the rules from outside the root);
 * - a directory whose stamp differs or is racy, whose `.gitignore` text differs or cannot be read,
 *   or a stored directory that is not a snapshot row, or the other way round;
 * - a link (a walk resolves it), a file that is no longer a regular file, is hard-linked (a walk
 *   reports each inode once), is larger than `maxFileSize` (a walk reports it as skipped), or whose
 *   stat failed;
 * - a file the caller's test finds changed (the caller's own record of it is the judge).
 */
import { ITEM_DIR, ITEM_FILE, ITEM_REINCLUDED_DIR, ITEM_SEPARATOR, type DirectorySnapshot } from './directory-snapshot.js';
import { prepareWalk, type DiscoveryOptions, type PreparedWalk, type WalkSetup } from './discovery.js';
import type { DiscoveryWarning } from './discovery-events.js';
import { readIgnoreFile } from './ignore-rules.js';
import { StatPrefetch } from './stat-prefetch.js';
import type { FileStat } from './walk-fs.js';

/** What a walk of an unchanged tree reports. */
export interface UnchangedTree {
  /** Files found, every one unchanged. */
  readonly files: number;
  /** Their total size. */
  readonly bytes: number;
  /** The walk's warnings about the rules from outside the root. */
  readonly warnings: readonly DiscoveryWarning[];
}

export interface UnchangedTreeCheck extends PreparedWalk {
  /** The tree's report, or null: walk it, handing it this check's setup and stats (`DiscoveryOptions.prepared`). */
  readonly tree: UnchangedTree | null;
  /** Why the check gave up (for tests and diagnostics); null when it answered. */
  readonly changed: string | null;
}

/**
 * @param isUnchanged the caller's test of each file found (root-relative path, its stat); called once
 *   per file, directory by directory in the snapshot's order, until one answers false.
 */
export function checkUnchangedTree(
  root: string,
  options: Pick<DiscoveryOptions, 'includeNodeModules' | 'excludeDirs' | 'maxFileSize'>,
  snapshot: DirectorySnapshot,
  isUnchanged: (path: string, stats: FileStat) => boolean,
): UnchangedTreeCheck {
  const setup = prepareWalk(root, options);
  if (snapshot.walkKey !== setup.walkKey) return gaveUp(setup, null, 'another walk key');
  const { rootReal } = setup;
  const prefetch = StatPrefetch.of(rootReal, snapshot);
  let files = 0;
  let bytes = 0;
  let storedDirs = 0;
  let dev = -1;
  const inodes = new Set<number>();
  for (let row = 0; row < snapshot.size; row++) {
    const rel = snapshot.rels[row] as string;
    const dir = rel === '' ? rootReal : `${rootReal}/${rel}`;
    const stats = prefetch.directory(row);
    if (stats === null || !snapshot.matches(row, stats)) return gaveUp(setup, prefetch, `directory ${rel || '.'} changed`);
    const storedIgnore = snapshot.gitignores[row] as string | null;
    if (storedIgnore !== null) {
      const ignoreFile = readIgnoreFile(`${dir}/.gitignore`);
      if (ignoreFile.error !== undefined || ignoreFile.text !== storedIgnore) return gaveUp(setup, prefetch, `${rel || '.'}/.gitignore changed`);
    }
    const items = snapshot.items[row] as string;
    if (items === '') continue;
    let next = prefetch.firstFile(row);
    for (const item of items.split(ITEM_SEPARATOR)) {
      const code = item[0];
      if (code === ITEM_DIR || code === ITEM_REINCLUDED_DIR) {
        storedDirs++;
        continue;
      }
      const name = item.slice(1);
      const path = rel === '' ? name : `${rel}/${name}`;
      if (code !== ITEM_FILE) return gaveUp(setup, prefetch, `${path} is a link`);
      const file = prefetch.file(next++);
      if (file === null || !file.isFile() || file.nlink !== 1 || !Number.isSafeInteger(file.ino)) return gaveUp(setup, prefetch, `${path} is not a plain file`);
      if (file.size > options.maxFileSize) return gaveUp(setup, prefetch, `${path} is too large`);
      if (dev !== file.dev) {
        if (dev !== -1) return gaveUp(setup, prefetch, `${path} is on another device`);
        dev = file.dev;
      }
      if (inodes.has(file.ino)) return gaveUp(setup, prefetch, `${path} is reached twice`);
      inodes.add(file.ino);
      if (!isUnchanged(path, file)) return gaveUp(setup, prefetch, `${path} changed`);
      files++;
      bytes += file.size;
    }
  }
  // The root and every stored directory are rows, and nothing else is.
  if (snapshot.row('') !== 0 || storedDirs + 1 !== snapshot.size) return gaveUp(setup, prefetch, 'the snapshot does not cover the tree');
  return { tree: { files, bytes, warnings: setup.warnings }, setup, prefetch, changed: null };
}

function gaveUp(setup: WalkSetup, prefetch: StatPrefetch | null, changed: string): UnchangedTreeCheck {
  return { tree: null, setup, prefetch, changed };
}
