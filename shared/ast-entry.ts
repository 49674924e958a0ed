/**
 * An L2 record as a persisted entry: the encoded AST as the payload (lz4 in the workers), imports and
 * counts as a plain-data msgpack envelope, all inside one checksummed entry (shared/entry-format.ts).
 * Decoding validates every field's shape: a cache file is untrusted data.
 */
import { AST_ENTRY_VERSION } from './ast-entry-version.js';
import { decodePlainData, encodePlainData } from './safe-msgpack.js';
import type { CodecId } from '../native-bindings/lz4.js';
import { decodeEntry, encodeEntry } from './entry-format.js';
import { StrataError } from './errors.js';
import type { ImportKind, ImportRecord } from './imports.js';
import { packAst, unpackAst } from './packed-ast.js';
import { lz4UnpackAst } from '../native-bindings/ast-columns.js';
import { noteColumnsChecked } from './checked-asts.js';

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

export { AST_ENTRY_VERSION };
/** The envelope's version as the meta stores it. */
const META_VERSION = AST_ENTRY_VERSION;
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

/**
 * The entry for `record`. `record.packed`, when given, is the AST's packed form already built (by the
 * parse worker's encoder, from its scratch columns right after its walk); otherwise it is computed here.
 */
export function encodeAstEntry(key: string, record: AstEntryRecord & { readonly packed?: Uint8Array | null }, requested: CodecId): Uint8Array {
  const flatImports: (string | number)[] = [];
  for (const i of record.imports) flatImports.push(i.specifier, IMPORT_KIND_INDEX[i.kind] * 2 + (i.typeOnly ? 1 : 0));
  const meta = encodePlainData([META_VERSION, record.diagnostics, record.nodeCount, record.signature, flatImports]);
  // The AST's own bytes go in as they are (encodeEntry copies them once, into the record).
  if (requested !== 'lz4-block-v1' || record.ast.byteLength < COMPRESS_MIN_BYTES) return encodeEntry({ key, codec: 'none', meta, payload: record.ast, rawLength: record.ast.byteLength });
  const packed = record.packed ?? packAst(record.ast);
  if (packed === null) return encodeEntry({ key, codec: 'none', meta, payload: record.ast, rawLength: record.ast.byteLength }); // not an AST: refused on load
  return encodeEntry({ key, codec: 'lz4-block-v1', meta, payload: lz4().lz4Compress(packed), rawLength: packed.byteLength });
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
  const ast = entry.codec === 'lz4-block-v1' ? decompressedAst(entry.payload, entry.rawLength) : ownedCopy(entry.payload);
  return { ast, imports, diagnostics, nodeCount, signature };
}

/**
 * The encoded AST of an lz4 payload of packed columns (`packedLength` bytes once decompressed), in
 * a buffer of its own. The addon decompresses, widens and checks the columns in one call (its ASTs
 * are marked checked, so EncodedAst.decode skips that pass); without it, or for anything it
 * refuses, the reference path runs and says what is wrong (EncodedAst.decode checks its columns).
 */
export function decompressedAst(payload: Uint8Array, packedLength: number): Uint8Array {
  const checked = lz4UnpackAst(payload, packedLength);
  if (checked !== undefined) {
    noteColumnsChecked(checked);
    return checked;
  }
  const decoded = lz4().lz4Decompress(payload, packedLength);
  if (decoded.byteLength !== packedLength) throw corrupt('payload length');
  const unpacked = unpackAst(decoded);
  if (unpacked === null) throw corrupt('packed AST');
  return unpacked;
}

/** The bytes lz4 compresses for a large AST (a copy): its packed form. For size comparisons. */
export function packedAst(ast: Uint8Array): Uint8Array {
  return (packAst(ast) ?? ast).slice();
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
