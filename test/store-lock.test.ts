import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileLock, FOREIGN_LOCK_MAX_AGE_MS, processStartTime, type LockOwner } from '../engine/store/lock.js';

const LOCK_MODULE = path.join(__dirname, '..', 'engine', 'store', 'lock.js');

function owner(fields: Partial<LockOwner>): string {
  return JSON.stringify({ pid: process.pid, startTime: processStartTime(process.pid), hostname: os.hostname(), acquiredAtMs: Date.now(), token: 'feedface', ...fields });
}

/** A child process that takes the lock, says so, and holds it until killed (or releases it after `releaseAfterMs`). */
function holdLockInChild(dir: string, releaseAfterMs?: number): Promise<ChildProcess> {
  const script = `
    const { FileLock } = require(${JSON.stringify(LOCK_MODULE)});
    const lock = new FileLock(${JSON.stringify(dir)}, 'store');
    if (!lock.acquire(5000)) process.exit(3);
    process.stdout.write('locked\\n');
    ${releaseAfterMs === undefined ? '' : `setTimeout(() => lock.release(), ${releaseAfterMs});`}
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout?.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
}

describe('FileLock', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'strata-lock-')));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('records pid, process start time and hostname, and removes the file on release', () => {
    const lock = new FileLock(dir, 'store');
    expect(lock.tryAcquire()).toBe(true);
    const recorded = JSON.parse(fs.readFileSync(lock.file, 'utf8')) as LockOwner;
    expect(recorded.pid).toBe(process.pid);
    expect(recorded.hostname).toBe(os.hostname());
    expect(recorded.startTime).toBe(processStartTime(process.pid));
    if (process.platform === 'linux') expect(recorded.startTime).toMatch(/^\d+$/);
    lock.release();
    expect(fs.existsSync(lock.file)).toBe(false);
  });

  it('recovers a lock whose process is dead', () => {
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(child.stdout);
    expect(deadPid).toBeGreaterThan(0);
    const lock = new FileLock(dir, 'store');
    fs.writeFileSync(lock.file, owner({ pid: deadPid, startTime: '12345' }));
    expect(lock.tryAcquire()).toBe(true);
    expect((JSON.parse(fs.readFileSync(lock.file, 'utf8')) as LockOwner).pid).toBe(process.pid);
    lock.release();
  });

  it('recovers a lock whose pid now belongs to a process started at another time', () => {
    const lock = new FileLock(dir, 'store');
    fs.writeFileSync(lock.file, owner({ startTime: 'a-start-time-that-is-not-ours' }));
    expect(lock.tryAcquire()).toBe(true);
    lock.release();
  });

  it('blocks while a live process holds the lock, and recovers it after that process is killed', async () => {
    const holder = await holdLockInChild(dir);
    try {
      const lock = new FileLock(dir, 'store');
      expect(lock.tryAcquire()).toBe(false);
      const started = Date.now();
      expect(lock.acquire(150)).toBe(false);
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
      holder.kill('SIGKILL');
      await exited(holder);
      expect(fs.existsSync(lock.file)).toBe(true); // a kill -9 leaves the file behind
      expect(lock.acquire(1000)).toBe(true);
      lock.release();
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('waits for a lock that its holder releases meanwhile', async () => {
    const holder = await holdLockInChild(dir, 150);
    try {
      const lock = new FileLock(dir, 'store');
      const started = Date.now();
      expect(lock.acquire(5_000)).toBe(true); // blocks this thread; the holder is another process
      expect(Date.now() - started).toBeGreaterThanOrEqual(50);
      lock.release();
    } finally {
      holder.kill('SIGKILL');
      await exited(holder);
    }
  });

  it('treats a lock from another host as live until it is very old', () => {
    const lock = new FileLock(dir, 'store');
    fs.writeFileSync(lock.file, owner({ hostname: 'another-host.invalid', pid: 1 }));
    expect(lock.tryAcquire()).toBe(false);
    fs.writeFileSync(lock.file, owner({ hostname: 'another-host.invalid', pid: 1, acquiredAtMs: Date.now() - FOREIGN_LOCK_MAX_AGE_MS - 1_000 }));
    expect(lock.tryAcquire()).toBe(true);
    lock.release();
  });

  it('recovers an unreadable (half-written) lock only after a grace period', () => {
    const lock = new FileLock(dir, 'store');
    fs.writeFileSync(lock.file, '');
    expect(lock.tryAcquire()).toBe(false);
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(lock.file, old, old);
    expect(lock.tryAcquire()).toBe(true);
    lock.release();
  });

  it('never removes a lock it does not hold', () => {
    const mine = new FileLock(dir, 'store');
    expect(mine.tryAcquire()).toBe(true);
    fs.writeFileSync(mine.file, owner({ token: 'someone-else' }));
    mine.release();
    expect(fs.existsSync(mine.file)).toBe(true);
    const other = new FileLock(dir, 'store');
    other.release(); // not held: a no-op
    expect(fs.existsSync(mine.file)).toBe(true);
  });
});
