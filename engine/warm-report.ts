/** The JSON contract of `strata warm --json` (DESIGN.md). */
import type { FileFailure, FileSkip } from '../shared/errors.js';
import type { LevelName, LevelSnapshot } from './metrics.js';
import type { PredictedWarmOutcome } from './warming/predicted-warm.js';

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

/** What a dependency or predicted warm's report takes from the engine besides the outcome. */
export interface EntryWarmContext {
  readonly root: string;
  readonly profile: string;
  /** performance.now() at the warm's start. */
  readonly startedAt: number;
  readonly workers: number;
  readonly diskBytes: number;
  readonly levels: Readonly<Record<LevelName, LevelSnapshot>>;
  readonly warnings: readonly { readonly path: string; readonly message: string }[];
  /** Present when the warm had entries: the depth asked for. */
  readonly entries?: { readonly depth: number };
  /** Present when the warm included the learned set: how many files it held. */
  readonly learned?: number;
}

/** The contract report of a warm from entries and/or the learned set, like a full warm's. */
export function entryWarmReport(outcome: PredictedWarmOutcome, context: EntryWarmContext): WarmReport {
  const handled = outcome.parsed + outcome.fromMemory + outcome.fromDisk + outcome.failed.length + outcome.skipped.length;
  const durationMs = performance.now() - context.startedAt;
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    root: context.root,
    profile: context.profile,
    files: handled,
    parsed: outcome.parsed,
    fromCache: outcome.fromMemory + outcome.fromDisk,
    fromMemory: outcome.fromMemory,
    fromDisk: outcome.fromDisk,
    failed: outcome.failed,
    skipped: outcome.skipped,
    parseErrors: outcome.parseErrors,
    bytes: outcome.bytes,
    diskBytes: context.diskBytes,
    durationMs,
    filesPerSec: durationMs > 0 ? (handled / durationMs) * 1000 : 0,
    workers: context.workers,
    stoppedBy: outcome.stoppedBy,
    remaining: 0,
    warnings: context.warnings,
    peakRssBytes: process.memoryUsage.rss(),
    levels: context.levels,
    ...(context.entries !== undefined ? { entries: { depth: context.entries.depth, depthReached: outcome.depthReached } } : {}),
    ...(context.learned !== undefined ? { predicted: { learned: context.learned, warmed: outcome.predicted } } : {}),
  };
}
