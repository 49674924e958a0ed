/** The text `strata warm` prints for its report (without --json or --quiet). */
import type { WarmReport } from '../warming/warm-report.js';
import { formatBytes } from './output.js';

export function summarize(report: WarmReport): string {
  const lines = [
    `warmed ${report.files} files (${formatBytes(report.bytes)}) in ${(report.durationMs / 1000).toFixed(2)} s: ${Math.round(report.filesPerSec)} files/s with ${report.workers} workers`,
    `  parsed ${report.parsed} (${report.parseErrors} with syntax errors), from cache ${report.fromCache}, failed ${report.failed.length}, skipped ${report.skipped.length}`,
  ];
  if (report.predicted) lines.push(`  learned files: ${report.predicted.warmed} warmed of ${report.predicted.learned} predicted`);
  if (report.stoppedBy) lines.push(`  stopped by ${report.stoppedBy}; ${report.remaining} files found but not handled`);
  for (const failure of report.failed.slice(0, 10)) lines.push(`  failed ${failure.path}: ${failure.code} ${failure.message}`);
  if (report.failed.length > 10) lines.push(`  … and ${report.failed.length - 10} more failures (--json lists them all)`);
  for (const warning of report.warnings.slice(0, 5)) lines.push(`  warning ${warning.path}: ${warning.message}`);
  return lines.join('\n');
}
