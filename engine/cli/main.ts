#!/usr/bin/env node
/** The `strata` command line. Exit codes: 0 ran, 1 fatal, 2 usage or invalid option, 130 interrupted. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError } from 'commander';
import { isStrataError } from '../../shared/errors.js';
import { EXIT_FATAL, EXIT_OK, EXIT_USAGE } from './exit-codes.js';
import { log } from './output.js';
import { setLogLevel } from '../log.js';
import { registerClear } from './clear-command.js';
import { registerDeps } from './deps-command.js';
import { registerDoctor } from './doctor-command.js';
import { registerStats } from './stats-command.js';
import { registerWatch } from './watch-command.js';
import { registerBench } from './bench-command.js';
import { UsageError } from './usage-error.js';
import { registerWarm } from './warm-command.js';

const startedAt = performance.now();

function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

export async function main(argv: readonly string[]): Promise<number> {
  let exitCode = EXIT_OK;
  // Flags win over STRATA_LOG; read before parsing so that option resolution is logged too.
  if (argv.includes('--verbose')) setLogLevel('debug');
  else if (argv.includes('--quiet')) setLogLevel('error');
  const program = new Command()
    .name('strata')
    .description('Multi-level cache engine for JavaScript/TypeScript code analyzers')
    .version(packageVersion(), '-v, --version')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (text) => process.stdout.write(text), writeErr: (text) => process.stderr.write(text) });
  const setExit = (code: number): void => {
    exitCode = code;
  };
  registerWarm(program, startedAt, setExit);
  registerClear(program, setExit);
  registerDeps(program, setExit);
  registerStats(program, setExit);
  registerDoctor(program, setExit);
  registerWatch(program, setExit);
  registerBench(program, setExit);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    return exitCodeFor(error);
  }
}

function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return EXIT_OK;
    return EXIT_USAGE; // commander already printed the message
  }
  if (error instanceof UsageError) {
    log(`strata: ${error.message}`);
    return EXIT_USAGE;
  }
  if (isStrataError(error) && error.code === 'EINVALIDOPTION') {
    log(`strata: ${error.message}`);
    return EXIT_USAGE;
  }
  log(`strata: ${(error as Error)?.stack ?? String(error)}`);
  return EXIT_FATAL;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      log(`strata: ${String(error)}`);
      process.exitCode = EXIT_FATAL;
    },
  );
}
