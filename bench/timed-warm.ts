/**
 * One `strata warm --json --quiet` as a whole process, timed from spawn to exit, with its report:
 * the shared step of the benchmarks that compare whole warms (persistence, remote).
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';

const CLI = path.join(__dirname, '..', '..', 'dist', 'engine', 'cli', 'main.js');

export function timedWarm<Report>(root: string, cacheDir: string, extra: readonly string[]): Promise<{ wallMs: number; report: Report }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [CLI, 'warm', root, '--json', '--quiet', '--cache-dir', cacheDir, ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve({ wallMs: performance.now() - started, report: JSON.parse(stdout) as Report }) : reject(new Error(`warm exited ${code}`))));
  });
}
