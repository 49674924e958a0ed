/**
 * msgpackr for cache files, which are data and never code.
 *
 * msgpackr's decoder keeps one process-wide table of extension types: besides its built-ins
 * (Error, RegExp, Set, Date, typed arrays, structured-clone references, record definitions that it
 * compiles into property readers) it runs whatever any code in the process registered with
 * `addExtension`, which may construct that code's classes. A cache file is written by us but read
 * back from a directory anyone with the user's rights (or a restored CI cache) could have filled, so
 * before msgpackr sees a byte, {@link decodePlainData} walks the whole message and accepts only the
 * plain MessagePack families this store writes: nil, booleans, integers, floats, strings, binary,
 * arrays and maps. Any extension token (`fixext*`, `ext*`, which is also how msgpackr spells records,
 * `undefined` and every class), the reserved `0xc1`, a length running past the end or trailing bytes
 * reject the message before decoding: decoding a hostile file can allocate at most what its length
 * allows and can never instantiate or run anything.
 *
 * Encoding uses `useRecords: false`, `moreTypes: false`, `bundleStrings: false`, no `structuredClone`:
 * what we write contains no extension tokens either, so our own files always pass the walk. Values
 * that msgpackr would encode as extensions (`undefined`, bigint beyond 64 bits, Set, Date, typed
 * arrays other than Uint8Array) must not be given to {@link encodePlainData}; it checks its output.
 */
// The no-eval build: it never compiles record readers with `new Function`, and it skips the native
// string accelerator, halving start-up (a restart of an unchanged tree is dominated by start-up).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Packr, Unpackr } = require('msgpackr/index-no-eval') as typeof import('msgpackr');
import { StrataError } from './errors.js';

const packr = new Packr({ useRecords: false, moreTypes: false, bundleStrings: false, structuredClone: false });
// mapsAsObjects: maps decode to plain objects (msgpackr renames a `__proto__` key, so no prototype is
// ever set from data). copyBuffers: binary values are views into the input, copied by the caller.
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, structuredClone: false, bundleStrings: false, copyBuffers: false, int64AsType: 'bigint' });

/** Why a message was refused by the walk (before msgpackr decodes anything). */
export class UnsafeMessageError extends Error {
  override readonly name = 'UnsafeMessageError';
}

/** Encodes plain data (objects, arrays, strings, numbers, booleans, null, Uint8Array). */
export function encodePlainData(value: unknown): Uint8Array {
  const bytes = packr.pack(value);
  assertPlainMessagePack(bytes);
  return bytes;
}

/**
 * Decodes a message that {@link assertPlainMessagePack} accepts. Throws `StrataError('ECORRUPT')`
 * for anything else, and for anything msgpackr itself refuses. The result is untrusted data: the
 * caller validates its shape.
 */
export function decodePlainData(bytes: Uint8Array, what: string): unknown {
  try {
    assertPlainMessagePack(bytes);
    return unpackr.unpack(bytes);
  } catch (error) {
    throw new StrataError('ECORRUPT', `Corrupt ${what}: ${(error as Error).message}`, undefined, { cause: error });
  }
}

/**
 * Walks one complete MessagePack value spanning exactly `bytes`, accepting only nil, booleans,
 * integers, floats, strings, binary, arrays and maps. Iterative (no recursion), linear time.
 * Throws {@link UnsafeMessageError}.
 */
export function assertPlainMessagePack(bytes: Uint8Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.length;
  let at = 0;
  /** Values still to read: each array element and each map key and value counts one. */
  let pending = 1;
  const need = (count: number): void => {
    if (at + count > end) throw new UnsafeMessageError(`message truncated at byte ${at}`);
  };
  const skip = (count: number): void => {
    need(count);
    at += count;
  };
  while (pending > 0) {
    need(1);
    const token = bytes[at++] as number;
    pending--;
    if (token <= 0x7f || token >= 0xe0) continue; // positive / negative fixint
    if (token <= 0x8f) {
      pending += 2 * (token & 0x0f); // fixmap
      continue;
    }
    if (token <= 0x9f) {
      pending += token & 0x0f; // fixarray
      continue;
    }
    if (token <= 0xbf) {
      skip(token & 0x1f); // fixstr
      continue;
    }
    switch (token) {
      case 0xc0: // nil
      case 0xc2: // false
      case 0xc3: // true
        break;
      case 0xc4: // bin 8
      case 0xd9: // str 8
        need(1);
        skip(view.getUint8(at++));
        break;
      case 0xc5: // bin 16
      case 0xda: // str 16
        need(2);
        at += 2;
        skip(view.getUint16(at - 2));
        break;
      case 0xc6: // bin 32
      case 0xdb: // str 32
        need(4);
        at += 4;
        skip(view.getUint32(at - 4));
        break;
      case 0xcc: // uint 8
      case 0xd0: // int 8
        skip(1);
        break;
      case 0xcd: // uint 16
      case 0xd1: // int 16
        skip(2);
        break;
      case 0xca: // float 32
      case 0xce: // uint 32
      case 0xd2: // int 32
        skip(4);
        break;
      case 0xcb: // float 64
      case 0xcf: // uint 64
      case 0xd3: // int 64
        skip(8);
        break;
      case 0xdc: // array 16
        need(2);
        pending += view.getUint16(at);
        at += 2;
        break;
      case 0xdd: // array 32
        need(4);
        pending += view.getUint32(at);
        at += 4;
        break;
      case 0xde: // map 16
        need(2);
        pending += 2 * view.getUint16(at);
        at += 2;
        break;
      case 0xdf: // map 32
        need(4);
        pending += 2 * view.getUint32(at);
        at += 4;
        break;
      default:
        // 0xc1 (never used) and every extension: 0xc7-0xc9 (ext 8/16/32), 0xd4-0xd8 (fixext 1-16).
        throw new UnsafeMessageError(`token 0x${token.toString(16)} at byte ${at - 1} is not plain data`);
    }
    // Every pending value needs at least one byte: a count beyond that is a lie, refused early.
    if (pending > end - at) throw new UnsafeMessageError(`message declares ${pending} more values in ${end - at} bytes`);
  }
  if (at !== end) throw new UnsafeMessageError(`${end - at} trailing bytes after the message`);
}
