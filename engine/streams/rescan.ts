/**
 * Rescan by stat: when events may have been lost (a storm, a watcher error, a new directory chokidar
 * listed late, or a request), the source files of some directories are stat'ed and compared with
 * the known fingerprints; what differs is recorded and published. A rescan's own work never counts
 * as watcher events, so it cannot re-trigger a storm. {@link RescanRunner} keeps to one at a time.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isSourceFile } from '../discovery/source-files.js';
import { fingerprintOf, statFile, type KnownFiles } from './file-fingerprint.js';

/** What a rescan reports (`WatchServiceOptions.onRescan`). */
export interface RescanInfo {
  readonly reason: 'storm' | 'error' | 'new-directory' | 'request';
  /** Root-relative directories rescanned ('' = the whole tree). */
  readonly dirs: readonly string[];
  /** Files found added, changed or removed since last seen. */
  readonly changes: number;
}

export interface RescanFiles extends KnownFiles {
  /** Whether a root-relative path is ignored (the service's rules and the target's). */
  isIgnored(relative: string, directory: boolean): boolean;
}

/**
 * Stats the source files of `dirs` (root-relative; '' = the root, recursively) against the known
 * fingerprints; directories with no known file below (new or missed) are walked too, every
 * directory below with `recurseAll`. Returns the number of files added, changed or removed.
 */
export function rescanByStat(files: RescanFiles, dirs: readonly string[], recurseAll = false): number {
  const now = performance.now();
  let changes = 0;
  const seen = new Set<string>();
  const visitedDirs = new Set<string>();
  const recursive = dirs.includes('');
  const stack = recursive ? [''] : [...new Set(dirs)];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    if (visitedDirs.has(dir)) continue;
    visitedDirs.add(dir);
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir === '' ? files.root : path.join(files.root, dir), { withFileTypes: true });
    } catch {
      entries = []; // the directory is gone: its known files are reported below
    }
    for (const entry of entries) {
      const relative = dir === '' ? entry.name : `${dir}/${entry.name}`;
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        const stats = statFile(path.join(files.root, relative));
        isFile = stats !== null;
        isDir = false; // links to directories are left to chokidar
      }
      if (isDir) {
        if (files.isIgnored(relative, true)) continue;
        // A directory with no known file below it is new (or was missed): walk it too.
        if (recursive || recurseAll || !hasKnownBelow(files.known, relative)) stack.push(relative);
        continue;
      }
      if (!isFile || !isSourceFile(relative) || files.isIgnored(relative, false)) continue;
      seen.add(relative);
      const stats = statFile(path.join(files.root, relative));
      if (stats && files.apply(relative, fingerprintOf(stats), now)) changes++;
    }
  }
  // Known files in the rescanned directories that no longer exist.
  const gone: string[] = [];
  for (const file of files.known.keys()) {
    if (seen.has(file)) continue;
    const slash = file.lastIndexOf('/');
    const dir = slash < 0 ? '' : file.slice(0, slash);
    if (!(recursive || visitedDirs.has(dir))) continue;
    if (statFile(path.join(files.root, file))) continue;
    gone.push(file);
  }
  if (gone.length > 0) {
    files.forget(gone, now);
    changes += gone.length;
  }
  return changes;
}

function hasKnownBelow(known: ReadonlyMap<string, unknown>, dir: string): boolean {
  const prefix = `${dir}/`;
  for (const file of known.keys()) if (file.startsWith(prefix)) return true;
  return false;
}

/** Runs rescans one at a time: requests during one are merged and run once after it. */
export class RescanRunner {
  #running: Promise<void> | null = null;
  #again: 'all' | Set<string> | null = null;

  /**
   * Runs `pass` on the directories (`['']` for 'all'), then on whatever was requested meanwhile,
   * until nothing is pending or `closed()`. Returns the changes `pass` found; 0 to a request merged
   * into a running rescan (it resolves once that one ends).
   */
  async run(dirs: Iterable<string> | 'all', pass: (dirs: string[]) => number, closed: () => boolean): Promise<number> {
    if (this.#running) {
      if (dirs === 'all' || this.#again === 'all') this.#again = 'all';
      else {
        const again = this.#again ?? new Set<string>();
        for (const dir of dirs) again.add(dir);
        this.#again = again;
      }
      await this.#running;
      return 0;
    }
    let changes = 0;
    const run = (async () => {
      let request: 'all' | Iterable<string> | null = dirs;
      while (request !== null && !closed()) {
        changes += pass(request === 'all' ? [''] : [...request]);
        request = this.#again;
        this.#again = null;
        if (request !== null) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    })();
    this.#running = run;
    try {
      await run;
    } finally {
      this.#running = null;
    }
    return changes;
  }
}
