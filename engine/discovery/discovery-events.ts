/**
 * What a discovery walk yields (files to read, skips, failures, warnings) and the constructors of
 * those events, with fs errors described root-relative.
 */
import type { BigIntStats } from 'node:fs';
import type { FileStat } from './walk-fs.js';
import { fileFailureCodeOf } from '../../shared/errors.js';
import type { FileFailure, FileSkip, SkipReason } from '../../shared/errors.js';

/** A source file to read. */
export interface DiscoveredFile {
  readonly type: 'file';
  /** Root-relative, `/` separators: the path the file is known by (a link's own path when reached through one). */
  readonly path: string;
  /** The file's realpath: the one to read. */
  readonly absolutePath: string;
  /** Size in bytes when discovered. */
  readonly size: number;
  /**
   * The file's stat (of the target, for a link) at discovery: the restart path compares it with the
   * index. A walk gives plain stats (a `fs.Stats`, or a batch stat's fields: times as millisecond
   * doubles, no BigInt per field, measured ~10% of a restart's stat cost); a list of files
   * (listed-files.ts) gives nanosecond `BigIntStats`.
   */
  readonly stats: FileStat | BigIntStats;
}

export interface DiscoverySkipped {
  readonly type: 'skipped';
  readonly skip: FileSkip;
}

/** A source file that could not be stat'ed (e.g. a dangling symlink: `ENOENT`). */
export interface DiscoveryFailed {
  readonly type: 'failed';
  readonly failure: FileFailure;
}

/** Something that is not a source file went wrong (an unreadable directory or ignore file). The walk goes on. */
export interface DiscoveryWarning {
  readonly type: 'warning';
  /** Root-relative, `/` separators; `.` for the root itself. */
  readonly path: string;
  readonly message: string;
}

export type DiscoveryEvent = DiscoveredFile | DiscoverySkipped | DiscoveryFailed | DiscoveryWarning;

export function skipped(rel: string, reason: SkipReason): DiscoverySkipped {
  return { type: 'skipped', skip: { path: rel, reason } };
}

export function failed(rel: string, error: unknown): DiscoveryFailed {
  return { type: 'failed', failure: { path: rel, code: fileFailureCodeOf(error), message: describe(error) } };
}

export function warning(rel: string, message: string): DiscoveryWarning {
  return { type: 'warning', path: rel, message };
}

/** An fs error without the absolute path Node puts in its message (reports stay root-relative). */
export function describe(error: unknown): string {
  const { code, syscall } = error as NodeJS.ErrnoException;
  if (typeof code === 'string' && typeof syscall === 'string') {
    const message = error instanceof Error ? error.message : '';
    const text = message.startsWith(`${code}: `) ? message.slice(code.length + 2).split(', ')[0] : code;
    return `${syscall} failed: ${code} (${text})`;
  }
  return error instanceof Error ? error.message : String(error);
}
