/**
 * `strata watch [root]` (DESIGN.md, "Contract"): watches the root, invalidates through the engine
 * as files change and prints one line per event; with `--json`, exactly one JSON object per line,
 * `{ schemaVersion, event, path, invalidated, revision }`, `invalidated` naming the changed file and
 * its transitive dependents (engine.watch()). `watching <root>` goes to stderr once the watcher is
 * ready and the dependency graph built. SIGINT or SIGTERM closes everything and exits 0.
 */
import type { Command } from 'commander';
import { createEngine } from '../engine.js';
import type { WatchEvent } from '../streams/watch-service.js';
import { REPORT_SCHEMA_VERSION } from '../warming/warm-report.js';
import { commonOptions, machineFor, optionsFromCommon, type CommonFlags } from './common.js';
import { EXIT_OK } from './exit-codes.js';
import { log } from './output.js';

export function registerWatch(program: Command, setExit: (code: number) => void): void {
  const command = program.command('watch [root]').description('watch the root and print what changed and what was invalidated (its dependents included), as it happens');
  commonOptions(command).action(async (root: string | undefined, flags: CommonFlags) => {
    const options = optionsFromCommon(root, flags);
    // The pool parses what the dependency graph needs at the start (nothing after a warm: L2 on disk).
    const engine = createEngine(options, { machine: await machineFor(options) });
    const json = flags.json === true;
    const quiet = flags.quiet === true && !json;
    let stopping = false;
    let stopWatching = (): void => undefined;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      stopWatching(); // ends the loop below
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      const subscription = await engine.subscribe();
      stopWatching = () => subscription.close();
      if (stopping) subscription.close();
      log(`watching ${engine.root}`);
      for await (const event of subscription) {
        if (json) process.stdout.write(formatJson(event) + '\n');
        else if (!quiet) process.stdout.write(formatText(event) + '\n');
      }
      setExit(EXIT_OK);
    } finally {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
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
