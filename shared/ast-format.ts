/**
 * The binary layout of an encoded AST (version {@link AST_FORMAT_VERSION}).
 *
 * An encoded AST is the tree that `ts.forEachChild` visits, flattened into parallel typed arrays, in
 * the spirit of TypeScript 7's API and oxc: it is cached in memory, persisted, sent between threads
 * and read back without re-parsing. Written by `workers/ast-encoder.ts`, read by
 * `engine/encoded-ast.ts`; every offset either of them uses is named here.
 *
 * ```
 * offset                                   size                     contents
 * 0                                        HEADER_BYTES (24)        header: six Uint32 fields (HEADER_*)
 * kindOffset()     = 24                    align4(2 × nodeCount)    kind:       Uint16 per node (ts.SyntaxKind)
 * flagsOffset(n)                           4 × nodeCount            flags:      Uint32 per node (ts.NodeFlags, masked)
 * posOffset(n)                             4 × nodeCount            pos:        Uint32 per node (full start, trivia included)
 * endOffset(n)                             4 × nodeCount            end:        Uint32 per node
 * subtreeEndOffset(n)                      4 × nodeCount            subtreeEnd: Uint32 per node
 * byteLengthFor(n)                         end of the encoding
 * ```
 *
 * Every array starts 4-byte aligned, so a reader takes `Uint16Array`/`Uint32Array` views straight
 * onto the bytes (no copy) whenever the bytes themselves start at a 4-aligned offset. The size is
 * `24 + align4(2n) + 16n` bytes: 18 bytes per node, plus at most 2 bytes of padding.
 *
 * **Nodes.** Pre-order, node 0 is the SourceFile. The children of a node are exactly the nodes
 * `ts.forEachChild(node, cb)` hands to `cb` (NodeArrays flattened to their elements), in that order;
 * JSDoc nodes are not part of the tree. `subtreeEnd[i]` is the index one past the last descendant of
 * node `i`, so the children of `i` are `i + 1`, then `subtreeEnd[i + 1]`, … while the index is below
 * `subtreeEnd[i]`, and skipping a subtree is one load. Invariants a reader checks:
 * `i < subtreeEnd[i] <= nodeCount`, subtrees nest (a child's `subtreeEnd` never exceeds its
 * parent's), `subtreeEnd[0] = nodeCount`, and `pos <= end <= textLength`.
 *
 * **Positions** are in UTF-16 code units of the source text, as TypeScript reports them: `pos` is the
 * node's full start (leading trivia included), `end` its end. `textLength` in the header is the
 * length of the text the AST was parsed from, so a reader can refuse a text that does not match.
 *
 * **Kinds and flags** are TypeScript's own `SyntaxKind` and `NodeFlags` numbers, which change between
 * TypeScript versions: an encoded AST is only meaningful together with the parser identity that
 * produced it (the L2 key includes it). Flags are the parser's: bits that the binder, the checker or
 * lazy queries set later, and bits that depend on the JSDoc parsing mode, are cleared (see
 * `ENCODED_FLAGS_MASK` in `workers/ast-encoder.ts`), so the same text always encodes to the same
 * bytes.
 *
 * **Byte order.** All fields are written through typed arrays, i.e. in the platform's byte order,
 * which is little-endian on every supported platform (Linux and macOS, x64 and arm64). The magic
 * number doubles as the byte-order check: on a big-endian machine it reads back wrong and the
 * encoding is refused as corrupt rather than misread.
 */

/** Version of this layout. Bump it on any change; it is part of the L2 key and of the header. */
export const AST_FORMAT_VERSION = 1;

/** The bytes `S`, `A`, `S`, `T` ("Strata AST"), read as one little-endian Uint32. */
export const AST_MAGIC = 0x54534153;

/** Every array in the encoding starts at a multiple of this many bytes. */
export const AST_ALIGNMENT = 4;

// Header fields: indices in Uint32 words from the start of the encoding.
/** {@link AST_MAGIC}. */
export const HEADER_MAGIC = 0;
/** {@link AST_FORMAT_VERSION} of the writer. */
export const HEADER_VERSION = 1;
/** Number of nodes (at least 1: the SourceFile). */
export const HEADER_NODE_COUNT = 2;
/** Length of the parsed source text in UTF-16 code units (`sourceFile.text.length`). */
export const HEADER_TEXT_LENGTH = 3;
/** Total length of the encoding in bytes; equals {@link byteLengthFor}(nodeCount). */
export const HEADER_BYTE_LENGTH = 4;
/**
 * The writer's `ts.SyntaxKind.JsxText`. JSX text is the one kind whose start TypeScript computes
 * differently (comments are text there, not trivia); carrying the number lets a reader that never
 * loads TypeScript get it right.
 */
export const HEADER_JSX_TEXT_KIND = 5;
/** Number of Uint32 header words. */
export const HEADER_WORDS = 6;
/** Size of the header in bytes. */
export const HEADER_BYTES = HEADER_WORDS * 4;

/** Bytes per node across all arrays, padding aside (Uint16 kind + four Uint32 arrays). */
export const BYTES_PER_NODE = 2 + 4 * 4;

/** Rounds a byte count up to {@link AST_ALIGNMENT}. */
export function align4(bytes: number): number {
  return (bytes + (AST_ALIGNMENT - 1)) & ~(AST_ALIGNMENT - 1);
}

/** Byte offset of the kind array (Uint16 per node). */
export function kindOffset(): number {
  return HEADER_BYTES;
}

/** Byte offset of the flags array (Uint32 per node). */
export function flagsOffset(nodeCount: number): number {
  return HEADER_BYTES + align4(nodeCount * 2);
}

/** Byte offset of the pos array (Uint32 per node). */
export function posOffset(nodeCount: number): number {
  return flagsOffset(nodeCount) + nodeCount * 4;
}

/** Byte offset of the end array (Uint32 per node). */
export function endOffset(nodeCount: number): number {
  return posOffset(nodeCount) + nodeCount * 4;
}

/** Byte offset of the subtreeEnd array (Uint32 per node). */
export function subtreeEndOffset(nodeCount: number): number {
  return endOffset(nodeCount) + nodeCount * 4;
}

/** Total size in bytes of an encoding with `nodeCount` nodes. */
export function byteLengthFor(nodeCount: number): number {
  return subtreeEndOffset(nodeCount) + nodeCount * 4;
}

/** Every array's byte offset for one node count, computed once. */
export interface AstLayout {
  readonly nodeCount: number;
  readonly kind: number;
  readonly flags: number;
  readonly pos: number;
  readonly end: number;
  readonly subtreeEnd: number;
  readonly byteLength: number;
}

/** The byte offsets of all arrays for an encoding with `nodeCount` nodes. */
export function layoutFor(nodeCount: number): AstLayout {
  const flags = flagsOffset(nodeCount);
  const pos = flags + nodeCount * 4;
  const end = pos + nodeCount * 4;
  const subtreeEnd = end + nodeCount * 4;
  return { nodeCount, kind: kindOffset(), flags, pos, end, subtreeEnd, byteLength: subtreeEnd + nodeCount * 4 };
}
