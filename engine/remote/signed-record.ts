/**
 * The small signed record stored per cache key (`…:ac:<namespace>:<cache key>`). Its signed part is
 * a fixed, length-prefixed byte string (never JSON: one encoding only), so a signature covers
 * exactly: format version, namespace, the full cache key, payload digest, size, codec, key id and
 * producer. Moving a record to another key or namespace, or pointing it at another blob, breaks
 * its signature. Layout: magic "STRATAAC", u16 version, 7 fields (u32 length + UTF-8 bytes), then
 * u16 signature length + signature.
 */
import * as crypto from 'node:crypto';
import { StrataError } from '../../shared/errors.js';
import type { SigningKey } from './remote-keys.js';

export const RECORD_VERSION = 1;
const MAGIC = Buffer.from('STRATAAC', 'latin1');
/** A record is tiny; anything larger is refused before parsing. */
export const MAX_RECORD_BYTES = 16 * 1024;

export interface RecordFields {
  readonly namespace: string;
  readonly cacheKey: string;
  /** SHA-256 of the blob, hex. */
  readonly digest: string;
  readonly size: number;
  readonly codec: string;
  readonly keyId: string;
  readonly producer: string;
}

export interface SignedRecord extends RecordFields {
  readonly signed: Buffer;
  readonly signature: Buffer;
}

/** The exact bytes a signature covers. */
export function signedBytes(fields: RecordFields): Buffer {
  const parts = [fields.namespace, fields.cacheKey, fields.digest, String(fields.size), fields.codec, fields.keyId, fields.producer].map((field) => Buffer.from(field, 'utf8'));
  const header = Buffer.alloc(MAGIC.length + 2);
  MAGIC.copy(header);
  header.writeUInt16BE(RECORD_VERSION, MAGIC.length);
  const chunks: Buffer[] = [header];
  for (const part of parts) {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(part.length);
    chunks.push(length, part);
  }
  return Buffer.concat(chunks);
}

export function signRecord(fields: Omit<RecordFields, 'keyId'>, key: SigningKey): Buffer {
  const signed = signedBytes({ ...fields, keyId: key.id });
  const signature = crypto.sign(null, signed, key.privateKey);
  const tail = Buffer.alloc(2);
  tail.writeUInt16BE(signature.length);
  return Buffer.concat([signed, tail, signature]);
}

/** Parses a record's bytes (untrusted); throws EREMOTE for anything malformed. Verifies nothing. */
export function parseRecord(bytes: Buffer, where: string): SignedRecord {
  const bad = (why: string): never => {
    throw new StrataError('EREMOTE', `remote record rejected: ${why}`, where);
  };
  if (bytes.length > MAX_RECORD_BYTES) bad(`${bytes.length} bytes, more than ${MAX_RECORD_BYTES}`);
  if (bytes.length < MAGIC.length + 2 || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) bad('bad magic');
  const version = bytes.readUInt16BE(MAGIC.length);
  if (version !== RECORD_VERSION) bad(`format version ${version}`);
  let offset = MAGIC.length + 2;
  const fields: string[] = [];
  for (let i = 0; i < 7; i++) {
    if (offset + 4 > bytes.length) bad('truncated');
    const length = bytes.readUInt32BE(offset);
    offset += 4;
    if (offset + length > bytes.length) bad('truncated');
    fields.push(bytes.toString('utf8', offset, offset + length));
    offset += length;
  }
  const signed = bytes.subarray(0, offset);
  if (offset + 2 > bytes.length) bad('no signature');
  const signatureLength = bytes.readUInt16BE(offset);
  if (offset + 2 + signatureLength !== bytes.length || signatureLength === 0) bad('signature length');
  const signature = bytes.subarray(offset + 2);
  const [namespace, cacheKey, digest, sizeText, codec, keyId, producer] = fields as [string, string, string, string, string, string, string];
  const size = Number(sizeText);
  if (!/^[0-9]{1,12}$/.test(sizeText) || !Number.isSafeInteger(size)) bad('size');
  if (!/^[0-9a-f]{64}$/.test(digest)) bad('digest');
  return { namespace, cacheKey, digest, size, codec, keyId, producer, signed, signature };
}

/**
 * True when `record` is signed by `publicKey`, checked off the main thread (node:crypto's callback
 * form runs in libuv's pool): a warm from the remote checks hundreds of signatures, and the main
 * thread meanwhile decodes the entries already verified.
 */
export function verifyRecordAsync(record: SignedRecord, publicKey: crypto.KeyObject): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      crypto.verify(null, record.signed, publicKey, record.signature, (error, valid) => resolve(error === null && valid));
    } catch {
      resolve(false);
    }
  });
}

export function sha256Hex(bytes: Uint8Array): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}
