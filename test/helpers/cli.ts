/** Runs the real `strata` CLI (dist/engine/cli/main.js) in a child process, with only PATH from the environment. */
import { spawnSync } from 'node:child_process';
import { CLI } from './temp-tree.js';

export interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `strata ARGS` from `cwd` (this process's when not given), its environment PATH plus `env`; 60 s at most. */
export function runStrata(args: string[], { cwd, env = {} }: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): CliRun {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', env: { PATH: process.env.PATH, ...env }, timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `strata ARGS --json` from `cwd`: expects exit 0 and nothing on stderr, and returns the parsed stdout. */
export function strataJson(args: string[], cwd: string): Record<string, any> {
  const result = runStrata([...args, '--json'], { cwd });
  expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
  return JSON.parse(result.stdout) as Record<string, any>;
}
