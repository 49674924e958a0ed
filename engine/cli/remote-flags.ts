/** The remote tier's flags, shared by `strata warm`, `strata watch` and `strata remote status`. */
import type { Command } from 'commander';
import type { RemoteOptions } from '../remote/remote-config.js';
import { REMOTE_MODES, type RemoteMode } from '../remote/remote-config.js';
import { UsageError } from './usage-error.js';

export interface RemoteFlags {
  remote?: string;
  remoteMode?: string;
  remoteNamespace?: string;
  remoteSigningKey?: string;
  remoteTrustedKey?: string[];
}

export function remoteOptions(command: Command): Command {
  return command
    .option('--remote <url>', 'shared remote cache: redis://host:port, or cluster nodes separated by commas (or STRATA_REMOTE_URL)')
    .option('--remote-mode <mode>', 'off, read or read-write (default: read when a remote is given)')
    .option('--remote-namespace <name>', 'trusted (protected branches) or pr-<id> (a pull request; reads its own, then trusted)')
    .option('--remote-signing-key <file>', 'Ed25519 private key that signs this run\'s uploads (strata remote keygen)')
    .option('--remote-trusted-key <file>', 'public key whose records are accepted (repeatable)', (file: string, files: string[] = []) => [...files, file]);
}

/** The flags given, as the `remote` option's highest layer (undefined when none was given). */
export function remoteFromFlags(flags: RemoteFlags): RemoteOptions | undefined {
  const out: RemoteOptions = {};
  if (flags.remote !== undefined) out.url = flags.remote;
  if (flags.remoteMode !== undefined) {
    if (!REMOTE_MODES.includes(flags.remoteMode as RemoteMode)) throw new UsageError(`Invalid value for --remote-mode: "${flags.remoteMode}". Accepted: ${REMOTE_MODES.join(', ')}.`);
    out.mode = flags.remoteMode as RemoteMode;
  }
  if (flags.remoteNamespace !== undefined) out.namespace = flags.remoteNamespace;
  if (flags.remoteSigningKey !== undefined) out.signingKey = flags.remoteSigningKey;
  if (flags.remoteTrustedKey !== undefined) out.trustedKeys = flags.remoteTrustedKey;
  return Object.keys(out).length === 0 ? undefined : out;
}
