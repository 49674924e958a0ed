/**
 * `strata watch [root]` (DESIGN.md, "Contract"): watches the root, invalidates through the engine
 * as files change and prints one line per event; with `--json`, exactly one JSON object per line,
 * `{ schemaVersion, event, path, invalidated, revision }`, `invalidated` naming the changed file and
 * its transitive dependents (engine.watch()). `watching <root>` goes to stderr once the watcher is
 * ready and the dependency graph built. `--status [seconds]` adds a live status line on stderr (in
 * place on a terminal, plain lines otherwise). SIGINT or SIGTERM closes everything and exits 0.
 */
import type { Command } from 'commander';
import { createEngine } from '../engine.js';
import type { WatchEvent } from '../streams/watch-service.js';
import { REPORT_SCHEMA_VERSION } from '../warming/warm-report.js';
import { formatLiveStatus } from '../ops/live-status.js';
import { commonOptions, machineFor, optionsFromCommon, type CommonFlags } from './common.js';
import { EXIT_OK } from './exit-codes.js';
import { log } from './output.js';
import { remoteFromFlags, remoteOptions, type RemoteFlags } from './remote-flags.js';
import { StatusLine } from './status-line.js';
import { UsageError } from './usage-error.js';

interface WatchFlags extends CommonFlags, RemoteFlags {
  status?: boolean | string;
}

const DEFAULT_STATUS_SECONDS = 1;

export function registerWatch(program: Command, setExit: (code: number) => void): void {
  const command = program
    .command('watch [root]')
    .description('watch the root and print what changed and what was invalidated (its dependents included), as it happens')
    .option('--status [seconds]', `a live status line on stderr every SECONDS (default ${DEFAULT_STATUS_SECONDS}): hit rates, bytes, queues, pool; redrawn in place on a terminal, one line each time otherwise`);
  commonOptions(remoteOptions(command)).action(async (root: string | undefined, flags: WatchFlags) => {
    const statusMs = statusInterval(flags.status);
    const remote = remoteFromFlags(flags);
    const options = { ...optionsFromCommon(root, flags), ...(remote !== undefined ? { remote } : {}) };
    // The pool parses what the dependency graph needs at the start (nothing after a warm: L2 on disk).
    const engine = createEngine(options, { machine: await machineFor(options) });
    const json = flags.json === true;
    const quiet = flags.quiet === true && !json;
    const status = statusMs === null ? null : new StatusLine(process.stderr);
    let stopping = false;
    let stopWatching = (): void => undefined;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      stopWatching(); // ends the loop below
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    let timer: NodeJS.Timeout | undefined;
    try {
      const watcher = await engine.watch();
      const subscription = watcher.subscribe();
      stopWatching = () => subscription.close();
      if (stopping) subscription.close();
      log(`watching ${engine.root}`);
      if (status !== null && statusMs !== null) {
        const draw = (): void => status.update(formatLiveStatus({ stats: engine.stats(), watch: watcher.stats(), queued: subscription.queue.size, rssBytes: process.memoryUsage().rss }));
        draw();
        timer = setInterval(draw, statusMs);
      }
      const print = (line: string): void => (status === null ? void process.stdout.write(line + '\n') : status.println(process.stdout, line));
      for await (const event of subscription) {
        if (json) print(formatJson(event));
        else if (!quiet) print(formatText(event));
      }
      setExit(EXIT_OK);
    } finally {
      clearInterval(timer);
      status?.close();
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      await engine.close();
    }
  });
}

/** `--status [seconds]` in milliseconds; null without the flag. */
function statusInterval(value: boolean | string | undefined): number | null {
  if (value === undefined || value === false) return null;
  if (value === true) return DEFAULT_STATUS_SECONDS * 1000;
  const seconds = Number(value);
  if (!/^\s*\d+(\.\d+)?\s*$/.test(value) || !(seconds >= 0.1)) throw new UsageError(`Invalid value for --status: "${value}". Accepted: a number of seconds, at least 0.1.`);
  return Math.round(seconds * 1000);
}

/** One line: the DESIGN.md fields plus `schemaVersion`, nothing else. */
export function formatJson(event: WatchEvent): string {
  return JSON.stringify({ schemaVersion: REPORT_SCHEMA_VERSION, event: event.event, path: event.path, invalidated: event.invalidated, revision: event.revision });
}

export function formatText(event: WatchEvent): string {
  if (event.event === 'resync') return `resync  (events dropped past the queue bound: re-read everything)  r${event.revision}`;
  const others = event.invalidated.filter((file) => file !== event.path);
  const extra = others.length === 0 ? '' : `  (+${others.length} invalidated: ${others.slice(0, 5).join(', ')}${others.length > 5 ? ', …' : ''})`;
  return `${event.event.padEnd(6)}  ${event.path}${extra}  r${event.revision}`;
}
