/**
 * The byte layout of a root index file (`indexes/<indexId>.idx`) and the record it stores: header
 * offsets, column order and sizes, where each column starts. Encoding and decoding live in
 * root-index-codec.ts, validation in root-index-validation.ts.
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
 *                    (the directory snapshot, all or none of these; none: no snapshot)
 *                    walkKey    string    what the stored listings depend on (directory-snapshot.ts)
 *                    dirs       number    directory count m
 *                    dirBytes   number    length of the directory text
 *                    ignoreBytes number   length of the .gitignore text
 *                  zero padding to a multiple of 8, then the columns (typed ones 8-aligned):
 *         32n      stamps: u64 × 4 per record: mtimeNs, ctimeNs (two's complement), ino, dev
 *         32n      numbers: f64 × 4 per record: size, location offset, location length, lastAccessMs
 *         4n       packOf: u32 per record
 *         4n       pathLengths: u32 per record, the UTF-16 length of its path
 *         4n       keyLengths: u32 per record, the UTF-16 length of its key
 *         16n      hashes: the content hash per record, 16 lowercase hex ASCII digits
 *         …        paths: UTF-8 of every path, concatenated
 *         …        keys: UTF-8 of every key, concatenated
 *                  zero padding to a multiple of 8, then the directory snapshot (format 2):
 *         32m      dirStamps: f64 × 4 per directory: mtimeMs (NaN: racy), ctimeMs, ino, dev
 *         4m       dirLengths: u32 per directory, the UTF-16 length of its text
 *         4m       ignoreLengths: u32 per directory, 0 for no .gitignore, else its UTF-16 length + 1
 *         …        dirs: UTF-8, per directory its root-relative path, NUL, its items
 *         …        ignores: UTF-8 of every .gitignore text, concatenated
 * ```
 *
 * The file must be exactly as long as these parts. Columns (not one map per record) because the
 * restart path reads this in a fresh process: typed columns are viewed in place (no copy, no
 * parse); paths, keys and hashes come from one native decode each and are sliced (decoding 30,000
 * MessagePack strings one by one cost ~60 ms cold, measured; 20,000 `buffer.toString` calls ~40 ms);
 * BigInts and record objects are only built when a record is first asked for
 * (columnar-root-index.ts). Typed columns are in the platform's byte order, little-endian on every
 * supported platform.
 */
import type { PackLocation } from './packs.js';

/**
 * Version of the index layout. Bump on any change; an index of another version loads as empty (and
 * with it no directory snapshot: the next walk lists every directory). 2: the directory snapshot.
 */
export const INDEX_FORMAT_VERSION = 2;
/** The bytes `S`, `I`, `D`, `X` as a little-endian u32. */
export const INDEX_MAGIC = 0x58444953;
export const OFFSET_MAGIC = 0;
export const OFFSET_CHECKSUM = 4;
export const OFFSET_VERSION = 12;
export const OFFSET_META_LENGTH = 16;
export const OFFSET_COUNT = 20;
/** The checksum covers the file from the version field to the end. */
export const CHECKSUMMED_FROM = OFFSET_VERSION;
/** Size of the fixed header; the meta starts here. */
export const INDEX_HEADER_BYTES = 24;
/** Columns start at multiples of this. */
export const COLUMN_ALIGNMENT = 8;

/** u64 stamp columns per record, in this order. */
export const STAMP_COLUMNS = 4;
export const STAMP_MTIME = 0;
export const STAMP_CTIME = 1;
export const STAMP_INO = 2;
export const STAMP_DEV = 3;
/** f64 number columns per record, in this order. */
export const NUMBER_COLUMNS = 4;
export const NUMBER_SIZE = 0;
export const NUMBER_OFFSET = 1;
export const NUMBER_LENGTH = 2;
export const NUMBER_LAST_ACCESS = 3;
const WORD_BYTES = 8;
const U32_BYTES = 4;
export const CONTENT_HASH_LENGTH = 16;

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

function align(value: number): number {
  return Math.ceil(value / COLUMN_ALIGNMENT) * COLUMN_ALIGNMENT;
}

/** f64 stamp fields per directory of the snapshot. */
export const DIR_STAMP_COLUMNS = 4;

/** The sizes of the directory snapshot's parts; null when the index has none. */
export interface SnapshotSizes {
  readonly dirs: number;
  readonly dirBytes: number;
  readonly ignoreBytes: number;
}

/** Byte offsets of each column, from the meta length, the record count, the two text lengths and the snapshot's sizes. */
export function columnLayout(metaLength: number, count: number, pathBytes: number, keyBytes: number, snapshot: SnapshotSizes | null = null) {
  const stamps = align(INDEX_HEADER_BYTES + metaLength);
  const numbers = stamps + count * STAMP_COLUMNS * WORD_BYTES;
  const packOf = numbers + count * NUMBER_COLUMNS * WORD_BYTES;
  const pathLengths = packOf + count * U32_BYTES;
  const keyLengths = pathLengths + count * U32_BYTES;
  const hashes = keyLengths + count * U32_BYTES;
  const paths = hashes + count * CONTENT_HASH_LENGTH;
  const keys = paths + pathBytes;
  const keysEnd = keys + keyBytes;
  if (snapshot === null) return { stamps, numbers, packOf, pathLengths, keyLengths, hashes, paths, keys, snapshot: null, end: keysEnd };
  const dirStamps = align(keysEnd);
  const dirLengths = dirStamps + snapshot.dirs * DIR_STAMP_COLUMNS * WORD_BYTES;
  const ignoreLengths = dirLengths + snapshot.dirs * U32_BYTES;
  const dirs = ignoreLengths + snapshot.dirs * U32_BYTES;
  const ignores = dirs + snapshot.dirBytes;
  const end = ignores + snapshot.ignoreBytes;
  return { stamps, numbers, packOf, pathLengths, keyLengths, hashes, paths, keys, snapshot: { dirStamps, dirLengths, ignoreLengths, dirs, ignores }, end };
}

/** Reads the index format version from a header, or `null` when `bytes` is not an index header. */
export function indexVersionOf(bytes: Uint8Array): number | null {
  if (bytes.length < INDEX_HEADER_BYTES) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return view.getUint32(OFFSET_MAGIC, true) === INDEX_MAGIC ? view.getUint16(OFFSET_VERSION, true) : null;
}

/**
 * Last-access times on disk are kept to this resolution: an unchanged tree warmed again within it
 * rewrites nothing (the index is only saved when something changed), and the restart lane
 * (engine/restart/) answers only while every record is within it.
 */
export const ACCESS_RESOLUTION_MS = 3_600_000;

/** The checksum field of an index header (what names its content); read without verifying it. */
export function headerChecksum(bytes: Uint8Array): bigint {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(OFFSET_CHECKSUM, true);
}

/**
 * The checksum an index header of this version stores, or null for a header of another version or
 * none; the caller compares it with the XXH64 of the bytes from {@link CHECKSUMMED_FROM} on (the
 * restart lane hashes them from the file).
 */
export function storedIndexChecksum(header: Uint8Array): bigint | null {
  return indexVersionOf(header) === INDEX_FORMAT_VERSION ? headerChecksum(header) : null;
}

/** The decoded columns of an index, shared by its not-yet-built records. */
export interface Columns {
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

/**
 * A UTF-8 region decoded when first read. Its UTF-16 `length` is known without decoding when the
 * bytes are ASCII (the usual keys: validation needs only that); otherwise it is decoded at once.
 * A restart of an unchanged tree never reads the keys (~4 ms of decoding saved on 10,000 files).
 */
export interface LazyText {
  readonly length: number;
  text(): string;
}
