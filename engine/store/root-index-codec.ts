/**
 * Encoding and decoding of a root index file (layout: root-index-format.ts). Decoding validates
 * everything (root-index-validation.ts) and answers a {@link ColumnarRootIndex} over the file's columns.
 */
import { isAscii } from 'node:buffer';
import { xxh64 } from '../../native-bindings/hash.js';
import { decodePlainData, encodePlainData } from '../../shared/safe-msgpack.js';
import { ColumnarRootIndex } from './columnar-root-index.js';
import {
  CHECKSUMMED_FROM,
  COLUMN_ALIGNMENT,
  columnLayout,
  INDEX_FORMAT_VERSION,
  INDEX_HEADER_BYTES,
  INDEX_MAGIC,
  indexVersionOf,
  NUMBER_COLUMNS,
  NUMBER_LAST_ACCESS,
  NUMBER_LENGTH,
  NUMBER_OFFSET,
  NUMBER_SIZE,
  OFFSET_CHECKSUM,
  OFFSET_COUNT,
  OFFSET_MAGIC,
  OFFSET_META_LENGTH,
  OFFSET_VERSION,
  STAMP_COLUMNS,
  STAMP_CTIME,
  STAMP_DEV,
  STAMP_INO,
  STAMP_MTIME,
  type Columns,
  type IndexRecord,
  type LazyText,
  type RootIndex,
} from './root-index-format.js';
import type { DirectorySnapshot } from '../discovery/discovery.js';
import { isPackName } from './packs.js';
import { encodeSnapshot, readSnapshot, snapshotSizesOf, writeSnapshot } from './root-index-snapshot.js';
import { checkRecord, corrupt, naturalField, validateColumns } from './root-index-validation.js';

/**
 * Encodes an index file, with the directory snapshot of the walk that made it when there is one.
 * Throws a RangeError (or TypeError) for a record that is not well-formed (a caller bug).
 */
export function encodeIndex(records: ReadonlyMap<string, IndexRecord>, keyPrefix: string, rootPath: string, directories: DirectorySnapshot | null = null): Uint8Array {
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
  const snapshot = directories === null ? null : encodeSnapshot(directories);
  const meta = encodePlainData({ keyPrefix, root: rootPath, packs, pathBytes: pathText.length, keyBytes: keyText.length, ...(snapshot?.meta ?? {}) });
  const layout = columnLayout(meta.length, count, pathText.length, keyText.length, snapshot?.sizes ?? null);
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
  if (snapshot !== null && layout.snapshot !== null) writeSnapshot(bytes, layout.snapshot, directories as DirectorySnapshot, snapshot);
  view.setBigUint64(OFFSET_CHECKSUM, xxh64(bytes.subarray(CHECKSUMMED_FROM)), true);
  return bytes;
}

/** A decoded index: its records, or the fact that it belongs to another prefix or version. */
export type IndexDecode =
  | { readonly status: 'loaded'; readonly records: RootIndex; readonly keyPrefix: string; readonly directories: DirectorySnapshot | null }
  | { readonly status: 'other-prefix'; readonly keyPrefix: string }
  | { readonly status: 'other-version'; readonly version: number };

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
  const snapshot = snapshotSizesOf(fields);
  const layout = columnLayout(metaLength, count, pathBytes, keyBytes, snapshot?.sizes ?? null);
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
  const directories = snapshot === null || layout.snapshot === null ? null : readSnapshot(buffer, layout.snapshot, snapshot.sizes, snapshot.walkKey);
  return { status: 'loaded', records: new ColumnarRootIndex(columns, count), keyPrefix, directories };
}

/** The keys column as {@link LazyText}: decoded at once only when it is not ASCII. */
function lazyText(buffer: Buffer, start: number, end: number): LazyText {
  if (!isAscii(buffer.subarray(start, end))) {
    const decoded = buffer.toString('utf8', start, end);
    return { length: decoded.length, text: () => decoded };
  }
  let decoded: string | null = null;
  return { length: end - start, text: () => (decoded ??= buffer.toString('latin1', start, end)) };
}
