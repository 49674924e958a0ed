/**
 * L3 results on the remote tier: a result is stored under `result:<state key>` (the state key names
 * analyzer, version, root-relative file, content hash and dependency digest, so two checkouts at
 * different paths share it). Its blob is plain MessagePack (shared/safe-msgpack.ts: no extension
 * token, no code, bounded by its length) of `["strata-result", version, state key, value]`; the
 * decoder refuses anything else, a blob over {@link MAX_REMOTE_RESULT_BYTES}, or a blob made for
 * another key (the signed record already binds key and digest; this is the second lock).
 */
import { StrataError } from '../../shared/errors.js';
import { decodePlainData, encodePlainData } from '../../shared/safe-msgpack.js';
import type { RemoteTier } from './remote-tier.js';

const RESULT_TAG = 'strata-result';
const RESULT_VERSION = 1;
/** The codec named in a result's signed record. */
export const RESULT_CODEC = 'msgpack-plain-v1';
/** A result blob is at most this large (results are small per-file facts; a bigger one is skipped). */
export const MAX_REMOTE_RESULT_BYTES = 4 * 1024 * 1024;

/** What the results namespace (results/analyzer-results.ts) needs from the remote. */
export interface RemoteResults {
  /** The verified result stored for this state key, or undefined (miss, rejection, failure: counted). */
  fetch(stateKey: string): Promise<{ readonly value: unknown } | undefined>;
  /** Uploads a computed result behind the caller (read-write mode only; skipped when not plain data or too large). */
  upload(stateKey: string, value: unknown): void;
}

export function remoteResultKey(stateKey: string): string {
  return `result:${stateKey}`;
}

export function encodeRemoteResult(stateKey: string, value: unknown): Uint8Array {
  return encodePlainData([RESULT_TAG, RESULT_VERSION, stateKey, value]);
}

/** A decoder for {@link RemoteTier.fetch}: throws for anything but a result blob of `stateKey`. */
export function decodeRemoteResult(bytes: Uint8Array, stateKey: string): { value: unknown } {
  if (bytes.byteLength > MAX_REMOTE_RESULT_BYTES) throw new StrataError('EREMOTE', `result of ${bytes.byteLength} bytes, over the cap ${MAX_REMOTE_RESULT_BYTES}`, stateKey);
  const body = decodePlainData(bytes, 'remote result');
  if (!Array.isArray(body) || body.length !== 4 || body[0] !== RESULT_TAG || body[1] !== RESULT_VERSION) throw new StrataError('EREMOTE', 'not a result blob', stateKey);
  if (body[2] !== stateKey) throw new StrataError('EREMOTE', 'a result blob of another state key', stateKey);
  return { value: body[3] as unknown };
}

/** The results namespace's view of the tier. */
export function remoteResults(tier: RemoteTier): RemoteResults {
  return {
    fetch: (stateKey) => tier.fetch(remoteResultKey(stateKey), (bytes) => decodeRemoteResult(bytes, stateKey)),
    upload: (stateKey, value) => {
      if (!tier.writes) return;
      let bytes: Uint8Array;
      try {
        bytes = encodeRemoteResult(stateKey, value);
      } catch {
        tier.skip(); // not plain data (undefined, a class, a bigint beyond 64 bits): kept local only
        return;
      }
      if (bytes.byteLength > MAX_REMOTE_RESULT_BYTES) tier.skip();
      else tier.upload(remoteResultKey(stateKey), bytes, RESULT_CODEC);
    },
  };
}
