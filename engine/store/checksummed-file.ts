/**
 * Small per-root data files beside the index (L3 results, learned access patterns): a 16-byte
 * header (magic u32, version u32, xxh64 of the body u64) and a plain-data msgpack body, replaced
 * atomically with owner-only permissions. A file that fails any check is removed, so it is never
 * read again, and reported as corrupt: the caller rebuilds what it held, nothing is served from it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { xxh64 } from '../../native-bindings/hash.js';
import { ensurePrivateDir, writeFileAtomic } from './layout.js';
import { decodePlainData, encodePlainData } from '../../shared/safe-msgpack.js';

const HEADER_BYTES = 16;

export interface ChecksummedFormat {
  readonly magic: number;
  readonly version: number;
  /** Named in corruption messages. */
  readonly what: string;
  /** Files larger than this are refused unread (a hostile file cannot make us allocate more). */
  readonly maxBytes?: number;
}

export type ChecksummedRead =
  | { readonly type: 'missing' }
  | { readonly type: 'ok'; readonly body: unknown }
  /** Removed; `reason` says which check failed. */
  | { readonly type: 'corrupt'; readonly reason: string };

/** Reads and verifies the file; the body is untrusted plain data that the caller validates. */
export function readChecksummedFile(file: string, format: ChecksummedFormat): ChecksummedRead {
  let bytes: Buffer;
  try {
    if (format.maxBytes !== undefined && fs.statSync(file).size > format.maxBytes) return corrupt(file, `larger than ${format.maxBytes} bytes`);
    bytes = fs.readFileSync(file);
  } catch {
    return { type: 'missing' }; // absent or unreadable: nothing learned, nothing to remove
  }
  if (bytes.length < HEADER_BYTES) return corrupt(file, 'shorter than its header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== format.magic || view.getUint32(4, true) !== format.version) return corrupt(file, 'unknown magic or version');
  const body = bytes.subarray(HEADER_BYTES);
  if (xxh64(body) !== view.getBigUint64(8, true)) return corrupt(file, 'checksum mismatch');
  try {
    return { type: 'ok', body: decodePlainData(body, format.what) };
  } catch (error) {
    return corrupt(file, (error as Error).message);
  }
}

/** Removes a file whose body failed the caller's shape checks. */
export function discardChecksummedFile(file: string, reason: string): ChecksummedRead {
  return corrupt(file, reason);
}

export function writeChecksummedFile(file: string, format: ChecksummedFormat, body: unknown): void {
  const encoded = encodePlainData(body);
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32LE(format.magic, 0);
  header.writeUInt32LE(format.version, 4);
  header.writeBigUInt64LE(xxh64(encoded), 8);
  ensurePrivateDir(path.dirname(file));
  writeFileAtomic(file, [header, encoded]);
}

function corrupt(file: string, reason: string): ChecksummedRead {
  fs.rmSync(file, { force: true });
  return { type: 'corrupt', reason };
}
