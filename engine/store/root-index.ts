/**
 * The per-root index: root-relative path → stat fingerprint, content hash, L2 key and the location
 * of the entry record. A restart stats each file and compares with its record; only files whose
 * content changed are parsed again.
 *
 * File `indexes/<indexId>.idx`:
 *
 * ```
 * offset  size     field (little-endian)
 * 0       4        INDEX_MAGIC "SIDX"
 * 4       8        checksum: XXH64 of bytes [12, end)
 * 12      2        INDEX_FORMAT_VERSION
 * 14      2        reserved, 0
 * 16      4        meta length
 * 20      4        record count n
 * 24      …        meta: one plain MessagePack map (safe-msgpack.ts):
 *                    keyPrefix  string    the caller's parser/format identity; another one loads as empty
 *                    root       string    the root relative to the cache directory (informational)
 *                    packs      string[]  distinct pack names (packOf indexes into it)
 *                    pathBytes  number    length of the paths text
 *                    keyBytes   number    length of the keys text
 *                  zero padding to a multiple of 8, then the columns (typed ones 8-aligned):
 *         32n      stamps: u64 × 4 per record: mtimeNs, ctimeNs (two's complement), ino, dev
 *         32n      numbers: f64 × 4 per record: size, location offset, location length, lastAccessMs
 *         4n       packOf: u32 per record
 *         4n       pathLengths: u32 per record, the UTF-16 length of its path
 *         4n       keyLengths: u32 per record, the UTF-16 length of its key
 *         16n      hashes: the content hash per record, 16 lowercase hex ASCII digits
 *         …        paths: UTF-8 of every path, concatenated
 *         …        keys: UTF-8 of every key, concatenated
 * ```
 *
 * The file must be exactly as long as these parts. Columns (not one map per record) because the
 * restart path reads this in a fresh process: typed columns are viewed in place (no copy, no
 * parse); paths, keys and hashes come from one native decode each and are sliced (decoding 30,000
 * MessagePack strings one by one cost ~60 ms cold, measured; 20,000 `buffer.toString` calls ~40 ms);
 * BigInts and record objects are only built when a record is first asked for
 * ({@link ColumnarRootIndex}). Typed columns are in the platform's byte
 * order, little-endian on every supported platform.
 *
 * A load never throws for the file's content: a checksum, format or structure mismatch moves the
 * file aside (`*.corrupt`, reclaimed first by the bound) and answers an empty index, counted.
 * Saves are atomic (temporary file, fsync, rename, directory fsync).
 */
import { isAscii } from 'node:buffer';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { xxh64, xxh64String } from '../../native-bindings/hash.js';
import { STAT_TIME_TOLERANCE_MS } from '../content/fingerprint.js';
import { StrataError } from '../../shared/errors.js';
import { CORRUPT_SUFFIX, ensurePrivateDir, INDEX_SUFFIX, isMissing, writeFileAtomic, openIfPresent } from './layout.js';
import { isPackName, type PackLocation } from './packs.js';
import { decodePlainData, encodePlainData } from '../../shared/safe-msgpack.js';

/** Version of the index layout. Bump on any change; an index of another version loads as empty. */
export const INDEX_FORMAT_VERSION = 1;
/** The bytes `S`, `I`, `D`, `X` as a little-endian u32. */
export const INDEX_MAGIC = 0x58444953;
const OFFSET_MAGIC = 0;
const OFFSET_CHECKSUM = 4;
const OFFSET_VERSION = 12;
const OFFSET_META_LENGTH = 16;
const OFFSET_COUNT = 20;
/** The checksum covers the file from the version field to the end. */
const CHECKSUMMED_FROM = OFFSET_VERSION;
/** Size of the fixed header; the meta starts here. */
export const INDEX_HEADER_BYTES = 24;
/** Columns start at multiples of this. */
const COLUMN_ALIGNMENT = 8;

/** u64 stamp columns per record, in this order. */
const STAMP_COLUMNS = 4;
const STAMP_MTIME = 0;
const STAMP_CTIME = 1;
const STAMP_INO = 2;
const STAMP_DEV = 3;
/** f64 number columns per record, in this order. */
const NUMBER_COLUMNS = 4;
const NUMBER_SIZE = 0;
const NUMBER_OFFSET = 1;
const NUMBER_LENGTH = 2;
const NUMBER_LAST_ACCESS = 3;
const WORD_BYTES = 8;
const U32_BYTES = 4;
const CONTENT_HASH_LENGTH = 16;
const CONTENT_HASH = /^[0-9a-f]{16}$/;

/** What the index remembers about one file. */
export interface IndexRecord {
  readonly size: number;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  readonly ino: bigint;
  readonly dev: bigint;
  /** XXH64 of the content, 16 lowercase hex characters. */
  readonly contentHash: string;
  /** The L2 key (an `AstKey`) of the file's entry. */
  readonly key: string;
  /** Where the entry record lives. */
  readonly location: PackLocation;
  /** When the entry was last used (ms since the epoch). */
  readonly lastAccessMs: number;
}

/** Root-relative path (with `/`) → record. */
export type RootIndex = Map<string, IndexRecord>;

/** How a load went. */
export type IndexLoadStatus =
  | 'loaded' // the index was read and validated
  | 'missing' // no index for this root yet
  | 'other-prefix' // written for another parser/format identity: ignored, overwritten by the next save
  | 'other-version' // written by another index format version: ignored, reclaimed by the bound
  | 'corrupt'; // failed validation: moved aside and counted

export interface IndexLoad {
  readonly records: RootIndex;
  readonly status: IndexLoadStatus;
  /** 1 when the index was corrupt (and moved aside), else 0. */
  readonly corrupt: number;
}

function realpathOrResolve(dir: string): string {
  try {
    return fs.realpathSync(dir);
  } catch (error) {
    if (isMissing(error)) return path.resolve(dir);
    throw error;
  }
}

/** The root's path relative to the cache directory, with `/` separators. */
export function rootPathRelativeTo(cacheDir: string, root: string): string {
  const relative = path.relative(realpathOrResolve(cacheDir), realpathOrResolve(root));
  return (relative === '' ? '.' : relative).split(path.sep).join('/');
}

/**
 * The id of a root's index in a cache directory: XXH64 of the root's path RELATIVE TO THE CACHE
 * DIRECTORY. A cache directory that moves together with its tree (a fresh clone at another absolute
 * path, with the cache restored at the same place relative to it: the usual CI cache) therefore finds
 * the same index, and its root-relative paths and content hashes decide what is reused. One cache
 * directory holds one index per root.
 */
export function indexIdFor(cacheDir: string, root: string): string {
  return xxh64String(rootPathRelativeTo(cacheDir, root));
}

function align(value: number): number {
  return Math.ceil(value / COLUMN_ALIGNMENT) * COLUMN_ALIGNMENT;
}

/** Byte offsets of each column, from the meta length, the record count and the two text lengths. */
function columnLayout(metaLength: number, count: number, pathBytes: number, keyBytes: number) {
  const stamps = align(INDEX_HEADER_BYTES + metaLength);
  const numbers = stamps + count * STAMP_COLUMNS * WORD_BYTES;
  const packOf = numbers + count * NUMBER_COLUMNS * WORD_BYTES;
  const pathLengths = packOf + count * U32_BYTES;
  const keyLengths = pathLengths + count * U32_BYTES;
  const hashes = keyLengths + count * U32_BYTES;
  const paths = hashes + count * CONTENT_HASH_LENGTH;
  const keys = paths + pathBytes;
  return { stamps, numbers, packOf, pathLengths, keyLengths, hashes, paths, keys, end: keys + keyBytes };
}

/**
 * Refuses a record that a load would refuse: writing it would make the whole index read as corrupt.
 * (BigInt fields are checked by `BigInt.asUintN`, which throws a TypeError for anything else.)
 */
function checkRecord(file: string, record: IndexRecord): void {
  const natural = (value: number): boolean => Number.isSafeInteger(value) && value >= 0;
  const problem = !CONTENT_HASH.test(record.contentHash)
    ? 'contentHash must be 16 lowercase hex digits'
    : typeof record.key !== 'string'
      ? 'key must be a string'
      : !isPackName(record.location.pack)
        ? `location.pack ${JSON.stringify(record.location.pack)} is not a pack name`
        : !natural(record.size) || !natural(record.location.offset) || !natural(record.location.length) || record.location.length === 0
          ? 'size, location.offset and location.length must be natural numbers (length > 0)'
          : !Number.isFinite(record.lastAccessMs)
            ? 'lastAccessMs must be a finite number'
            : null;
  if (problem !== null) throw new RangeError(`index record ${JSON.stringify(file)}: ${problem}`);
}

/** Encodes an index file. Throws a RangeError (or TypeError) for a record that is not well-formed (a caller bug). */
export function encodeIndex(records: ReadonlyMap<string, IndexRecord>, keyPrefix: string, rootPath: string): Uint8Array {
  const count = records.size;
  const paths: string[] = [];
  const keys: string[] = [];
  const packs: string[] = [];
  const packIds = new Map<string, number>();
  const hashes: string[] = [];
  for (const [file, record] of records) {
    checkRecord(file, record);
    paths.push(file);
    keys.push(record.key);
    hashes.push(record.contentHash);
    if (!packIds.has(record.location.pack)) {
      packIds.set(record.location.pack, packs.length);
      packs.push(record.location.pack);
    }
  }
  const pathText = Buffer.from(paths.join(''), 'utf8');
  const keyText = Buffer.from(keys.join(''), 'utf8');
  const meta = encodePlainData({ keyPrefix, root: rootPath, packs, pathBytes: pathText.length, keyBytes: keyText.length });
  const layout = columnLayout(meta.length, count, pathText.length, keyText.length);
  const bytes = new Uint8Array(layout.end);
  const view = new DataView(bytes.buffer);
  view.setUint32(OFFSET_MAGIC, INDEX_MAGIC, true);
  view.setUint16(OFFSET_VERSION, INDEX_FORMAT_VERSION, true);
  view.setUint32(OFFSET_META_LENGTH, meta.length, true);
  view.setUint32(OFFSET_COUNT, count, true);
  bytes.set(meta, INDEX_HEADER_BYTES);
  const stamps = new BigUint64Array(bytes.buffer, layout.stamps, count * STAMP_COLUMNS);
  const numbers = new Float64Array(bytes.buffer, layout.numbers, count * NUMBER_COLUMNS);
  const packOf = new Uint32Array(bytes.buffer, layout.packOf, count);
  const pathLengths = new Uint32Array(bytes.buffer, layout.pathLengths, count);
  const keyLengths = new Uint32Array(bytes.buffer, layout.keyLengths, count);
  let i = 0;
  for (const [file, record] of records) {
    const s = i * STAMP_COLUMNS;
    stamps[s + STAMP_MTIME] = BigInt.asUintN(64, record.mtimeNs);
    stamps[s + STAMP_CTIME] = BigInt.asUintN(64, record.ctimeNs);
    stamps[s + STAMP_INO] = BigInt.asUintN(64, record.ino);
    stamps[s + STAMP_DEV] = BigInt.asUintN(64, record.dev);
    const n = i * NUMBER_COLUMNS;
    numbers[n + NUMBER_SIZE] = record.size;
    numbers[n + NUMBER_OFFSET] = record.location.offset;
    numbers[n + NUMBER_LENGTH] = record.location.length;
    numbers[n + NUMBER_LAST_ACCESS] = record.lastAccessMs;
    packOf[i] = packIds.get(record.location.pack) as number;
    pathLengths[i] = file.length;
    keyLengths[i] = record.key.length;
    i++;
  }
  bytes.set(Buffer.from(hashes.join(''), 'latin1'), layout.hashes);
  bytes.set(pathText, layout.paths);
  bytes.set(keyText, layout.keys);
  view.setBigUint64(OFFSET_CHECKSUM, xxh64(bytes.subarray(CHECKSUMMED_FROM)), true);
  return bytes;
}

/** A decoded index: its records, or the fact that it belongs to another prefix or version. */
export type IndexDecode =
  | { readonly status: 'loaded'; readonly records: RootIndex; readonly keyPrefix: string }
  | { readonly status: 'other-prefix'; readonly keyPrefix: string }
  | { readonly status: 'other-version'; readonly version: number };

function corrupt(what: string): StrataError {
  return new StrataError('ECORRUPT', `Corrupt index: ${what}`);
}

/** Reads the index format version from a header, or `null` when `bytes` is not an index header. */
export function indexVersionOf(bytes: Uint8Array): number | null {
  if (bytes.length < INDEX_HEADER_BYTES) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return view.getUint32(OFFSET_MAGIC, true) === INDEX_MAGIC ? view.getUint16(OFFSET_VERSION, true) : null;
}

function naturalField(fields: Record<string, unknown>, name: string): number {
  const value = fields[name];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw corrupt(`${name} is not a natural number`);
  return value;
}

/**
 * Validates and decodes an index file. Throws `StrataError('ECORRUPT')` for anything that is not a
 * complete, checksummed index of consistent lengths and well-formed records. Typed columns are
 * viewed in place when `input` starts 8-aligned in its buffer (else it is copied once).
 */
export function decodeIndex(input: Uint8Array, expectedPrefix: string): IndexDecode {
  const version = indexVersionOf(input);
  if (version === null) throw corrupt(input.length < INDEX_HEADER_BYTES ? `${input.length} bytes is shorter than the header` : 'bad magic');
  // Another version may checksum differently: it is ignored (and reclaimed by the bound), not judged.
  if (version !== INDEX_FORMAT_VERSION) return { status: 'other-version', version };
  const bytes = input.byteOffset % COLUMN_ALIGNMENT === 0 ? input : input.slice();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (xxh64(bytes.subarray(CHECKSUMMED_FROM)) !== view.getBigUint64(OFFSET_CHECKSUM, true)) throw corrupt('checksum mismatch');
  const metaLength = view.getUint32(OFFSET_META_LENGTH, true);
  const count = view.getUint32(OFFSET_COUNT, true);
  if (INDEX_HEADER_BYTES + metaLength > bytes.length) throw corrupt('meta runs past the end');
  const meta = decodePlainData(bytes.subarray(INDEX_HEADER_BYTES, INDEX_HEADER_BYTES + metaLength), 'index');
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta) || meta instanceof Uint8Array) throw corrupt('meta is not a map');
  const fields = meta as Record<string, unknown>;
  const keyPrefix = fields.keyPrefix;
  if (typeof keyPrefix !== 'string') throw corrupt('keyPrefix is not a string');
  if (keyPrefix !== expectedPrefix) return { status: 'other-prefix', keyPrefix };
  const pathBytes = naturalField(fields, 'pathBytes');
  const keyBytes = naturalField(fields, 'keyBytes');
  const packs = fields.packs;
  if (!Array.isArray(packs) || !packs.every((pack) => typeof pack === 'string' && isPackName(pack))) throw corrupt('packs is not a list of pack names');
  const layout = columnLayout(metaLength, count, pathBytes, keyBytes);
  if (layout.end !== bytes.length) throw corrupt(`parts add up to ${layout.end} bytes, the file has ${bytes.length}`);

  const base = bytes.byteOffset;
  const buffer = Buffer.from(bytes.buffer, base, bytes.byteLength);
  const columns: Columns = {
    // Times are signed (before 1970 is possible), ids unsigned: two views of the same column.
    times: new BigInt64Array(bytes.buffer, base + layout.stamps, count * STAMP_COLUMNS),
    ids: new BigUint64Array(bytes.buffer, base + layout.stamps, count * STAMP_COLUMNS),
    halves: new Int32Array(bytes.buffer, base + layout.stamps, count * STAMP_COLUMNS * 2),
    numbers: new Float64Array(bytes.buffer, base + layout.numbers, count * NUMBER_COLUMNS),
    packOf: new Uint32Array(bytes.buffer, base + layout.packOf, count),
    pathLengths: new Uint32Array(bytes.buffer, base + layout.pathLengths, count),
    keyLengths: new Uint32Array(bytes.buffer, base + layout.keyLengths, count),
    keyStarts: new Uint32Array(count),
    paths: buffer.toString('utf8', layout.paths, layout.paths + pathBytes),
    keys: lazyText(buffer, layout.keys, layout.keys + keyBytes),
    hashes: buffer.toString('latin1', layout.hashes, layout.paths),
    packs: packs as string[],
  };
  validateColumns(columns, count);
  return { status: 'loaded', records: new ColumnarRootIndex(columns, count), keyPrefix };
}

/** The decoded columns of an index, shared by its not-yet-built records. */
interface Columns {
  readonly times: BigInt64Array;
  readonly ids: BigUint64Array;
  /** The stamps again as int32 halves (low, high per u64): compared as numbers, no BigInt built. */
  readonly halves: Int32Array;
  readonly numbers: Float64Array;
  readonly packOf: Uint32Array;
  readonly pathLengths: Uint32Array;
  readonly keyLengths: Uint32Array;
  /** Filled by validation: where each record's key starts in {@link keys}. */
  readonly keyStarts: Uint32Array;
  /** Every path, every key and every content hash, each decoded as one string (the keys when first needed). */
  readonly paths: string;
  readonly keys: LazyText;
  readonly hashes: string;
  readonly packs: readonly string[];
}

const HEX_DIGITS = /^[0-9a-f]*$/;

/**
 * A UTF-8 region decoded when first read. Its UTF-16 `length` is known without decoding when the
 * bytes are ASCII (the usual keys: validation needs only that); otherwise it is decoded at once.
 * A restart of an unchanged tree never reads the keys (~4 ms of decoding saved on 10,000 files).
 */
interface LazyText {
  readonly length: number;
  text(): string;
}

function lazyText(buffer: Buffer, start: number, end: number): LazyText {
  if (!isAscii(buffer.subarray(start, end))) {
    const decoded = buffer.toString('utf8', start, end);
    return { length: decoded.length, text: () => decoded };
  }
  let decoded: string | null = null;
  return { length: end - start, text: () => (decoded ??= buffer.toString('latin1', start, end)) };
}

/**
 * What every path Strata writes looks like: relative, `/`-separated, no empty, `.` or `..` segment,
 * no NUL. An index holding anything else was not written by Strata: the whole index is corrupt.
 * A few `indexOf`s per path: the restart path pays this for every record.
 */
export function isRootRelativePath(file: string): boolean {
  if (file === '' || file.charCodeAt(0) === 47 /* / */ || file.indexOf('\0') >= 0 || file.indexOf('//') >= 0 || file.endsWith('/')) return false;
  if (file.indexOf('.') < 0) return true;
  return !(file === '.' || file === '..' || file.startsWith('./') || file.startsWith('../') || file.endsWith('/.') || file.endsWith('/..') || file.indexOf('/./') >= 0 || file.indexOf('/../') >= 0);
}

/**
 * Checks every record without allocating anything per record: lengths add up, content hashes are
 * lowercase hex digits, pack ids are in range, numbers are natural (and the length positive).
 */
function validateColumns(columns: Columns, count: number): void {
  const { paths, keys, hashes, pathLengths, keyLengths, keyStarts, numbers, packOf, packs } = columns;
  if (!HEX_DIGITS.test(hashes)) throw corrupt('a content hash is not lowercase hex');
  let pathsLength = 0;
  let keyAt = 0;
  for (let i = 0; i < count; i++) {
    pathsLength += pathLengths[i] as number;
    keyStarts[i] = keyAt;
    keyAt += keyLengths[i] as number;
    if ((packOf[i] as number) >= packs.length) throw corrupt(`record ${i}: pack id out of range`);
    const n = i * NUMBER_COLUMNS;
    const size = numbers[n + NUMBER_SIZE] as number;
    const offset = numbers[n + NUMBER_OFFSET] as number;
    const length = numbers[n + NUMBER_LENGTH] as number;
    if (!Number.isSafeInteger(size) || size < 0 || !Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length <= 0 || !Number.isFinite(numbers[n + NUMBER_LAST_ACCESS] as number)) {
      throw corrupt(`record ${i}: numbers out of range`);
    }
  }
  if (pathsLength !== paths.length) throw corrupt('path lengths do not add up');
  if (keyAt !== keys.length) throw corrupt('key lengths do not add up');
}

/**
 * A loaded index: a real `Map` of path → record whose records are built from the file's columns on
 * first access (`get`, iteration, `forEach`), then kept. Loading therefore costs one path string and
 * one map slot per record; record objects, keys and BigInts cost only when asked for, which a restart
 * does once per file that still exists. Records are plain objects, so spreading or copying one is
 * safe; `set`, `delete`, `has`, `size`, `keys` and `clear` are Map's own.
 *
 * Not-yet-built slots hold the record's row number: code that bypasses the overrides
 * (`Map.prototype.get.call`, `structuredClone`) would see it. Copy with `new Map(index)` instead.
 */
export class ColumnarRootIndex extends Map<string, IndexRecord> {
  readonly #columns: Columns;
  /** The last device id built: one BigInt shared by the whole tree instead of one per record. */
  #dev = 0n;

  /** @internal Built by {@link decodeIndex}. */
  constructor(columns: Columns, count: number) {
    super();
    this.#columns = columns;
    const { paths, pathLengths } = columns;
    let at = 0;
    for (let i = 0; i < count; i++) {
      const file = paths.slice(at, (at += pathLengths[i] as number));
      if (!isRootRelativePath(file)) throw corrupt(`record ${i}: not a root-relative path`);
      super.set(file, i as unknown as IndexRecord);
    }
    if (super.size !== count) throw corrupt('duplicate paths');
  }

  override get(path: string): IndexRecord | undefined {
    const value = super.get(path) as IndexRecord | number | undefined;
    return typeof value === 'number' ? this.#build(path, value) : value;
  }

  /**
   * The record's last-access time when `path`'s stamp equals the given one, without building the
   * record (the restart path asks this once per file); undefined when absent or different.
   */
  accessIfSameStamp(path: string, size: number, mtimeNs: bigint, ctimeNs: bigint, ino: bigint, dev: bigint): number | undefined {
    const value = super.get(path) as IndexRecord | number | undefined;
    if (value === undefined) return undefined;
    if (typeof value !== 'number') return sameStamp(value, size, mtimeNs, ctimeNs, ino, dev) ? value.lastAccessMs : undefined;
    const { times, ids, numbers } = this.#columns;
    const s = value * STAMP_COLUMNS;
    const n = value * NUMBER_COLUMNS;
    const same = numbers[n + NUMBER_SIZE] === size && times[s + STAMP_MTIME] === mtimeNs && times[s + STAMP_CTIME] === ctimeNs && ids[s + STAMP_INO] === ino && ids[s + STAMP_DEV] === dev;
    return same ? (numbers[n + NUMBER_LAST_ACCESS] as number) : undefined;
  }

  /**
   * {@link accessIfSameStamp} for a plain `fs.Stats` (millisecond times, number ids): times within
   * {@link STAT_TIME_TOLERANCE_MS} count as equal, ids as their nearest doubles.
   */
  accessIfSameStats(path: string, stats: PlainStamp): number | undefined {
    const value = super.get(path) as IndexRecord | number | undefined;
    if (value === undefined) return undefined;
    if (typeof value !== 'number') return sameStats(value, stats) ? value.lastAccessMs : undefined;
    const { halves, numbers } = this.#columns;
    const n = value * NUMBER_COLUMNS;
    const h = value * STAMP_COLUMNS * 2;
    const same =
      numbers[n + NUMBER_SIZE] === stats.size &&
      timeMatches(halves[h + 2 * STAMP_MTIME + 1] as number, halves[h + 2 * STAMP_MTIME] as number, stats.mtimeMs) &&
      timeMatches(halves[h + 2 * STAMP_CTIME + 1] as number, halves[h + 2 * STAMP_CTIME] as number, stats.ctimeMs) &&
      idMatches(halves[h + 2 * STAMP_INO + 1] as number, halves[h + 2 * STAMP_INO] as number, stats.ino) &&
      idMatches(halves[h + 2 * STAMP_DEV + 1] as number, halves[h + 2 * STAMP_DEV] as number, stats.dev);
    return same ? (numbers[n + NUMBER_LAST_ACCESS] as number) : undefined;
  }

  /** @internal Key → location of every record, from the columns for records not built yet. */
  keyLocations(): Map<string, PackLocation> {
    const { numbers, packOf, packs, keyStarts, keyLengths } = this.#columns;
    const keys = this.#columns.keys.text();
    const locations = new Map<string, PackLocation>();
    for (const value of super.values() as MapIterator<IndexRecord | number>) {
      if (typeof value !== 'number') {
        locations.set(value.key, value.location);
        continue;
      }
      const n = value * NUMBER_COLUMNS;
      const keyStart = keyStarts[value] as number;
      locations.set(keys.slice(keyStart, keyStart + (keyLengths[value] as number)), { pack: packs[packOf[value] as number] as string, offset: numbers[n + NUMBER_OFFSET] as number, length: numbers[n + NUMBER_LENGTH] as number });
    }
    return locations;
  }

  override forEach(callback: (value: IndexRecord, key: string, map: Map<string, IndexRecord>) => void, thisArg?: unknown): void {
    for (const [path, record] of this.entries()) callback.call(thisArg, record, path, this);
  }

  override *entries(): MapIterator<[string, IndexRecord]> {
    for (const [path, value] of super.entries() as MapIterator<[string, IndexRecord | number]>) {
      yield [path, typeof value === 'number' ? this.#build(path, value) : value];
    }
  }

  override *values(): MapIterator<IndexRecord> {
    for (const [, record] of this.entries()) yield record;
  }

  override [Symbol.iterator](): MapIterator<[string, IndexRecord]> {
    return this.entries();
  }

  #build(path: string, row: number): IndexRecord {
    const { times, ids, numbers, packOf, packs, hashes, keyStarts, keyLengths } = this.#columns;
    const keys = this.#columns.keys.text();
    const n = row * NUMBER_COLUMNS;
    const s = row * STAMP_COLUMNS;
    const keyStart = keyStarts[row] as number;
    const hash = row * CONTENT_HASH_LENGTH;
    const mtimeNs = times[s + STAMP_MTIME] as bigint;
    const ctimeNs = times[s + STAMP_CTIME] as bigint;
    if (ids[s + STAMP_DEV] !== this.#dev) this.#dev = ids[s + STAMP_DEV] as bigint;
    const record: IndexRecord = {
      size: numbers[n + NUMBER_SIZE] as number,
      mtimeNs,
      // Equal BigInts are shared: a file's ctime often equals its mtime.
      ctimeNs: ctimeNs === mtimeNs ? mtimeNs : ctimeNs,
      ino: ids[s + STAMP_INO] as bigint,
      dev: this.#dev,
      contentHash: hashes.slice(hash, hash + CONTENT_HASH_LENGTH),
      key: keys.slice(keyStart, keyStart + (keyLengths[row] as number)),
      location: { pack: packs[packOf[row] as number] as string, offset: numbers[n + NUMBER_OFFSET] as number, length: numbers[n + NUMBER_LENGTH] as number },
      lastAccessMs: numbers[n + NUMBER_LAST_ACCESS] as number,
    };
    super.set(path, record);
    return record;
  }
}

function sameStamp(record: IndexRecord, size: number, mtimeNs: bigint, ctimeNs: bigint, ino: bigint, dev: bigint): boolean {
  return record.mtimeNs === mtimeNs && record.ctimeNs === ctimeNs && record.size === size && record.ino === ino && record.dev === dev;
}

/** What {@link accessIfSameStats} compares: the fields of a plain (number) `fs.Stats`. */
export interface PlainStamp {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly ino: number;
  readonly dev: number;
}

const TWO_TO_32 = 4294967296;
/** -1 ns as (high, low) int32 halves: the mark of a racy record (ast-persistence), never equal to a file's time. */
const NEVER_MATCHES_HALF = -1;

/** Whether a signed nanosecond time, as int32 halves, equals a millisecond double to {@link STAT_TIME_TOLERANCE_MS}. */
function timeMatches(high: number, low: number, ms: number): boolean {
  if (high === NEVER_MATCHES_HALF && low === NEVER_MATCHES_HALF) return false;
  // high * 2^32 is exact; adding the low half rounds once (to within 128 ns at today's times).
  const difference = (high * TWO_TO_32 + (low >>> 0)) / 1e6 - ms;
  return difference < STAT_TIME_TOLERANCE_MS && difference > -STAT_TIME_TOLERANCE_MS;
}

function timeMatchesNs(ns: bigint, ms: number): boolean {
  if (ns === -1n) return false;
  const difference = Number(ns) / 1e6 - ms;
  return difference < STAT_TIME_TOLERANCE_MS && difference > -STAT_TIME_TOLERANCE_MS;
}

/** Whether an unsigned 64-bit id, as int32 halves, rounds to the same double as `value` (as Node rounds it in plain stats). */
function idMatches(high: number, low: number, value: number): boolean {
  return (high >>> 0) * TWO_TO_32 + (low >>> 0) === value;
}

function sameStats(record: IndexRecord, stats: PlainStamp): boolean {
  return record.size === stats.size && timeMatchesNs(record.mtimeNs, stats.mtimeMs) && timeMatchesNs(record.ctimeNs, stats.ctimeMs) && Number(record.ino) === stats.ino && Number(record.dev) === stats.dev;
}

/**
 * The last-access time of `path`'s record when its stamp matches a plain `fs.Stats` (see
 * {@link ColumnarRootIndex.accessIfSameStats}); undefined when there is no record or it differs.
 */
export function accessIfSameStats(index: RootIndex, path: string, stats: PlainStamp): number | undefined {
  if (index instanceof ColumnarRootIndex) return index.accessIfSameStats(path, stats);
  const record = index.get(path);
  return record !== undefined && sameStats(record, stats) ? record.lastAccessMs : undefined;
}

/**
 * The last-access time of `path`'s record when its stamp (size, mtime, ctime, inode, device) equals
 * the given one; undefined when there is no record or it differs. A loaded index answers from its
 * columns without building the record.
 */
export function accessIfSameStamp(index: RootIndex, path: string, size: number, mtimeNs: bigint, ctimeNs: bigint, ino: bigint, dev: bigint): number | undefined {
  if (index instanceof ColumnarRootIndex) return index.accessIfSameStamp(path, size, mtimeNs, ctimeNs, ino, dev);
  const record = index.get(path);
  return record !== undefined && sameStamp(record, size, mtimeNs, ctimeNs, ino, dev) ? record.lastAccessMs : undefined;
}

/** Key → location of every record (a loaded index answers from its columns, building no record). */
export function keyLocations(index: RootIndex): Map<string, PackLocation> {
  return index instanceof ColumnarRootIndex ? index.keyLocations() : new Map([...index.values()].map((record) => [record.key, record.location]));
}

/** Reads a whole file into a fresh (8-aligned) buffer, with the stats of the descriptor read. */
function readWhole(file: string): { bytes: Uint8Array; identity: fs.Stats } | null {
  const fd = openIfPresent(file);
  if (fd === null) return null;
  try {
    const identity = fs.fstatSync(fd);
    const bytes = new Uint8Array(identity.size);
    let done = 0;
    while (done < bytes.length) {
      const read = fs.readSync(fd, bytes, done, bytes.length - done, done);
      if (read === 0) break; // shrank meanwhile: the length checks refuse it
      done += read;
    }
    return { bytes: done === bytes.length ? bytes : bytes.subarray(0, done), identity };
  } finally {
    fs.closeSync(fd);
  }
}

/** One root's index file in a cache directory's `indexes/`. */
export class RootIndexFile {
  readonly #dir: string;
  /** The index id (see {@link indexIdFor}). */
  readonly id: string;
  /** Absolute path of the index file. */
  readonly file: string;

  constructor(indexesDir: string, indexId: string) {
    this.#dir = indexesDir;
    this.id = indexId;
    this.file = path.join(indexesDir, `${indexId}${INDEX_SUFFIX}`);
  }

  /**
   * Loads the index. Never throws for the file's content: a corrupt file is moved aside (renamed to
   * `*.corrupt`) and an empty index is answered with `corrupt: 1`. An index written for another key
   * prefix or index version answers empty (not corrupt). I/O errors other than a missing file throw.
   */
  load(expectedPrefix: string): IndexLoad {
    const read = readWhole(this.file);
    if (read === null) return { records: new Map(), status: 'missing', corrupt: 0 };
    const { bytes, identity } = read;
    let decoded: IndexDecode;
    try {
      decoded = decodeIndex(bytes, expectedPrefix);
    } catch (error) {
      if ((error as StrataError).code !== 'ECORRUPT') throw error;
      this.#quarantine(identity);
      return { records: new Map(), status: 'corrupt', corrupt: 1 };
    }
    if (decoded.status !== 'loaded') return { records: new Map(), status: decoded.status, corrupt: 0 };
    return { records: decoded.records, status: 'loaded', corrupt: 0 };
  }

  /** Replaces the index atomically (last writer wins). */
  save(records: ReadonlyMap<string, IndexRecord>, keyPrefix: string, rootPath: string): void {
    ensurePrivateDir(this.#dir);
    writeFileAtomic(this.file, [encodeIndex(records, keyPrefix, rootPath)]);
  }

  /**
   * Moves the corrupt file aside, unless another process has replaced it since we read it (same
   * inode and mtime, or we leave the newer file alone). Where the directory is read-only the file
   * stays; it is ignored all the same (it fails validation on every load).
   */
  #quarantine(identity: fs.Stats): void {
    try {
      const now = fs.statSync(this.file);
      if (now.ino !== identity.ino || now.mtimeMs !== identity.mtimeMs) return;
      fs.renameSync(this.file, `${this.file}.${Date.now().toString(36)}${CORRUPT_SUFFIX}`);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Gone or replaced by another process first, or a read-only cache: nothing to move.
      if (!isMissing(error) && code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS') throw error;
    }
  }
}
