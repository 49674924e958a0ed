import { lz4Compress } from '../native-bindings/lz4.js';
import {
  decodeEntry,
  encodeEntry,
  ENTRY_ALIGNMENT,
  ENTRY_FORMAT_VERSION,
  ENTRY_HEADER_BYTES,
  ENTRY_OFFSET_VERSION,
  type EntryRecord,
} from '../shared/entry-format.js';
import { prng } from '../bench/seeded-random.js';
import { expectCorrupt } from './helpers/strata-errors.js';


function sample(): EntryRecord {
  const raw = new TextEncoder().encode('export const answer = 42;\n'.repeat(8));
  const payload = lz4Compress(raw);
  return { key: 'f00dfeedf00dfeed:ts:0123456789abcdef', codec: 'lz4-block-v1', meta: Uint8Array.from([0x82, 0xa1, 0x61, 0x01, 0xa1, 0x62, 0xc3]), payload, rawLength: raw.length };
}

describe('entry format', () => {
  it('round-trips key, codec, meta, payload and raw length', () => {
    const entry = sample();
    const decoded = decodeEntry(encodeEntry(entry), entry.key);
    expect(decoded.key).toBe(entry.key);
    expect(decoded.codec).toBe('lz4-block-v1');
    expect(Buffer.from(decoded.meta).equals(Buffer.from(entry.meta))).toBe(true);
    expect(Buffer.from(decoded.payload).equals(Buffer.from(entry.payload))).toBe(true);
    expect(decoded.rawLength).toBe(entry.rawLength);
  });

  it('round-trips an uncompressed entry with an empty meta and a non-ASCII key', () => {
    const payload = Uint8Array.from({ length: 33 }, (_, i) => i);
    const entry: EntryRecord = { key: 'clé:tsx:ü€😀', codec: 'none', meta: new Uint8Array(0), payload, rawLength: payload.length };
    const decoded = decodeEntry(encodeEntry(entry));
    expect(decoded.key).toBe(entry.key);
    expect(decoded.codec).toBe('none');
    expect(decoded.meta.length).toBe(0);
    expect([...decoded.payload]).toEqual([...payload]);
  });

  it('starts the payload at an aligned offset so readers can view typed arrays in place', () => {
    for (let metaLength = 0; metaLength < 2 * ENTRY_ALIGNMENT; metaLength++) {
      const bytes = encodeEntry({ ...sample(), meta: new Uint8Array(metaLength) });
      expect(decodeEntry(bytes).payload.byteOffset % ENTRY_ALIGNMENT).toBe(0);
    }
  });

  it('refuses every truncation and any trailing bytes with ECORRUPT', () => {
    const bytes = encodeEntry(sample());
    for (let length = 0; length < bytes.length; length++) expectCorrupt(() => decodeEntry(bytes.subarray(0, length)));
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expectCorrupt(() => decodeEntry(longer));
  });

  it('refuses every single-bit flip with ECORRUPT', () => {
    const bytes = encodeEntry(sample());
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const flipped = bytes.slice();
      flipped[bit >> 3] = (flipped[bit >> 3] as number) ^ (1 << (bit & 7));
      expectCorrupt(() => decodeEntry(flipped));
    }
  });

  it('refuses random byte damage with ECORRUPT (seeded)', () => {
    const random = prng(0x5eed);
    const bytes = encodeEntry(sample());
    for (let round = 0; round < 2_000; round++) {
      const damaged = bytes.slice();
      const changes = 1 + Math.floor(random() * 4);
      let changed = false;
      for (let c = 0; c < changes; c++) {
        const at = Math.floor(random() * damaged.length);
        const value = Math.floor(random() * 256);
        changed ||= damaged[at] !== value;
        damaged[at] = value;
      }
      if (changed) expectCorrupt(() => decodeEntry(damaged));
    }
  });

  it('refuses garbage of any length with ECORRUPT', () => {
    const random = prng(7);
    for (let length = 0; length < 300; length += 7) {
      expectCorrupt(() => decodeEntry(Uint8Array.from({ length }, () => Math.floor(random() * 256))));
    }
  });

  it('refuses a record stored under another key', () => {
    const bytes = encodeEntry(sample());
    expect(() => decodeEntry(bytes, 'f00dfeedf00dfeed:ts:ffffffffffffffff')).toThrow(expect.objectContaining({ code: 'ECORRUPT', path: 'f00dfeedf00dfeed:ts:ffffffffffffffff' }));
  });

  it('refuses a record of another format version even with a valid checksum layout', () => {
    const bytes = encodeEntry(sample());
    new DataView(bytes.buffer).setUint16(ENTRY_OFFSET_VERSION, ENTRY_FORMAT_VERSION + 1, true);
    expectCorrupt(() => decodeEntry(bytes));
  });

  it('rejects lengths a header field cannot hold and an uncompressed raw length that disagrees', () => {
    expect(() => encodeEntry({ ...sample(), rawLength: -1 })).toThrow(RangeError);
    expect(() => encodeEntry({ key: 'k', codec: 'none', meta: new Uint8Array(0), payload: new Uint8Array(4), rawLength: 5 })).toThrow(RangeError);
    expect(encodeEntry({ key: '', codec: 'none', meta: new Uint8Array(0), payload: new Uint8Array(0), rawLength: 0 }).length).toBe(ENTRY_HEADER_BYTES);
  });
});
