/**
 * The `strata` command line (main.ts is its entry, and may load this module from the CLI bundle).
 * Exit codes: 0 ran, 1 fatal, 2 usage or invalid option, 130 interrupted.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { CommanderError } from 'commander';
import { isStrataError } from '../../shared/errors.js';
import { EXIT_FATAL, EXIT_OK, EXIT_USAGE } from './exit-codes.js';
import { log } from './output.js';
import { setLogLevel } from '../ops/log.js';
import { UsageError } from './usage-error.js';
import { warmAction } from './warm-command.js';
import { parseWarmArgv } from './warm-argv.js';

const loadedAt = performance.now();

function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

/** Runs one command line; `startedAt` (performance.now()) is what a warm's durationMs counts from. */
export async function main(argv: readonly string[], startedAt: number = loadedAt): Promise<number> {
  let exitCode = EXIT_OK;
  // Flags win over STRATA_LOG; read before parsing so that option resolution is logged too.
  if (argv.includes('--verbose')) setLogLevel('debug');
  else if (argv.includes('--quiet')) setLogLevel('error');
  const setExit = (code: number): void => {
    exitCode = code;
  };
  // `strata warm` in its common forms runs without commander and the other commands' modules: on an
  // unchanged tree, loading them was a noticeable share of the whole run.
  const warm = parseWarmArgv(argv);
  if (warm !== null) {
    try {
      await warmAction(warm.root, warm.flags, startedAt, setExit);
      return exitCode;
    } catch (error) {
      return exitCodeFor(error, null);
    }
  }
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { Command, CommanderError: CommanderErrorClass } = require('commander') as typeof import('commander');
  const program = new Command()
    .name('strata')
    .description('Multi-level cache engine for JavaScript/TypeScript code analyzers')
    .version(packageVersion(), '-v, --version')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (text) => process.stdout.write(text), writeErr: (text) => process.stderr.write(text) });
  (require('./warm-command.js') as typeof import('./warm-command.js')).registerWarm(program, startedAt, setExit);
  (require('./clear-command.js') as typeof import('./clear-command.js')).registerClear(program, setExit);
  (require('./deps-command.js') as typeof import('./deps-command.js')).registerDeps(program, setExit);
  (require('./stats-command.js') as typeof import('./stats-command.js')).registerStats(program, setExit);
  (require('./doctor-command.js') as typeof import('./doctor-command.js')).registerDoctor(program, setExit);
  (require('./watch-command.js') as typeof import('./watch-command.js')).registerWatch(program, setExit);
  (require('./bench-command.js') as typeof import('./bench-command.js')).registerBench(program, setExit);
  (require('./remote-command.js') as typeof import('./remote-command.js')).registerRemote(program, setExit);
  /* eslint-enable @typescript-eslint/no-require-imports */
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    return exitCodeFor(error, CommanderErrorClass);
  }
}

function exitCodeFor(error: unknown, commanderError: typeof CommanderError | null): number {
  if (commanderError !== null && error instanceof commanderError) {
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

