/**
 * `strata bench [--corpus DIR] [--quick] [--json] [--out FILE]`: the benchmark suite (bench/suite.ts)
 * on one corpus, each scenario with its peer measured in the same run. The suite is loaded only when
 * the command runs (dist/bench/suite.js), so other commands never pay for it. Prints the table, or
 * with --json the report on stdout (progress always on stderr). Writes bench/results/suite.json (or
 * --out). Exit 0 when it ran, whatever the figures; 1 when it could not run.
 */
import * as path from 'node:path';
import type { Command } from 'commander';
import { EXIT_FATAL, EXIT_OK } from './exit-codes.js';
import { log, printJson } from './output.js';

interface BenchFlags {
  readonly corpus?: string;
  readonly quick?: boolean;
  readonly json?: boolean;
  readonly out?: string;
}

/** The slice of bench/suite.ts this command uses (loaded at run time). */
interface SuiteModule {
  runSuite(options: { corpus?: string; quick: boolean; json: boolean; out?: string }): Promise<unknown>;
}

export function registerBench(program: Command, setExit: (code: number) => void): void {
  program
    .command('bench')
    .description('run the benchmark suite: Strata against its peers, side by side, on one corpus')
    .option('--corpus <dir>', 'benchmark this directory (default: a generated monorepo)')
    .option('--quick', 'a ~400-file corpus and fewer repetitions (minutes, not tens of minutes)')
    .option('--json', 'print the JSON report on stdout instead of the table')
    .option('--out <file>', 'where the JSON report is written (default: bench/results/suite.json)')
    .action(async (flags: BenchFlags) => {
      let suite: SuiteModule;
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        suite = require(path.join(__dirname, '..', '..', 'bench', 'suite.js')) as SuiteModule;
      } catch (error) {
        log(`strata bench: the benchmark suite is not available in this installation (${(error as Error).message.split('\n')[0]})`);
        setExit(EXIT_FATAL);
        return;
      }
      try {
        const report = await suite.runSuite({
          quick: flags.quick === true,
          json: flags.json === true,
          ...(flags.corpus !== undefined ? { corpus: path.resolve(flags.corpus) } : {}),
          ...(flags.out !== undefined ? { out: path.resolve(flags.out) } : {}),
        });
        if (flags.json) printJson(report);
        setExit(EXIT_OK);
      } catch (error) {
        log(`strata bench: cannot run: ${(error as Error).message}`);
        setExit(EXIT_FATAL);
      }
    });
}
