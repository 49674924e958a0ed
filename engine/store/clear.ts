/**
 * `strata clear`: deletes a cache directory, and only one that is provably Strata's. Refused (with
 * `StrataError('EINVALIDOPTION')` naming `cacheDir`) for `/`, the home directory, the root, any
 * directory containing the root or the home directory, and any directory without the marker file.
 * Symbolic links are resolved first, so a link cannot smuggle a refused directory past the checks.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { StrataError } from '../../shared/errors.js';
import { hasMarker, isMissing, MARKER_FILE, STORE_LOCK_NAME, uniqueToken } from './layout.js';
import { FileLock } from './lock.js';

/** How long clear waits for a writer's lock before clearing anyway (everything written is atomic). */
const CLEAR_LOCK_WAIT_MS = 5_000;
/** Suffix of a cache directory renamed aside while `clear` removes it. */
export const CLEARING_SUFFIX = '.clearing';

export interface ClearOptions {
  /** The root the cache belongs to (never deleted). */
  readonly root: string;
  /** The home directory (never deleted). @default os.homedir() */
  readonly home?: string;
  /** Trees renamed aside (by earlier clears) longer ago than this are removed too. @default 60 s */
  readonly leftoverAgeMs?: number;
}

export interface ClearResult {
  /** The directory (real path) that was looked at. */
  readonly dir: string;
  /** False when there was no such directory. */
  readonly cleared: boolean;
  /** Files and bytes removed. */
  readonly files: number;
  readonly bytes: number;
}

function refuse(dir: string, reason: string): StrataError {
  return new StrataError(
    'EINVALIDOPTION',
    `Invalid value for option "cacheDir": refusing to clear ${JSON.stringify(dir)}: ${reason}. Accepted: a Strata cache directory (one carrying ${MARKER_FILE}) that is not /, the home directory, the root, or a directory containing either.`,
    'cacheDir',
  );
}

function realOrResolved(dir: string): string {
  try {
    return fs.realpathSync(dir);
  } catch (error) {
    if (isMissing(error)) return path.resolve(dir);
    throw error;
  }
}

/** True when `ancestor` is `target` or a directory above it. */
function contains(ancestor: string, target: string): boolean {
  const relative = path.relative(ancestor, target);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** Files and bytes under `dir`, our own lock file aside. */
function measure(dir: string, lockFile: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const file = path.join(entry.parentPath, entry.name);
    if (!entry.isFile() || file === lockFile) continue;
    try {
      bytes += fs.lstatSync(file).size;
      files++;
    } catch (error) {
      if (!isMissing(error)) throw error; // removed meanwhile by another process: not ours to count
    }
  }
  return { files, bytes };
}

/**
 * Removes `dir` even while other processes keep writing into it (a recursive remove alone fails
 * with ENOTEMPTY when a pack lands between its listing and its rmdir): the directory is first
 * renamed aside, atomically, so that writers find it gone and recreate a fresh one (disk-store.ts),
 * and the renamed tree, which no path names any more, is removed at leisure.
 */
function removeTree(dir: string): void {
  const aside = `${dir}.${uniqueToken()}${CLEARING_SUFFIX}`;
  try {
    fs.renameSync(dir, aside);
  } catch (error) {
    if (isMissing(error)) return; // removed meanwhile by another clear
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 }); // cannot rename (parent not writable…): remove in place
    return;
  }
  removeAside(aside);
}

/** Full removals of a tree renamed aside before it is left for the next clear's sweep. */
const ASIDE_REMOVE_ATTEMPTS = 10;
/** A tree renamed aside longer ago than this is a leftover: the next clear removes it. */
const LEFTOVER_AGE_MS = 60_000;


/**
 * Removes a tree renamed aside. Each attempt lists the tree again: a soak run saw an entry appear in
 * a renamed-aside tree after rmSync had listed it (ENOTEMPTY on the final rmdir, its own retries
 * exhausted). What still resists is left for the next clear, never reported as a failed clear: the
 * cache directory itself is already gone.
 */
function removeAside(aside: string): void {
  for (let attempt = 1; attempt <= ASIDE_REMOVE_ATTEMPTS; attempt++) {
    try {
      fs.rmSync(aside, { recursive: true, force: true });
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EBUSY' && code !== 'EPERM') throw error;
      Atomics.wait(SLEEPER, 0, 0, attempt * 10);
    }
  }
}

const SLEEPER = new Int32Array(new SharedArrayBuffer(4));

/** Removes trees that earlier clears renamed aside beside `dir` and could not finish. */
function sweepLeftovers(dir: string, minAgeMs: number): void {
  const parent = path.dirname(dir);
  const prefix = `${path.basename(dir)}.`;
  let names: string[];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith(CLEARING_SUFFIX)) continue;
    const leftover = path.join(parent, name);
    try {
      // Young ones may be another clear's, still at work (the rename set the tree's ctime).
      if (Date.now() - fs.statSync(leftover).ctimeMs >= minAgeMs) removeAside(leftover);
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
  }
}

/** Deletes the cache directory `dir` after the checks above. Throws `EINVALIDOPTION` when refused. */
export function clearCacheDir(dir: string, options: ClearOptions): ClearResult {
  const resolved = path.resolve(dir);
  let real: string;
  try {
    real = fs.realpathSync(resolved);
  } catch (error) {
    if (isMissing(error)) return { dir: resolved, cleared: false, files: 0, bytes: 0 };
    throw error;
  }
  if (path.parse(real).root === real) throw refuse(real, 'it is the file-system root');
  const home = realOrResolved(options.home ?? os.homedir());
  const root = realOrResolved(options.root);
  if (real === home) throw refuse(real, 'it is the home directory');
  if (real === root) throw refuse(real, 'it is the root itself');
  if (contains(real, root)) throw refuse(real, 'it contains the root');
  if (contains(real, home)) throw refuse(real, 'it contains the home directory');
  if (!fs.statSync(real).isDirectory()) throw refuse(real, 'it is not a directory');
  if (!hasMarker(real)) throw refuse(real, `it does not carry Strata's marker file ${MARKER_FILE}`);

  const lock = new FileLock(real, STORE_LOCK_NAME);
  lock.acquire(CLEAR_LOCK_WAIT_MS); // best effort: writers rename atomically into folders that vanish
  try {
    const { files, bytes } = measure(real, lock.file);
    removeTree(real);
    sweepLeftovers(real, options.leftoverAgeMs ?? LEFTOVER_AGE_MS);
    return { dir: real, cleared: true, files, bytes };
  } finally {
    lock.release();
  }
}
