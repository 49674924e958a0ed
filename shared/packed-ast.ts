/**
 * The stored form of a large encoded AST, the bytes lz4 compresses (envelope v5, shared/ast-entry.ts).
 *
 * An encoded AST spends 18 bytes a node (shared/ast-format.ts), most of them high zero bytes: kinds
 * fit 9 bits, most flags none, and the position columns are small once difference-coded. Packing
 * stores each column difference-coded and at the narrowest width that holds its largest value, so
 * lz4 reads about half the bytes and the stored entry is ~40% smaller (the narrowing costs about
 * what lz4 saves on the parse workers: the gain is size). Widening on load is a typed-array `set`
 * per column plus one pass over the difference-coded columns.
 *
 * ```
 * offset  size                       contents
 * 0       24                         the AST's header as it is (shared/ast-format.ts)
 * 24      8                          widths in bytes (1, 2 or 4) of kind, flags, pos, end, subtreeEnd; 3 zero bytes
 * 32      align4(n × width) each     the five columns in that order: kind and flags as they are,
 *                                    pos − previous pos, end − pos, subtreeEnd − index
 * ```
 *
 * A packed buffer is untrusted on load: widths, lengths and the node count are checked before
 * anything is allocated, and whatever they decode to is validated again by EncodedAst.decode.
 */
import { align4, HEADER_BYTES, HEADER_NODE_COUNT, HEADER_WORDS, layoutFor } from './ast-format.js';

/** Bytes before the first column: the AST header, then the widths. */
const PACKED_HEADER_BYTES = HEADER_BYTES + 8;
const COLUMN_COUNT = 5;

type Width = 1 | 2 | 4;

function widthOf(max: number): Width {
  return max < 0x100 ? 1 : max < 0x10000 ? 2 : 4;
}

function columnView(buffer: ArrayBufferLike, byteOffset: number, width: Width, length: number): Uint8Array | Uint16Array | Uint32Array {
  if (width === 1) return new Uint8Array(buffer, byteOffset, length);
  if (width === 2) return new Uint16Array(buffer, byteOffset, length);
  return new Uint32Array(buffer, byteOffset, length);
}

/**
 * Reused by {@link packColumns} and {@link packAst} (packing is synchronous, one call at a time per
 * thread): an allocation per entry cost more than the packing itself in the parse workers.
 */
let packedScratch = new Uint8Array(0);
let deltaScratch = new Uint32Array(0);

/** Where {@link packColumns} writes the difference-coded columns (each may be its own input column). */
export interface DeltaColumns {
  /** pos − the previous node's pos (node 0's pos for node 0). */
  readonly posDelta: Uint32Array;
  /** end − pos. */
  readonly length: Uint32Array;
  /** subtreeEnd − the node's index. */
  readonly subtreeSize: Uint32Array;
}

/**
 * The packed form of `n` nodes under `header` (the AST's 24 header bytes), in a scratch buffer valid
 * until the next call. The columns hold at least `n` values; the difference-coded ones are written
 * to `into`, which may alias `pos`, `end` and `subtreeEnd` (each value is read before it is
 * overwritten): the parse workers code their scratch columns in place.
 */
export function packColumns(header: Uint8Array, n: number, kind: Uint16Array, flags: Uint32Array, pos: Uint32Array, end: Uint32Array, subtreeEnd: Uint32Array, into: DeltaColumns): Uint8Array {
  const { posDelta, length, subtreeSize } = into;
  let maxKind = 0;
  let maxFlags = 0;
  let maxPosDelta = 0;
  let maxLength = 0;
  let maxSubtreeSize = 0;
  let previousPos = 0;
  for (let i = 0; i < n; i++) {
    const p = pos[i]!;
    const dp = (p - previousPos) >>> 0;
    const len = (end[i]! - p) >>> 0;
    const size = (subtreeEnd[i]! - i) >>> 0;
    previousPos = p;
    posDelta[i] = dp;
    length[i] = len;
    subtreeSize[i] = size;
    if (dp > maxPosDelta) maxPosDelta = dp;
    if (len > maxLength) maxLength = len;
    if (size > maxSubtreeSize) maxSubtreeSize = size;
    if (kind[i]! > maxKind) maxKind = kind[i]!;
    if (flags[i]! > maxFlags) maxFlags = flags[i]!;
  }
  const stored: [Uint16Array | Uint32Array, Width][] = [
    [kind, widthOf(maxKind)],
    [flags, widthOf(maxFlags)],
    [posDelta, widthOf(maxPosDelta)],
    [length, widthOf(maxLength)],
    [subtreeSize, widthOf(maxSubtreeSize)],
  ];
  let byteLength = PACKED_HEADER_BYTES;
  for (const [, width] of stored) byteLength += align4(n * width);
  if (packedScratch.byteLength < byteLength) packedScratch = new Uint8Array(Math.max(byteLength, 2 * packedScratch.byteLength));
  const packed = packedScratch.subarray(0, byteLength);
  packed.set(header.subarray(0, HEADER_BYTES));
  packed.fill(0, HEADER_BYTES, PACKED_HEADER_BYTES);
  let offset = PACKED_HEADER_BYTES;
  for (let index = 0; index < COLUMN_COUNT; index++) {
    const [values, width] = stored[index]!;
    packed[HEADER_BYTES + index] = width;
    // A typed-array set between element types converts natively: the narrowing is one call.
    columnView(packed.buffer, packed.byteOffset + offset, width, n).set(values.subarray(0, n));
    const padded = align4(n * width);
    packed.fill(0, offset + n * width, offset + padded);
    offset += padded;
  }
  return packed;
}

/**
 * The packed form of a valid encoded AST (4-aligned, as every AST L2 holds), in a scratch buffer
 * valid until the next call; null when the bytes do not hold the layout they declare. The parse
 * workers get the same bytes from the encoder's scratch columns right after its walk
 * (workers/ast-encoder.ts), while they are still in the CPU's caches.
 */
export function packAst(ast: Uint8Array): Uint8Array | null {
  if (ast.byteLength < HEADER_BYTES || ast.byteOffset % 4 !== 0) return null;
  const n = new Uint32Array(ast.buffer, ast.byteOffset, HEADER_WORDS)[HEADER_NODE_COUNT]!;
  const layout = layoutFor(n);
  if (layout.byteLength > ast.byteLength) return null;
  const column = (offset: number): Uint32Array => new Uint32Array(ast.buffer, ast.byteOffset + offset, n);
  if (deltaScratch.length < 3 * n) deltaScratch = new Uint32Array(Math.max(3 * n, 2 * deltaScratch.length));
  const into = { posDelta: deltaScratch.subarray(0, n), length: deltaScratch.subarray(n, 2 * n), subtreeSize: deltaScratch.subarray(2 * n, 3 * n) };
  return packColumns(ast, n, new Uint16Array(ast.buffer, ast.byteOffset + layout.kind, n), column(layout.flags), column(layout.pos), column(layout.end), column(layout.subtreeEnd), into);
}

/**
 * The encoded AST a packed buffer holds, in a new buffer of its own (L2 accounts ASTs by their
 * buffers); null when the packed bytes are malformed (bad widths, lengths or node count).
 */
export function unpackAst(packed: Uint8Array): Uint8Array | null {
  if (packed.byteLength < PACKED_HEADER_BYTES) return null;
  // Typed views need alignment: a misaligned buffer (never one lz4 returns) is copied first.
  const source = packed.byteOffset % 4 === 0 ? packed : packed.slice();
  const n = new Uint32Array(source.buffer, source.byteOffset, HEADER_WORDS)[HEADER_NODE_COUNT]!;
  const widths: Width[] = [];
  let expected = PACKED_HEADER_BYTES;
  for (let index = 0; index < COLUMN_COUNT; index++) {
    const width = source[HEADER_BYTES + index];
    if (width !== 1 && width !== 2 && width !== 4) return null;
    widths.push(width);
    expected += align4(n * width);
  }
  // Checked before allocating: every node costs at least a byte a column, so n is bounded by the input.
  if (n === 0 || expected !== source.byteLength) return null;
  const layout = layoutFor(n);
  const ast = new Uint8Array(layout.byteLength);
  ast.set(source.subarray(0, HEADER_BYTES));
  const targets = [
    new Uint16Array(ast.buffer, layout.kind, n),
    new Uint32Array(ast.buffer, layout.flags, n),
    new Uint32Array(ast.buffer, layout.pos, n),
    new Uint32Array(ast.buffer, layout.end, n),
    new Uint32Array(ast.buffer, layout.subtreeEnd, n),
  ] as const;
  let offset = PACKED_HEADER_BYTES;
  for (let index = 0; index < COLUMN_COUNT; index++) {
    const width = widths[index]!;
    if (index === 0 && width === 4) return null; // kinds are 16-bit: a wider column is not ours
    targets[index]!.set(columnView(source.buffer, source.byteOffset + offset, width, n));
    offset += align4(n * width);
  }
  const [, , pos, end, subtreeEnd] = targets;
  let previousPos = 0;
  for (let i = 0; i < n; i++) {
    const p = (pos[i]! + previousPos) >>> 0;
    pos[i] = p;
    previousPos = p;
    end[i] = (end[i]! + p) >>> 0;
    subtreeEnd[i] = (subtreeEnd[i]! + i) >>> 0;
  }
  return ast;
}
