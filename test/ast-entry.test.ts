import { encodePlainData } from '../shared/safe-msgpack.js';
import { COMPRESS_MIN_BYTES, decodeAstEntry, encodeAstEntry, type AstEntryRecord } from '../shared/ast-entry.js';
import { decodeEntry, encodeEntry } from '../shared/entry-format.js';
import type { ImportKind } from '../shared/imports.js';
import { parseSource } from '../workers/parse-source.js';

const KEY = 'k/ts/0123456789abcdef';
const ALL_KINDS: ImportKind[] = ['import', 'export', 'dynamic-import', 'require', 'import-equals', 'import-type', 'reference'];

function recordOf(text: string): AstEntryRecord {
  return parseSource('f.ts', text);
}

/** The same entry with its metadata replaced (a well-formed record: only the envelope is wrong). */
function withMeta(entry: Uint8Array, meta: unknown): Uint8Array {
  const decoded = decodeEntry(entry, KEY);
  return encodeEntry({ key: KEY, codec: decoded.codec, meta: encodePlainData(meta), payload: decoded.payload, rawLength: decoded.rawLength });
}

describe('AST entries', () => {
  it('round-trip small (stored as they are) and large (packed, lz4) ASTs exactly', () => {
    const small = recordOf("import { a } from './a';\nexport const b = a;\n");
    const large = recordOf(Array.from({ length: 400 }, (_, i) => `export const v${i} = ${i} + f(${i});`).join('\n'));
    expect(small.ast.byteLength).toBeLessThan(COMPRESS_MIN_BYTES);
    expect(large.ast.byteLength).toBeGreaterThanOrEqual(COMPRESS_MIN_BYTES);
    for (const [record, codec] of [[small, 'none'], [large, 'lz4-block-v1']] as const) {
      const entry = encodeAstEntry(KEY, record, 'lz4-block-v1');
      expect(decodeEntry(entry, KEY).codec).toBe(codec);
      const back = decodeAstEntry(entry, KEY);
      expect(Buffer.from(back.ast)).toEqual(Buffer.from(record.ast));
      expect(back.ast.byteOffset).toBe(0);
      expect(back.ast.buffer.byteLength).toBe(back.ast.byteLength); // owns its buffer: L2 accounts it exactly
      expect(back).toMatchObject({ imports: record.imports, diagnostics: record.diagnostics, nodeCount: record.nodeCount, signature: record.signature });
    }
  });

  it('keeps every import kind and the type-only bit', () => {
    const imports = ALL_KINDS.flatMap((kind, i) => [
      { specifier: `./m${i}`, kind, typeOnly: false },
      { specifier: `pkg-é-${i}`, kind, typeOnly: true },
    ]);
    const record = { ...recordOf('export {};\n'), imports };
    expect(decodeAstEntry(encodeAstEntry(KEY, record, 'none'), KEY).imports).toEqual(imports);
  });

  it('refuses a well-checksummed entry whose metadata is malformed', () => {
    const record = recordOf("import x from 'x';\n");
    const entry = encodeAstEntry(KEY, record, 'none');
    const good = [5, 0, record.nodeCount, record.signature, ['x', 0]];
    expect(decodeAstEntry(withMeta(entry, good), KEY).imports).toEqual([{ specifier: 'x', kind: 'import', typeOnly: false }]);
    const bad: unknown[] = [
      [4, 0, record.nodeCount, record.signature, ['x', 0]], // another envelope version
      [5, 0, record.nodeCount, record.signature, ['x', 14]], // import code past the last kind
      [5, 0, record.nodeCount, record.signature, ['x', -1]],
      [5, 0, record.nodeCount, record.signature, ['x', 0.5]],
      [5, 0, record.nodeCount, record.signature, ['x']], // odd-length import list
      [5, 0, record.nodeCount, record.signature, [7, 0]], // specifier not a string
      [5, -1, record.nodeCount, record.signature, []],
      [5, 0, record.nodeCount, 12, []],
      { version: 5 },
    ];
    for (const meta of bad) expect(() => decodeAstEntry(withMeta(entry, meta), KEY)).toThrow(expect.objectContaining({ code: 'ECORRUPT' }));
  });
});
