import { readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { EncodedAst } from '../engine/ast/encoded-ast.js';
import { astColumnsBackend, lz4UnpackAst } from '../native-bindings/ast-columns.js';
import { COMPRESS_MIN_BYTES, decodeAstEntry, decompressedAst, encodeAstEntry } from '../shared/ast-entry.js';
import { columnsChecked } from '../shared/checked-asts.js';
import { AST_FORMAT_VERSION, AST_MAGIC, HEADER_BYTE_LENGTH, HEADER_BYTES, HEADER_MAGIC, HEADER_NODE_COUNT, HEADER_VERSION } from '../shared/ast-format.js';
import { decodeEntry, encodeEntry } from '../shared/entry-format.js';
import { packAst, unpackAst } from '../shared/packed-ast.js';
import { lz4Compress, lz4CompressJs, lz4DecompressJs } from '../native-bindings/lz4.js';
import { parseSource } from '../workers/parse-source.js';
import { sourceFilesUnder } from './helpers/source-files.js';
import { expectCorrupt } from './helpers/strata-errors.js';

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

describe('the addon’s one-call load of a large AST (lz4UnpackAst: lz4, unpack and the column check)', () => {
  const native = astColumnsBackend === 'native';
  /** Packed ASTs of real files, large enough to be stored compressed. */
  function realPacked(): Uint8Array[] {
    const files = PROJECT_DIRS.flatMap((dir) => sourceFilesUnder(join(PROJECT_ROOT, dir), Infinity, Infinity)).filter((file) => !file.includes(`${sep}bench${sep}results${sep}`));
    return files.map((file) => parseSource(file, readFileSync(file, 'utf8')).ast).filter((ast) => ast.byteLength >= COMPRESS_MIN_BYTES).map((ast) => packAst(ast)!.slice());
  }

  /**
   * The reference: JS lz4, JS unpack, and EncodedAst's column check on a copy no one marked; null
   * where any refuses. The copy's magic, version and byte length are set right first: the addon
   * checks the columns only, and EncodedAst.decode checks the header on every decode.
   */
  function reference(payload: Uint8Array, packedLength: number): Uint8Array | null {
    try {
      const packed = lz4DecompressJs(payload);
      if (packed.byteLength !== packedLength) return null;
      const ast = unpackAst(packed);
      if (ast === null) return null;
      const copy = ast.slice();
      const header = new DataView(copy.buffer);
      header.setUint32(HEADER_MAGIC * 4, AST_MAGIC, true);
      header.setUint32(HEADER_VERSION * 4, AST_FORMAT_VERSION, true);
      header.setUint32(HEADER_BYTE_LENGTH * 4, copy.byteLength, true);
      EncodedAst.decode(copy);
      return ast;
    } catch {
      return null;
    }
  }

  function randomFrom(seed: number): (below: number) => number {
    let state = seed;
    return (below) => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) % below;
    };
  }

  it('gives the JS path’s bytes for every large AST of this project, from either compressor’s output, and marks them checked', () => {
    const all = realPacked();
    expect(all.length).toBeGreaterThan(100);
    const problems: string[] = [];
    for (const packed of all) {
      for (const [compressor, payload] of [['lz4-napi', lz4Compress(packed)], ['js', lz4CompressJs(packed)]] as const) {
        const expected = reference(payload, packed.byteLength);
        if (expected === null) throw new Error('the reference refused a valid AST');
        const loaded = lz4UnpackAst(payload, packed.byteLength);
        if (!native) {
          if (loaded !== undefined) problems.push('answered without the addon');
          continue;
        }
        if (loaded === undefined || !Buffer.from(loaded).equals(Buffer.from(expected))) problems.push(`${compressor}: differs for a ${packed.byteLength}-byte packed AST`);
        else if (loaded.byteOffset !== 0 || loaded.byteLength !== loaded.buffer.byteLength || loaded.buffer instanceof SharedArrayBuffer) problems.push('not a buffer of its own');
        const decoded = decompressedAst(payload, packed.byteLength);
        if (columnsChecked(decoded) !== native || !Buffer.from(decoded).equals(Buffer.from(expected))) problems.push('decompressedAst disagrees');
      }
    }
    expect(problems).toEqual([]);
  });

  it('answers nothing or the reference’s own AST for thousands of corrupt payloads, and never a wrong one', () => {
    if (!native) return;
    const samples = realPacked().slice(0, 40);
    const random = randomFrom(0x2545f491);
    const verdicts = { refused: 0, accepted: 0 };
    for (let round = 0; round < 4000; round++) {
      const packed = samples[random(samples.length)]!;
      const payload = (round % 2 === 0 ? lz4Compress(packed) : lz4CompressJs(packed)).slice();
      let packedLength = packed.byteLength;
      const how = random(10);
      if (how === 0) packedLength += random(3) - 1; // the entry's length disagrees with the prefix
      else if (how === 1) payload[random(4)] = random(256); // the size prefix itself
      const edits = how === 2 ? 0 : 1 + random(3);
      for (let k = 0; k < edits; k++) payload[4 + random(payload.byteLength - 4)] = random(256);
      const cut = how === 3 ? payload.subarray(0, random(payload.byteLength)) : payload;
      const loaded = lz4UnpackAst(cut, packedLength);
      const expected = reference(cut, packedLength);
      if (loaded === undefined) {
        verdicts.refused++;
        continue;
      }
      verdicts.accepted++;
      // What it accepts, the reference decodes to the same bytes and accepts too.
      expect({ round, same: expected !== null && Buffer.from(loaded).equals(Buffer.from(expected)) }).toEqual({ round, same: true });
    }
    expect(verdicts.refused).toBeGreaterThan(1000);
  });

  it('checks the columns exactly as EncodedAst.decode does, over thousands of packed ASTs with moved values', () => {
    const packed = packAst(parseSource('nest.ts', Array.from({ length: 60 }, (_, i) => `export function f${i}(a: number) { if (a > ${i}) { return [a, { b: a + ${i} }]; } return g(() => a * ${i}); }`).join('\n')).ast)!.slice();
    const n = new DataView(packed.buffer).getUint32(HEADER_NODE_COUNT * 4, true);
    const widths = widthsOf(packed);
    const columnAt: number[] = [];
    let at = PACKED_HEADER_BYTES;
    for (const width of widths) {
      columnAt.push(at);
      at += Math.ceil((n * width) / 4) * 4;
    }
    const random = randomFrom(0x9e3779b9);
    const verdicts = { valid: 0, invalid: 0 };
    for (let round = 0; round < 3000; round++) {
      const copy = packed.slice();
      const view = new DataView(copy.buffer);
      for (let edits = 1 + random(3); edits > 0; edits--) {
        const column = 2 + random(3); // pos deltas, lengths, subtree sizes
        const width = widths[column]!;
        const where = columnAt[column]! + width * random(n);
        const read = width === 1 ? view.getUint8(where) : width === 2 ? view.getUint16(where, true) : view.getUint32(where, true);
        const value = Math.max(0, Math.min(2 ** (8 * width) - 1, read + random(7) - 3));
        if (width === 1) view.setUint8(where, value);
        else if (width === 2) view.setUint16(where, value, true);
        else view.setUint32(where, value, true);
      }
      const payload = lz4CompressJs(copy);
      const expected = reference(payload, copy.byteLength);
      verdicts[expected === null ? 'invalid' : 'valid']++;
      if (!native) continue;
      const loaded = lz4UnpackAst(payload, copy.byteLength);
      expect({ round, accepted: loaded !== undefined }).toEqual({ round, accepted: expected !== null });
      if (loaded !== undefined) expect(Buffer.from(loaded).equals(Buffer.from(expected!))).toBe(true);
    }
    expect(Math.min(verdicts.valid, verdicts.invalid)).toBeGreaterThan(300);
  });

  it('makes an entry whose columns are badly nested (checksum intact) fail as ECORRUPT when decoded, as the JS path does', () => {
    const record = parseSource('big.ts', Array.from({ length: 400 }, (_, i) => `export const v${i} = [${i}, f(${i})];`).join('\n'));
    const decoded = decodeEntry(encodeAstEntry(KEY, record, 'lz4-block-v1'), KEY);
    const packed = packAst(record.ast)!.slice();
    // Node 1 (the first statement) claims a subtree one node past the root's end.
    const widths = widthsOf(packed);
    const n = new DataView(packed.buffer).getUint32(HEADER_NODE_COUNT * 4, true);
    let at = PACKED_HEADER_BYTES;
    for (const width of widths.slice(0, 4)) at += Math.ceil((n * width) / 4) * 4;
    const view = new DataView(packed.buffer);
    if (widths[4] === 1) view.setUint8(at + 1, n);
    else if (widths[4] === 2) view.setUint16(at + 2, n, true);
    else view.setUint32(at + 4, n, true);
    const forged = encodeEntry({ key: KEY, codec: 'lz4-block-v1', meta: decoded.meta, payload: lz4Compress(packed), rawLength: packed.byteLength });
    const ast = decodeAstEntry(forged, KEY).ast; // the reference path: the columns are EncodedAst.decode's to check
    expect(columnsChecked(ast)).toBe(false);
    expectCorrupt(() => EncodedAst.decode(ast));
  });
});
