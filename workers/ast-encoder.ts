/**
 * Turns a parsed `ts.SourceFile` into an encoded AST (layout: shared/ast-format.ts) and, in the same
 * walk, extracts its module references. Runs in the parse workers for every file, so it is written
 * for speed: one pass, typed arrays grown geometrically, one final buffer, no per-node allocation
 * besides the walk's own stack slots.
 *
 * The walk recurses through `ts.forEachChild` (the fastest way through TypeScript's tree) down to
 * MAX_RECURSION_DEPTH, and continues below that with an explicit stack: 100,000-deep trees must not
 * overflow the JavaScript stack here (if TypeScript's recursive parser overflows first, that
 * RangeError belongs to the caller of `createSourceFile`).
 */
import ts from 'typescript';
import type { ImportKind, ImportRecord } from '../shared/imports.js';
import {
  AST_FORMAT_VERSION,
  AST_MAGIC,
  HEADER_BYTE_LENGTH,
  HEADER_JSX_TEXT_KIND,
  HEADER_MAGIC,
  HEADER_NODE_COUNT,
  HEADER_TEXT_LENGTH,
  HEADER_VERSION,
  HEADER_WORDS,
  layoutFor,
} from '../shared/ast-format.js';
import { packColumns } from '../shared/packed-ast.js';

/** Whether to pack the AST too (only ASTs that will be compressed are: smaller ones are stored as they are). */
export interface PackOptions {
  /** Pack ASTs of at least this many bytes; never when absent. */
  readonly packFrom?: number;
}

/** What one parse task hands back: the encoding, the file's module references, its size in nodes. */
export interface EncodedSourceFile {
  /** The encoded AST; its buffer is a plain ArrayBuffer of exactly this length (transferable). */
  readonly ast: Uint8Array;
  /** Module references in source order (reference directives first); duplicates kept. */
  readonly imports: ImportRecord[];
  readonly nodeCount: number;
  /**
   * With `{ packFrom }` and an AST of at least that many bytes: its stored form
   * (shared/packed-ast.ts), made from this walk's scratch columns, in a scratch buffer valid until
   * the next call; otherwise null.
   */
  readonly packed: Uint8Array | null;
}

/** A NodeFlags bit that the public typings omit; 0 when this TypeScript version has no such bit. */
function internalNodeFlag(name: string): number {
  const value = (ts.NodeFlags as unknown as Readonly<Record<string, number | undefined>>)[name];
  return typeof value === 'number' ? value : 0;
}

/**
 * The NodeFlags bits an encoding keeps: everything the parser sets, minus the bits that depend on what
 * happened to the tree after parsing, so that one text always encodes to the same bytes:
 * `ThisNodeOrAnySubNodesHasError` and `HasAggregatedChildData` (computed lazily by TypeScript's
 * `containsParseError`), `TypeCached` (checker), `Unreachable` (binder), and the two bits that depend
 * on the JSDoc parsing mode: `Deprecated` (a `@deprecated` tag) and the SourceFile's
 * `PossiblyContainsDynamicImport` hint (also raised by `import('m')` types in JSDoc; the imports list
 * is the exact answer to what it hints at). The binder-only bits that share
 * numbers with parser bits (`ContainsThis` = `IdentifierHasExtendedUnicodeEscape`, …) are kept: the
 * parse workers never bind.
 */
export const ENCODED_FLAGS_MASK =
  ~(
    ts.NodeFlags.ThisNodeOrAnySubNodesHasError |
    ts.NodeFlags.HasAggregatedChildData |
    internalNodeFlag('TypeCached') |
    internalNodeFlag('Unreachable') |
    internalNodeFlag('Deprecated') |
    internalNodeFlag('PossiblyContainsDynamicImport')
  ) >>> 0;

const forEachChild = ts.forEachChild;
const KIND_STRING_LITERAL = ts.SyntaxKind.StringLiteral;
const KIND_NO_SUBSTITUTION_TEMPLATE = ts.SyntaxKind.NoSubstitutionTemplateLiteral;
const KIND_IDENTIFIER = ts.SyntaxKind.Identifier;
const KIND_IMPORT_KEYWORD = ts.SyntaxKind.ImportKeyword;
const KIND_LITERAL_TYPE = ts.SyntaxKind.LiteralType;
const KIND_EXTERNAL_MODULE_REFERENCE = ts.SyntaxKind.ExternalModuleReference;
const KIND_META_PROPERTY = ts.SyntaxKind.MetaProperty;

/** What the walk does at a node of a given kind, looked up in one table load per node. */
const enum ImportProbe {
  None = 0,
  ImportDeclaration,
  ExportDeclaration,
  CallExpression,
  ImportEquals,
  ImportType,
}

const IMPORT_PROBE_BY_KIND: Uint8Array = (() => {
  const table = new Uint8Array(ts.SyntaxKind.Count);
  table[ts.SyntaxKind.ImportDeclaration] = ImportProbe.ImportDeclaration;
  table[ts.SyntaxKind.ExportDeclaration] = ImportProbe.ExportDeclaration;
  table[ts.SyntaxKind.CallExpression] = ImportProbe.CallExpression;
  table[ts.SyntaxKind.ImportEqualsDeclaration] = ImportProbe.ImportEquals;
  table[ts.SyntaxKind.ImportType] = ImportProbe.ImportType;
  return table;
})();

/**
 * Initial node capacity for a text: measured on node_modules, TypeScript produces about one node
 * per 7–10 UTF-16 units of real code; starting a little high avoids most regrowth.
 */
function initialCapacity(textLength: number): number {
  return Math.max(64, (textLength >>> 3) + 16);
}

function isStringLiteralLike(node: ts.Node | undefined): node is ts.StringLiteralLike {
  return node !== undefined && (node.kind === KIND_STRING_LITERAL || node.kind === KIND_NO_SUBSTITUTION_TEMPLATE);
}

function importRecord(specifier: string, kind: ImportKind, typeOnly: boolean): ImportRecord {
  return { specifier, kind, typeOnly };
}

/**
 * `/// <reference path>` (typeOnly false) and `/// <reference types>` (typeOnly true) in source
 * order. `/// <reference lib>` is not a module reference and is left out.
 */
function referenceRecords(sf: ts.SourceFile, into: ImportRecord[]): void {
  const paths = sf.referencedFiles;
  const types = sf.typeReferenceDirectives;
  let p = 0;
  let t = 0;
  while (p < paths.length || t < types.length) {
    const path = paths[p];
    const type = types[t];
    if (path !== undefined && (type === undefined || path.pos <= type.pos)) {
      into.push(importRecord(path.fileName, 'reference', false));
      p++;
    } else if (type !== undefined) {
      into.push(importRecord(type.fileName, 'reference', true));
      t++;
    }
  }
}

/** `import.defer` (TypeScript's isImportCall counts `import.defer('m')` as a dynamic import). */
function isImportDefer(meta: ts.MetaProperty): boolean {
  return meta.keywordToken === KIND_IMPORT_KEYWORD && meta.name.text === 'defer';
}

/** Adds the module reference a node of an import-carrying kind makes, if it makes one. */
function probeImport(node: ts.Node, probe: ImportProbe, into: ImportRecord[]): void {
  switch (probe) {
    case ImportProbe.ImportDeclaration: {
      const declaration = node as ts.ImportDeclaration;
      if (declaration.moduleSpecifier.kind === KIND_STRING_LITERAL) {
        // Clause-level `import type` only: `import { type X } from 'm'` still loads 'm' at run time
        // (under verbatimModuleSyntax it becomes `import {} from 'm'`), so it is not type-only.
        const typeOnly = declaration.importClause?.isTypeOnly === true;
        into.push(importRecord((declaration.moduleSpecifier as ts.StringLiteral).text, 'import', typeOnly));
      }
      return;
    }
    case ImportProbe.ExportDeclaration: {
      const declaration = node as ts.ExportDeclaration;
      const specifier = declaration.moduleSpecifier;
      if (specifier !== undefined && specifier.kind === KIND_STRING_LITERAL) {
        into.push(importRecord((specifier as ts.StringLiteral).text, 'export', declaration.isTypeOnly));
      }
      return;
    }
    case ImportProbe.CallExpression: {
      const call = node as ts.CallExpression;
      const callee = call.expression;
      if (callee.kind === KIND_IMPORT_KEYWORD || (callee.kind === KIND_META_PROPERTY && isImportDefer(callee as ts.MetaProperty))) {
        const first = call.arguments[0];
        if (isStringLiteralLike(first)) into.push(importRecord(first.text, 'dynamic-import', false));
      } else if (callee.kind === KIND_IDENTIFIER && call.arguments.length === 1 && (callee as ts.Identifier).text === 'require') {
        // Like TypeScript's own isRequireCall: a no-substitution template counts as a literal.
        const only = call.arguments[0];
        if (isStringLiteralLike(only)) into.push(importRecord(only.text, 'require', false));
      }
      return;
    }
    case ImportProbe.ImportEquals: {
      const declaration = node as ts.ImportEqualsDeclaration;
      const reference = declaration.moduleReference;
      if (reference.kind === KIND_EXTERNAL_MODULE_REFERENCE && reference.expression.kind === KIND_STRING_LITERAL) {
        into.push(importRecord((reference.expression as ts.StringLiteral).text, 'import-equals', declaration.isTypeOnly));
      }
      return;
    }
    case ImportProbe.ImportType: {
      const argument = (node as ts.ImportTypeNode).argument;
      if (argument.kind === KIND_LITERAL_TYPE) {
        const literal = (argument as ts.LiteralTypeNode).literal;
        if (literal.kind === KIND_STRING_LITERAL) into.push(importRecord((literal as ts.StringLiteral).text, 'import-type', true));
      }
      return;
    }
    case ImportProbe.None:
      return;
  }
}

/**
 * Scratch columns reused across files (a worker parses one file at a time): no per-file allocation
 * or regrowth once they have reached the size of the largest file seen.
 */
let capacity = 0;
let kinds = new Uint16Array(0);
let flags = new Uint32Array(0);
let poss = new Uint32Array(0);
let ends = new Uint32Array(0);
let subtreeEnds = new Uint32Array(0);
let count = 0;
let depth = 0;
let imports: ImportRecord[] = [];

/** Past this depth the walk leaves recursion for an explicit stack (deep trees never overflow). */
const MAX_RECURSION_DEPTH = 400;

function ensureCapacity(needed: number): void {
  if (needed <= capacity) return;
  let next = Math.max(capacity * 2, 1024);
  while (next < needed) next *= 2;
  kinds = grow16(kinds, next);
  flags = grow32(flags, next);
  poss = grow32(poss, next);
  ends = grow32(ends, next);
  subtreeEnds = grow32(subtreeEnds, next);
  capacity = next;
}

/** Records one node (pre-order) and probes it for a module reference; returns its index. */
function record(node: ts.Node): number {
  if (count === capacity) ensureCapacity(count + 1);
  const index = count++;
  const kind = node.kind;
  kinds[index] = kind;
  flags[index] = node.flags & ENCODED_FLAGS_MASK;
  poss[index] = node.pos;
  ends[index] = node.end;
  const probe = IMPORT_PROBE_BY_KIND[kind];
  if (probe !== undefined && probe !== ImportProbe.None) probeImport(node, probe, imports);
  return index;
}

/** forEachChild callback: must return undefined (a truthy return stops TypeScript's iteration). */
function visit(node: ts.Node): undefined {
  const index = record(node);
  if (++depth < MAX_RECURSION_DEPTH) forEachChild(node, visit);
  else visitIteratively(node);
  depth--;
  subtreeEnds[index] = count;
  return undefined;
}

/** The children of `parent` (already recorded), walked with an explicit stack. */
function visitIteratively(parent: ts.Node): void {
  // Nodes still to visit (pre-order: children pushed in reverse) with the depth of each, relative to parent.
  const pending: ts.Node[] = [];
  const pendingDepth: number[] = [];
  // Indices of the open nodes on the path from parent's children to the current node.
  const open: number[] = [];
  const pushChild = (child: ts.Node): void => {
    pending.push(child);
  };
  const pushChildrenOf = (node: ts.Node, childDepth: number): void => {
    const first = pending.length;
    forEachChild(node, pushChild);
    const last = pending.length;
    // forEachChild yields children in order; the stack must pop them in order.
    for (let lo = first, hi = last - 1; lo < hi; lo++, hi--) {
      const swap = pending[lo]!;
      pending[lo] = pending[hi]!;
      pending[hi] = swap;
    }
    for (let k = first; k < last; k++) pendingDepth.push(childDepth);
  };
  pushChildrenOf(parent, 0);
  while (pending.length > 0) {
    const node = pending.pop()!;
    const nodeDepth = pendingDepth.pop()!;
    // Every open node at this depth or deeper has no more descendants: close its subtree.
    while (open.length > nodeDepth) subtreeEnds[open.pop()!] = count;
    open.push(record(node));
    pushChildrenOf(node, nodeDepth + 1);
  }
  while (open.length > 0) subtreeEnds[open.pop()!] = count;
}

/**
 * Encodes `sf` (layout: shared/ast-format.ts) and extracts its module references, in one walk over
 * exactly the tree `ts.forEachChild` visits. Does not modify `sf`; parent pointers are not needed.
 * Not re-entrant (module-level scratch): one call at a time per thread, which is how workers run.
 */
export function encodeSourceFile(sf: ts.SourceFile, options: PackOptions = {}): EncodedSourceFile {
  ensureCapacity(initialCapacity(sf.text.length));
  count = 0;
  depth = 0;
  const found: ImportRecord[] = [];
  imports = found;
  referenceRecords(sf, found);
  try {
    visit(sf);
  } finally {
    imports = [];
  }
  const layout = layoutFor(count);
  const ast = new Uint8Array(layout.byteLength);
  const buffer = ast.buffer;
  const header = new Uint32Array(buffer, 0, HEADER_WORDS);
  header[HEADER_MAGIC] = AST_MAGIC;
  header[HEADER_VERSION] = AST_FORMAT_VERSION;
  header[HEADER_NODE_COUNT] = count;
  header[HEADER_TEXT_LENGTH] = sf.text.length;
  header[HEADER_BYTE_LENGTH] = layout.byteLength;
  header[HEADER_JSX_TEXT_KIND] = ts.SyntaxKind.JsxText;
  new Uint16Array(buffer, layout.kind, count).set(kinds.subarray(0, count));
  new Uint32Array(buffer, layout.flags, count).set(flags.subarray(0, count));
  new Uint32Array(buffer, layout.pos, count).set(poss.subarray(0, count));
  new Uint32Array(buffer, layout.end, count).set(ends.subarray(0, count));
  new Uint32Array(buffer, layout.subtreeEnd, count).set(subtreeEnds.subarray(0, count));
  const packFrom = options.packFrom;
  return { ast, imports: found, nodeCount: count, packed: packFrom !== undefined && ast.byteLength >= packFrom ? packScratchColumns(ast) : null };
}

/**
 * The packed form of the AST just encoded, from the scratch columns it was copied from: they are
 * still in the CPU's caches and free until the next file, so they are difference-coded in place, in
 * one tight pass (cheaper than a second pass over the AST, or than more work in the walk).
 */
function packScratchColumns(ast: Uint8Array): Uint8Array {
  return packColumns(ast, count, kinds, flags, poss, ends, subtreeEnds, { posDelta: poss, length: ends, subtreeSize: subtreeEnds });
}

function grow16(array: Uint16Array, capacity: number): Uint16Array<ArrayBuffer> {
  const grown = new Uint16Array(capacity);
  grown.set(array);
  return grown;
}

function grow32(array: Uint32Array, capacity: number): Uint32Array<ArrayBuffer> {
  const grown = new Uint32Array(capacity);
  grown.set(array);
  return grown;
}
