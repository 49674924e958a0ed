/**
 * Startup warming with what earlier runs learned: first the entries (CI: the files git reports as
 * changed) and their dependencies, then the learned startup set, most likely first, skipping what
 * the first part already warmed. The learned part runs in chunks with a memory check between them,
 * so a large learned set stops before the process passes its memory limit.
 */
import { warmFromEntries, type EntryWarmOptions, type EntryWarmOutcome, type EntryWarmSource } from '../entry-warming.js';
import type { StopReason } from '../warm-report.js';

/** Learned files warmed between two memory checks. */
export const PREDICTED_CHUNK_FILES = 64;

export interface PredictedWarmOptions extends EntryWarmOptions {
  /** Checked before each chunk of learned files: 'memory-limit' stops the warm there. */
  readonly memoryCheck: () => StopReason;
}

export interface PredictedWarmOutcome extends EntryWarmOutcome {
  /** Learned files warmed (after the entries). */
  readonly predicted: number;
}

export async function warmEntriesThenPredicted(source: EntryWarmSource, entries: readonly string[], predicted: readonly string[], options: PredictedWarmOptions): Promise<PredictedWarmOutcome> {
  const first = await warmFromEntries(source, entries, options);
  let total: EntryWarmOutcome = first;
  let warmedPredicted = 0;
  const done = new Set(first.files);
  const learned = predicted.filter((file) => !done.has(file));
  for (let at = 0; at < learned.length && total.stoppedBy === null; at += PREDICTED_CHUNK_FILES) {
    const stop = options.memoryCheck();
    if (stop !== null) {
      total = { ...total, stoppedBy: stop };
      break;
    }
    const chunk = await warmFromEntries(source, learned.slice(at, at + PREDICTED_CHUNK_FILES), { ...options, depth: 0 });
    warmedPredicted += chunk.files.length;
    total = merge(total, chunk);
  }
  return { ...total, predicted: warmedPredicted };
}

/** The entries' outcome extended with a chunk of learned files (depth stays the entries'). */
function merge(total: EntryWarmOutcome, chunk: EntryWarmOutcome): EntryWarmOutcome {
  return {
    files: [...total.files, ...chunk.files],
    parsed: total.parsed + chunk.parsed,
    fromMemory: total.fromMemory + chunk.fromMemory,
    fromDisk: total.fromDisk + chunk.fromDisk,
    parseErrors: total.parseErrors + chunk.parseErrors,
    bytes: total.bytes + chunk.bytes,
    failed: [...total.failed, ...chunk.failed],
    skipped: [...total.skipped, ...chunk.skipped],
    depthReached: total.depthReached,
    stoppedBy: chunk.stoppedBy,
  };
}
