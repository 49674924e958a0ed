/**
 * One `strata warm --json --quiet` as a whole process, timed from spawn to exit, with its report:
 * the shared step of the benchmarks that compare whole warms (persistence, remote); and any node
 * process timed the same way.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';

const CLI = path.join(__dirname, '..', '..', 'dist', 'engine', 'cli', 'main.js');

/** One node process (`args` after node itself), timed from spawn to exit, with its stdout; rejects on a non-zero exit. */
export function timedProcess(args: readonly string[]): Promise<{ wallMs: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve({ wallMs: performance.now() - started, stdout }) : reject(new Error(`${args.join(' ')} exited ${code}`))));
  });
}

export async function timedWarm<Report>(root: string, cacheDir: string, extra: readonly string[]): Promise<{ wallMs: number; report: Report }> {
  const { wallMs, stdout } = await timedProcess([CLI, 'warm', root, '--json', '--quiet', '--cache-dir', cacheDir, ...extra]);
  return { wallMs, report: JSON.parse(stdout) as Report };
}
