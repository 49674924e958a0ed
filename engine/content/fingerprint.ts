/**
 * A file's fingerprint (DESIGN.md): device, inode, size, mtime and ctime in nanoseconds.
 * `touch` can restore an mtime but never a ctime, so a same-size edit with the mtime put back is
 * still seen. Entries cached within RACY_WINDOW_NS of the file's mtime or ctime are "racy"
 * (git's rule): the same second may hold another edit, so their next read re-hashes the content.
 */
import type { BigIntStats } from 'node:fs';

export interface Fingerprint {
  readonly dev: bigint;
  readonly ino: bigint;
  readonly size: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
}

/** Two seconds: coarse file-system clocks (FAT, some network mounts) tick in whole seconds. */
export const RACY_WINDOW_NS = 2_000_000_000n;

export function fingerprintOf(stats: BigIntStats): Fingerprint {
  return { dev: stats.dev, ino: stats.ino, size: stats.size, mtimeNs: stats.mtimeNs, ctimeNs: stats.ctimeNs };
}

export function sameFingerprint(a: Fingerprint, b: Fingerprint): boolean {
  return a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs && a.ino === b.ino && a.dev === b.dev;
}

/**
 * How far apart (in ms) a millisecond time from a plain `fs.Stats` (a double) and a nanosecond time
 * from the index may be and still count as equal: one microsecond. The restart path stats with plain
 * `Stats` (no BigInt per field), whose `mtimeMs`/`ctimeMs` carry ~0.25 µs resolution today, so exact
 * nanoseconds cannot be compared. This never hides an edit: a record only matches when it was not
 * racy, i.e. captured at least {@link RACY_WINDOW_NS} after the file's last change, and any later
 * change sets the ctime to the time of that change, seconds away from the recorded one (same rule,
 * and same clock assumption, as git's racy check). Size, inode and device are compared too.
 */
export const STAT_TIME_TOLERANCE_MS = 0.001;

/** Wall-clock now in ns, comparable with file times. */
export function wallClockNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** True when the content was captured too close to the file's last change to trust the fingerprint. */
export function isRacy(fingerprint: Fingerprint, capturedAtNs: bigint): boolean {
  const lastChange = fingerprint.mtimeNs > fingerprint.ctimeNs ? fingerprint.mtimeNs : fingerprint.ctimeNs;
  return capturedAtNs - lastChange < RACY_WINDOW_NS;
}
