/**
 * `strata remote keygen DIR`: writes DIR/strata-remote.key (0600) and DIR/strata-remote.pub.
 * `strata remote status [root]`: reachability, latency, keys and counters of the configured remote,
 * and the remote counters of the root's last warm (from its cache directory's last-run file).
 */
import type { Command } from 'commander';
import { resolveOptions } from '../config/options.js';
import { REPORT_SCHEMA_VERSION } from '../warming/warm-report.js';
import { commonOptions, optionsFromCommon, type CommonFlags } from './common.js';
import { EXIT_OK } from './exit-codes.js';
import { printJson } from './output.js';
import { remoteFromFlags, remoteOptions, type RemoteFlags } from './remote-flags.js';
import { UsageError } from './usage-error.js';
import { existingCacheDir } from './stats-command.js';
import { loadLastRun } from '../store/last-run-file.js';
import { lastRunFileFor } from '../store/layout.js';
import { indexIdFor } from '../store/root-index.js';
import type { ResolvedOptions } from '../config/options.js';

/** A command's answer (not a log line): on stdout. */
function say(line: string): void {
  process.stdout.write(line + '\n');
}

/** The remote side of the root's last warm, as its report saved it; null when none was saved or it had no remote. */
function lastWarmRemote(options: ResolvedOptions): { savedAt: string | null; fromRemote: number; remote: Record<string, number | string> } | null {
  const dir = existingCacheDir(options);
  if (dir === null) return null;
  const run = loadLastRun(lastRunFileFor(dir, indexIdFor(dir, options.root))).run;
  const remote = run?.remote;
  if (run === null || typeof remote !== 'object' || remote === null) return null;
  const counters: Record<string, number | string> = {};
  for (const [name, value] of Object.entries(remote)) if (typeof value === 'number' || typeof value === 'string') counters[name] = value;
  return { savedAt: typeof run.savedAt === 'string' ? run.savedAt : null, fromRemote: typeof run.fromRemote === 'number' ? run.fromRemote : 0, remote: counters };
}

export function registerRemote(program: Command, setExit: (code: number) => void): void {
  const remote = program.command('remote').description('the shared remote cache on Redis: keys and status');
  remote
    .command('keygen <dir>')
    .description('write an Ed25519 key pair: DIR/strata-remote.key (0600) and DIR/strata-remote.pub')
    .option('--json', 'print one JSON object on stdout')
    .action(async (dir: string, flags: { json?: boolean }) => {
      const { generateKeyPair } = await import('../remote/remote-keys.js');
      const written = generateKeyPair(dir);
      if (flags.json) printJson({ schemaVersion: REPORT_SCHEMA_VERSION, ...written });
      else say(`wrote ${written.privateFile} (0600) and ${written.publicFile}, key id ${written.id}`);
      setExit(EXIT_OK);
    });
  commonOptions(remoteOptions(remote.command('status [root]').description('reachability, latency, keys and counters of the configured remote'))).action(
    async (root: string | undefined, flags: CommonFlags & RemoteFlags) => {
      const given = remoteFromFlags(flags);
      const options = resolveOptions({ ...optionsFromCommon(root, flags), ...(given !== undefined ? { remote: given } : {}) });
      if (options.remote === null) throw new UsageError('no remote configured. Accepted: --remote URL, STRATA_REMOTE_URL, or remote.url in the config file.');
      const { RemoteTier } = await import('../remote/remote-tier.js');
      const tier = new RemoteTier(options.remote);
      const latencyMs = await tier.ping();
      const status = {
        schemaVersion: REPORT_SCHEMA_VERSION,
        urls: options.remote.urls,
        mode: options.remote.mode,
        namespace: options.remote.namespace,
        reachable: latencyMs !== undefined,
        latencyMs: latencyMs ?? null,
        signingKeyId: tier.signingKeyId,
        trustedKeyIds: tier.trustedKeyIds,
        warnings: tier.warnings,
        problem: latencyMs === undefined ? tier.lastProblem : null,
        counters: tier.counters(),
        lastWarm: lastWarmRemote(options),
      };
      await tier.close(0);
      if (flags.json) printJson(status);
      else {
        say(`${status.urls.join(', ')}: ${status.reachable ? `reachable, ${(latencyMs as number).toFixed(2)} ms` : `unreachable (${status.problem})`}; mode ${status.mode}, namespace ${status.namespace}; signing key ${status.signingKeyId ?? 'none'}; trusted ${status.trustedKeyIds.join(', ') || 'none'}`);
        const last = status.lastWarm;
        if (last !== null) say(`last warm of ${options.root}${last.savedAt ? ` (${last.savedAt})` : ''}: ${last.fromRemote} files from the remote; ${Object.entries(last.remote).map(([name, value]) => `${name} ${value}`).join(', ')}`);
      }
      setExit(EXIT_OK);
    },
  );
}
