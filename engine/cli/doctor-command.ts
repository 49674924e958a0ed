/**
 * `strata doctor [root] [--repair] [--strict]`: opens the root's engine (persistence on), checks the
 * cache's consistency across levels (repairing with `--repair`), diagnoses memory and hit rates (from
 * the last persisted warm's counters in a fresh process) and prints findings and recommendations.
 *
 * Exit codes (DESIGN.md): 0 when it ran, findings included; with `--strict`, 1 when a problem remains
 * (an unrepaired inconsistency, a memory rule broken, an alert firing). JSON: the {@link DoctorReport}.
 */
import type { Command } from 'commander';
import { diagnoseEngine, type DoctorReport } from '../ops/diagnostics.js';
import { createEngine } from '../engine.js';
import { indexIdFor } from '../store/root-index.js';
import { commonOptions, machineFor, optionsFromCommon, type CommonFlags } from './common.js';
import { EXIT_FATAL, EXIT_OK } from './exit-codes.js';
import { printJson } from './output.js';
import { existingCacheDir, readLastRun } from './stats-command.js';

interface DoctorFlags extends CommonFlags {
  repair?: boolean;
  strict?: boolean;
}

export function registerDoctor(program: Command, setExit: (code: number) => void): void {
  const command = program
    .command('doctor [root]')
    .description("check the root's cache: consistency across levels, memory, hit rates and alerts")
    .option('--repair', 'remove inconsistent entries (they are rebuilt on the next warm)')
    .option('--strict', 'exit 1 when a problem remains');
  commonOptions(command).action(async (root: string | undefined, flags: DoctorFlags) => {
    const options = { ...optionsFromCommon(root, flags), persist: true };
    // In this thread: the doctor parses nothing, and starts no worker pool.
    const engine = createEngine({ ...options, executor: 'in-thread' }, { machine: await machineFor(options) });
    let report: DoctorReport;
    try {
      const dir = existingCacheDir(engine.options);
      const lastRun = dir === null ? null : readLastRun(dir, indexIdFor(dir, engine.options.root));
      const lastRunFiles = lastRun ? { files: lastRun.files, fromDisk: lastRun.fromDisk } : null;
      report = diagnoseEngine(engine, { repair: flags.repair === true, lastRunLevels: lastRun?.levels ?? null, lastRunFiles });
    } finally {
      await engine.close();
    }
    if (flags.json) printJson(report);
    else if (!flags.quiet || (flags.strict && report.problems > 0)) process.stdout.write(formatDoctorReport(report) + '\n');
    setExit(flags.strict && report.problems > 0 ? EXIT_FATAL : EXIT_OK);
  });
}

const MEBIBYTE = 1024 * 1024;

/** The human-readable form of a doctor report. */
export function formatDoctorReport(report: DoctorReport): string {
  const memory = report.memory;
  const share = memory.cacheShareOfRss === null ? '' : ` (${Math.round(memory.cacheShareOfRss * 100)}% of RSS)`;
  const lines = [
    `${report.root}: ${report.problems === 0 ? 'no problems' : `${report.problems} problem${report.problems === 1 ? '' : 's'}`}${report.repaired > 0 ? `, ${report.repaired} repaired` : ''}`,
    `  memory: caches ${(memory.cacheBytes / MEBIBYTE).toFixed(1)} MiB${share}, RSS ${(memory.rssBytes / MEBIBYTE).toFixed(1)} MiB; content ${(memory.contentBytes / MEBIBYTE).toFixed(1)} of ${(memory.contentBudget / MEBIBYTE).toFixed(0)} MiB, ast ${(memory.astBytes / MEBIBYTE).toFixed(1)} of ${(memory.astBudget / MEBIBYTE).toFixed(0)} MiB`,
  ];
  const judged = report.hitRates.judged;
  if (judged !== null) {
    const rates = Object.entries(judged)
      .filter(([, level]) => level.hitRate !== null)
      .map(([name, level]) => `${name} ${(level.hitRate! * 100).toFixed(1)}% of ${level.couldHaveHit}`);
    lines.push(`  hit rates over accesses that could have hit (${report.hitRates.source === 'engine' ? 'this process' : 'last warm'}): ${rates.length > 0 ? rates.join(', ') : 'none could'}`);
  }
  if (report.hitRates.note !== null) lines.push(`  hit rates: ${report.hitRates.note}`);
  for (const finding of report.findings) lines.push(`  ${finding.severity === 'problem' && !finding.repaired ? 'problem' : finding.repaired ? 'repaired' : 'advice'}: ${finding.message}`);
  for (const alert of report.alerts) lines.push(`  alert: ${alert.message}`);
  for (const recommendation of report.recommendations) lines.push(`  → ${recommendation}`);
  return lines.join('\n');
}
