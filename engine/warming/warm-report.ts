/** The JSON contract of `strata warm --json` (DESIGN.md). */
import type { FileFailure, FileSkip } from '../../shared/errors.js';
import type { RemoteCounters } from '../remote/remote-counters.js';
import type { LevelName, LevelSnapshot } from '../level-counters.js';

export const REPORT_SCHEMA_VERSION = 1;

/** Why a warm stopped before it handled every file; null when it finished. */
export type StopReason = null | 'memory-limit' | 'time-limit' | 'interrupted';

export interface WarmReport {
  readonly schemaVersion: number;
  readonly root: string;
  readonly profile: string;
  /** Source files handled: parsed + fromCache + failed.length + skipped.length. */
  readonly files: number;
  readonly parsed: number;
  readonly fromCache: number;
  readonly fromMemory: number;
  readonly fromDisk: number;
  /** With a remote tier: files answered by verified remote entries (part of fromCache). */
  readonly fromRemote?: number;
  /** With a remote tier: what this warm moved its counters by (and its state at the end); `stats().remote` has the engine's totals. */
  readonly remote?: RemoteCounters;
  readonly failed: readonly FileFailure[];
  readonly skipped: readonly FileSkip[];
  /** Files parsed with syntax errors (a syntax error is an answer, not a failure). */
  readonly parseErrors: number;
  /** Source bytes of the files handled. */
  readonly bytes: number;
  readonly diskBytes: number;
  readonly durationMs: number;
  readonly filesPerSec: number;
  readonly workers: number;
  readonly stoppedBy: StopReason;
  /** Files found but not handled because the warm stopped early (not counted in `files`). */
  readonly remaining: number;
  /** Directories that could not be read, and similar non-file problems. */
  readonly warnings: readonly { readonly path: string; readonly message: string }[];
  readonly peakRssBytes: number;
  readonly levels: Readonly<Record<LevelName, LevelSnapshot>>;
  /** With `--entry`: the depth asked for and the deepest level reached. */
  readonly entries?: { readonly depth: number; readonly depthReached: number };
  /** With `predicted: true` (or `--changed`/`--predicted`): files of the learned startup set, and how many were warmed after the entries. */
  readonly predicted?: { readonly learned: number; readonly warmed: number };
}
