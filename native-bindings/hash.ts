/**
 * XXH64 (seed 0) behind one adapter: Strata's own addon (src/strata_native.c) when it was built,
 * else `@node-rs/xxhash` when it loads, else a pure-JS port. Cache keys are content-addressed with
 * this hash and may be written by one backend and read by another, so they must agree bit for bit;
 * a native one is cross-checked against the port at load time.
 *
 * Inputs may be views over SharedArrayBuffer slabs: the native addon hashes them in place
 * (measured on a 1 MiB view: 54 µs in place against 230 µs copy-then-hash), so nothing is copied.
 */
import { readFileSync } from 'node:fs';
import {
  describeLoadFailure,
  forcedJsFallback,
  FORCED_FALLBACK_REASON,
  type FallbackReason,
  type NativeBackend,
} from './backend.js';
import { strataAddon } from './strata-addon.js';

// XXH64 primes from the xxHash specification, split into 32-bit halves because the JS port
// works on (high, low) pairs: exact, and far faster than BigInt arithmetic. Halves are kept as
// int32 (`| 0`) throughout so V8 stores them as small integers instead of boxed doubles
// (measured on 1 MiB: ~200 MB/s, against 65-105 MB/s for the same code on uint32 halves).
const PRIME64_1_HI = 0x9e3779b1 | 0;
const PRIME64_1_LO = 0x85ebca87 | 0;
const PRIME64_2_HI = 0xc2b2ae3d | 0;
const PRIME64_2_LO = 0x27d4eb4f | 0;
const PRIME64_3_HI = 0x165667b1 | 0;
const PRIME64_3_LO = 0x9e3779f9 | 0;
const PRIME64_4_HI = 0x85ebca77 | 0;
const PRIME64_4_LO = 0xc2b2ae63 | 0;
const PRIME64_5_HI = 0x27d4eb2f | 0;
const PRIME64_5_LO = 0x165667c5 | 0;

/** Bytes consumed per iteration of the four-accumulator main loop. */
const STRIPE_BYTES = 32;
/** One accumulator lane: a little-endian u64. */
const LANE_BYTES = 8;
/** Tail step that consumes a little-endian u32. */
const HALF_LANE_BYTES = 4;
const UINT32_SPAN = 0x1_0000_0000;
const LOW_16_MASK = 0xffff;
/** Characters in a zero-padded hex digest of a u64 / of one 32-bit half. */
const HEX_DIGITS = 16;
const HALF_HEX_DIGITS = 8;

/** XXH64 of the empty input with seed 0 (xxHash reference vector). */
export const XXH64_OF_EMPTY = 0xef46db3751d8e999n;

/** A mutable u64 held as two int32 halves (bit patterns); every operation wraps modulo 2^64. */
class Word64 {
  hi: number;
  lo: number;

  constructor(hi: number, lo: number) {
    this.hi = hi;
    this.lo = lo;
  }

  set(hi: number, lo: number): this {
    this.hi = hi;
    this.lo = lo;
    return this;
  }

  add(hi: number, lo: number): this {
    const lo64 = (this.lo >>> 0) + (lo >>> 0);
    this.lo = lo64 | 0;
    this.hi = (this.hi + hi + (lo64 >= UINT32_SPAN ? 1 : 0)) | 0;
    return this;
  }

  xor(hi: number, lo: number): this {
    this.hi ^= hi;
    this.lo ^= lo;
    return this;
  }

  /** Low 64 bits of the product. The low halves are multiplied in 16-bit limbs so every partial
   * product stays exact in a double; the cross terms only matter modulo 2^32 (Math.imul). */
  multiply(hi: number, lo: number): this {
    const aHi = this.hi;
    const aLo = this.lo;
    const a0 = aLo & LOW_16_MASK;
    const a1 = aLo >>> 16;
    const b0 = lo & LOW_16_MASK;
    const b1 = lo >>> 16;
    const p00 = a0 * b0;
    const p01 = a0 * b1;
    const p10 = a1 * b0;
    const middle = (p00 >>> 16) + (p01 & LOW_16_MASK) + (p10 & LOW_16_MASK);
    const carry = a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (middle >>> 16);
    this.lo = ((middle & LOW_16_MASK) << 16) | (p00 & LOW_16_MASK);
    this.hi = (carry + Math.imul(aHi, lo) + Math.imul(aLo, hi)) | 0;
    return this;
  }

  /** Rotate left by 1..31 bits (the only amounts XXH64 uses). */
  rotl(bits: number): this {
    const hi = this.hi;
    const lo = this.lo;
    this.hi = (hi << bits) | (lo >>> (32 - bits));
    this.lo = (lo << bits) | (hi >>> (32 - bits));
    return this;
  }

  /** `x ^= x >> bits` for 1..63 bits (the avalanche step). */
  xorShiftRight(bits: number): this {
    if (bits >= 32) {
      this.lo ^= this.hi >>> (bits - 32);
    } else {
      this.lo ^= (this.lo >>> bits) | (this.hi << (32 - bits));
      this.hi ^= this.hi >>> bits;
    }
    return this;
  }
}

/** `acc = rotl(acc + lane * PRIME64_2, 31) * PRIME64_1`; `lane` is used as scratch. */
function round(acc: Word64, lane: Word64): void {
  lane.multiply(PRIME64_2_HI, PRIME64_2_LO);
  acc.add(lane.hi, lane.lo).rotl(31).multiply(PRIME64_1_HI, PRIME64_1_LO);
}

/** `hash = (hash ^ round(0, accumulator)) * PRIME64_1 + PRIME64_4`. */
function mergeRound(hash: Word64, accumulator: Word64, scratch: Word64): void {
  scratch.set(accumulator.hi, accumulator.lo).multiply(PRIME64_2_HI, PRIME64_2_LO).rotl(31);
  scratch.multiply(PRIME64_1_HI, PRIME64_1_LO);
  hash.xor(scratch.hi, scratch.lo).multiply(PRIME64_1_HI, PRIME64_1_LO).add(PRIME64_4_HI, PRIME64_4_LO);
}

function readLane(view: DataView, offset: number, into: Word64): Word64 {
  return into.set(view.getInt32(offset + HALF_LANE_BYTES, true), view.getInt32(offset, true));
}

/** XXH64 with seed 0, following the reference algorithm step by step. */
function xxh64Words(bytes: Uint8Array): Word64 {
  // A DataView over the same memory: works for SharedArrayBuffer views and copies nothing.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = bytes.byteLength;
  const hash = new Word64(0, 0);
  const lane = new Word64(0, 0);
  let offset = 0;

  if (length >= STRIPE_BYTES) {
    // Seed 0: v1 = P1 + P2, v2 = P2, v3 = 0, v4 = -P1 (two's complement).
    const v1 = new Word64(PRIME64_1_HI, PRIME64_1_LO).add(PRIME64_2_HI, PRIME64_2_LO);
    const v2 = new Word64(PRIME64_2_HI, PRIME64_2_LO);
    const v3 = new Word64(0, 0);
    const v4 = new Word64(~PRIME64_1_HI, ~PRIME64_1_LO).add(0, 1);
    const lastStripe = length - STRIPE_BYTES;
    do {
      round(v1, readLane(view, offset, lane));
      round(v2, readLane(view, offset + LANE_BYTES, lane));
      round(v3, readLane(view, offset + 2 * LANE_BYTES, lane));
      round(v4, readLane(view, offset + 3 * LANE_BYTES, lane));
      offset += STRIPE_BYTES;
    } while (offset <= lastStripe);

    hash.set(v1.hi, v1.lo).rotl(1);
    lane.set(v2.hi, v2.lo).rotl(7);
    hash.add(lane.hi, lane.lo);
    lane.set(v3.hi, v3.lo).rotl(12);
    hash.add(lane.hi, lane.lo);
    lane.set(v4.hi, v4.lo).rotl(18);
    hash.add(lane.hi, lane.lo);
    mergeRound(hash, v1, lane);
    mergeRound(hash, v2, lane);
    mergeRound(hash, v3, lane);
    mergeRound(hash, v4, lane);
  } else {
    hash.set(PRIME64_5_HI, PRIME64_5_LO);
  }

  hash.add(Math.floor(length / UINT32_SPAN) | 0, length | 0);

  while (offset + LANE_BYTES <= length) {
    readLane(view, offset, lane).multiply(PRIME64_2_HI, PRIME64_2_LO).rotl(31).multiply(PRIME64_1_HI, PRIME64_1_LO);
    hash.xor(lane.hi, lane.lo).rotl(27).multiply(PRIME64_1_HI, PRIME64_1_LO).add(PRIME64_4_HI, PRIME64_4_LO);
    offset += LANE_BYTES;
  }
  if (offset + HALF_LANE_BYTES <= length) {
    lane.set(0, view.getInt32(offset, true)).multiply(PRIME64_1_HI, PRIME64_1_LO);
    hash.xor(lane.hi, lane.lo).rotl(23).multiply(PRIME64_2_HI, PRIME64_2_LO).add(PRIME64_3_HI, PRIME64_3_LO);
    offset += HALF_LANE_BYTES;
  }
  while (offset < length) {
    lane.set(0, view.getUint8(offset)).multiply(PRIME64_5_HI, PRIME64_5_LO);
    hash.xor(lane.hi, lane.lo).rotl(11).multiply(PRIME64_1_HI, PRIME64_1_LO);
    offset += 1;
  }

  hash.xorShiftRight(33).multiply(PRIME64_2_HI, PRIME64_2_LO);
  hash.xorShiftRight(29).multiply(PRIME64_3_HI, PRIME64_3_LO);
  return hash.xorShiftRight(32);
}

/** Pure-JS XXH64 (seed 0). Always available; exported so tests can compare it with the native one. */
export function xxh64Js(bytes: Uint8Array): bigint {
  const { hi, lo } = xxh64Words(bytes);
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

function xxh64HexJs(bytes: Uint8Array): string {
  const { hi, lo } = xxh64Words(bytes);
  return (hi >>> 0).toString(16).padStart(HALF_HEX_DIGITS, '0') + (lo >>> 0).toString(16).padStart(HALF_HEX_DIGITS, '0');
}

type XxhashModule = typeof import('@node-rs/xxhash');

/** Spans the stripe loop and every tail step, so the load-time cross-check covers each branch. */
const PROBE_BYTES = STRIPE_BYTES + LANE_BYTES + HALF_LANE_BYTES + 3;

interface Loaded {
  /** XXH64 of bytes; undefined: the JS port runs. */
  readonly native: ((bytes: Uint8Array) => bigint) | undefined;
  /** XXH64 of a string's UTF-8 bytes. */
  readonly nativeString: ((text: string) => bigint) | undefined;
  readonly reason: FallbackReason;
}

/**
 * The addon's module. Its napi-rs loader reads /usr/bin/ldd to tell glibc from musl, tries a binary
 * inside the package, then requires the platform package and its package.json: ~4 ms of a restart
 * besides the dlopen. On Linux with glibc (the same /usr/bin/ldd test as that loader's first one) the
 * platform package is required directly; anything else, or any failure, goes through the loader.
 */
function requireAddon(): XxhashModule {
  const { platform, arch } = process;
  if (platform === 'linux' && (arch === 'x64' || arch === 'arm64') && process.env.NAPI_RS_NATIVE_LIBRARY_PATH === undefined) {
    try {
      if (!readFileSync('/usr/bin/ldd', 'latin1').includes('musl')) return require(`@node-rs/xxhash-linux-${arch}-gnu`) as XxhashModule;
    } catch {
      // no ldd, no platform package where we can see it: the package's own loader decides
    }
  }
  return require('@node-rs/xxhash') as XxhashModule;
}

/** A binary that loads but hashes differently would split the cache between backends. */
function agreesWithReference(hash: (bytes: Uint8Array) => bigint): boolean {
  const probe = Uint8Array.from({ length: PROBE_BYTES }, (_, index) => index);
  return hash(new Uint8Array(0)) === XXH64_OF_EMPTY && hash(probe) === xxh64Js(probe);
}

/**
 * Strata's own addon first (src/strata_native.c: loaded anyway for the batch stats, so a restart
 * dlopens one addon, not two: ~5 ms), then @node-rs/xxhash, then the JS port.
 */
function loadNative(): Loaded {
  if (forcedJsFallback()) return { native: undefined, nativeString: undefined, reason: FORCED_FALLBACK_REASON };
  const own = strataAddon.addon?.xxh64;
  if (own !== undefined && agreesWithReference(own)) return { native: own, nativeString: (text) => own(Buffer.from(text, 'utf8')), reason: undefined };
  let rs: XxhashModule['xxh64'];
  try {
    rs = requireAddon().xxh64;
  } catch (error) {
    return { native: undefined, nativeString: undefined, reason: describeLoadFailure('@node-rs/xxhash', error) };
  }
  if (!agreesWithReference(rs)) return { native: undefined, nativeString: undefined, reason: '@node-rs/xxhash disagrees with the reference XXH64' };
  // It encodes strings to UTF-8 itself, twice as fast as Buffer.from first (2 KB text), and
  // replaces lone surrogates with U+FFFD exactly as Buffer.from does.
  return { native: rs, nativeString: rs, reason: undefined };
}

const loaded = loadNative();
const native = loaded.native;
const nativeString = loaded.nativeString;

/** Which XXH64 implementation is live. */
export const hashBackend: NativeBackend = native === undefined ? 'js' : 'native';

/** Why the JS fallback is live; `undefined` when a native addon is. */
export const hashFallbackReason: FallbackReason = loaded.reason;

/** XXH64 (seed 0) of `bytes` as an unsigned 64-bit bigint. */
export function xxh64(bytes: Uint8Array): bigint {
  return native === undefined ? xxh64Js(bytes) : native(bytes);
}

/**
 * XXH64 (seed 0) of a file's bytes from offset `from` to its end; null when it cannot be read. With
 * Strata's addon, read through one reused 64 KiB buffer: no buffer of the file's size to fault in
 * (the restart lane's check of a 1.6 MB index: ~1 ms against ~7 ms read whole and hashed).
 */
export function xxh64File(file: string, from: number): bigint | null {
  const own = native !== undefined && native === strataAddon.addon?.xxh64 ? strataAddon.addon.xxh64File : undefined;
  if (own !== undefined) return own(Buffer.from(`${file}\0`, 'utf8'), from);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    return null;
  }
  return xxh64(bytes.subarray(Math.min(from, bytes.length)));
}

/** An XXH64 value as 16 lowercase, zero-padded hex characters (the form keys and records store). */
export function hashHex(hash: bigint): string {
  return hash.toString(16).padStart(HEX_DIGITS, '0');
}

/** XXH64 (seed 0) of `bytes` as 16 lowercase, zero-padded hex characters. */
export function xxh64Hex(bytes: Uint8Array): string {
  return native === undefined ? xxh64HexJs(bytes) : hashHex(native(bytes));
}

/** XXH64 (seed 0) hex of the UTF-8 encoding of `text` (lone surrogates encode as U+FFFD). */
export function xxh64String(text: string): string {
  if (nativeString === undefined) return xxh64HexJs(Buffer.from(text, 'utf8'));
  return nativeString(text).toString(16).padStart(HEX_DIGITS, '0');
}
