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
 * Version of the envelope's shape (independent of the entry header's version).
 * - 2: the payload's pos, end and subtreeEnd columns are stored as small differences (pos from the
 *   previous node's pos, end from the node's pos, subtreeEnd from the node's index), which lz4
 *   compresses far better than absolute offsets; kinds and flags are stored as they are.
 * - 3: adds the export signature.
 * - 4: differences only in compressed payloads (an uncompressed one is the AST as it is: nothing to
 *   undo on load), and imports as one flat list, `specifier, code, specifier, code, …` with
 *   `code = kind index × 2 + typeOnly`: fewer arrays to build and validate per load.
 */
const META_VERSION = 4;
/** Part of every L2 key (engine/keys.ts): entries of another envelope version are never looked up. */
export const AST_ENTRY_VERSION = META_VERSION;
/** Each import kind's stored index (persisted: never renumber; `satisfies` keeps it complete). */
const IMPORT_KIND_INDEX = { import: 0, export: 1, 'dynamic-import': 2, require: 3, 'import-equals': 4, 'import-type': 5, reference: 6 } as const satisfies Record<ImportKind, number>;
const IMPORT_KINDS: readonly ImportKind[] = (Object.keys(IMPORT_KIND_INDEX) as ImportKind[]).sort((a, b) => IMPORT_KIND_INDEX[a] - IMPORT_KIND_INDEX[b]);
/** One past the largest valid import code. */
const IMPORT_CODE_LIMIT = IMPORT_KINDS.length * 2;

/**
 * Below this many bytes an AST is stored uncompressed whatever the codec asked: for small files the
 * decompression call costs more than the bytes it saves (most files of a real tree are small).
 */
export const COMPRESS_MIN_BYTES = 4096;

export function encodeAstEntry(key: string, record: AstEntryRecord, requested: CodecId): Uint8Array {
  const flatImports: (string | number)[] = [];
  for (const i of record.imports) flatImports.push(i.specifier, IMPORT_KIND_INDEX[i.kind] * 2 + (i.typeOnly ? 1 : 0));
  const meta = encodePlainData([META_VERSION, record.diagnostics, record.nodeCount, record.signature, flatImports]);
  // The AST's own bytes go in as they are (encodeEntry copies them once, into the record).
  if (requested !== 'lz4-block-v1' || record.ast.byteLength < COMPRESS_MIN_BYTES) return encodeEntry({ key, codec: 'none', meta, payload: record.ast, rawLength: record.ast.byteLength });
  const payload = lz4().lz4Compress(toDeltaColumns(record.ast));
  return encodeEntry({ key, codec: 'lz4-block-v1', meta, payload, rawLength: record.ast.byteLength });
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
  const [, diagnostics, nodeCount, signature, flatImports] = meta as [number, unknown, unknown, unknown, unknown];
  if (!isCount(diagnostics) || !isCount(nodeCount) || typeof signature !== 'string' || !Array.isArray(flatImports) || flatImports.length % 2 !== 0) throw corrupt('metadata fields');
  const imports: ImportRecord[] = [];
  for (let i = 0; i < flatImports.length; i += 2) {
    const specifier: unknown = flatImports[i];
    const code: unknown = flatImports[i + 1];
    if (typeof specifier !== 'string' || typeof code !== 'number' || !Number.isInteger(code) || code < 0 || code >= IMPORT_CODE_LIMIT) throw corrupt('import record');
    imports.push({ specifier, kind: IMPORT_KINDS[code >> 1] as ImportKind, typeOnly: (code & 1) === 1 });
  }
  let ast: Uint8Array;
  if (entry.codec === 'lz4-block-v1') {
    const decoded = lz4().lz4Decompress(entry.payload, entry.rawLength);
    if (decoded.byteLength !== entry.rawLength) throw corrupt('payload length');
    ast = ownedCopy(decoded);
    fromDeltaColumns(ast);
  } else {
    ast = ownedCopy(entry.payload);
  }
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

/**
 * Reused by {@link toDeltaColumns} (encoding is synchronous, one call at a time per thread): an
 * allocation per entry cost more than the difference coding itself in the parse workers.
 */
let deltaScratch = new Uint8Array(0);

/** The AST with its columns difference-coded, in a scratch buffer valid until the next call. */
function toDeltaColumns(ast: Uint8Array): Uint8Array {
  if (deltaScratch.byteLength < ast.byteLength) deltaScratch = new Uint8Array(Math.max(ast.byteLength, 2 * deltaScratch.byteLength));
  const copy = deltaScratch.subarray(0, ast.byteLength);
  copy.set(ast);
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

/** The bytes lz4 compresses for a large AST (a copy): the columns difference-coded. For size comparisons. */
export function differenceCodedAst(ast: Uint8Array): Uint8Array {
  return toDeltaColumns(ast).slice();
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
