/**
 * The remote tier's settings: from the config file's `remote: {…}`, `STRATA_REMOTE_*` variables
 * and flags (lowest to highest, field by field). Off unless a URL is given; the default mode with
 * a URL is `read`. Bad values are refused with EINVALIDOPTION naming the field.
 */
import { invalidOption } from '../../shared/errors.js';

export type RemoteMode = 'off' | 'read' | 'read-write';
export const REMOTE_MODES: readonly RemoteMode[] = ['off', 'read', 'read-write'];

/** What a user may give (config file, library options). */
export interface RemoteOptions {
  /** `redis://host:port`, or several cluster nodes (an array, or comma-separated). */
  url?: string | readonly string[];
  /** @default 'read' when a URL is given */
  mode?: RemoteMode;
  /** `trusted` (protected branches) or `pr-<id>` (a pull request). @default 'trusted' */
  namespace?: string;
  /** PEM file with this writer's Ed25519 private key (needed to write). */
  signingKey?: string;
  /** PEM files with the public keys whose records are accepted. */
  trustedKeys?: readonly string[];
  /** @default 250 ms */
  connectTimeoutMs?: number;
  /** Deadline of each remote operation. @default 500 ms */
  operationTimeoutMs?: number;
  /** Entries larger than this are neither uploaded nor accepted. @default 8 MiB */
  maxEntryBytes?: number;
  /** Uploads waiting at most; more are skipped (and counted). @default 4096 */
  queueMaxEntries?: number;
}

export interface ResolvedRemote {
  readonly urls: readonly string[];
  readonly mode: Exclude<RemoteMode, 'off'>;
  readonly namespace: string;
  readonly signingKey: string | null;
  readonly trustedKeys: readonly string[];
  readonly connectTimeoutMs: number;
  readonly operationTimeoutMs: number;
  readonly maxEntryBytes: number;
  readonly queueMaxEntries: number;
}

const NAMESPACE = /^(trusted|pr-[A-Za-z0-9_.-]{1,64})$/;

/** STRATA_REMOTE_URL, _MODE, _NAMESPACE, _SIGNING_KEY, _TRUSTED_KEYS (comma-separated). */
export function remoteFromEnv(env: NodeJS.ProcessEnv): RemoteOptions {
  const out: RemoteOptions = {};
  const value = (name: string): string | undefined => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
  const url = value('STRATA_REMOTE_URL');
  const mode = value('STRATA_REMOTE_MODE');
  const namespace = value('STRATA_REMOTE_NAMESPACE');
  const signingKey = value('STRATA_REMOTE_SIGNING_KEY');
  const trusted = value('STRATA_REMOTE_TRUSTED_KEYS');
  if (url !== undefined) out.url = url;
  if (mode !== undefined) out.mode = mode as RemoteMode;
  if (namespace !== undefined) out.namespace = namespace;
  if (signingKey !== undefined) out.signingKey = signingKey;
  if (trusted !== undefined) out.trustedKeys = trusted.split(',').filter((file) => file !== '');
  return out;
}

/** Merges the layers (later wins, field by field); null when the remote is off. */
export function resolveRemote(layers: readonly (RemoteOptions | undefined)[]): ResolvedRemote | null {
  const merged: RemoteOptions = {};
  for (const layer of layers) {
    if (layer === undefined) continue;
    if (typeof layer !== 'object' || layer === null || Array.isArray(layer)) throw invalidOption('remote', 'an object of remote settings', layer);
    for (const [field, value] of Object.entries(layer)) if (value !== undefined) (merged as Record<string, unknown>)[field] = value;
  }
  const urls = urlList(merged.url);
  const mode = merged.mode ?? 'read';
  if (!REMOTE_MODES.includes(mode)) throw invalidOption('remote.mode', REMOTE_MODES.join(', '), mode);
  if (urls.length === 0 || mode === 'off') return null;
  const namespace = merged.namespace ?? 'trusted';
  if (!NAMESPACE.test(namespace)) throw invalidOption('remote.namespace', 'trusted or pr-<id> (letters, digits, _ . -)', namespace);
  if (merged.signingKey !== undefined && typeof merged.signingKey !== 'string') throw invalidOption('remote.signingKey', 'a key file path', merged.signingKey);
  const trustedKeys = merged.trustedKeys ?? [];
  if (!Array.isArray(trustedKeys) || trustedKeys.some((file) => typeof file !== 'string' || file === '')) throw invalidOption('remote.trustedKeys', 'a list of key file paths', trustedKeys);
  return Object.freeze({
    urls,
    mode,
    namespace,
    signingKey: merged.signingKey ?? null,
    trustedKeys: [...trustedKeys],
    connectTimeoutMs: positive('remote.connectTimeoutMs', merged.connectTimeoutMs, 250),
    operationTimeoutMs: positive('remote.operationTimeoutMs', merged.operationTimeoutMs, 500),
    maxEntryBytes: positive('remote.maxEntryBytes', merged.maxEntryBytes, 8 * 1024 * 1024),
    queueMaxEntries: positive('remote.queueMaxEntries', merged.queueMaxEntries, 4096),
  });
}

function urlList(url: RemoteOptions['url']): string[] {
  if (url === undefined) return [];
  const list = typeof url === 'string' ? url.split(',') : Array.isArray(url) ? url : null;
  if (list === null) throw invalidOption('remote.url', 'redis://host:port, or a list of cluster nodes', url);
  const urls = list.map((u) => (typeof u === 'string' ? u.trim() : '')).filter((u) => u !== '');
  for (const u of urls) if (!/^rediss?:\/\/[^\s]+$/.test(u)) throw invalidOption('remote.url', 'redis://host:port (or rediss://), comma-separated for a cluster', u);
  return urls;
}

function positive(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) throw invalidOption(name, 'a positive number', value);
  return Math.floor(n);
}
