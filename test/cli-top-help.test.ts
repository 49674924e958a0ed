/**
 * `strata --help` and `--version` answered without commander (top-help.ts, main.ts): the text is
 * commander's own, byte for byte, no module of the CLI beyond main.js is loaded, and a stale or
 * missing capture falls back to commander.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TOP_HELP_FILE, writeTopHelp } from '../engine/cli/top-help.js';
import { CLI } from './helpers/temp-tree.js';

const HELP = path.join(path.dirname(CLI), TOP_HELP_FILE);
/** Runs the CLI in a fresh Node; with `trace`, also which of the CLI's modules and packages it loaded. */
function strata(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; loaded: string[] } {
  const tracer = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'strata-help-')), 'trace.js');
  fs.writeFileSync(tracer, "const M = require('module'); const load = M._load; M._load = function (request, ...rest) { process.stderr.write('LOAD ' + request + '\\n'); return load.call(this, request, ...rest); };\n");
  const run = spawnSync(process.execPath, ['-r', tracer, CLI, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env }, timeout: 60_000 });
  fs.rmSync(path.dirname(tracer), { recursive: true, force: true });
  const loaded = run.stderr.split('\n').filter((line) => line.startsWith('LOAD ')).map((line) => line.slice(5));
  return { status: run.status, stdout: run.stdout, loaded };
}

describe('strata --help / --version without commander', () => {
  it('prints commander’s own help and version text, loading neither commander nor cli.js', () => {
    const viaCommander = strata(['--help'], { STRATA_TOP_HELP: 'off' });
    expect(viaCommander.loaded).toContain('commander');
    for (const flag of ['--help', '-h']) {
      const fast = strata([flag]);
      expect({ status: fast.status, stdout: fast.stdout }).toEqual({ status: 0, stdout: viaCommander.stdout });
      expect(fast.loaded.filter((request) => request === 'commander' || request.includes('cli.js') || request.includes('bundle'))).toEqual([]);
    }
    const version = strata(['--version'], { STRATA_TOP_HELP: 'off' });
    for (const flag of ['--version', '-v']) expect(strata([flag]).stdout).toBe(version.stdout);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('falls back to commander when the captured help is older than main.js, and the build step rewrites it', () => {
    const past = new Date(Date.now() - 3_600_000);
    fs.utimesSync(HELP, past, past);
    try {
      const stale = strata(['--help']);
      expect(stale.loaded).toContain('commander');
      expect(stale.stdout).toContain('Usage: strata');
    } finally {
      writeTopHelp(path.dirname(CLI));
    }
    expect(fs.statSync(HELP).mtimeMs).toBeGreaterThanOrEqual(fs.statSync(CLI).mtimeMs);
    expect(strata(['--help']).loaded).not.toContain('commander');
  });

  it('leaves every other command line to commander (help of a command, unknown flags)', () => {
    const warmHelp = strata(['warm', '--help']);
    expect(warmHelp.status).toBe(0);
    expect(warmHelp.stdout).toContain('--no-persist');
    const unknown = strata(['--nope']);
    expect(unknown.status).toBe(2);
  });
});
