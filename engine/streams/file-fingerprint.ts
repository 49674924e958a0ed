/**
 * What the watcher knows of a source file: its fingerprint (size, mtime, ctime, inode), and the
 * narrow view of the service's known files that the verify pass and rescans share. A fingerprint
 * that moved means the file changed, whatever chokidar reported (or missed).
 */
import * as fs from 'node:fs';

export interface Fingerprint {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly ino: number;
}

export function fingerprintOf(stats: fs.Stats): Fingerprint {
  return { size: stats.size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs, ino: stats.ino };
}

export function sameFingerprint(a: Fingerprint, b: Fingerprint): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino;
}

/** The stats of a regular file (links followed); null when gone or not a file. */
export function statFile(file: string): fs.Stats | null {
  try {
    const stats = fs.statSync(file);
    return stats.isFile() ? stats : null;
  } catch {
    return null;
  }
}

/** The service's known files, as the verify pass and rescans see them. */
export interface KnownFiles {
  readonly root: string;
  /** Source files seen, root-relative → fingerprint. */
  readonly known: ReadonlyMap<string, Fingerprint>;
  /** Records a file's current fingerprint and publishes what it means; false when unchanged. */
  apply(relative: string, fingerprint: Fingerprint, detectedAt: number): boolean;
  /** Forgets files found gone, invalidates them together and publishes one `unlink` each. */
  forget(files: string[], detectedAt: number): void;
}
