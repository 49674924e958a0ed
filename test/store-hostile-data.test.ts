import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { addExtension, Packr } from 'msgpackr';
import { DiskStore } from '../engine/store/disk-store.js';
import { RootIndexFile } from '../engine/store/root-index.js';
import { decodeIndex, encodeIndex } from '../engine/store/root-index-codec.js';
import { INDEX_FORMAT_VERSION, INDEX_MAGIC, type IndexRecord } from '../engine/store/root-index-format.js';
import { assertPlainMessagePack, decodePlainData, encodePlainData } from '../shared/safe-msgpack.js';
import { decodeEntry, ENTRY_MAGIC } from '../shared/entry-format.js';
import { xxh64 } from '../native-bindings/hash.js';
import { expectCorrupt } from './helpers/strata-errors.js';

const PREFIX = 'hostile-test';

/** What a hostile writer who knows the format produces: a header with a valid checksum around any meta. */
function forgeIndex(meta: Uint8Array, count = 0): Uint8Array {
  const end = Math.ceil((24 + meta.length) / 8) * 8;
  const bytes = new Uint8Array(end);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, INDEX_MAGIC, true);
  view.setUint16(12, INDEX_FORMAT_VERSION, true);
  view.setUint32(16, meta.length, true);
  view.setUint32(20, count, true);
  bytes.set(meta, 24);
  view.setBigUint64(4, xxh64(bytes.subarray(12)), true);
  return bytes;
}

const validMeta = { keyPrefix: PREFIX, root: '.', packs: [], pathBytes: 0, keyBytes: 0 };

/** A class some other code in the process taught msgpackr to build; building it is the attack. */
class Gadget {
  static built = 0;
  constructor() {
    Gadget.built++;
  }
}
addExtension({ Class: Gadget, type: 0x30, pack: () => Buffer.of(1), unpack: () => new Gadget() });

const globals = globalThis as { pwned?: unknown };

describe('hostile cache files', () => {
  afterEach(() => {
    expect(Gadget.built).toBe(0);
    expect(globals.pwned).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('loads an index that the store itself wrote (the forging helper is faithful)', () => {
    expect(decodeIndex(forgeIndex(encodePlainData(validMeta)), PREFIX).status).toBe('loaded');
  });

  it('never instantiates a class registered with msgpackr when an index names its extension', () => {
    const meta = new Packr({ useRecords: false }).pack({ ...validMeta, root: new Gadget() });
    Gadget.built = 0;
    expect(() => assertPlainMessagePack(meta)).toThrow(/not plain data/);
    expectCorrupt(() => decodeIndex(forgeIndex(meta), PREFIX));
  });

  it('never compiles msgpackr record readers from keys in the file', () => {
    const evilKey = "a'); globalThis.pwned = 1; ('";
    const meta = new Packr({ useRecords: true }).pack([{ [evilKey]: 1 }, { [evilKey]: 2 }, { [evilKey]: 3 }, { [evilKey]: 4 }, { [evilKey]: 5 }]);
    expectCorrupt(() => decodePlainData(meta, 'meta'));
    expectCorrupt(() => decodeIndex(forgeIndex(meta), PREFIX));
  });

  it('refuses msgpackr built-in extensions: errors, regular expressions, sets, dates, undefined', () => {
    const packr = new Packr({ useRecords: false, moreTypes: true });
    // (Typed arrays are left out: under jest they come from another realm and msgpackr packs them as maps.)
    for (const value of [new Error('boom'), /(a+)+$/, new Set([1]), new Date(0), undefined]) {
      expectCorrupt(() => decodePlainData(packr.pack({ value }), 'meta'));
    }
  });

  it('decodes a __proto__ key as plain data, without touching any prototype', () => {
    // fixmap{ "__proto__": fixmap{ "polluted": true } } followed by the valid fields.
    const evil = Buffer.concat([Buffer.of(0x81, 0xa9), Buffer.from('__proto__'), Buffer.of(0x81, 0xa8), Buffer.from('polluted'), Buffer.of(0xc3)]);
    const decoded = decodePlainData(evil, 'meta') as Record<string, unknown>;
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    const withFields = Buffer.from(encodePlainData(Object.assign(JSON.parse('{"__proto__": {"polluted": true}}') as object, validMeta)));
    expect(decodeIndex(forgeIndex(withFields), PREFIX).status).toBe('loaded');
  });

  it('fails cleanly on structures meant to exhaust the decoder: deep nesting, lying lengths, truncation', () => {
    const deep = Buffer.concat([Buffer.alloc(200_000, 0x91), Buffer.of(0xc0)]); // 200,000 nested one-element arrays
    expectCorrupt(() => decodePlainData(deep, 'meta'));
    expectCorrupt(() => decodePlainData(Buffer.of(0xdd, 0xff, 0xff, 0xff, 0xff), 'meta')); // array of 4 billion
    expectCorrupt(() => decodePlainData(Buffer.of(0xdb, 0x7f, 0xff, 0xff, 0xff, 0x61), 'meta')); // 2 GB string
    expectCorrupt(() => decodePlainData(Buffer.of(0x92, 0x01), 'meta')); // truncated array
    expectCorrupt(() => decodePlainData(Buffer.of(0x01, 0x02), 'meta')); // trailing bytes
    expectCorrupt(() => decodePlainData(Buffer.of(0xc1), 'meta')); // the never-used token
  });

  it('refuses an index whose pack names would escape the packs directory, or whose fields have the wrong types', () => {
    expectCorrupt(() => decodeIndex(forgeIndex(encodePlainData({ ...validMeta, packs: ['../../../etc/passwd'] })), PREFIX));
    expectCorrupt(() => decodeIndex(forgeIndex(encodePlainData({ ...validMeta, pathBytes: -1 })), PREFIX));
    expectCorrupt(() => decodeIndex(forgeIndex(encodePlainData({ ...validMeta, keyPrefix: 7 })), PREFIX));
    expectCorrupt(() => decodeIndex(forgeIndex(encodePlainData([validMeta])), PREFIX));
    expectCorrupt(() => decodeIndex(forgeIndex(encodePlainData(validMeta), 1_000_000), PREFIX)); // count lies
  });

  it('refuses a forged index with a malformed content hash or an impossible location', () => {
    const record: IndexRecord = { size: 1, mtimeNs: 1n, ctimeNs: 1n, ino: 1n, dev: 1n, contentHash: '0123456789abcdef', key: 'k', location: { pack: 'lq3x9a-1f2e-0a1b2c3d4e5f.pack', offset: 16, length: 8 }, lastAccessMs: 1 };
    const forge = (mutate: (bytes: Uint8Array, view: DataView) => void): Uint8Array => {
      const bytes = encodeIndex(new Map([['a.ts', record]]), PREFIX, '.');
      const view = new DataView(bytes.buffer);
      mutate(bytes, view);
      view.setBigUint64(4, xxh64(bytes.subarray(12)), true);
      return bytes;
    };
    const hashAt = (bytes: Uint8Array): number => Buffer.from(bytes).indexOf('0123456789abcdef', 0, 'latin1');
    expectCorrupt(() => decodeIndex(forge((bytes) => void (bytes[hashAt(bytes)] = 0x5a)), PREFIX)); // 'Z'
    const numbersAt = (bytes: Uint8Array): number => Buffer.from(bytes).indexOf(Buffer.from(new Float64Array([1, 16, 8, 1]).buffer));
    expectCorrupt(() => decodeIndex(forge((bytes, view) => view.setFloat64(numbersAt(bytes) + 16, -8, true)), PREFIX)); // negative length
    expectCorrupt(() => decodeIndex(forge((bytes, view) => view.setFloat64(numbersAt(bytes) + 8, 0.5, true)), PREFIX)); // fractional offset
  });

  it('moves a hostile index aside through the store and starts empty', () => {
    const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'strata-hostile-')));
    try {
      const opened = DiskStore.open({ root: dir, cacheDir: path.join(dir, 'cache'), env: {}, keyPrefix: PREFIX, maxBytes: 1 << 30, maxAgeMs: 86_400_000 });
      if (opened.store === null) throw new Error(opened.warning);
      const store = opened.store;
      Gadget.built = 0;
      fs.writeFileSync(store.indexFile, forgeIndex(new Packr({ useRecords: false }).pack({ ...validMeta, x: new Gadget() })));
      Gadget.built = 0;
      expect(store.loadIndex().size).toBe(0);
      expect(store.lastIndexStatus).toBe('corrupt');
      expect(store.counters.corruptIndexes).toBe(1);
      expect(new RootIndexFile(path.join(store.dir, 'indexes'), store.indexId).load(PREFIX).status).toBe('missing');
      store.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an entry whose header declares lengths beyond its bytes, before allocating anything', () => {
    const bytes = new Uint8Array(32);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, ENTRY_MAGIC, true);
    view.setUint16(12, 1, true);
    view.setUint8(14, 0x01);
    view.setUint32(16, 0xffff_fff0, true); // a 4 GiB key
    view.setBigUint64(4, xxh64(bytes.subarray(12)), true);
    expectCorrupt(() => decodeEntry(bytes));
  });
});
