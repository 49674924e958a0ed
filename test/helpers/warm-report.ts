/** Checks on a WarmReport's counts. */
import type { WarmReport } from '../../engine/warming/warm-report.js';

/** Every file counted once: files = parsed + fromCache + failed + skipped. */
export function filesAddUp(report: WarmReport): boolean {
  return report.files === report.parsed + report.fromCache + report.failed.length + report.skipped.length;
}
