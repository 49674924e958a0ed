/**
 * LZ4 behind one adapter: `lz4-napi` when it loads, else a pure-JS block codec.
 *
 * Format `lz4-block-v1` (what lz4-napi's `compressSync` writes, via lz4_flex's
 * `compress_prepend_size`): the uncompressed length as a little-endian u32, then one raw LZ4
 * block (https://github.com/lz4/lz4/blob/dev/doc/lz4_Block_format.md). No frame header, no
 * checksum: integrity is the caller's job (entries are content-addressed). Either backend
 * decompresses what the other compressed; the compressed bytes themselves may differ.
 *
 * Decompression is safe on hostile input under both backends: the declared length is checked
 * against `maxOutputBytes` and against the most the block could expand to before anything is
 * allocated (lz4_flex would allocate whatever the prefix says, up to 4 GiB), and every length,
 * offset and the final size are checked; failures throw `ECORRUPT`.
 */
import { invalidOption, StrataError } from '../shared/errors.js';
import {
  describeLoadFailure,
  forcedJsFallback,
  FORCED_FALLBACK_REASON,
  type FallbackReason,
  type NativeBackend,
} from './backend.js';

/** What a persisted entry records about its payload's encoding. */
export type CodecId = 'lz4-block-v1' | 'none';

/** The codec both backends write. */
export const LZ4_CODEC_ID = 'lz4-block-v1' satisfies CodecId;

/** Length of the little-endian u32 uncompressed-size prefix. */
const SIZE_PREFIX_BYTES = 4;
/** Largest length the u32 prefix can declare. */
const MAX_DECLARED_BYTES = 0xffff_ffff;
/** Default cap on the declared output size: 256 MiB, far above any cached entry. */
export const DEFAULT_MAX_OUTPUT_BYTES = 256 * 1024 * 1024;
/**
 * No valid block expands more than 255-fold: a match costs at least 3 bytes (token, offset) for
 * 19 output bytes, and each further input byte adds at most 255. A larger declared size is
 * corrupt, which bounds what garbage can make either backend allocate.
 */
const MAX_EXPANSION_RATIO = 255;

// LZ4 block format constants (lz4_Block_format.md).
/** Shortest match the format can express (a match-length code of 0 means 4 bytes). */
const MIN_MATCH = 4;
/** The last 5 bytes of a block are always literals. */
const LAST_LITERALS = 5;
/** The last match must start at least 12 bytes before the end of the block. */
const MF_LIMIT = 12;
/** Offsets are u16 little-endian; 0 is invalid. */
const MAX_OFFSET = 0xffff;
const OFFSET_BYTES = 2;
/** Token: literal length in the high nibble, match length code in the low nibble. */
const TOKEN_LITERAL_SHIFT = 4;
/** A nibble of 15 means "more length bytes follow"; each 255 byte means "and another". */
const NIBBLE_MAX = 15;
const LENGTH_BYTE_MAX = 255;
const BYTE_MASK = 0xff;
const BITS_PER_BYTE = 8;

// Compressor tuning (greedy single-probe hash table, as in the reference LZ4 fast path).
/** Knuth's multiplicative hash constant (2^32 / golden ratio). */
const HASH_MULTIPLIER = 2_654_435_761;
const HASH_LOG_MIN = 8;
/** 64 Ki slots (256 KiB table): the reference LZ4 default. */
const HASH_LOG_MAX = 16;
/** Each 64 bytes without a match widen the search step by one, so random data is skipped fast. */
const SKIP_STRENGTH = 6;
/** Below this, copying literals byte by byte beats `subarray` + `set`. */
const SHORT_COPY_BYTES = 32;

function corrupt(message: string, cause?: unknown): StrataError {
  return new StrataError('ECORRUPT', `lz4-block-v1: ${message}`, undefined, cause === undefined ? undefined : { cause });
}

/** LZ4_COMPRESSBOUND's constant term: room for the final token and its length bytes. */
const COMPRESS_BOUND_SLACK = 16;

/** Worst-case compressed size of `length` bytes, prefix included (LZ4_COMPRESSBOUND + prefix). */
function compressedBound(length: number): number {
  return SIZE_PREFIX_BYTES + length + Math.floor(length / LENGTH_BYTE_MAX) + COMPRESS_BOUND_SLACK;
}

function assertFrameable(bytes: Uint8Array): void {
  if (bytes.byteLength > MAX_DECLARED_BYTES) {
    throw new RangeError(`lz4-block-v1 cannot frame ${bytes.byteLength} bytes: its size prefix is a u32`);
  }
}

function copyBytes(source: Uint8Array, from: number, to: number, target: Uint8Array, at: number): void {
  const count = to - from;
  if (count < SHORT_COPY_BYTES) {
    for (let index = 0; index < count; index++) target[at + index] = source[from + index]!;
  } else {
    target.set(source.subarray(from, to), at);
  }
}

/** Writes the 255-run extension of a length whose nibble was saturated; returns the new offset. */
function writeLengthExtension(out: Uint8Array, at: number, remaining: number): number {
  let op = at;
  let rest = remaining;
  while (rest >= LENGTH_BYTE_MAX) {
    out[op++] = LENGTH_BYTE_MAX;
    rest -= LENGTH_BYTE_MAX;
  }
  out[op++] = rest;
  return op;
}

/** Writes one sequence: token, literals `source[literalStart, literalEnd)`, and either a match
 * (`matchLength > 0`) or nothing (the block's final, literal-only sequence). */
function writeSequence(
  out: Uint8Array,
  at: number,
  source: Uint8Array,
  literalStart: number,
  literalEnd: number,
  offset: number,
  matchLength: number,
): number {
  const literalLength = literalEnd - literalStart;
  const tokenAt = at;
  let op = at + 1;
  let token: number;
  if (literalLength >= NIBBLE_MAX) {
    token = NIBBLE_MAX << TOKEN_LITERAL_SHIFT;
    op = writeLengthExtension(out, op, literalLength - NIBBLE_MAX);
  } else {
    token = literalLength << TOKEN_LITERAL_SHIFT;
  }
  copyBytes(source, literalStart, literalEnd, out, op);
  op += literalLength;
  if (matchLength > 0) {
    out[op++] = offset & BYTE_MASK;
    out[op++] = offset >>> BITS_PER_BYTE;
    const matchCode = matchLength - MIN_MATCH;
    if (matchCode >= NIBBLE_MAX) {
      token |= NIBBLE_MAX;
      op = writeLengthExtension(out, op, matchCode - NIBBLE_MAX);
    } else {
      token |= matchCode;
    }
  }
  out[tokenAt] = token;
  return op;
}

/** Pure-JS compressor producing `lz4-block-v1`; exported so tests can mix it with the native one. */
export function lz4CompressJs(bytes: Uint8Array): Uint8Array {
  assertFrameable(bytes);
  const length = bytes.byteLength;
  const out = new Uint8Array(compressedBound(length));
  new DataView(out.buffer).setUint32(0, length, true);
  // A DataView reads u32s straight from the caller's memory, SharedArrayBuffer slabs included.
  const input = new DataView(bytes.buffer, bytes.byteOffset, length);

  const hashLog = Math.min(HASH_LOG_MAX, Math.max(HASH_LOG_MIN, 32 - Math.clz32(length)));
  const hashShift = 32 - hashLog;
  // Slot holds position + 1, so the zero-filled table reads as "empty".
  const table = new Uint32Array(1 << hashLog);
  const lastMatchStart = length - MF_LIMIT;
  const matchEndLimit = length - LAST_LITERALS;

  let op = SIZE_PREFIX_BYTES;
  let anchor = 0;
  let ip = 0;
  while (ip <= lastMatchStart) {
    const sequence = input.getUint32(ip, true);
    const slot = Math.imul(sequence, HASH_MULTIPLIER) >>> hashShift;
    const candidate = table[slot]! - 1;
    table[slot] = ip + 1;
    if (candidate < 0 || ip - candidate > MAX_OFFSET || input.getUint32(candidate, true) !== sequence) {
      ip += 1 + ((ip - anchor) >>> SKIP_STRENGTH);
      continue;
    }
    // Extend backwards into pending literals, then forwards up to the last-literals margin.
    let start = ip;
    let reference = candidate;
    while (start > anchor && reference > 0 && bytes[start - 1] === bytes[reference - 1]) {
      start--;
      reference--;
    }
    let end = ip + MIN_MATCH;
    let referenceEnd = candidate + MIN_MATCH;
    while (end < matchEndLimit && bytes[end] === bytes[referenceEnd]) {
      end++;
      referenceEnd++;
    }
    op = writeSequence(out, op, bytes, anchor, start, start - reference, end - start);
    anchor = end;
    ip = end;
    // Index a position inside the match so a repeat right after it is found (as LZ4 does).
    const inside = end - 2;
    table[Math.imul(input.getUint32(inside, true), HASH_MULTIPLIER) >>> hashShift] = inside + 1;
  }
  op = writeSequence(out, op, bytes, anchor, length, 0, 0);
  return out.slice(0, op);
}

/** Reads and checks the declared length; throws before anything the size of it is allocated. */
function declaredLength(bytes: Uint8Array, maxOutputBytes: number): number {
  if (!Number.isSafeInteger(maxOutputBytes) || maxOutputBytes < 0) {
    throw invalidOption('maxOutputBytes', 'a non-negative integer', maxOutputBytes);
  }
  if (bytes.byteLength < SIZE_PREFIX_BYTES + 1) {
    throw corrupt(`input of ${bytes.byteLength} bytes is shorter than a size prefix and a token`);
  }
  const declared = new DataView(bytes.buffer, bytes.byteOffset, SIZE_PREFIX_BYTES).getUint32(0, true);
  if (declared > maxOutputBytes) {
    throw corrupt(`declared size ${declared} exceeds maxOutputBytes ${maxOutputBytes}`);
  }
  const blockLength = bytes.byteLength - SIZE_PREFIX_BYTES;
  if (declared > blockLength * MAX_EXPANSION_RATIO) {
    throw corrupt(`declared size ${declared} is more than a ${blockLength}-byte block can hold`);
  }
  return declared;
}

/** Reads a saturated length's 255-run extension starting at `at`; returns [length, next offset]. */
function readLengthExtension(input: Uint8Array, at: number, base: number, what: string): [number, number] {
  let ip = at;
  let length = base;
  let byte: number;
  do {
    if (ip >= input.byteLength) throw corrupt(`input ends inside a ${what} length`);
    byte = input[ip++]!;
    length += byte;
  } while (byte === LENGTH_BYTE_MAX);
  return [length, ip];
}

function decompressBlock(input: Uint8Array, declared: number): Uint8Array {
  const out = new Uint8Array(declared);
  const end = input.byteLength;
  let ip = SIZE_PREFIX_BYTES;
  let op = 0;
  // Every iteration consumes at least the token byte, so the loop ends with the input.
  for (;;) {
    if (ip >= end) throw corrupt('input ends where a sequence token was expected');
    const token = input[ip++]!;

    let literalLength = token >>> TOKEN_LITERAL_SHIFT;
    if (literalLength === NIBBLE_MAX) [literalLength, ip] = readLengthExtension(input, ip, literalLength, 'literal');
    if (literalLength > end - ip) throw corrupt(`literal run of ${literalLength} bytes runs past the input`);
    if (literalLength > declared - op) throw corrupt(`literals overflow the declared size ${declared}`);
    copyBytes(input, ip, ip + literalLength, out, op);
    ip += literalLength;
    op += literalLength;
    if (ip === end) break; // the final sequence has literals only

    if (end - ip < OFFSET_BYTES) throw corrupt('input ends inside a match offset');
    const offset = input[ip]! | (input[ip + 1]! << BITS_PER_BYTE);
    ip += OFFSET_BYTES;
    if (offset === 0 || offset > op) throw corrupt(`match offset ${offset} points outside the output (at ${op})`);

    let matchLength = token & NIBBLE_MAX;
    if (matchLength === NIBBLE_MAX) [matchLength, ip] = readLengthExtension(input, ip, matchLength, 'match');
    matchLength += MIN_MATCH;
    if (matchLength > declared - op) throw corrupt(`match overflows the declared size ${declared}`);
    let from = op - offset;
    if (offset >= matchLength && matchLength >= SHORT_COPY_BYTES) {
      out.copyWithin(op, from, from + matchLength);
      op += matchLength;
    } else {
      // Overlapping matches repeat the bytes just written, so copy forwards one byte at a time.
      const matchEnd = op + matchLength;
      while (op < matchEnd) out[op++] = out[from++]!;
    }
  }
  if (op !== declared) throw corrupt(`decompressed ${op} bytes, the prefix declared ${declared}`);
  return out;
}

/** Pure-JS decompressor for `lz4-block-v1`; throws `ECORRUPT` on any malformed input. */
export function lz4DecompressJs(bytes: Uint8Array, maxOutputBytes: number = DEFAULT_MAX_OUTPUT_BYTES): Uint8Array {
  return decompressBlock(bytes, declaredLength(bytes, maxOutputBytes));
}

type Lz4Module = typeof import('lz4-napi');

interface Loaded {
  readonly native: Lz4Module | undefined;
  readonly reason: FallbackReason;
}

/** Zero-copy Buffer over the same memory: the addon's typings ask for a Buffer. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Mixes literal runs, short and long, overlapping and distant matches. */
function probeInput(): Uint8Array {
  const distinct = Uint8Array.from({ length: 64 }, (_, index) => index);
  const repeated = Buffer.from('strata '.repeat(20), 'latin1');
  return Buffer.concat([repeated, distinct, Buffer.from('lz4 probe'), repeated, distinct]);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(asBuffer(a), asBuffer(b)) === 0;
}

function loadNative(): Loaded {
  if (forcedJsFallback()) return { native: undefined, reason: FORCED_FALLBACK_REASON };
  let native: Lz4Module;
  try {
    native = require('lz4-napi') as Lz4Module;
  } catch (error) {
    return { native: undefined, reason: describeLoadFailure('lz4-napi', error) };
  }
  // Entries written by one backend are read by the other: refuse an addon whose framing differs.
  const probe = probeInput();
  try {
    const interoperates =
      sameBytes(lz4DecompressJs(native.compressSync(asBuffer(probe))), probe) &&
      sameBytes(native.uncompressSync(lz4CompressJs(probe)), probe);
    if (interoperates) return { native, reason: undefined };
  } catch (error) {
    return { native: undefined, reason: describeLoadFailure('lz4-napi (interoperability probe)', error) };
  }
  return { native: undefined, reason: 'lz4-napi does not round-trip lz4-block-v1 with the JS codec' };
}

const loaded = loadNative();
const native = loaded.native;

/** Which LZ4 implementation is live. */
export const lz4Backend: NativeBackend = native === undefined ? 'js' : 'native';

/** Why the JS fallback is live; `undefined` when the native addon is. */
export const lz4FallbackReason: FallbackReason = loaded.reason;

/** Compresses `bytes` to `lz4-block-v1`. Views over SharedArrayBuffer are read in place. */
export function lz4Compress(bytes: Uint8Array): Uint8Array {
  if (native === undefined) return lz4CompressJs(bytes);
  assertFrameable(bytes);
  return native.compressSync(asBuffer(bytes));
}

/**
 * Decompresses `lz4-block-v1`. Throws `ECORRUPT` when the input is malformed, when its declared
 * size exceeds `maxOutputBytes`, or when it decodes to a different size than it declares.
 */
export function lz4Decompress(bytes: Uint8Array, maxOutputBytes: number = DEFAULT_MAX_OUTPUT_BYTES): Uint8Array {
  const declared = declaredLength(bytes, maxOutputBytes);
  if (native === undefined) return decompressBlock(bytes, declared);
  let out: Uint8Array;
  try {
    out = native.uncompressSync(bytes);
  } catch (error) {
    const message = typeof error === 'object' && error !== null && 'message' in error ? String(error.message) : String(error);
    throw corrupt(message, error);
  }
  // lz4_flex returns a short buffer when the block ends early; the JS decoder refuses that, so must we.
  if (out.byteLength !== declared) throw corrupt(`decompressed ${out.byteLength} bytes, the prefix declared ${declared}`);
  return out;
}
