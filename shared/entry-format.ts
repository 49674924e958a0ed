/**
 * One persisted L2 entry record (version {@link ENTRY_FORMAT_VERSION}): self-validating bytes that
 * a worker writes (`encodeEntry`, after compressing the payload) and the coordinator reads back
 * (`decodeEntry`). Pure data parsing: nothing here loads more than the hash adapter.
 *
 * ```
 * offset  size  field (little-endian)
 * 0       4     ENTRY_MAGIC ("SENT": Strata ENTry)
 * 4       8     checksum: XXH64 (seed 0) of bytes [CHECKSUMMED_FROM, end of record)
 * 12      2     ENTRY_FORMAT_VERSION of the writer
 * 14      1     codec id (CODEC_ID_*)
 * 15      1     reserved, 0
 * 16      4     key length in bytes (UTF-8)
 * 20      4     meta length in bytes
 * 24      4     payload length in bytes (as stored, i.e. compressed)
 * 28      4     raw length: the payload's length once decoded by its codec
 * 32      k     key (UTF-8)
 * 32+k    m     meta (opaque to this module: the caller's msgpackr envelope)
 *         0..7  zero padding, so the payload starts at a multiple of ENTRY_ALIGNMENT
 * P       p     payload
 * ```
 *
 * The checksum sits right after the magic so that it covers, in one contiguous range, every other
 * header field as well as the key, meta, padding and payload: a flipped bit anywhere but in the
 * magic (checked exactly) or the checksum itself changes the hash. A record's total length is
 * exactly `payloadOffset + payloadLength`; a longer or shorter byte range is refused, so a truncated
 * read or a range that runs into the next record never decodes.
 *
 * `decodeEntry` throws `StrataError('ECORRUPT')` on any mismatch and never returns a record it did
 * not fully validate. Its `meta` and `payload` are views into the given bytes (no copy).
 */
import { StrataError } from './errors.js';
import { xxh64 } from '../native-bindings/hash.js';
import type { CodecId } from '../native-bindings/lz4.js';

/** Version of this layout. Bump it on any change: an old record then fails to decode. */
export const ENTRY_FORMAT_VERSION = 1;

/** The bytes `S`, `E`, `N`, `T`, read as one little-endian Uint32. */
export const ENTRY_MAGIC = 0x544e4553;

// Header field offsets in bytes from the start of the record.
/** {@link ENTRY_MAGIC}, u32. */
export const ENTRY_OFFSET_MAGIC = 0;
/** XXH64 of everything from {@link CHECKSUMMED_FROM} to the end, u64. */
export const ENTRY_OFFSET_CHECKSUM = 4;
/** {@link ENTRY_FORMAT_VERSION}, u16. */
export const ENTRY_OFFSET_VERSION = 12;
/** Codec id, u8 (see {@link CODEC_IDS}). */
export const ENTRY_OFFSET_CODEC = 14;
/** Reserved, u8, always 0. */
export const ENTRY_OFFSET_RESERVED = 15;
/** Key length in bytes, u32. */
export const ENTRY_OFFSET_KEY_LENGTH = 16;
/** Meta length in bytes, u32. */
export const ENTRY_OFFSET_META_LENGTH = 20;
/** Stored payload length in bytes, u32. */
export const ENTRY_OFFSET_PAYLOAD_LENGTH = 24;
/** Decoded (uncompressed) payload length in bytes, u32. */
export const ENTRY_OFFSET_RAW_LENGTH = 28;
/** Size of the fixed header; the key starts here. */
export const ENTRY_HEADER_BYTES = 32;
/** The checksum covers the record from here (the version field) to its end. */
export const CHECKSUMMED_FROM = ENTRY_OFFSET_VERSION;
/** The payload starts at a multiple of this many bytes from the start of the record. */
export const ENTRY_ALIGNMENT = 8;
/** Largest value a u32 length field can hold. */
const MAX_U32 = 0xffff_ffff;

/** Codec ids as stored. Two bits apart, so no single flipped bit turns one into the other. */
export const CODEC_IDS: Readonly<Record<CodecId, number>> = Object.freeze({ none: 0x01, 'lz4-block-v1': 0x02 });

function codecOf(id: number): CodecId | undefined {
  if (id === CODEC_IDS.none) return 'none';
  if (id === CODEC_IDS['lz4-block-v1']) return 'lz4-block-v1';
  return undefined;
}

/** What an entry record carries. */
export interface EntryRecord {
  /** The L2 key the entry was stored under (an `AstKey`). */
  readonly key: string;
  /** How `payload` is encoded. */
  readonly codec: CodecId;
  /** The caller's metadata envelope (msgpackr bytes); opaque here. */
  readonly meta: Uint8Array;
  /** The payload as stored (compressed when `codec` says so). */
  readonly payload: Uint8Array;
  /** The payload's length once decoded by `codec` (equals `payload.length` for `none`). */
  readonly rawLength: number;
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

function align(value: number): number {
  return Math.ceil(value / ENTRY_ALIGNMENT) * ENTRY_ALIGNMENT;
}

/** Offset of the payload for the given key and meta lengths. */
export function payloadOffsetFor(keyLength: number, metaLength: number): number {
  return align(ENTRY_HEADER_BYTES + keyLength + metaLength);
}

function checkLength(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > MAX_U32) {
    throw new RangeError(`entry ${name} must be an integer in [0, ${MAX_U32}], got ${value}`);
  }
}

/** Encodes one record. Throws a RangeError for lengths a u32 field cannot hold (a caller bug). */
export function encodeEntry(entry: EntryRecord): Uint8Array {
  const keyLength = Buffer.byteLength(entry.key, 'utf8');
  const codecId = CODEC_IDS[entry.codec];
  if (codecId === undefined) throw new RangeError(`unknown entry codec ${String(entry.codec)}`);
  checkLength('key length', keyLength);
  checkLength('meta length', entry.meta.length);
  checkLength('payload length', entry.payload.length);
  checkLength('raw length', entry.rawLength);
  if (entry.codec === 'none' && entry.rawLength !== entry.payload.length) {
    throw new RangeError(`entry rawLength ${entry.rawLength} must equal the payload length ${entry.payload.length} for codec "none"`);
  }
  const payloadOffset = payloadOffsetFor(keyLength, entry.meta.length);
  const bytes = new Uint8Array(payloadOffset + entry.payload.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(ENTRY_OFFSET_MAGIC, ENTRY_MAGIC, true);
  view.setUint16(ENTRY_OFFSET_VERSION, ENTRY_FORMAT_VERSION, true);
  view.setUint8(ENTRY_OFFSET_CODEC, codecId);
  view.setUint8(ENTRY_OFFSET_RESERVED, 0);
  view.setUint32(ENTRY_OFFSET_KEY_LENGTH, keyLength, true);
  view.setUint32(ENTRY_OFFSET_META_LENGTH, entry.meta.length, true);
  view.setUint32(ENTRY_OFFSET_PAYLOAD_LENGTH, entry.payload.length, true);
  view.setUint32(ENTRY_OFFSET_RAW_LENGTH, entry.rawLength, true);
  utf8Encoder.encodeInto(entry.key, bytes.subarray(ENTRY_HEADER_BYTES, ENTRY_HEADER_BYTES + keyLength)); // no temporary copy
  bytes.set(entry.meta, ENTRY_HEADER_BYTES + keyLength);
  bytes.set(entry.payload, payloadOffset);
  view.setBigUint64(ENTRY_OFFSET_CHECKSUM, xxh64(bytes.subarray(CHECKSUMMED_FROM)), true);
  return bytes;
}

/** True when the `length` bytes at `at` are exactly `key`, every character of which is ASCII. */
function isAsciiKeyAt(bytes: Uint8Array, at: number, length: number, key: string): boolean {
  if (key.length !== length) return false;
  for (let i = 0; i < length; i++) {
    const code = key.charCodeAt(i);
    if (code >= 0x80 || bytes[at + i] !== code) return false;
  }
  return true;
}

function corrupt(what: string, path: string | undefined): StrataError {
  return new StrataError('ECORRUPT', `Corrupt cache entry: ${what}`, path);
}

/**
 * Validates and decodes one record. `bytes` must be exactly one record. When `expectedKey` is
 * given, a record stored under another key is refused too. Throws `StrataError('ECORRUPT')` (its
 * `path` is `expectedKey` when given) on any mismatch; never returns a partially checked record.
 */
export function decodeEntry(bytes: Uint8Array, expectedKey?: string): EntryRecord {
  if (bytes.length < ENTRY_HEADER_BYTES) throw corrupt(`${bytes.length} bytes is shorter than the ${ENTRY_HEADER_BYTES}-byte header`, expectedKey);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(ENTRY_OFFSET_MAGIC, true) !== ENTRY_MAGIC) throw corrupt('bad magic', expectedKey);
  const version = view.getUint16(ENTRY_OFFSET_VERSION, true);
  if (version !== ENTRY_FORMAT_VERSION) throw corrupt(`format version ${version}, expected ${ENTRY_FORMAT_VERSION}`, expectedKey);
  const codec = codecOf(view.getUint8(ENTRY_OFFSET_CODEC));
  if (codec === undefined) throw corrupt(`unknown codec id ${view.getUint8(ENTRY_OFFSET_CODEC)}`, expectedKey);
  if (view.getUint8(ENTRY_OFFSET_RESERVED) !== 0) throw corrupt('reserved byte is not 0', expectedKey);
  const keyLength = view.getUint32(ENTRY_OFFSET_KEY_LENGTH, true);
  const metaLength = view.getUint32(ENTRY_OFFSET_META_LENGTH, true);
  const payloadLength = view.getUint32(ENTRY_OFFSET_PAYLOAD_LENGTH, true);
  const rawLength = view.getUint32(ENTRY_OFFSET_RAW_LENGTH, true);
  const payloadOffset = payloadOffsetFor(keyLength, metaLength);
  if (payloadOffset + payloadLength !== bytes.length) {
    throw corrupt(`lengths add up to ${payloadOffset + payloadLength} bytes, the record has ${bytes.length}`, expectedKey);
  }
  if (codec === 'none' && rawLength !== payloadLength) throw corrupt('raw length differs from the payload length of an uncompressed entry', expectedKey);
  if (xxh64(bytes.subarray(CHECKSUMMED_FROM)) !== view.getBigUint64(ENTRY_OFFSET_CHECKSUM, true)) throw corrupt('checksum mismatch', expectedKey);
  let key: string;
  if (expectedKey !== undefined && isAsciiKeyAt(bytes, ENTRY_HEADER_BYTES, keyLength, expectedKey)) {
    key = expectedKey; // the common case, without decoding a string
  } else {
    try {
      key = utf8Decoder.decode(bytes.subarray(ENTRY_HEADER_BYTES, ENTRY_HEADER_BYTES + keyLength));
    } catch (error) {
      throw new StrataError('ECORRUPT', 'Corrupt cache entry: key is not valid UTF-8', expectedKey, { cause: error });
    }
    if (expectedKey !== undefined && key !== expectedKey) throw corrupt(`stored under key ${JSON.stringify(key)}`, expectedKey);
  }
  const metaStart = ENTRY_HEADER_BYTES + keyLength;
  return {
    key,
    codec,
    meta: bytes.subarray(metaStart, metaStart + metaLength),
    payload: bytes.subarray(payloadOffset, payloadOffset + payloadLength),
    rawLength,
  };
}
