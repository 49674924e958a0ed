/**
 * Where the cache lives. Precedence: the `cacheDir` option > `STRATA_CACHE_DIR` > the default
 * `<root>/node_modules/.cache/strata`; when the default cannot be created or written (a read-only
 * root), the user cache directory `$XDG_CACHE_HOME/strata/<xxh64 of the root's realpath>` (or
 * `~/.cache/strata/…`). An unusable directory is never fatal: the answer is `{ dir: null, warning }`
 * and the engine runs in memory.
 *
 * Every directory used gets the marker file (`STRATA_CACHE_DIR.json`) and mode 0o700. A directory
 * named by the option or the environment that already exists, is not empty and carries no marker is
 * refused (with a warning): it belongs to something else, and `strata clear` would later delete it
 * whole.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { xxh64String } from '../../native-bindings/hash.js';
import { ensurePrivateDir, hasMarker, INDEXES_DIR, isMissing, LAST_RUN_DIR, MARKER_FILE, markerIntact, markerText, PACKS_DIR, RESULTS_DIR, writeFileAtomic } from './layout.js';

/** The environment variable naming the cache directory (relative paths resolve against the root). */
export const CACHE_DIR_ENV = 'STRATA_CACHE_DIR';
/** The default location under the root. */
export const DEFAULT_CACHE_SUBDIR = path.join('node_modules', '.cache', 'strata');
/** The per-user fallback's folder name under the user cache directory. */
export const USER_CACHE_FOLDER = 'strata';

/** Where a usable cache directory came from. */
export type CacheDirSource = 'option' | 'env' | 'default' | 'user-cache';

export type CacheDirResolution = { readonly dir: string; readonly source: CacheDirSource; readonly warning?: undefined; /** A marker file was there but invalid (rewritten). */ readonly markerRepaired?: boolean } | { readonly dir: null; readonly source?: undefined; readonly warning: string };

export interface CacheDirRequest {
  /** The root (absolute). */
  readonly root: string;
  /** The `cacheDir` option (absolute, or relative to the root), or null when not given. */
  readonly cacheDir: string | null;
  /** Environment to read STRATA_CACHE_DIR, XDG_CACHE_HOME and HOME from. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

function errorText(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code ?? (error as Error).message;
}

/**
 * Makes `dir` usable: creates it (parents with default modes, the directory itself 0o700), refuses a
 * non-empty foreign directory when `adoptOnlyEmpty`, writes the marker and creates `packs/` and
 * `indexes/`. Returns an error message, or null when the directory is ready.
 */
export function prepareCacheDir(dir: string, adoptOnlyEmpty: boolean): string | null {
  try {
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    // Checked before anything is changed: a foreign directory is left exactly as it was.
    if (adoptOnlyEmpty && fs.existsSync(dir) && !hasMarker(dir) && !fs.readdirSync(dir).every(isStrataName)) {
      return `${dir} exists, is not empty and is not a Strata cache directory (no ${MARKER_FILE}); choose a new or empty directory`;
    }
    ensurePrivateDir(dir);
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
    if (!markerIntact(dir)) writeFileAtomic(path.join(dir, MARKER_FILE), [Buffer.from(markerText())]);
    ensurePrivateDir(path.join(dir, PACKS_DIR));
    ensurePrivateDir(path.join(dir, INDEXES_DIR));
    return null;
  } catch (error) {
    return `cannot use ${dir} (${errorText(error)})`;
  }
}

/**
 * Names another Strata process creates while it prepares the same directory (its marker being
 * written, the two subdirectories, the lock): a directory holding only these is ours in progress,
 * not a foreign one.
 */
function isStrataName(name: string): boolean {
  return name.startsWith(MARKER_FILE) || name === PACKS_DIR || name === INDEXES_DIR || name === RESULTS_DIR || name === LAST_RUN_DIR || name.includes('.lock');
}

function repaired(markerRepaired: boolean): { markerRepaired?: true } {
  return markerRepaired ? { markerRepaired: true } : {};
}

/** A marker file that is there but is not the one Strata writes (zeroed, truncated, flipped, overwritten). */
function invalidMarker(dir: string): boolean {
  return fs.existsSync(path.join(dir, MARKER_FILE)) && !markerIntact(dir);
}

function realpathOrSelf(dir: string): string {
  try {
    return fs.realpathSync(dir);
  } catch (error) {
    if (isMissing(error)) return dir;
    throw error;
  }
}

/** The per-user fallback directory for `root`. */
export function userCacheDirFor(root: string, env: Readonly<Record<string, string | undefined>>): string {
  const base = env.XDG_CACHE_HOME !== undefined && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(env.HOME ?? os.homedir(), '.cache');
  return path.join(base, USER_CACHE_FOLDER, xxh64String(realpathOrSelf(root)));
}

/** Resolves and prepares the cache directory (see the module comment). Never throws. */
export function resolveCacheDir(request: CacheDirRequest): CacheDirResolution {
  const root = path.resolve(request.root);
  const fromEnv = request.env[CACHE_DIR_ENV];
  if (request.cacheDir !== null || (fromEnv !== undefined && fromEnv !== '')) {
    const source: CacheDirSource = request.cacheDir !== null ? 'option' : 'env';
    const dir = path.resolve(root, (request.cacheDir ?? fromEnv) as string);
    const markerRepaired = invalidMarker(dir);
    const problem = prepareCacheDir(dir, true);
    if (problem === null) return { dir, source, ...repaired(markerRepaired) };
    const named = source === 'option' ? 'cacheDir' : CACHE_DIR_ENV;
    return { dir: null, warning: `Persistence off: ${named}: ${problem}. Running in memory.` };
  }
  const defaultDir = path.join(root, DEFAULT_CACHE_SUBDIR);
  const defaultRepaired = invalidMarker(defaultDir);
  const defaultProblem = prepareCacheDir(defaultDir, false);
  if (defaultProblem === null) return { dir: defaultDir, source: 'default', ...repaired(defaultRepaired) };
  let userDir: string;
  try {
    userDir = userCacheDirFor(root, request.env);
    fs.mkdirSync(path.dirname(path.dirname(userDir)), { recursive: true });
    ensurePrivateDir(path.dirname(userDir));
  } catch (error) {
    return { dir: null, warning: `Persistence off: ${defaultProblem}, and no user cache directory (${errorText(error)}). Running in memory.` };
  }
  const userRepaired = invalidMarker(userDir);
  const userProblem = prepareCacheDir(userDir, false);
  if (userProblem === null) return { dir: userDir, source: 'user-cache', ...repaired(userRepaired) };
  return { dir: null, warning: `Persistence off: ${defaultProblem}, and ${userProblem}. Running in memory.` };
}
