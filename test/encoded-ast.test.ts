import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

import ts from 'typescript';

import { EncodedAst } from '../engine/ast/encoded-ast.js';
import { astColumnsBackend, firstInvalidNode } from '../native-bindings/ast-columns.js';
import {
  AST_FORMAT_VERSION,
  AST_MAGIC,
  BYTES_PER_NODE,
  HEADER_BYTE_LENGTH,
  HEADER_BYTES,
  HEADER_MAGIC,
  HEADER_NODE_COUNT,
  HEADER_TEXT_LENGTH,
  HEADER_VERSION,
  byteLengthFor,
  layoutFor,
} from '../shared/ast-format.js';
import { ENCODED_FLAGS_MASK, encodeSourceFile } from '../workers/ast-encoder.js';
import { parseSource, toSourceFile } from '../workers/parse-source.js';
import { sourceFilesUnder } from './helpers/source-files.js';
import { expectCorrupt } from './helpers/strata-errors.js';

const PROJECT_ROOT = join(__dirname, '..', '..');
const NODE_MODULES = join(PROJECT_ROOT, 'node_modules');
const MAX_FILE_BYTES = 1024 * 1024;
/**
 * Keeps the node_modules comparison under about a minute on a 2-core machine (~40 MB of sources
 * took 28 s there): past this many bytes in total, every k-th file is compared instead.
 */
const MAX_TOTAL_BYTES = 64 * 1024 * 1024;
/** Mismatches listed in a failure message; the count is always reported in full. */
const MAX_REPORTED_PROBLEMS = 25;

/** TypeScript's tree in pre-order, children as `ts.forEachChild` yields them (no recursion). */
function preOrder(root: ts.Node): { nodes: ts.Node[]; children: Map<ts.Node, ts.Node[]> } {
  const nodes: ts.Node[] = [];
  const children = new Map<ts.Node, ts.Node[]>();
  const stack: ts.Node[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    nodes.push(node);
    const kids: ts.Node[] = [];
    ts.forEachChild(node, (kid) => {
      kids.push(kid);
    });
    children.set(node, kids);
    for (let k = kids.length - 1; k >= 0; k--) stack.push(kids[k]!);
  }
  return { nodes, children };
}

/**
 * Compares the decoded encoding of `text` with TypeScript's own tree for it, node by node, and
 * appends a line per mismatch to `problems`. Returns the number of nodes compared.
 *
 * The reference tree comes from `toSourceFile` (parent pointers set, JSDoc parsed) while the
 * encoding comes from `parseSource` (JSDoc skipped), so this also checks that the JSDoc parsing
 * mode changes nothing we encode. Flags are compared under ENCODED_FLAGS_MASK: the masked bits are
 * set lazily or by later phases (`containsParseError`'s aggregation, the binder, the checker) or
 * only when JSDoc is parsed (`Deprecated`), so they are not a stable property of the text.
 */
function compareWithTypeScript(path: string, text: string, problems: string[]): number {
  const where = relative(PROJECT_ROOT, path);
  const ast = EncodedAst.decode(parseSource(path, text).ast);
  const sf = toSourceFile(path, text);
  const { nodes, children } = preOrder(sf);
  if (nodes.length !== ast.nodeCount) {
    problems.push(`${where}: ${ast.nodeCount} nodes encoded, TypeScript has ${nodes.length}`);
    return 0;
  }
  const indexOf = new Map<ts.Node, number>();
  nodes.forEach((node, i) => indexOf.set(node, i));
  const mismatch = (i: number, what: string, got: unknown, want: unknown): void => {
    const node = nodes[i]!;
    problems.push(`${where} node ${i} (${ts.SyntaxKind[node.kind]} at ${node.pos}): ${what} ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
  };
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i]!;
    if (ast.kind(i) !== node.kind) mismatch(i, 'kind', ts.SyntaxKind[ast.kind(i)], ts.SyntaxKind[node.kind]);
    if (ast.pos(i) !== node.pos) mismatch(i, 'pos', ast.pos(i), node.pos);
    if (ast.end(i) !== node.end) mismatch(i, 'end', ast.end(i), node.end);
    const flags = (node.flags & ENCODED_FLAGS_MASK) >>> 0;
    if (ast.flags(i) !== flags) mismatch(i, 'flags', ast.flags(i), flags);
    const parent = node.parent === undefined ? -1 : (indexOf.get(node.parent) ?? -2);
    if (ast.parent(i) !== parent) mismatch(i, 'parent', ast.parent(i), parent);
    const kids = children.get(node)!.map((kid) => indexOf.get(kid)!);
    const encodedKids = ast.children(i);
    if (encodedKids.join() !== kids.join()) mismatch(i, 'children', encodedKids, kids);
    const start = node.getStart(sf);
    if (ast.start(i, text) !== start) mismatch(i, 'start', ast.start(i, text), start);
    const nodeText = node.getText(sf);
    if (ast.text(i, text) !== nodeText) mismatch(i, 'text', ast.text(i, text), nodeText);
  }
  return nodes.length;
}

/** The name of what `run` throws (errors are compared by name: jest's realms break instanceof). */
function thrownName(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return (error as Error).name;
  }
  return undefined;
}

/** A writable copy of an encoding, with a little-endian Uint32 view over it. */
function editable(bytes: Uint8Array): { copy: Uint8Array; view: DataView } {
  const copy = bytes.slice();
  return { copy, view: new DataView(copy.buffer, copy.byteOffset, copy.byteLength) };
}

const SAMPLE = `#!/usr/bin/env node
// leading comment
/* block */ import { a } from './a';
export function f(x: number): string {
  return /* inline */ \`\${x}\` + a;
}
`;

describe('EncodedAst', () => {
  it('agrees with ts.forEachChild on kinds, flags, pos, end, parents, children, start and text for every source file of at most 1 MiB in node_modules (every k-th file past 64 MiB in all)', () => {
    const files = sourceFilesUnder(NODE_MODULES, MAX_FILE_BYTES, MAX_TOTAL_BYTES);
    expect(files.length).toBeGreaterThan(1500);
    const problems: string[] = [];
    let nodes = 0;
    for (const file of files) nodes += compareWithTypeScript(file, readFileSync(file, 'utf8'), problems);
    expect({ problems: problems.length, first: problems.slice(0, MAX_REPORTED_PROBLEMS) }).toEqual({ problems: 0, first: [] });
    expect(nodes).toBeGreaterThan(files.length);
  }, 180_000);

  it('agrees with ts.forEachChild on TSX, JSX, shebangs, BOMs, merge-conflict markers and syntax errors', () => {
    const cases: [string, string][] = [
      ['a.tsx', 'const e = <div className="x">  // not a comment\n  {/* expr */ v} text <b>bold</b>\n</div>;\nexport default e;\n'],
      ['a.jsx', 'export const App = () => (\n  <>\n    /* text */ {items.map((i) => <li key={i}>{i}</li>)}\n  </>\n);\n'],
      ['a.ts', SAMPLE],
      ['bom.ts', '\uFEFF\u00A0/** doc */\nconst x = 1;\u2028const y = 2;\n'],
      ['conflict.ts', 'const a = 1;\n<<<<<<< HEAD\nconst b = 2;\n=======\nconst b = 3;\n>>>>>>> branch\nconst c = 4;\n'],
      ['broken.ts', 'function f( {\n  return 1 +;\n}\nclass {\nimport x from\n'],
      ['empty.ts', ''],
      ['trivia-only.js', '  // nothing here\n/* at all */\n'],
    ];
    const problems: string[] = [];
    for (const [path, text] of cases) compareWithTypeScript(path, text, problems);
    expect(problems).toEqual([]);
  });

  it('exposes the tree: children, parent, forEachChild, subtreeEnd and a pre-order walk with depths', () => {
    const text = 'let a = 1 + 2;\nf(a);\n';
    const ast = EncodedAst.decode(parseSource('walk.ts', text).ast);
    const walked: [number, ts.SyntaxKind][] = [];
    ast.walk((node, depth) => {
      walked.push([depth, ast.kind(node)]);
    });
    const K = ts.SyntaxKind;
    expect(walked).toEqual([
      [0, K.SourceFile],
      [1, K.VariableStatement],
      [2, K.VariableDeclarationList],
      [3, K.VariableDeclaration],
      [4, K.Identifier],
      [4, K.BinaryExpression],
      [5, K.NumericLiteral],
      [5, K.PlusToken],
      [5, K.NumericLiteral],
      [1, K.ExpressionStatement],
      [2, K.CallExpression],
      [3, K.Identifier],
      [3, K.Identifier],
      [1, K.EndOfFileToken],
    ]);
    expect(ast.children(0)).toEqual([1, 9, 13]);
    expect(ast.parent(0)).toBe(-1);
    expect(ast.parent(5)).toBe(3);
    expect(ast.parent(12)).toBe(10);
    expect(ast.subtreeEnd(1)).toBe(9);
    const visited: number[] = [];
    ast.forEachChild(5, (child) => {
      visited.push(child);
    });
    expect(visited).toEqual([6, 7, 8]);
    expect(ast.text(5, text)).toBe('1 + 2');
    expect(ast.start(0, text)).toBe(0);
    expect(ast.byteLength).toBe(byteLengthFor(ast.nodeCount));
    expect(ast.textLength).toBe(text.length);
  });

  it('skips a subtree when the walk callback returns false', () => {
    const ast = EncodedAst.decode(parseSource('skip.ts', 'let a = [1, [2, [3]]];\nlet b = 4;\n').ast);
    const seen: number[] = [];
    ast.walk((node, depth) => {
      seen.push(node);
      return depth < 2;
    });
    const expected = [0, ...ast.children(0), ...ast.children(0).flatMap((child) => ast.children(child))].sort((x, y) => x - y);
    expect(seen).toEqual(expected);
    expect(seen.length).toBeLessThan(ast.nodeCount);
  });

  it('takes 18 bytes per node plus a 24-byte header and at most 2 bytes of padding', () => {
    const { ast, nodeCount } = parseSource('size.ts', SAMPLE);
    expect(BYTES_PER_NODE).toBe(18);
    expect(ast.byteLength).toBe(byteLengthFor(nodeCount));
    expect(ast.byteLength - HEADER_BYTES - BYTES_PER_NODE * nodeCount).toBeLessThanOrEqual(2);
    const layout = layoutFor(nodeCount);
    for (const offset of [layout.kind, layout.flags, layout.pos, layout.end, layout.subtreeEnd]) expect(offset % 4).toBe(0);
  });

  it('reads an encoding that starts at an unaligned offset, by copying it once', () => {
    const { ast } = parseSource('unaligned.ts', SAMPLE);
    const shifted = new Uint8Array(ast.byteLength + 1);
    shifted.set(ast, 1);
    const view = shifted.subarray(1);
    const decoded = EncodedAst.decode(view);
    const reference = EncodedAst.decode(ast);
    const summary = (a: EncodedAst): number[][] => [...Array(a.nodeCount).keys()].map((i) => [a.kind(i), a.pos(i), a.end(i), a.subtreeEnd(i), a.flags(i)]);
    expect(summary(decoded)).toEqual(summary(reference));
    expect(decoded.bytes).toEqual(ast);
  });

  it('reads an encoding without copying when it starts at an aligned offset', () => {
    const { ast } = parseSource('aligned.ts', SAMPLE);
    const decoded = EncodedAst.decode(ast);
    expect(decoded.bytes.buffer).toBe(ast.buffer);
  });

  it('encodes the same text to the same bytes whatever the JSDoc parsing mode and whatever was asked of the tree before', () => {
    const text = '/** @deprecated use g */\nexport function f(): void {}\nconst x = (1 +;\n';
    const none = ts.createSourceFile('d.ts', text, { languageVersion: ts.ScriptTarget.Latest, jsDocParsingMode: ts.JSDocParsingMode.ParseNone }, false, ts.ScriptKind.TS);
    const all = ts.createSourceFile('d.ts', text, { languageVersion: ts.ScriptTarget.Latest, jsDocParsingMode: ts.JSDocParsingMode.ParseAll }, true, ts.ScriptKind.TS);
    // What services do to a tree (token lists), then the bits TypeScript sets lazily or in later phases.
    const later = ts.NodeFlags.ThisNodeOrAnySubNodesHasError | ts.NodeFlags.HasAggregatedChildData;
    for (const node of preOrder(all).nodes) {
      node.getChildCount(all);
      (node as { flags: ts.NodeFlags }).flags |= later;
    }
    expect(ENCODED_FLAGS_MASK & later).toBe(0);
    expect(encodeSourceFile(all).imports).toEqual(encodeSourceFile(none).imports);
    expect(encodeSourceFile(all).ast).toEqual(encodeSourceFile(none).ast);
  });

  it('refuses bytes shorter than the header, truncated, or with extra bytes, with ECORRUPT', () => {
    const { ast } = parseSource('corrupt.ts', SAMPLE);
    expectCorrupt(() => EncodedAst.decode(ast.subarray(0, HEADER_BYTES - 4)));
    expectCorrupt(() => EncodedAst.decode(ast.subarray(0, ast.byteLength - 4)));
    const longer = new Uint8Array(ast.byteLength + 4);
    longer.set(ast);
    expectCorrupt(() => EncodedAst.decode(longer));
    expectCorrupt(() => EncodedAst.decode(new Uint8Array(0)));
  });

  it('refuses a wrong magic number, format version, node count or declared length with ECORRUPT', () => {
    const { ast } = parseSource('corrupt.ts', SAMPLE);
    const edits: [number, number][] = [
      [HEADER_MAGIC, AST_MAGIC ^ 1],
      [HEADER_VERSION, AST_FORMAT_VERSION + 1],
      [HEADER_NODE_COUNT, 0],
      [HEADER_NODE_COUNT, new DataView(ast.buffer).getUint32(HEADER_NODE_COUNT * 4, true) + 1],
      [HEADER_BYTE_LENGTH, ast.byteLength + 4],
      [HEADER_TEXT_LENGTH, 3],
    ];
    for (const [field, value] of edits) {
      const { copy, view } = editable(ast);
      view.setUint32(field * 4, value, true);
      expectCorrupt(() => EncodedAst.decode(copy));
    }
  });

  it('refuses subtree ends out of range or badly nested, and pos after end, with ECORRUPT', () => {
    const { ast, nodeCount } = parseSource('corrupt.ts', SAMPLE);
    const layout = layoutFor(nodeCount);
    const decoded = EncodedAst.decode(ast);
    // A node with at least two children: moving its first child's subtree end past the parent's is
    // a nesting error even though it stays in range.
    const parent = [...Array(nodeCount).keys()].find((i) => i > 0 && decoded.children(i).length >= 2 && decoded.subtreeEnd(i) < nodeCount)!;
    const firstChild = decoded.children(parent)[0]!;
    const edits: [number, number][] = [
      [layout.subtreeEnd, nodeCount - 1], // the root must span everything
      [layout.subtreeEnd + 4 * 1, nodeCount + 1], // past the end
      [layout.subtreeEnd + 4 * 3, 3], // empty: a subtree holds at least its own node
      [layout.subtreeEnd + 4 * 2, 0xffffffff],
      [layout.subtreeEnd + 4 * firstChild, decoded.subtreeEnd(parent) + 1],
      [layout.pos + 4 * 2, decoded.end(2) + 1],
      [layout.end + 4 * 1, decoded.textLength + 1],
    ];
    for (const [offset, value] of edits) {
      const { copy, view } = editable(ast);
      view.setUint32(offset, value, true);
      expectCorrupt(() => EncodedAst.decode(copy));
    }
  });

  it('loads and decodes without loading TypeScript', () => {
    const { ast } = parseSource('light.ts', SAMPLE);
    const script = [
      `const { EncodedAst } = require(${JSON.stringify(join(__dirname, '..', 'engine', 'ast', 'encoded-ast.js'))});`,
      `const ast = EncodedAst.decode(Uint8Array.from(${JSON.stringify([...ast])}));`,
      "const loaded = Object.keys(require.cache).filter((file) => file.includes('/node_modules/typescript/'));",
      'process.stdout.write(JSON.stringify({ nodes: ast.nodeCount, loaded }));',
    ].join('\n');
    const output = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(JSON.parse(output)).toEqual({ nodes: EncodedAst.decode(ast).nodeCount, loaded: [] });
  });

  it('refuses a source text of another length than the one it was parsed from', () => {
    const ast = EncodedAst.decode(parseSource('text.ts', SAMPLE).ast);
    expect(thrownName(() => ast.start(1, SAMPLE + ' '))).toBe('RangeError');
    expect(thrownName(() => ast.kind(ast.nodeCount))).toBe('RangeError');
    expect(thrownName(() => ast.pos(-1))).toBe('RangeError');
    expect(thrownName(() => ast.start(1, SAMPLE))).toBeUndefined();
  });

  it('encodes and reads a tree 100,000 levels deep without overflowing the stack', () => {
    // TypeScript parses a long `a + a + …` chain iteratively into a left-leaning tree as deep as the
    // chain is long; a naive recursive forEachChild walk overflows Node's default stack on it after
    // a few thousand levels (TypeScript's own parser already overflows on ~1,000 nested parentheses).
    const terms = 100_000;
    const text = `const x = ${Array.from({ length: terms }, () => 'a').join(' + ')};\n`;
    const parsed = parseSource('deep.ts', text);
    expect(parsed.diagnostics).toBe(0);
    const ast = EncodedAst.decode(parsed.ast);
    let deepest = 0;
    let deepestNode = 0;
    ast.walk((node, depth) => {
      if (depth > deepest) {
        deepest = depth;
        deepestNode = node;
      }
    });
    expect(deepest).toBeGreaterThanOrEqual(terms);
    let ancestors = 0;
    for (let node = ast.parent(deepestNode); node !== -1; node = ast.parent(node)) ancestors++;
    expect(ancestors).toBe(deepest);
  });

  it('encodes 10,000 nested parentheses and arrays, or leaves the RangeError to TypeScript when its own recursive parser overflows', () => {
    const depth = 10_000;
    for (const text of [`const x = ${'('.repeat(depth)}1${')'.repeat(depth)};`, `const y = ${'['.repeat(depth)}${']'.repeat(depth)};`]) {
      const typeScriptError = thrownName(() =>
        ts.createSourceFile('nested.ts', text, { languageVersion: ts.ScriptTarget.Latest, jsDocParsingMode: ts.JSDocParsingMode.ParseNone }, false, ts.ScriptKind.TS),
      );
      const parsedByTypeScript = typeScriptError === undefined;
      if (!parsedByTypeScript) expect(typeScriptError).toBe('RangeError');
      if (parsedByTypeScript) {
        const ast = EncodedAst.decode(parseSource('nested.ts', text).ast);
        let deepest = 0;
        ast.walk((_node, d) => {
          deepest = Math.max(deepest, d);
        });
        expect(deepest).toBeGreaterThanOrEqual(depth);
      } else {
        expect(thrownName(() => parseSource('nested.ts', text))).toBe('RangeError');
      }
    }
  });
});

describe('the structural check in Strata’s addon (native-bindings/ast-columns.ts)', () => {
  /** Validity by its definition, node by node against every later node (quadratic: small ASTs only). */
  function validByDefinition(pos: Uint32Array, end: Uint32Array, subtreeEnd: Uint32Array, textLength: number): boolean {
    const n = pos.length;
    if (subtreeEnd[0] !== n) return false;
    for (let i = 0; i < n; i++) {
      if (pos[i]! > end[i]! || end[i]! > textLength || subtreeEnd[i]! <= i || subtreeEnd[i]! > n) return false;
      for (let j = i + 1; j < subtreeEnd[i]!; j++) if (subtreeEnd[j]! > subtreeEnd[i]!) return false;
    }
    return true;
  }

  it('agrees with the definition, and EncodedAst.decode with both, over thousands of random corruptions', () => {
    const { ast, nodeCount } = parseSource('fuzz.ts', SAMPLE);
    const layout = layoutFor(nodeCount);
    const textLength = new DataView(ast.buffer, ast.byteOffset).getUint32(HEADER_TEXT_LENGTH * 4, true);
    let state = 0x9e3779b9;
    const random = (below: number): number => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) % below;
    };
    const verdicts = { valid: 0, invalid: 0 };
    for (let round = 0; round < 3000; round++) {
      const { copy, view } = editable(ast);
      for (let edits = 1 + random(3); edits > 0; edits--) {
        const column = [layout.pos, layout.end, layout.subtreeEnd][random(3)]!;
        const node = random(nodeCount);
        const old = view.getUint32(column + 4 * node, true);
        // Small moves (the hard cases: still in range, maybe badly nested), sometimes wild values.
        const value = random(8) === 0 ? random(0x100000000) : Math.max(0, old + random(7) - 3);
        view.setUint32(column + 4 * node, value, true);
      }
      const column = (offset: number): Uint32Array => new Uint32Array(copy.buffer, copy.byteOffset + offset, nodeCount);
      const valid = validByDefinition(column(layout.pos), column(layout.end), column(layout.subtreeEnd), textLength);
      verdicts[valid ? 'valid' : 'invalid']++;
      const native = firstInvalidNode(copy, nodeCount, textLength, layout.pos, layout.end, layout.subtreeEnd);
      if (astColumnsBackend === 'native') expect({ round, valid: native === -1 }).toEqual({ round, valid });
      if (valid) expect(EncodedAst.decode(copy).nodeCount).toBe(nodeCount);
      else expectCorrupt(() => EncodedAst.decode(copy));
    }
    // Both kinds were met many times: the comparison means something.
    expect(Math.min(verdicts.valid, verdicts.invalid)).toBeGreaterThan(300);
  });

  it('refuses columns outside the bytes it is given, and misaligned bytes, with a TypeError', () => {
    if (astColumnsBackend !== 'native') return expect(firstInvalidNode(new Uint8Array(8), 1, 0, 0, 0, 0)).toBeUndefined();
    const { ast, nodeCount } = parseSource('bounds.ts', SAMPLE);
    const layout = layoutFor(nodeCount);
    expect(firstInvalidNode(ast, nodeCount, 10_000, layout.pos, layout.end, layout.subtreeEnd)).toBe(-1);
    expect(() => firstInvalidNode(ast, nodeCount + 1, 10_000, layout.pos, layout.end, layout.subtreeEnd)).toThrow(/outside the bytes|not 4-aligned|at least 1/);
    expect(() => firstInvalidNode(ast.subarray(0, ast.byteLength - 4), nodeCount, 10_000, layout.pos, layout.end, layout.subtreeEnd)).toThrow(/outside the bytes|not 4-aligned|at least 1/);
    const misaligned = new Uint8Array(ast.byteLength + 1).subarray(1);
    expect(() => firstInvalidNode(misaligned, nodeCount, 10_000, layout.pos, layout.end, layout.subtreeEnd)).toThrow(/outside the bytes|not 4-aligned|at least 1/);
    expect(() => firstInvalidNode(ast, 0, 10_000, layout.pos, layout.end, layout.subtreeEnd)).toThrow(/outside the bytes|not 4-aligned|at least 1/);
  });
});
