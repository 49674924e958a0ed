/**
 * An L2 record as a persisted entry: the encoded AST as the payload (lz4 in the workers), imports and
 * counts as a plain-data msgpack envelope, all inside one checksummed entry (shared/entry-format.ts).
 * Decoding validates every field's shape: a cache file is untrusted data.
 */
import { decodePlainData, encodePlainData } from '../engine/store/safe-msgpack.js';
import type { CodecId } from '../native-bindings/lz4.js';
import { HEADER_NODE_COUNT, HEADER_WORDS, layoutFor } from './ast-format.js';
import { decodeEntry, encodeEntry } from './entry-format.js';
import { StrataError } from './errors.js';
import type { ImportKind, ImportRecord } from './imports.js';

export interface AstEntryRecord {
  readonly ast: Uint8Array;
  readonly imports: readonly ImportRecord[];
  readonly diagnostics: number;
  readonly nodeCount: number;
  readonly signature: string;
}

type Lz4 = typeof import('../native-bindings/lz4.js');
let lz4Module: Lz4 | undefined;
/** Loaded on first use: a restart that reads no entry never loads the codec. */
function lz4(): Lz4 {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (lz4Module ??= require('../native-bindings/lz4.js') as Lz4);
}

/**
 * Version of the envelope's shape (independent of the entry header's version). Version 2: the
 * payload's pos, end and subtreeEnd columns are stored as small differences (pos from the previous
 * node's pos, end from the node's pos, subtreeEnd from the node's index), which lz4 compresses far
 * better than absolute offsets; kinds and flags are stored as they are. Version 3 adds the export
 * signature.
 */
const META_VERSION = 3;
/** Part of every L2 key (engine/keys.ts): entries of another envelope version are never looked up. */
export const AST_ENTRY_VERSION = META_VERSION;
const IMPORT_KINDS: ReadonlySet<string> = new Set<ImportKind>(['import', 'export', 'dynamic-import', 'require', 'import-equals', 'import-type', 'reference']);

/**
 * Below this many bytes an AST is stored uncompressed whatever the codec asked: for small files the
 * decompression call costs more than the bytes it saves (most files of a real tree are small).
 */
export const COMPRESS_MIN_BYTES = 4096;

export function encodeAstEntry(key: string, record: AstEntryRecord, requested: CodecId): Uint8Array {
  const meta = encodePlainData([META_VERSION, record.diagnostics, record.nodeCount, record.imports.map((i) => [i.specifier, i.kind, i.typeOnly]), record.signature]);
  const columns = toDeltaColumns(record.ast);
  const codec: CodecId = requested === 'lz4-block-v1' && columns.byteLength >= COMPRESS_MIN_BYTES ? 'lz4-block-v1' : 'none';
  const payload = codec === 'lz4-block-v1' ? lz4().lz4Compress(columns) : columns;
  return encodeEntry({ key, codec, meta, payload, rawLength: record.ast.byteLength });
}

/**
 * Throws StrataError('ECORRUPT') for anything but a well-formed entry stored under `key`. The record
 * keeps no view of `bytes` (the AST is copied or decompressed into its own buffer), so they may be a
 * reader's reused buffer.
 */
export function decodeAstEntry(bytes: Uint8Array, key: string): AstEntryRecord {
  const entry = decodeEntry(bytes, key);
  const meta = decodePlainData(entry.meta, 'AST entry metadata');
  if (!Array.isArray(meta) || meta.length !== 5 || meta[0] !== META_VERSION) throw corrupt('metadata shape');
  const [, diagnostics, nodeCount, rawImports, signature] = meta as [number, unknown, unknown, unknown, unknown];
  if (!isCount(diagnostics) || !isCount(nodeCount) || !Array.isArray(rawImports) || typeof signature !== 'string') throw corrupt('metadata fields');
  const imports = rawImports.map((raw: unknown): ImportRecord => {
    if (!Array.isArray(raw) || raw.length !== 3) throw corrupt('import record');
    const [specifier, kind, typeOnly] = raw as [unknown, unknown, unknown];
    if (typeof specifier !== 'string' || typeof kind !== 'string' || !IMPORT_KINDS.has(kind) || typeof typeOnly !== 'boolean') throw corrupt('import record');
    return { specifier, kind: kind as ImportKind, typeOnly };
  });
  const decoded = entry.codec === 'lz4-block-v1' ? lz4().lz4Decompress(entry.payload, entry.rawLength) : entry.payload;
  if (decoded.byteLength !== entry.rawLength) throw corrupt('payload length');
  const ast = ownedCopy(decoded);
  fromDeltaColumns(ast);
  return { ast, imports, diagnostics, nodeCount, signature };
}

/** The columns of an encoded AST; null when the bytes are too short to hold what they declare. */
function columnsOf(ast: Uint8Array): { pos: Uint32Array; end: Uint32Array; subtreeEnd: Uint32Array } | null {
  if (ast.byteLength < HEADER_WORDS * 4 || ast.byteOffset % 4 !== 0) return null;
  const nodeCount = new Uint32Array(ast.buffer, ast.byteOffset, HEADER_WORDS)[HEADER_NODE_COUNT]!;
  const layout = layoutFor(nodeCount);
  if (layout.byteLength > ast.byteLength) return null;
  const column = (offset: number): Uint32Array => new Uint32Array(ast.buffer, ast.byteOffset + offset, nodeCount);
  return { pos: column(layout.pos), end: column(layout.end), subtreeEnd: column(layout.subtreeEnd) };
}

function toDeltaColumns(ast: Uint8Array): Uint8Array {
  const copy = ast.slice();
  const columns = columnsOf(copy);
  if (columns === null) return copy; // not a valid encoding: EncodedAst.decode refuses it on load
  const { pos, end, subtreeEnd } = columns;
  for (let i = pos.length - 1; i >= 0; i--) {
    end[i] = (end[i]! - pos[i]!) >>> 0;
    subtreeEnd[i] = (subtreeEnd[i]! - i) >>> 0;
    if (i > 0) pos[i] = (pos[i]! - pos[i - 1]!) >>> 0;
  }
  return copy;
}

/** Inverse of toDeltaColumns, in place. Garbage stays garbage: EncodedAst.decode validates. */
function fromDeltaColumns(ast: Uint8Array): void {
  const columns = columnsOf(ast);
  if (columns === null) return;
  const { pos, end, subtreeEnd } = columns;
  for (let i = 0; i < pos.length; i++) {
    if (i > 0) pos[i] = (pos[i]! + pos[i - 1]!) >>> 0;
    end[i] = (end[i]! + pos[i]!) >>> 0;
    subtreeEnd[i] = (subtreeEnd[i]! + i) >>> 0;
  }
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

function corrupt(what: string): StrataError {
  return new StrataError('ECORRUPT', `Corrupt AST entry: bad ${what}`);
}

/** L2 accounts an AST by its own buffer: never keep a view into a larger one. */
function ownedCopy(bytes: Uint8Array): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && !(bytes.buffer instanceof SharedArrayBuffer)) return bytes;
  const copy = new Uint8Array(bytes.byteLength); // (Buffer#slice would be a view)
  copy.set(bytes);
  return copy;
}
