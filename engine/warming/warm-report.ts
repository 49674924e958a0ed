/** The JSON contract of `strata warm --json` (DESIGN.md). */
import type { FileFailure, FileSkip } from '../../shared/errors.js';
import type { RemoteCounters } from '../remote/remote-counters.js';
import { emptyLevel, type LevelName, type LevelSnapshot } from '../level-counters.js';

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

/** What {@link unchangedTreeReport} needs: the tree's counts and the run's own figures. */
export interface UnchangedTreeFigures {
  readonly root: string;
  readonly profile: string;
  readonly files: number;
  readonly bytes: number;
  readonly diskBytes: number;
  readonly durationMs: number;
  readonly workers: number;
  readonly warnings: readonly { readonly path: string; readonly message: string }[];
  readonly peakRssBytes: number;
}

/**
 * The report of a whole-tree warm of an unchanged tree in a fresh process, answered from the disk
 * without loading anything (the restart lane, engine/restart/): every file from disk, nothing parsed,
 * nothing in memory. The same fields, in the same order, as a warm run's report of that tree
 * (test/restart-lane.test.ts compares the two).
 */
export function unchangedTreeReport(figures: UnchangedTreeFigures): WarmReport {
  const { files, durationMs } = figures;
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    root: figures.root,
    profile: figures.profile,
    files,
    parsed: 0,
    fromCache: files,
    fromMemory: 0,
    fromDisk: files,
    failed: [],
    skipped: [],
    parseErrors: 0,
    bytes: figures.bytes,
    diskBytes: figures.diskBytes,
    durationMs,
    filesPerSec: durationMs > 0 ? (files / durationMs) * 1000 : 0,
    workers: figures.workers,
    stoppedBy: null,
    remaining: 0,
    warnings: figures.warnings,
    peakRssBytes: figures.peakRssBytes,
    levels: { content: emptyLevel(), ast: emptyLevel(), results: emptyLevel(), streams: emptyLevel() },
  };
}
