import { readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { decodeAstEntry, encodeAstEntry } from '../shared/ast-entry.js';
import { HEADER_BYTES, HEADER_NODE_COUNT } from '../shared/ast-format.js';
import { decodeEntry, encodeEntry } from '../shared/entry-format.js';
import { packAst, unpackAst } from '../shared/packed-ast.js';
import { lz4Compress } from '../native-bindings/lz4.js';
import { parseSource } from '../workers/parse-source.js';
import { sourceFilesUnder } from './helpers/source-files.js';

const PROJECT_ROOT = join(__dirname, '..', '..');
/** Every source file of this project, and a sample of node_modules (TypeScript's own lib, JavaScript packages, declaration files) kept to a few seconds. */
const PROJECT_DIRS = ['engine', 'workers', 'shared', 'native-bindings', 'bench', 'test'];
const NODE_MODULES_SAMPLE_BYTES = 24 * 1024 * 1024;
const KEY = 'k/ts/0123456789abcdef';
/** Where the widths sit in a packed buffer: right after the AST header. */
const WIDTHS_AT = HEADER_BYTES;
const PACKED_HEADER_BYTES = HEADER_BYTES + 8;

function widthsOf(packed: Uint8Array): number[] {
  return [...packed.subarray(WIDTHS_AT, WIDTHS_AT + 5)];
}

/** A copy of `packed` with one byte changed. */
function withByte(packed: Uint8Array, at: number, value: number): Uint8Array {
  const copy = packed.slice();
  copy[at] = value;
  return copy;
}

describe('packed ASTs (the stored form of large ASTs)', () => {
  it('round-trip every file of a real corpus exactly, packed and as a persisted entry, and the encoder packs the same bytes as a second pass would', () => {
    const files = [
      // (bench/results holds generated corpora, not this project's code)
      ...PROJECT_DIRS.flatMap((dir) => sourceFilesUnder(join(PROJECT_ROOT, dir), Infinity, Infinity)).filter((file) => !file.includes(`${sep}bench${sep}results${sep}`)),
      ...sourceFilesUnder(join(PROJECT_ROOT, 'node_modules'), 4 * 1024 * 1024, NODE_MODULES_SAMPLE_BYTES),
    ];
    expect(files.length).toBeGreaterThan(1000);
    const problems: string[] = [];
    let wideFiles = 0;
    for (const file of files) {
      const parsed = parseSource(file, readFileSync(file, 'utf8'), 'latest', { packFrom: 0 });
      const fromEncoder = Buffer.from(parsed.packed!); // a scratch view: copied before the next parse
      const fromAst = packAst(parsed.ast);
      const where = relative(PROJECT_ROOT, file);
      if (fromAst === null || !fromEncoder.equals(fromAst)) problems.push(`${where}: the encoder's packed form differs from packAst's`);
      const back = unpackAst(fromEncoder);
      if (back === null || !Buffer.from(back).equals(Buffer.from(parsed.ast))) problems.push(`${where}: does not unpack to its AST`);
      if (widthsOf(fromEncoder).includes(4)) wideFiles++;
      // The whole persisted form: envelope, checksum, lz4 (or stored as it is below 4 KiB), and back.
      const stored = decodeAstEntry(encodeAstEntry(KEY, parsed, 'lz4-block-v1'), KEY);
      if (!Buffer.from(stored.ast).equals(Buffer.from(parsed.ast))) problems.push(`${where}: its entry does not decode to its AST`);
      if (JSON.stringify([stored.imports, stored.diagnostics, stored.nodeCount, stored.signature]) !== JSON.stringify([parsed.imports, parsed.diagnostics, parsed.nodeCount, parsed.signature])) {
        problems.push(`${where}: its entry does not decode to its imports and counts`);
      }
    }
    expect(problems).toEqual([]);
    expect(wideFiles).toBeGreaterThan(0); // some column needed all 32 bits somewhere in the corpus
  });

  it('stores each column at the narrowest width that holds it, and is smaller than the AST', () => {
    const small = parseSource('s.ts', 'export const a = 1;\n').ast;
    expect(widthsOf(packAst(small)!)).toEqual([2, 1, 1, 1, 1]); // kinds pass 255 (SourceFile); positions, lengths and sizes do not
    const long = `const s = "${'x'.repeat(70_000)}";\n`;
    const packed = packAst(parseSource('l.ts', long).ast)!;
    expect(widthsOf(packed)[3]).toBe(4); // the root's length needs more than 16 bits
    const js = parseSource('m.js', Array.from({ length: 300 }, (_, i) => `exports.v${i} = require('./m${i}');`).join('\n')).ast;
    expect(packAst(js)!.byteLength).toBeLessThan(js.byteLength * 0.75);
  });

  it('refuses malformed packed bytes without allocating for what they claim', () => {
    const packed = packAst(parseSource('f.ts', 'import { a } from "./a";\nexport function f(x: number) { return a + x; }\n').ast)!.slice();
    expect(unpackAst(packed)).not.toBeNull();
    for (const width of [0, 3, 8, 255]) expect(unpackAst(withByte(packed, WIDTHS_AT + 2, width))).toBeNull();
    expect(unpackAst(withByte(packed, WIDTHS_AT, 4))).toBeNull(); // kinds are 16-bit
    expect(unpackAst(packed.subarray(0, packed.byteLength - 4))).toBeNull();
    expect(unpackAst(packed.subarray(0, PACKED_HEADER_BYTES - 1))).toBeNull();
    const huge = packed.slice();
    new DataView(huge.buffer).setUint32(HEADER_NODE_COUNT * 4, 0x4000_0000, true); // would be 18 GiB unpacked
    expect(unpackAst(huge)).toBeNull();
    const none = packed.slice();
    new DataView(none.buffer).setUint32(HEADER_NODE_COUNT * 4, 0, true);
    expect(unpackAst(none)).toBeNull();
  });

  it('reads a packed buffer at an unaligned offset by copying it', () => {
    const packed = packAst(parseSource('f.ts', 'export const a = [1, 2, 3];\n').ast)!;
    const shifted = new Uint8Array(packed.byteLength + 1).subarray(1);
    shifted.set(packed);
    expect(Buffer.from(unpackAst(shifted)!)).toEqual(Buffer.from(unpackAst(packed.slice())!));
  });

  it('makes an entry whose packed payload is malformed (checksum intact) fail as ECORRUPT, never as a wrong AST', () => {
    const record = parseSource('big.ts', Array.from({ length: 400 }, (_, i) => `export const v${i} = ${i} + f(${i});`).join('\n'));
    const entry = encodeAstEntry(KEY, record, 'lz4-block-v1');
    const decoded = decodeEntry(entry, KEY);
    expect(decoded.codec).toBe('lz4-block-v1');
    const packed = packAst(record.ast)!.slice();
    const badWidth = withByte(packed, WIDTHS_AT + 4, 3);
    const forged = encodeEntry({ key: KEY, codec: 'lz4-block-v1', meta: decoded.meta, payload: lz4Compress(badWidth), rawLength: badWidth.byteLength });
    expect(() => decodeAstEntry(forged, KEY)).toThrow(expect.objectContaining({ code: 'ECORRUPT' }));
    expect(Buffer.from(decodeAstEntry(entry, KEY).ast)).toEqual(Buffer.from(record.ast));
  });
});
