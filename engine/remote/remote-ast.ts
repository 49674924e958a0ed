/**
 * L2 entries on the remote tier: their remote cache key, and the decoder that checks a remote
 * blob is a well-formed entry of that key within the size caps (a decompression bomb declares a
 * raw length far above its bytes: refused before anything is inflated).
 */
import { decodeAstEntry, type AstEntryRecord } from '../../shared/ast-entry.js';
import { decodeEntry } from '../../shared/entry-format.js';
import { StrataError } from '../../shared/errors.js';

/** A decoded AST is at most this large (far above any real source file's: 5 MiB of source makes ~40 MiB). */
export const MAX_DECODED_AST_BYTES = 128 * 1024 * 1024;

export function remoteAstKey(key: string): string {
  return `ast:${key}`;
}

export interface RemoteAstEntry {
  readonly record: AstEntryRecord;
  /** The entry's bytes as stored (written to the local disk store as they are). */
  readonly bytes: Uint8Array;
}

/** The decoder of remote AST entries for {@link RemoteTier.fetchMany}: throws for anything but a valid entry of the key (`ast:<AST key>`). */
export function decodeRemoteAstEntry(bytes: Buffer, remoteKey: string): RemoteAstEntry {
  const key = remoteKey.startsWith('ast:') ? remoteKey.slice('ast:'.length) : remoteKey;
  const header = decodeEntry(bytes, key);
  if (header.rawLength > MAX_DECODED_AST_BYTES) throw new StrataError('EREMOTE', `declares ${header.rawLength} decoded bytes, over the cap ${MAX_DECODED_AST_BYTES}`, key);
  const owned = new Uint8Array(bytes); // a copy: the reply's Buffer may share a pool
  return { record: decodeAstEntry(owned, key), bytes: owned };
}

/** A decoder for {@link RemoteTier.fetch} of one AST key: throws for anything but a valid entry of `key`. */
export function remoteAstDecoder(key: string): (bytes: Buffer) => RemoteAstEntry {
  return (bytes) => decodeRemoteAstEntry(bytes, remoteAstKey(key));
}
