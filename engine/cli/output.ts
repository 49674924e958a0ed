/**
 * Where the CLI writes: with --json, stdout carries only JSON; logs and progress go to stderr,
 * progress only on a TTY.
 */

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function log(message: string): void {
  process.stderr.write(message + '\n');
}

export interface Progress {
  update(done: number, found: number): void;
  stop(): void;
}

const SILENT: Progress = { update: () => undefined, stop: () => undefined };

export function createProgress(enabled: boolean): Progress {
  if (!enabled || !process.stderr.isTTY) return SILENT;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { SingleBar } = require('cli-progress') as typeof import('cli-progress');
  const bar = new SingleBar({
    stream: process.stderr,
    format: 'warming [{bar}] {value}/{total} files | {rate} files/s',
    hideCursor: true,
    clearOnComplete: true,
    etaBuffer: 50,
  });
  const started = performance.now();
  bar.start(1, 0, { rate: 0 });
  return {
    update(done, found) {
      const seconds = (performance.now() - started) / 1000;
      bar.setTotal(Math.max(found, 1));
      bar.update(done, { rate: seconds > 0 ? Math.round(done / seconds) : 0 });
    },
    stop() {
      bar.stop();
    },
  };
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
