/**
 * `strata watch [root]` (DESIGN.md, "Contract"): watches the root, invalidates through the engine
 * as files change and prints one line per event; with `--json`, exactly one JSON object per line,
 * `{ schemaVersion, event, path, invalidated, revision }`. `watching <root>` goes to stderr once the
 * watcher is ready. SIGINT or SIGTERM closes everything and exits 0.
 */
import type { Command } from 'commander';
import { createEngine } from '../engine.js';
import { WatchService, type WatchEvent } from '../streams/watch-service.js';
import { REPORT_SCHEMA_VERSION } from '../warming/warm-report.js';
import { commonOptions, machineFor, optionsFromCommon, type CommonFlags } from './common.js';
import { EXIT_OK } from './exit-codes.js';
import { log } from './output.js';
import { remoteFromFlags, remoteOptions, type RemoteFlags } from './remote-flags.js';

export function registerWatch(program: Command, setExit: (code: number) => void): void {
  const command = program.command('watch [root]').description('watch the root and print what changed and what was invalidated, as it happens');
  commonOptions(remoteOptions(command)).action(async (root: string | undefined, flags: CommonFlags & RemoteFlags) => {
    const remote = remoteFromFlags(flags);
    const options = { ...optionsFromCommon(root, flags), ...(remote !== undefined ? { remote } : {}) };
    // Watching parses nothing: no worker pool.
    const engine = createEngine({ ...options, executor: 'in-thread' }, { machine: await machineFor(options) });
    const service = new WatchService(engine, { cacheDir: engine.options.cacheDir, includeNodeModules: engine.options.includeNodeModules });
    const subscription = service.subscribe();
    const json = flags.json === true;
    const quiet = flags.quiet === true && !json;
    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      subscription.close(); // ends the loop below
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      await service.ready();
      log(`watching ${engine.root}`);
      for await (const event of subscription) {
        if (json) process.stdout.write(formatJson(event) + '\n');
        else if (!quiet) process.stdout.write(formatText(event) + '\n');
      }
      setExit(EXIT_OK);
    } finally {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      subscription.close();
      await service.close();
      await engine.close();
    }
  });
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
