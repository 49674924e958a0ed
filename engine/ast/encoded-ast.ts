/**
 * The coordinator's reader for encoded ASTs (layout: shared/ast-format.ts).
 *
 * It never loads TypeScript at run time (`import type` only): a warm that parses nothing must not
 * pay for the parser. Kinds and flags are TypeScript's numbers, typed as `ts.SyntaxKind` and
 * `ts.NodeFlags` for callers that do have TypeScript loaded.
 *
 * Reading copies nothing when the bytes start at a 4-aligned offset (the arrays are views onto
 * them); otherwise the bytes are copied once. The views stay bound to the given bytes: do not
 * modify them while the EncodedAst is in use.
 */
import type ts from 'typescript';
import { firstInvalidNode } from '../../native-bindings/ast-columns.js';
import { columnsChecked, noteColumnsChecked } from '../../shared/checked-asts.js';
import { StrataError } from '../../shared/errors.js';
import {
  AST_FORMAT_VERSION,
  AST_MAGIC,
  HEADER_BYTE_LENGTH,
  HEADER_BYTES,
  HEADER_JSX_TEXT_KIND,
  HEADER_MAGIC,
  HEADER_NODE_COUNT,
  HEADER_TEXT_LENGTH,
  HEADER_VERSION,
  HEADER_WORDS,
  AST_ALIGNMENT,
  byteLengthFor,
  layoutFor,
  type AstLayout,
} from '../../shared/ast-format.js';

/** Node index in an encoded AST: 0 is the SourceFile, nodes are numbered in pre-order. */
export type NodeIndex = number;

/** Called for each node of a walk; returning `false` skips the node's descendants. */
export type WalkCallback = (node: NodeIndex, depth: number) => boolean | void;

function corrupt(message: string): StrataError {
  return new StrataError('ECORRUPT', `Invalid encoded AST: ${message}`);
}

/** Grown on demand and reused by `decode` (synchronous, so never used by two calls at once). */
let validationStack = new Int32Array(256);

export class EncodedAst {
  /** Number of nodes (at least 1). */
  readonly nodeCount: number;
  /** Length in UTF-16 units of the source text the AST was parsed from. */
  readonly textLength: number;
  /** Size of the encoding in bytes. */
  readonly byteLength: number;

  readonly #bytes: Uint8Array;
  readonly #kinds: Uint16Array;
  readonly #flags: Uint32Array;
  readonly #pos: Uint32Array;
  readonly #end: Uint32Array;
  readonly #subtreeEnd: Uint32Array;
  readonly #jsxTextKind: number;
  #parents: Int32Array | undefined;

  private constructor(bytes: Uint8Array, layout: AstLayout, textLength: number, jsxTextKind: number) {
    const nodeCount = layout.nodeCount;
    const buffer = bytes.buffer;
    const base = bytes.byteOffset;
    this.nodeCount = nodeCount;
    this.textLength = textLength;
    this.byteLength = layout.byteLength;
    this.#bytes = bytes;
    this.#kinds = new Uint16Array(buffer, base + layout.kind, nodeCount);
    this.#flags = new Uint32Array(buffer, base + layout.flags, nodeCount);
    this.#pos = new Uint32Array(buffer, base + layout.pos, nodeCount);
    this.#end = new Uint32Array(buffer, base + layout.end, nodeCount);
    this.#subtreeEnd = new Uint32Array(buffer, base + layout.subtreeEnd, nodeCount);
    this.#jsxTextKind = jsxTextKind;
    this.#parents = undefined;
  }

  /**
   * Validates and wraps an encoding: magic, version, lengths, `pos <= end <= textLength` and properly
   * nested subtrees, in one linear pass. Throws StrataError `ECORRUPT` when anything is off.
   * Bytes whose columns were checked before (shared/checked-asts.ts) skip that pass.
   */
  static decode(bytes: Uint8Array): EncodedAst {
    if (bytes.byteLength < HEADER_BYTES) throw corrupt(`${bytes.byteLength} bytes is shorter than the header`);
    const aligned = bytes.byteOffset % AST_ALIGNMENT === 0 ? bytes : bytes.slice();
    const header = new Uint32Array(aligned.buffer, aligned.byteOffset, HEADER_WORDS);
    const magic = header[HEADER_MAGIC]!;
    if (magic !== AST_MAGIC) throw corrupt(`bad magic 0x${magic.toString(16)}`);
    const version = header[HEADER_VERSION]!;
    if (version !== AST_FORMAT_VERSION) throw corrupt(`format version ${version}, expected ${AST_FORMAT_VERSION}`);
    const nodeCount = header[HEADER_NODE_COUNT]!;
    if (nodeCount < 1) throw corrupt('no nodes');
    const expected = byteLengthFor(nodeCount);
    const declared = header[HEADER_BYTE_LENGTH]!;
    if (declared !== expected || aligned.byteLength !== expected) {
      throw corrupt(`${aligned.byteLength} bytes (header says ${declared}) for ${nodeCount} nodes, expected ${expected}`);
    }
    const layout = layoutFor(nodeCount);
    const ast = new EncodedAst(aligned, layout, header[HEADER_TEXT_LENGTH]!, header[HEADER_JSX_TEXT_KIND]!);
    if (columnsChecked(aligned)) return ast;
    // The addon's pass (~3x faster on every persisted AST of a real corpus) only says whether: the
    // JS pass says what, when it is not.
    const bad = firstInvalidNode(aligned, nodeCount, ast.textLength, layout.pos, layout.end, layout.subtreeEnd);
    if (bad !== -1) {
      ast.#validate();
      if (bad !== undefined) throw corrupt(`node ${bad} is out of place`); // the two checks disagree: trust the stricter
    }
    noteColumnsChecked(aligned);
    return ast;
  }

  /** One linear pass over pos, end and subtreeEnd. */
  #validate(): void {
    const n = this.nodeCount;
    const textLength = this.textLength;
    const pos = this.#pos;
    const end = this.#end;
    const subtreeEnd = this.#subtreeEnd;
    if (subtreeEnd[0] !== n) throw corrupt(`the root's subtree ends at ${subtreeEnd[0]}, not at ${n}`);
    // Open ancestors of the current node (indices); the root never closes before the end.
    let stack = validationStack;
    let top = 0;
    stack[0] = 0;
    for (let i = 0; i < n; i++) {
      const p = pos[i]!;
      const e = end[i]!;
      if (p > e || e > textLength) throw corrupt(`node ${i} spans ${p}..${e} in a text of length ${textLength}`);
      const s = subtreeEnd[i]!;
      if (s <= i || s > n) throw corrupt(`node ${i}'s subtree ends at ${s}`);
      if (i === 0) continue;
      while (subtreeEnd[stack[top]!]! <= i) top--;
      const parentEnd = subtreeEnd[stack[top]!]!;
      if (s > parentEnd) throw corrupt(`node ${i}'s subtree ends at ${s}, past its parent's end ${parentEnd}`);
      if (++top === stack.length) {
        const grown = new Int32Array(stack.length * 2);
        grown.set(stack);
        stack = validationStack = grown;
      }
      stack[top] = i;
    }
  }

  /** The encoding itself (a view, not a copy). */
  get bytes(): Uint8Array {
    return this.#bytes;
  }

  #check(i: NodeIndex): void {
    if (i >>> 0 !== i || i >= this.nodeCount) throw new RangeError(`node index ${i} is out of range 0..${this.nodeCount - 1}`);
  }

  kind(i: NodeIndex): ts.SyntaxKind {
    this.#check(i);
    return this.#kinds[i]!;
  }

  /** TypeScript's NodeFlags as the parser set them (see ENCODED_FLAGS_MASK in workers/ast-encoder.ts). */
  flags(i: NodeIndex): ts.NodeFlags {
    this.#check(i);
    return this.#flags[i]!;
  }

  /** Full start, leading trivia included (TypeScript's `node.pos`). */
  pos(i: NodeIndex): number {
    this.#check(i);
    return this.#pos[i]!;
  }

  end(i: NodeIndex): number {
    this.#check(i);
    return this.#end[i]!;
  }

  /** Index one past the node's last descendant: the next node that is not inside it. */
  subtreeEnd(i: NodeIndex): NodeIndex {
    this.#check(i);
    return this.#subtreeEnd[i]!;
  }

  /** The parent's index, or -1 for the root. The parent array is built on first use, once. */
  parent(i: NodeIndex): NodeIndex {
    this.#check(i);
    return (this.#parents ??= this.#buildParents())[i]!;
  }

  #buildParents(): Int32Array {
    const n = this.nodeCount;
    const subtreeEnd = this.#subtreeEnd;
    const parents = new Int32Array(n);
    const stack = new Int32Array(n);
    let top = 0;
    parents[0] = -1;
    for (let i = 1; i < n; i++) {
      while (subtreeEnd[stack[top]!]! <= i) top--;
      parents[i] = stack[top]!;
      stack[++top] = i;
    }
    return parents;
  }

  /** The children's indices, in `ts.forEachChild` order. */
  children(i: NodeIndex): NodeIndex[] {
    const result: NodeIndex[] = [];
    this.forEachChild(i, (child) => {
      result.push(child);
    });
    return result;
  }

  /** Calls `cb` for each child of `i`, in `ts.forEachChild` order. */
  forEachChild(i: NodeIndex, cb: (child: NodeIndex) => void): void {
    this.#check(i);
    const subtreeEnd = this.#subtreeEnd;
    const last = subtreeEnd[i]!;
    for (let child = i + 1; child < last; child = subtreeEnd[child]!) cb(child);
  }

  /** Pre-order walk of the whole tree (root depth 0); `cb` returning `false` skips that subtree. */
  walk(cb: WalkCallback): void {
    const n = this.nodeCount;
    const subtreeEnd = this.#subtreeEnd;
    // Subtree ends of the open ancestors; their count is the current depth.
    const ancestorEnds: number[] = [];
    let i = 0;
    while (i < n) {
      while (ancestorEnds.length > 0 && ancestorEnds[ancestorEnds.length - 1]! <= i) ancestorEnds.pop();
      const end = subtreeEnd[i]!;
      if (cb(i, ancestorEnds.length) === false) {
        i = end;
      } else {
        ancestorEnds.push(end);
        i++;
      }
    }
  }

  /**
   * Where the node's first token starts: `pos` after TypeScript's trivia (whitespace, line breaks,
   * comments, a shebang at 0, merge-conflict markers), matching `node.getStart()` (no JSDoc). For
   * JSX text, comments are text, as in TypeScript. A missing node (`pos === end`) starts at `pos`.
   * `sourceText` must be the text the AST was parsed from.
   */
  start(i: NodeIndex, sourceText: string): number {
    this.#check(i);
    this.#checkText(sourceText);
    const p = this.#pos[i]!;
    if (p === this.#end[i]) return p;
    return skipTrivia(sourceText, p, this.#kinds[i] === this.#jsxTextKind);
  }

  /** The node's source text without leading trivia (`node.getText()`). */
  text(i: NodeIndex, sourceText: string): string {
    return sourceText.slice(this.start(i, sourceText), this.#end[i]);
  }

  #checkText(sourceText: string): void {
    if (sourceText.length !== this.textLength) {
      throw new RangeError(`source text has length ${sourceText.length}, the AST was parsed from one of length ${this.textLength}`);
    }
  }
}

// Character codes used by the trivia skipper.
const CH_TAB = 0x09;
const CH_LINE_FEED = 0x0a;
const CH_VERTICAL_TAB = 0x0b;
const CH_FORM_FEED = 0x0c;
const CH_CARRIAGE_RETURN = 0x0d;
const CH_SPACE = 0x20;
const CH_HASH = 0x23;
const CH_ASTERISK = 0x2a;
const CH_SLASH = 0x2f;
const CH_LESS_THAN = 0x3c;
const CH_EQUALS = 0x3d;
const CH_GREATER_THAN = 0x3e;
const CH_EXCLAMATION = 0x21;
const CH_BAR = 0x7c;
const MAX_ASCII = 0x7f;
/** `<<<<<<<`, `|||||||`, `=======`, `>>>>>>>`. */
const CONFLICT_MARKER_LENGTH = 7;

function isLineBreak(ch: number): boolean {
  return ch === CH_LINE_FEED || ch === CH_CARRIAGE_RETURN || ch === 0x2028 || ch === 0x2029;
}

/** TypeScript's isWhiteSpaceLike, for characters above ASCII. */
function isNonAsciiWhiteSpaceLike(ch: number): boolean {
  return (
    ch === 0xa0 ||
    ch === 0x85 ||
    ch === 0x1680 ||
    (ch >= 0x2000 && ch <= 0x200b) ||
    ch === 0x2028 ||
    ch === 0x2029 ||
    ch === 0x202f ||
    ch === 0x205f ||
    ch === 0x3000 ||
    ch === 0xfeff
  );
}

/** A merge-conflict marker line at `pos` (TypeScript's isConflictMarkerTrivia). */
function isConflictMarker(text: string, pos: number): boolean {
  if (pos !== 0 && !isLineBreak(text.charCodeAt(pos - 1))) return false;
  if (pos + CONFLICT_MARKER_LENGTH >= text.length) return false;
  const ch = text.charCodeAt(pos);
  for (let k = 1; k < CONFLICT_MARKER_LENGTH; k++) if (text.charCodeAt(pos + k) !== ch) return false;
  return ch === CH_EQUALS || text.charCodeAt(pos + CONFLICT_MARKER_LENGTH) === CH_SPACE;
}

/** Skips a conflict marker and what TypeScript treats as trivia after it (scanConflictMarkerTrivia). */
function skipConflictMarker(text: string, pos: number): number {
  const ch = text.charCodeAt(pos);
  const length = text.length;
  if (ch === CH_LESS_THAN || ch === CH_GREATER_THAN) {
    while (pos < length && !isLineBreak(text.charCodeAt(pos))) pos++;
    return pos;
  }
  // `|||||||` or `=======`: the whole region up to the next `=======` / `>>>>>>>` marker.
  while (pos < length) {
    const current = text.charCodeAt(pos);
    if ((current === CH_EQUALS || current === CH_GREATER_THAN) && current !== ch && isConflictMarker(text, pos)) break;
    pos++;
  }
  return pos;
}

/**
 * TypeScript's `skipTrivia(text, pos, stopAfterLineBreak = false, stopAtComments)` outside JSDoc:
 * returns the first position at or after `pos` that is not trivia.
 */
function skipTrivia(text: string, pos: number, stopAtComments: boolean): number {
  const length = text.length;
  for (;;) {
    const ch = text.charCodeAt(pos);
    switch (ch) {
      case CH_CARRIAGE_RETURN:
      case CH_LINE_FEED:
      case CH_TAB:
      case CH_VERTICAL_TAB:
      case CH_FORM_FEED:
      case CH_SPACE:
        pos++;
        continue;
      case CH_SLASH: {
        if (stopAtComments) return pos;
        const next = text.charCodeAt(pos + 1);
        if (next === CH_SLASH) {
          pos += 2;
          while (pos < length && !isLineBreak(text.charCodeAt(pos))) pos++;
          continue;
        }
        if (next === CH_ASTERISK) {
          pos += 2;
          while (pos < length) {
            if (text.charCodeAt(pos) === CH_ASTERISK && text.charCodeAt(pos + 1) === CH_SLASH) {
              pos += 2;
              break;
            }
            pos++;
          }
          continue;
        }
        return pos;
      }
      case CH_LESS_THAN:
      case CH_BAR:
      case CH_EQUALS:
      case CH_GREATER_THAN:
        if (isConflictMarker(text, pos)) {
          pos = skipConflictMarker(text, pos);
          continue;
        }
        return pos;
      case CH_HASH:
        // A shebang (`#!` to the end of the line) is trivia only at the very start of the file.
        if (pos === 0 && text.charCodeAt(1) === CH_EXCLAMATION) {
          while (pos < length && !isLineBreak(text.charCodeAt(pos))) pos++;
          continue;
        }
        return pos;
      default:
        if (ch > MAX_ASCII && isNonAsciiWhiteSpaceLike(ch)) {
          pos++;
          continue;
        }
        return pos;
    }
  }
}
