/** A watcher child process for tests: its stdout as JSON lines, event-driven waits. */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

export const WATCH_RUNNER = path.join(__dirname, '..', 'fixtures', 'watch-runner.js');

export interface LineEvent {
  event: 'add' | 'change' | 'unlink' | 'resync';
  path: string;
  invalidated: string[];
  revision: number;
  schemaVersion?: number;
}

export class WatchProcess {
  readonly child: ChildProcess;
  readonly lines: Record<string, unknown>[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #buffer = '';
  #listeners = new Set<() => void>();

  constructor(script: string, args: readonly string[]) {
    this.child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8');
    this.child.stderr!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => {
      this.#buffer += chunk;
      let newline: number;
      while ((newline = this.#buffer.indexOf('\n')) >= 0) {
        const line = this.#buffer.slice(0, newline);
        this.#buffer = this.#buffer.slice(newline + 1);
        if (line.trim() !== '') this.lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      this.#notify();
    });
    this.child.stderr!.on('data', (chunk: string) => {
      this.stderr += chunk;
      this.#notify();
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    void this.exited.then(() => this.#notify());
  }

  get events(): LineEvent[] {
    return this.lines.filter((line) => typeof line.event === 'string') as unknown as LineEvent[];
  }

  /** Resolves once `predicate` holds (checked on every output), rejects after `timeoutMs`. */
  waitFor(predicate: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!predicate()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${what}; events: ${JSON.stringify(this.events.slice(-20))}; stderr: ${this.stderr}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.#listeners.delete(check);
      };
      this.#listeners.add(check);
    });
  }

  /** Waits for an event on `file` of one of `kinds`, after `from` events. Returns its index. */
  async waitForEvent(file: string, kinds: readonly string[], from = 0, timeoutMs = 20_000): Promise<LineEvent> {
    let found: LineEvent | undefined;
    await this.waitFor(() => {
      found = this.events.slice(from).find((e) => e.path === file && kinds.includes(e.event));
      return found !== undefined;
    }, `${kinds.join('|')} ${file}`, timeoutMs);
    return found!;
  }

  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}
