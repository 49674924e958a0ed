/**
 * `strata remote keygen DIR`: writes DIR/strata-remote.key (0600) and DIR/strata-remote.pub.
 * `strata remote status [root]`: reachability, latency, keys and counters of the configured remote.
 */
import type { Command } from 'commander';
import { resolveOptions } from '../config/options.js';
import { REPORT_SCHEMA_VERSION } from '../warming/warm-report.js';
import { commonOptions, optionsFromCommon, type CommonFlags } from './common.js';
import { EXIT_OK } from './exit-codes.js';
import { log, printJson } from './output.js';
import { remoteFromFlags, remoteOptions, type RemoteFlags } from './remote-flags.js';
import { UsageError } from './usage-error.js';

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
      else log(`wrote ${written.privateFile} (0600) and ${written.publicFile}, key id ${written.id}`);
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
      };
      await tier.close(0);
      if (flags.json) printJson(status);
      else log(`${status.urls.join(', ')}: ${status.reachable ? `reachable, ${(latencyMs as number).toFixed(2)} ms` : `unreachable (${status.problem})`}; mode ${status.mode}, namespace ${status.namespace}; signing key ${status.signingKeyId ?? 'none'}; trusted ${status.trustedKeyIds.join(', ') || 'none'}`);
      setExit(EXIT_OK);
    },
  );
}
