/**
 * Counts for the README's reliability table (issue 8). Tests call {@link recordReliability} with what
 * they did; when `STRATA_RELIABILITY_OUT` names a file, each call appends one JSON line to it, and
 * `bench/reliability.ts` sums the lines into `bench/results/reliability.json`. Without the variable
 * nothing is written (a plain `npm test`).
 */
import * as fs from 'node:fs';

export interface ReliabilityCounts {
  /** Engine operations and reads run (every one checked against the disk). */
  readonly operations?: number;
  /** Processes killed with SIGKILL mid-work. */
  readonly crashes?: number;
  /** Cache files damaged on purpose (byte flips, truncation, zeroing, garbage). */
  readonly corruptions?: number;
  /** Hostile or broken inputs fed to the engine (files, names, paths, cache contents). */
  readonly badInputs?: number;
  /** Answers that differed from the disk (a test fails when this is not 0). */
  readonly wrongAnswers?: number;
  /** Source files missing from a warm's report (a test fails when this is not 0). */
  readonly missingFiles?: number;
  /** Peak RSS of a warm, and the budget it was asserted against. */
  readonly peakRssBytes?: number;
  readonly rssBudgetBytes?: number;
}

export const RELIABILITY_OUT_ENV = 'STRATA_RELIABILITY_OUT';

export function recordReliability(area: string, counts: ReliabilityCounts): void {
  const out = process.env[RELIABILITY_OUT_ENV];
  if (out === undefined || out === '') return;
  fs.appendFileSync(out, `${JSON.stringify({ area, ...counts })}\n`);
}

/** A number from the environment (soak sizes), or the `npm test` default. */
export function envCount(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? '');
  return Number.isSafeInteger(value) && value > 0 ? value : fallback;
}
