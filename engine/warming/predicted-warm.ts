/**
 * Startup warming with what earlier runs learned: first the entries (CI: the files git reports as
 * changed) and their dependencies, then the learned startup set, most likely first, skipping what
 * the first part already warmed. The learned part runs like a full warm over a list (batched, under
 * the memory governor), after a memory check.
 */
import { warmFromEntries, type EntryWarmOptions, type EntryWarmOutcome, type EntryWarmSource } from './entry-warming.js';
import type { LevelName, LevelSnapshot } from '../level-counters.js';
import { REPORT_SCHEMA_VERSION, type StopReason, type WarmReport } from './warm-report.js';

export interface PredictedWarmOptions extends EntryWarmOptions {
  /** Checked before the learned files: 'memory-limit' stops the warm there. */
  readonly memoryCheck: () => StopReason;
  /**
   * Warms a list of files the way a full warm does (batched through the pool, memory-governed); the
   * learned files need no dependency walk. @default one at a time through `source`
   */
  readonly warmListed?: (files: readonly string[]) => Promise<EntryWarmOutcome>;
}

export interface PredictedWarmOutcome extends EntryWarmOutcome {
  /** Learned files warmed (after the entries). */
  readonly predicted: number;
}

export async function warmEntriesThenPredicted(source: EntryWarmSource, entries: readonly string[], predicted: readonly string[], options: PredictedWarmOptions): Promise<PredictedWarmOutcome> {
  const first = entries.length > 0 ? await warmFromEntries(source, entries, options) : EMPTY;
  const done = new Set(first.files);
  const learned = predicted.filter((file) => !done.has(file));
  if (learned.length === 0 || first.stoppedBy !== null) return { ...first, predicted: 0 };
  const stop = options.memoryCheck();
  if (stop !== null) return { ...first, stoppedBy: stop, predicted: 0 };
  const rest = options.warmListed ? await options.warmListed(learned) : await warmFromEntries(source, learned, { ...options, depth: 0 });
  return { ...merge(first, rest), predicted: rest.files.length };
}

const EMPTY: EntryWarmOutcome = { files: [], parsed: 0, fromMemory: 0, fromDisk: 0, parseErrors: 0, bytes: 0, failed: [], skipped: [], depthReached: 0, stoppedBy: null };

/** The entries' outcome extended with the learned files' (depth stays the entries'). */
function merge(total: EntryWarmOutcome, rest: EntryWarmOutcome): EntryWarmOutcome {
  return {
    files: [...total.files, ...rest.files],
    parsed: total.parsed + rest.parsed,
    fromMemory: total.fromMemory + rest.fromMemory,
    fromDisk: total.fromDisk + rest.fromDisk,
    parseErrors: total.parseErrors + rest.parseErrors,
    bytes: total.bytes + rest.bytes,
    failed: [...total.failed, ...rest.failed],
    skipped: [...total.skipped, ...rest.skipped],
    depthReached: total.depthReached,
    stoppedBy: rest.stoppedBy,
  };
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
