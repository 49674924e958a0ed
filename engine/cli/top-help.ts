/**
 * `strata --help` and `strata --version` without commander or the CLI's modules: the answer of a
 * bare `--help` is commander's own text, captured once at build time (`npm run build` runs this
 * file after tsc) into {@link TOP_HELP_FILE} beside main.js. main.ts prints it when it is there and
 * no older than main.js (a build that skipped this step falls back to commander), so the CLI's own
 * start costs about what Node's does. `STRATA_TOP_HELP=off` always asks commander.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** commander's `strata --help` text, relative to this directory. */
export const TOP_HELP_FILE = 'top-help.txt';

/** Captures commander's `strata --help` into {@link TOP_HELP_FILE} (atomically). */
export function writeTopHelp(dir: string = __dirname): void {
  const run = spawnSync(process.execPath, [path.join(dir, 'main.js'), '--help'], { env: { ...process.env, STRATA_TOP_HELP: 'off' }, encoding: 'utf8' });
  if (run.status !== 0 || run.stdout === '') throw new Error(`strata --help exited ${run.status}: ${run.stderr}`);
  const file = path.join(dir, TOP_HELP_FILE);
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, run.stdout);
  fs.renameSync(temporary, file);
}

if (require.main === module) {
  writeTopHelp();
  process.stdout.write(`top help: ${path.relative(process.cwd(), path.join(__dirname, TOP_HELP_FILE))}\n`);
}
