/**
 * An L2 record as a persisted entry: the encoded AST as the payload (lz4 in the workers), imports and
 * counts as a plain-data msgpack envelope, all inside one checksummed entry (shared/entry-format.ts).
 * Decoding validates every field's shape: a cache file is untrusted data.
 */
import { decodePlainData, encodePlainData } from '../engine/store/safe-msgpack.js';
import { lz4Compress, lz4Decompress, type CodecId } from '../native-bindings/lz4.js';
import { decodeEntry, encodeEntry } from './entry-format.js';
import { StrataError } from './errors.js';
import type { ImportKind, ImportRecord } from './imports.js';

export interface AstEntryRecord {
  readonly ast: Uint8Array;
  readonly imports: readonly ImportRecord[];
  readonly diagnostics: number;
  readonly nodeCount: number;
}

/** Version of the envelope's shape (independent of the entry header's version). */
const META_VERSION = 1;
const IMPORT_KINDS: ReadonlySet<string> = new Set<ImportKind>(['import', 'export', 'dynamic-import', 'require', 'import-equals', 'import-type', 'reference']);

export function encodeAstEntry(key: string, record: AstEntryRecord, codec: CodecId): Uint8Array {
  const meta = encodePlainData([META_VERSION, record.diagnostics, record.nodeCount, record.imports.map((i) => [i.specifier, i.kind, i.typeOnly])]);
  const payload = codec === 'lz4-block-v1' ? lz4Compress(record.ast) : record.ast;
  return encodeEntry({ key, codec, meta, payload, rawLength: record.ast.byteLength });
}

/** Throws StrataError('ECORRUPT') for anything but a well-formed entry stored under `key`. */
export function decodeAstEntry(bytes: Uint8Array, key: string): AstEntryRecord {
  const entry = decodeEntry(bytes, key);
  const meta = decodePlainData(entry.meta, 'AST entry metadata');
  if (!Array.isArray(meta) || meta.length !== 4 || meta[0] !== META_VERSION) throw corrupt('metadata shape');
  const [, diagnostics, nodeCount, rawImports] = meta as [number, unknown, unknown, unknown];
  if (!isCount(diagnostics) || !isCount(nodeCount) || !Array.isArray(rawImports)) throw corrupt('metadata fields');
  const imports = rawImports.map((raw: unknown): ImportRecord => {
    if (!Array.isArray(raw) || raw.length !== 3) throw corrupt('import record');
    const [specifier, kind, typeOnly] = raw as [unknown, unknown, unknown];
    if (typeof specifier !== 'string' || typeof kind !== 'string' || !IMPORT_KINDS.has(kind) || typeof typeOnly !== 'boolean') throw corrupt('import record');
    return { specifier, kind: kind as ImportKind, typeOnly };
  });
  const decoded = entry.codec === 'lz4-block-v1' ? lz4Decompress(entry.payload, entry.rawLength) : entry.payload;
  if (decoded.byteLength !== entry.rawLength) throw corrupt('payload length');
  return { ast: ownedCopy(decoded), imports, diagnostics, nodeCount };
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
  return Uint8Array.prototype.slice.call(bytes); // Buffer#slice would be a view
}
