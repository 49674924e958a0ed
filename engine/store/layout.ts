/**
 * The on-disk layout of a Strata cache directory, and the few file-system primitives every store
 * module shares (owner-only modes, atomic replace, directory fsync).
 *
 * ```
 * <cache dir>/                          0o700
 *   STRATA_CACHE_DIR.json               marker: { tool: "strata", formatVersion, note }
 *   store.lock                          advisory lock (index writes, bounds, clear), see lock.ts
 *   packs/                              0o700
 *     <time36>-<pid36>-<random>.pack    immutable pack files (packs.ts)
 *     <name>.pack.<random>.tmp          a pack being written (never read as a pack)
 *   indexes/                            0o700
 *     <indexId>.idx                     one per root (root-index.ts)
 *     <indexId>.idx.<random>.tmp        an index being written
 *     <indexId>.idx.<time36>.corrupt    a quarantined index (reclaimed first by the bound)
 *   results/                            0o700
 *     <indexId>.bin                     L3 results of one root (results/results-file.ts)
 *   patterns/                           0o700
 *     <indexId>.bin                     learned access patterns of one root (warming/patterns-file.ts)
 *   runs/                               0o700
 *     <indexId>.json                    the last warm's report of one root (last-run-file.ts)
 *     <indexId>.receipt                 what a restart of the unchanged tree checks (engine/restart/)
 * ```
 *
 * Every file is created 0o600 and every directory 0o700: the cache holds derived data of the
 * user's source, readable by its owner only.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * `bytes` random bytes as hex. node:crypto is loaded on the first call: a warm that writes nothing
 * (an unchanged tree) never pays for loading it.
 */
export function randomHex(bytes: number): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('node:crypto') as typeof import('node:crypto')).randomBytes(bytes).toString('hex');
}

/** Version of the directory layout; written into the marker. */
export const STORE_FORMAT_VERSION = 1;
/** The marker file: a directory without it is never used by `clear` and never adopted blindly. */
export const MARKER_FILE = 'STRATA_CACHE_DIR.json';
/** What the marker's `tool` field says. */
export const MARKER_TOOL = 'strata';
export const PACKS_DIR = 'packs';
export const INDEXES_DIR = 'indexes';
/** L3 results, one file per root (results/results-file.ts). */
export const RESULTS_DIR = 'results';
/** The last warm's report, one file per root (last-run-file.ts). */
export const LAST_RUN_DIR = 'runs';
/** Learned access patterns (predictive warming), one file per index. */
export const PATTERNS_DIR = 'patterns';
/** The lock that serialises index writes, bound enforcement and clear. */
export const STORE_LOCK_NAME = 'store';
export const PACK_SUFFIX = '.pack';
export const INDEX_SUFFIX = '.idx';
export const TEMP_SUFFIX = '.tmp';
export const CORRUPT_SUFFIX = '.corrupt';
/** Mode of every directory the store creates. */
export const DIR_MODE = 0o700;
/** Mode of every file the store creates. */
export const FILE_MODE = 0o600;

/** The marker's content. */
export interface MarkerContent {
  readonly tool: typeof MARKER_TOOL;
  readonly formatVersion: number;
  readonly note: string;
}

export function markerContent(): MarkerContent {
  return { tool: MARKER_TOOL, formatVersion: STORE_FORMAT_VERSION, note: 'Cache directory of Strata (@strata-cache/engine). Safe to delete; `strata clear` does.' };
}

/** The marker's bytes, as Strata writes them. */
export function markerText(): string {
  return JSON.stringify(markerContent(), null, 2) + '\n';
}

/**
 * True when `dir` holds exactly the marker this version writes. A marker that names Strata but
 * differs (a flipped byte in its note, another version's) still protects the directory
 * ({@link hasMarker}); it is rewritten when the directory is opened.
 */
export function markerIntact(dir: string): boolean {
  try {
    return fs.readFileSync(path.join(dir, MARKER_FILE), 'utf8') === markerText();
  } catch {
    return false; // missing or unreadable
  }
}

/** True when `dir` holds a regular marker file naming Strata. Never throws. */
export function hasMarker(dir: string): boolean {
  const file = path.join(dir, MARKER_FILE);
  try {
    if (!fs.lstatSync(file).isFile()) return false;
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { tool?: unknown };
    return typeof parsed === 'object' && parsed !== null && parsed.tool === MARKER_TOOL;
  } catch {
    return false; // missing, unreadable or not JSON: not a marker we can trust
  }
}

/** True for the errno codes that mean "the path is not there". */
export function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** Creates `dir` (one level) with {@link DIR_MODE} if missing, and tightens an existing one we own. */
export function ensurePrivateDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { mode: DIR_MODE });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const stat = fs.statSync(dir);
  if (!stat.isDirectory()) throw Object.assign(new Error(`${dir} is not a directory`), { code: 'ENOTDIR' });
  // mkdir's mode is filtered by the umask; an existing directory may be looser. Tighten ours.
  if ((stat.mode & 0o777) !== DIR_MODE && stat.uid === process.getuid?.()) fs.chmodSync(dir, DIR_MODE);
}

/** A name no other process or call will pick: time, pid and randomness. */
export function uniqueToken(): string {
  return `${Date.now().toString(36)}-${process.pid.toString(36)}-${randomHex(6)}`;
}

/** fsyncs a directory so a rename inside it survives a power loss. Best effort where unsupported. */
export function fsyncDir(dir: string): void {
  let fd: number;
  try {
    fd = fs.openSync(dir, 'r');
  } catch (error) {
    if (isMissing(error)) return; // the directory went away (cleared): nothing left to make durable
    throw error;
  }
  try {
    fs.fsyncSync(fd);
  } catch (error) {
    if (!isDirectorySyncRefused(error)) throw error;
  } finally {
    fs.closeSync(fd);
  }
}

/** Buffers per `writev` call (Linux's IOV_MAX). */
const WRITEV_MAX_BUFFERS = 1024;

/**
 * Writes all of `chunks` to `fd`, in order, looping over short writes. One `writev` per
 * {@link WRITEV_MAX_BUFFERS} chunks: a pack is two chunks per entry, and one `write` per chunk cost
 * ~130-200 ms per 10,000 chunks on the main thread (measured), `writev` ~20-40 ms.
 */
export function writeAll(fd: number, chunks: readonly Uint8Array[]): void {
  const pending = chunks.filter((chunk) => chunk.length > 0);
  let next = 0;
  while (next < pending.length) next = skipWritten(pending, next, fs.writevSync(fd, pending.slice(next, next + WRITEV_MAX_BUFFERS)));
}

/**
 * After a `writev` of `pending` from `next` wrote `written` bytes: the index of the first chunk not
 * fully written; a short write that stopped inside a chunk leaves that chunk's rest in its place.
 */
function skipWritten(pending: Uint8Array[], next: number, written: number): number {
  while (next < pending.length && written >= (pending[next] as Uint8Array).length) written -= (pending[next++] as Uint8Array).length;
  if (written > 0) pending[next] = (pending[next] as Uint8Array).subarray(written);
  return next;
}

/** Some file systems refuse fsync on a directory (EINVAL/EISDIR, EBADF); the rename is still atomic. */
function isDirectorySyncRefused(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'EINVAL' || code === 'EISDIR' || code === 'EBADF';
}

/**
 * Replaces `file` atomically: writes a temporary file beside it (`O_EXCL`, {@link FILE_MODE}),
 * fsyncs it once, renames it over `file` and fsyncs the directory. A crash at any point leaves
 * either the old file or the new one, plus at most a `*.tmp` file that nothing reads.
 */
export function writeFileAtomic(file: string, chunks: readonly Uint8Array[]): void {
  const temp = `${file}.${randomHex(6)}${TEMP_SUFFIX}`;
  const fd = fs.openSync(temp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, FILE_MODE);
  let open = true;
  let renamed = false;
  try {
    writeAll(fd, chunks);
    fs.fsyncSync(fd);
    open = false;
    fs.closeSync(fd);
    fs.renameSync(temp, file);
    renamed = true;
  } finally {
    // Close at most once: after a close, the same descriptor number may belong to another thread.
    if (open) fs.closeSync(fd);
    if (!renamed) unlinkIfPresent(temp);
  }
  fsyncDir(path.dirname(file));
}

/** {@link writeAll} through the libuv pool: the calling thread goes on while the kernel copies. */
async function writeAllAsync(handle: fs.promises.FileHandle, chunks: readonly Uint8Array[]): Promise<void> {
  const pending = chunks.filter((chunk) => chunk.length > 0);
  let next = 0;
  while (next < pending.length) next = skipWritten(pending, next, (await handle.writev(pending.slice(next, next + WRITEV_MAX_BUFFERS))).bytesWritten);
}

/** {@link fsyncDir} off the calling thread. */
async function fsyncDirAsync(dir: string): Promise<void> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(dir, 'r');
  } catch (error) {
    if (isMissing(error)) return;
    throw error;
  }
  try {
    await handle.sync();
  } catch (error) {
    if (!isDirectorySyncRefused(error)) throw error;
  } finally {
    await handle.close();
  }
}

/**
 * {@link writeFileAtomic} with every system call on the libuv pool: same steps, same guarantees (a
 * crash leaves the old file or the new one, plus at most a `*.tmp` file). The chunks must not change
 * until the promise settles.
 */
export async function writeFileAtomicAsync(file: string, chunks: readonly Uint8Array[]): Promise<void> {
  const temp = `${file}.${randomHex(6)}${TEMP_SUFFIX}`;
  const handle = await fs.promises.open(temp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, FILE_MODE);
  let open = true;
  let renamed = false;
  try {
    await writeAllAsync(handle, chunks);
    await handle.sync();
    open = false;
    await handle.close();
    await fs.promises.rename(temp, file);
    renamed = true;
  } finally {
    if (open) await handle.close();
    if (!renamed) await fs.promises.rm(temp, { force: true });
  }
  await fsyncDirAsync(path.dirname(file));
}

/** Opens a file for reading; null when it does not exist (any other error is thrown). */
export function openIfPresent(file: string): number | null {
  try {
    return fs.openSync(file, 'r');
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
}

/** Removes a file; a file that is already gone is fine. */
export function unlinkIfPresent(file: string): boolean {
  try {
    fs.unlinkSync(file);
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

/** The L3 results file of one index. */
export function resultsFileFor(cacheDir: string, indexId: string): string {
  return path.join(cacheDir, RESULTS_DIR, `${indexId}.bin`);
}

/** Stamps a file's mtime as now (the bound's recency). Answers a problem, or null; a read-only cache keeps its times. */
export function stampUsed(file: string): string | null {
  const now = new Date();
  try {
    fs.utimesSync(file, now, now);
    return null;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (isMissing(error) || code === 'EPERM' || code === 'EACCES' || code === 'EROFS') return null;
    return code ?? (error as Error).message;
  }
}

/** The last run's report of one index (`strata stats`). */
export function lastRunFileFor(cacheDir: string, indexId: string): string {
  return path.join(cacheDir, LAST_RUN_DIR, `${indexId}.json`);
}

/**
 * The restart receipt of one index (engine/restart/receipt-file.ts): the stamps `strata warm` of an
 * unchanged tree compares without loading the index. Derived data: losing it costs one full check.
 */
export function restartReceiptFileFor(cacheDir: string, indexId: string): string {
  return path.join(cacheDir, LAST_RUN_DIR, `${indexId}.receipt`);
}

/** The learned access patterns of one index. */
export function patternsFileFor(cacheDir: string, indexId: string): string {
  return path.join(cacheDir, PATTERNS_DIR, `${indexId}.bin`);
}
