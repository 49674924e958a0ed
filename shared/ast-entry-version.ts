/**
 * Version of the persisted AST entry's envelope (shared/ast-entry.ts), independent of the entry
 * header's version; part of every L2 key (engine/ast/keys.ts): entries of another envelope version
 * are never looked up. Apart from the envelope's code, so that a key prefix costs no msgpack load.
 * - 2: the payload's pos, end and subtreeEnd columns are stored as small differences (pos from the
 *   previous node's pos, end from the node's pos, subtreeEnd from the node's index), which lz4
 *   compresses far better than absolute offsets; kinds and flags are stored as they are.
 * - 3: adds the export signature.
 * - 4: differences only in compressed payloads (an uncompressed one is the AST as it is: nothing to
 *   undo on load), and imports as one flat list, `specifier, code, specifier, code, …` with
 *   `code = kind index × 2 + typeOnly`: fewer arrays to build and validate per load.
 * - 5: a compressed payload is the AST packed (shared/packed-ast.ts: difference-coded columns, each
 *   at the narrowest width that holds it), and its raw length is the packed length. lz4 reads half
 *   the bytes it read before, and the entry is ~40% smaller.
 */
export const AST_ENTRY_VERSION = 5;
