#!/usr/bin/env node
/**
 * The `strata` command line's entry (the package's bin). The command line itself is cli.ts.
 *
 * A plain `strata warm` is first offered to the restart lane (restart-entry.ts, engine/restart/):
 * an unchanged tree is answered from the restart receipt without loading the engine. Otherwise,
 * `strata warm` in its common forms (warm-argv.ts) runs from the CLI bundle (bundle-build.ts, an
 * esbuild bundle of bundle-entry.ts): the restart of an unchanged tree is dominated by start-up, and
 * the bundle replaces ~60 module resolutions, reads and compiles with one of each. Everything else,
 * and `warm` whenever the bundle is missing, older than this file (a build that skipped the bundle
 * step) or disabled (`STRATA_BUNDLE=off`), loads the modules as usual.
 * Exit codes: 0 ran, 1 fatal, 2 usage or invalid option, 130 interrupted.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EXIT_FATAL } from './exit-codes.js';
import { parseWarmArgv } from './warm-argv.js';

const startedAt = performance.now();

type Cli = typeof import('./cli.js');

/** Runs one command line with the modules loaded as usual (no bundle). */
export function main(argv: readonly string[]): Promise<number> {
  return (require('./cli.js') as Cli).main(argv, startedAt);
}

/** The CLI bundle, when it may run: present and built after this file. */
function bundleFile(): string | null {
  if (process.env.STRATA_BUNDLE === 'off') return null;
  const file = path.join(__dirname, 'strata-bundle.js');
  const bundle = fs.statSync(file, { throwIfNoEntry: false });
  return bundle !== undefined && bundle.mtimeMs >= fs.statSync(__filename).mtimeMs ? file : null;
}

/**
 * The restart lane (restart-entry.ts) for a plain `strata warm`: its bundle when present and built
 * after this file, else its modules. An exit code when it answered; null: run the command as usual
 * (also when the lane failed unexpectedly: the full path then meets and reports the same problem).
 */
function restartLane(argv: readonly string[]): number | null {
  type Lane = typeof import('./restart-entry.js');
  const bundle = path.join(__dirname, 'strata-restart.js'); // RESTART_BUNDLE_FILE (bundle-build.ts is build-time only)
  const built = process.env.STRATA_BUNDLE !== 'off' && (fs.statSync(bundle, { throwIfNoEntry: false })?.mtimeMs ?? -1) >= fs.statSync(__filename).mtimeMs;
  try {
    return (require(built ? bundle : './restart-entry.js') as Lane).runRestartLane(argv, startedAt);
  } catch {
    return null;
  }
}

/**
 * A bare `strata --help` / `-h` (commander's text, captured at build: top-help.ts) or `--version` /
 * `-v`, answered without loading commander or cli.ts; null when the command line is anything else
 * or the captured help is missing or older than this file.
 */
function topLevelAnswer(argv: readonly string[]): string | null {
  if (argv.length !== 1 || process.env.STRATA_TOP_HELP === 'off') return null;
  const flag = argv[0];
  if (flag === '--version' || flag === '-v') {
    const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
    return `${manifest.version}\n`;
  }
  if (flag !== '--help' && flag !== '-h') return null;
  const file = path.join(__dirname, 'top-help.txt'); // TOP_HELP_FILE (top-help.ts is build-time only)
  const help = fs.statSync(file, { throwIfNoEntry: false });
  return help !== undefined && help.mtimeMs >= fs.statSync(__filename).mtimeMs ? fs.readFileSync(file, 'utf8') : null;
}

function run(argv: readonly string[]): Promise<number> {
  const answer = topLevelAnswer(argv);
  if (answer !== null) {
    process.stdout.write(answer);
    return Promise.resolve(0);
  }
  const warm = parseWarmArgv(argv) !== null;
  if (warm) {
    const answered = restartLane(argv);
    if (answered !== null) return Promise.resolve(answered);
  }
  const file = warm ? bundleFile() : null;
  if (file === null) return main(argv);
  const { loadBundle, WRITE_CODE_CACHE_ENV } = require('./bundle-load.js') as typeof import('./bundle-load.js'); // not for --help
  const bundle = loadBundle(file);
  const ran = bundle.exports.main(argv, startedAt);
  const cacheTo = process.env[WRITE_CODE_CACHE_ENV];
  return cacheTo === undefined ? ran : ran.then((code) => (bundle.writeCodeCache(cacheTo), code));
}

if (require.main === module) {
  run(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`strata: ${String(error)}\n`);
      process.exitCode = EXIT_FATAL;
    },
  );
}
