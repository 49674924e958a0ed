/**
 * An advisory lock file, `<dir>/<name>.lock`, created with `O_EXCL` and holding its owner as JSON:
 * `{ pid, startTime, hostname, acquiredAtMs, token }`. It serialises the store's few read-modify-write
 * steps (index saves, bound enforcement, clear). Pack writes take no lock: each pack is a new,
 * uniquely named file.
 *
 * A lock is recovered when its owner is provably gone: on the same host, its pid is not running, or
 * the pid now belongs to a process that started at another time (pid reuse; start time from
 * `/proc/<pid>/stat` on Linux, `ps -o lstart=` elsewhere). A lock from another host (a shared
 * network directory) cannot be checked and is recovered only once older than {@link FOREIGN_LOCK_MAX_AGE_MS};
 * an unreadable one (its writer died between create and write) once older than {@link UNREADABLE_LOCK_GRACE_MS}.
 *
 * Recovery renames the stale file to a unique name first (atomic: only one contender wins), then
 * re-reads what it renamed; if that was no longer the stale owner (a race with another recoverer) it
 * links it back. The lock is advisory and everything it guards is itself written atomically, so a lost
 * race costs at most a lost index update, never a corrupt file.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FILE_MODE, isMissing, randomHex } from './layout.js';

/** An unreadable (empty, half-written) lock older than this is stale. */
export const UNREADABLE_LOCK_GRACE_MS = 5_000;
/** A lock from another host older than this is stale (its pid cannot be checked from here). */
export const FOREIGN_LOCK_MAX_AGE_MS = 10 * 60_000;
/** How long {@link FileLock.acquire} waits by default. */
export const DEFAULT_LOCK_WAIT_MS = 5_000;
const FIRST_RETRY_MS = 2;
const MAX_RETRY_MS = 50;
/** Field of /proc/<pid>/stat holding the start time (1-based, per proc(5)). */
const PROC_STAT_STARTTIME_FIELD = 22;
/** proc(5) fields after the `(comm)` field start at field 3. */
const PROC_STAT_FIELDS_AFTER_COMM = 3;

/** Who holds a lock. */
export interface LockOwner {
  readonly pid: number;
  /** The process's start time as the OS reports it (opaque, compared for equality); null when unknown. */
  readonly startTime: string | null;
  readonly hostname: string;
  readonly acquiredAtMs: number;
  /** Random per acquisition: release removes only the lock it created. */
  readonly token: string;
}

const startTimes = new Map<number, string | null>();

/**
 * The start time of process `pid` as an opaque string, or `null` when it cannot be read (no such
 * process, or no way to ask). Linux: `starttime` (clock ticks since boot) from `/proc/<pid>/stat`.
 */
export function processStartTime(pid: number): string | null {
  if (process.platform === 'linux') {
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return null; // no such process (or /proc not mounted): unknown
    }
    // The command name (field 2) may contain spaces and parentheses: split after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[PROC_STAT_STARTTIME_FIELD - PROC_STAT_FIELDS_AFTER_COMM] ?? null;
  }
  try {
    // Loaded here only (not on Linux): node:child_process is a noticeable share of a restart's start-up.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { execFileSync } = require('node:child_process') as typeof import('node:child_process');
    const out = execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 2_000 }).trim();
    return out === '' ? null : out;
  } catch {
    return null; // ps exits 1 for a pid that does not exist; either way: unknown
  }
}

function ownStartTime(): string | null {
  if (!startTimes.has(process.pid)) startTimes.set(process.pid, processStartTime(process.pid));
  return startTimes.get(process.pid) ?? null;
}

/** Whether a process with this pid exists on this host (signal 0; EPERM means it exists). */
export function pidExists(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Parses a lock file's content; `null` when it is not a complete owner record. */
export function parseLockOwner(text: string): LockOwner | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null; // empty or half-written
  }
  if (typeof value !== 'object' || value === null) return null;
  const owner = value as Record<string, unknown>;
  if (typeof owner.pid !== 'number' || typeof owner.hostname !== 'string' || typeof owner.acquiredAtMs !== 'number' || typeof owner.token !== 'string') return null;
  if (owner.startTime !== null && typeof owner.startTime !== 'string') return null;
  return { pid: owner.pid, startTime: owner.startTime, hostname: owner.hostname, acquiredAtMs: owner.acquiredAtMs, token: owner.token };
}

/** Whether a lock with this content and mtime is provably abandoned. */
export function isStale(owner: LockOwner | null, lockMtimeMs: number, now = Date.now()): boolean {
  if (owner === null) return now - lockMtimeMs > UNREADABLE_LOCK_GRACE_MS;
  if (owner.hostname !== os.hostname()) return now - owner.acquiredAtMs > FOREIGN_LOCK_MAX_AGE_MS;
  if (!pidExists(owner.pid)) return true;
  if (owner.startTime === null) return false;
  const current = processStartTime(owner.pid);
  return current !== null && current !== owner.startTime; // the pid was reused by a newer process
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** One advisory lock. Not re-entrant: a second acquire by the same holder waits like anyone else. */
export class FileLock {
  /** Absolute path of the lock file. */
  readonly file: string;
  #token: string | null = null;
  #recovered = 0;

  constructor(dir: string, name: string) {
    this.file = path.join(dir, `${name}.lock`);
  }

  /** Stale lock files (dead owner, or unreadable past the grace) this instance moved aside. */
  get recovered(): number {
    return this.#recovered;
  }

  /** Whether this instance holds the lock. */
  get held(): boolean {
    return this.#token !== null;
  }

  /** Takes the lock if it is free or stale; never waits. */
  tryAcquire(): boolean {
    if (this.#token !== null) throw new Error(`lock ${this.file} is already held by this instance`);
    for (let attempt = 0; attempt < 3; attempt++) {
      if (this.#create()) return true;
      if (!this.#recoverIfStale()) return false;
    }
    return false;
  }

  /** Takes the lock, waiting (synchronously, with backoff) up to `timeoutMs`. False on timeout. */
  acquire(timeoutMs: number = DEFAULT_LOCK_WAIT_MS): boolean {
    const deadline = Date.now() + timeoutMs;
    let wait = FIRST_RETRY_MS;
    for (;;) {
      if (this.tryAcquire()) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      sleepSync(Math.min(wait, left));
      wait = Math.min(wait * 2, MAX_RETRY_MS);
    }
  }

  /** Releases the lock if this instance holds it (and it was not taken over meanwhile). */
  release(): void {
    const token = this.#token;
    if (token === null) return;
    this.#token = null;
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (error) {
      if (isMissing(error)) return; // recovered by someone else (or the directory was cleared)
      throw error;
    }
    if (parseLockOwner(text)?.token !== token) return; // no longer ours
    try {
      fs.unlinkSync(this.file);
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
  }

  #create(): boolean {
    const owner: LockOwner = { pid: process.pid, startTime: ownStartTime(), hostname: os.hostname(), acquiredAtMs: Date.now(), token: randomHex(8) };
    let fd: number;
    try {
      fd = fs.openSync(this.file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, FILE_MODE);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
    try {
      fs.writeSync(fd, JSON.stringify(owner));
    } finally {
      fs.closeSync(fd);
    }
    this.#token = owner.token;
    return true;
  }

  /** Removes the lock file if its owner is provably gone. True when the caller should retry now. */
  #recoverIfStale(): boolean {
    let text: string;
    let mtimeMs: number;
    try {
      mtimeMs = fs.statSync(this.file).mtimeMs;
      text = fs.readFileSync(this.file, 'utf8');
    } catch (error) {
      if (isMissing(error)) return true; // released meanwhile
      throw error;
    }
    if (!isStale(parseLockOwner(text), mtimeMs)) return false;
    const aside = `${this.file}.${randomHex(6)}.stale`;
    try {
      fs.renameSync(this.file, aside);
    } catch (error) {
      if (isMissing(error)) return true; // another contender recovered it first
      throw error;
    }
    const moved = fs.readFileSync(aside, 'utf8');
    if (moved !== text) {
      // We raced another recoverer and moved a fresh, live lock: put it back unless one exists again.
      try {
        fs.linkSync(aside, this.file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    fs.unlinkSync(aside);
    if (moved === text) this.#recovered++;
    return true;
  }
}
