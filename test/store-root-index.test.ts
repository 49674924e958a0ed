import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DiskStore } from '../engine/store/disk-store.js';
import type { PackLocation } from '../engine/store/packs.js';
import { indexIdFor, RootIndexFile } from '../engine/store/root-index.js';
import { decodeIndex, encodeIndex } from '../engine/store/root-index-codec.js';
import { INDEX_FORMAT_VERSION, type IndexRecord } from '../engine/store/root-index-format.js';
import { isRootRelativePath } from '../engine/store/root-index-validation.js';
import { encodeEntry } from '../shared/entry-format.js';
import { xxh64Hex } from '../native-bindings/hash.js';

const PREFIX = 'index-test';
const PACK = 'lq3x9a-1f2e-0a1b2c3d4e5f.pack';

function record(i: number): IndexRecord {
  const hash = (BigInt(i) * 0x9e3779b97f4a7c15n & 0xffff_ffff_ffff_ffffn).toString(16).padStart(16, '0');
  const mtimeNs = 1_700_000_000_123_456_789n + BigInt(i) * 1_000n;
  return {
    size: 100 + i,
    mtimeNs,
    ctimeNs: i % 3 === 0 ? mtimeNs : mtimeNs + 17n,
    ino: 0xffff_ffff_ffff_0000n + BigInt(i % 1000),
    dev: i % 2 === 0 ? 2049n : 66311n,
    contentHash: hash,
    key: `${PREFIX}:${i % 4 === 0 ? 'tsx' : 'ts'}:${hash}`,
    location: { pack: i % 5 === 0 ? PACK : `lq3x9a-${(i % 7).toString(36)}-0a1b2c3d4e5f.pack`, offset: 16 + i * 64, length: 40 + (i % 50) },
    lastAccessMs: 1_700_000_000_000 + i,
  };
}

function records(count: number): Map<string, IndexRecord> {
  const map = new Map<string, IndexRecord>();
  for (let i = 0; i < count; i++) map.set(`packages/pkg-${i % 23}/src/dir-${i % 7}/module-${i}.ts`, record(i));
  return map;
}

function tempDir(prefix: string): string {
  return fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
}

describe('root index', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('strata-index-');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('round-trips 10,000 records exactly, and reports how long the load took', () => {
    const original = records(10_000);
    const file = new RootIndexFile(dir, 'abc');
    file.save(original, PREFIX, '../..');
    const started = process.hrtime.bigint();
    const loaded = file.load(PREFIX);
    const loadMs = Number(process.hrtime.bigint() - started) / 1e6;
    expect(loaded.status).toBe('loaded');
    expect(loaded.records.size).toBe(10_000);
    expect([...loaded.records.keys()]).toEqual([...original.keys()]);
    for (const [file, expected] of original) expect(loaded.records.get(file)).toEqual(expected);
    // Loose bound: this guards against a pathological regression, not the figure itself (README).
    expect(loadMs).toBeLessThan(1_000);
    process.stdout.write(`index of 10,000 records: ${fs.statSync(file.file).size} bytes, loaded in ${loadMs.toFixed(1)} ms\n`);
  });

  it('round-trips edge values: unicode paths and keys, negative times, 64-bit inodes, an empty index', () => {
    const original = new Map<string, IndexRecord>([
      ['src/ünï/😀.ts', { ...record(1), key: 'clé:ts:😀', mtimeNs: -5n, ctimeNs: -(2n ** 63n), ino: 2n ** 64n - 1n, dev: 0n }],
      ['a.ts', { ...record(2), size: 0, lastAccessMs: 0 }],
    ]);
    const bytes = encodeIndex(original, PREFIX, '.');
    const decoded = decodeIndex(bytes, PREFIX);
    expect(decoded.status).toBe('loaded');
    if (decoded.status !== 'loaded') return;
    expect(new Map(decoded.records)).toEqual(original);
    const empty = decodeIndex(encodeIndex(new Map(), PREFIX, '.'), PREFIX);
    expect(empty.status === 'loaded' && empty.records.size).toBe(0);
  });

  it('behaves as a Map whose records are plain objects, built on first access', () => {
    const original = records(50);
    const decoded = decodeIndex(encodeIndex(original, PREFIX, '.'), PREFIX);
    if (decoded.status !== 'loaded') throw new Error(decoded.status);
    const index = decoded.records;
    const first = [...original.keys()][0] as string;
    expect(index.has(first)).toBe(true);
    expect(index.get(first)).toBe(index.get(first)); // built once, then kept
    const copy = { ...(index.get(first) as IndexRecord), lastAccessMs: 5 };
    expect(copy).toEqual({ ...record(0), lastAccessMs: 5 });
    index.set(first, copy);
    expect(index.get(first)).toBe(copy);
    index.delete([...original.keys()][1] as string);
    expect(index.size).toBe(49);
    const seen: string[] = [];
    index.forEach((value, key) => {
      expect(typeof value).toBe('object');
      seen.push(key);
    });
    expect(seen).toEqual([...index.keys()]);
    expect([...index.values()].every((value) => typeof value === 'object' && typeof value.mtimeNs === 'bigint')).toBe(true);
    expect(new Map(index).get(first)).toBe(copy);
    expect(Object.fromEntries(index)[first]).toBe(copy);
  });

  it.each([
    ['a flipped byte in the body', (bytes: Buffer) => void (bytes[bytes.length - 5] = (bytes[bytes.length - 5] as number) ^ 1)],
    ['a flipped byte in the checksum', (bytes: Buffer) => void (bytes[6] = (bytes[6] as number) ^ 0x80)],
    ['a flipped byte in the record count', (bytes: Buffer) => void (bytes[20] = (bytes[20] as number) ^ 1)],
  ])('moves aside and counts an index with %s, answering empty', (_what, damage) => {
    const file = new RootIndexFile(dir, 'abc');
    file.save(records(100), PREFIX, '.');
    const bytes = fs.readFileSync(file.file);
    damage(bytes);
    fs.writeFileSync(file.file, bytes);
    const loaded = file.load(PREFIX);
    expect(loaded).toEqual({ records: new Map(), directories: null, status: 'corrupt', corrupt: 1 });
    expect(fs.existsSync(file.file)).toBe(false);
    expect(fs.readdirSync(dir).filter((name) => name.endsWith('.corrupt'))).toHaveLength(1);
    expect(file.load(PREFIX).status).toBe('missing');
  });

  it.each([
    ['an index truncated by one byte', (bytes: Buffer) => bytes.subarray(0, bytes.length - 1)],
    ['an index truncated to its header', (bytes: Buffer) => bytes.subarray(0, 24)],
    ['a zero-length index', () => Buffer.alloc(0)],
    ['an index file of garbage', () => Buffer.from('{"not":"an index"}'.repeat(20))],
    ['an index extended by one byte', (bytes: Buffer) => Buffer.concat([bytes, Buffer.of(0)])],
  ])('treats %s as corrupt', (_what, damage) => {
    const file = new RootIndexFile(dir, 'abc');
    file.save(records(100), PREFIX, '.');
    fs.writeFileSync(file.file, damage(fs.readFileSync(file.file)));
    expect(file.load(PREFIX)).toEqual({ records: new Map(), directories: null, status: 'corrupt', corrupt: 1 });
  });

  it('answers empty for an index written under another key prefix, and keeps the file', () => {
    const file = new RootIndexFile(dir, 'abc');
    file.save(records(10), 'parser-1.0', '.');
    expect(file.load('parser-2.0')).toEqual({ records: new Map(), directories: null, status: 'other-prefix', corrupt: 0 });
    expect(fs.existsSync(file.file)).toBe(true);
    expect(file.load('parser-1.0').records.size).toBe(10);
  });

  it('answers empty for an index of another format version, without judging it corrupt', () => {
    const file = new RootIndexFile(dir, 'abc');
    file.save(records(10), PREFIX, '.');
    const bytes = fs.readFileSync(file.file);
    bytes.writeUInt16LE(INDEX_FORMAT_VERSION + 1, 12);
    fs.writeFileSync(file.file, bytes);
    expect(file.load(PREFIX)).toEqual({ records: new Map(), directories: null, status: 'other-version', corrupt: 0 });
  });

  it('refuses to write a record that a load would refuse, so one bad record never discards a whole index', () => {
    const bad: [string, Partial<IndexRecord>][] = [
      ['an upper-case hash', { contentHash: '0123456789ABCDEF' }],
      ['a NaN size', { size: Number.NaN }],
      ['a zero length', { location: { pack: PACK, offset: 16, length: 0 } }],
      ['a path as pack name', { location: { pack: '../x.pack', offset: 16, length: 8 } }],
      ['an undefined access time', { lastAccessMs: undefined as unknown as number }],
    ];
    for (const [, change] of bad) expect(() => encodeIndex(new Map([['a.ts', { ...record(1), ...change }]]), PREFIX, '.')).toThrow(RangeError);
    expect(() => encodeIndex(new Map([['a.ts', { ...record(1), ino: 5 as unknown as bigint }]]), PREFIX, '.')).toThrow(TypeError);
    const opened = DiskStore.open({ root: dir, cacheDir: path.join(dir, 'cache'), env: {}, keyPrefix: PREFIX, maxBytes: 1 << 30, maxAgeMs: 86_400_000 });
    if (opened.store === null) throw new Error(opened.warning);
    expect(() => opened.store.saveIndex(new Map([['a.ts', { ...record(1), size: -1 }]]))).toThrow(RangeError);
    opened.store.close();
  });

  it('keeps one index per root in a shared cache directory', () => {
    const cache = path.join(dir, 'shared-cache');
    fs.mkdirSync(path.join(dir, 'a'));
    fs.mkdirSync(path.join(dir, 'b'));
    expect(indexIdFor(cache, path.join(dir, 'a'))).not.toBe(indexIdFor(cache, path.join(dir, 'b')));
    const open = (root: string): DiskStore => {
      const opened = DiskStore.open({ root, cacheDir: cache, env: {}, keyPrefix: PREFIX, maxBytes: 1 << 30, maxAgeMs: 86_400_000 });
      if (opened.store === null) throw new Error(opened.warning);
      return opened.store;
    };
    const a = open(path.join(dir, 'a'));
    const b = open(path.join(dir, 'b'));
    a.saveIndex(records(3));
    b.saveIndex(records(5));
    expect(a.loadIndex().size).toBe(3);
    expect(b.loadIndex().size).toBe(5);
    a.close();
    b.close();
  });

  it('finds the same index and entries after the tree and its cache move to another absolute path', () => {
    const first = path.join(dir, 'ci-run-1', 'checkout');
    fs.mkdirSync(path.join(first, 'src'), { recursive: true });
    fs.writeFileSync(path.join(first, 'src', 'a.ts'), 'export const a = 1;\n');
    const opened = DiskStore.open({ root: first, cacheDir: null, env: {}, keyPrefix: PREFIX, maxBytes: 1 << 30, maxAgeMs: 86_400_000 });
    if (opened.store === null) throw new Error(opened.warning);
    const store = opened.store;
    expect(store.source).toBe('default');
    const payload = fs.readFileSync(path.join(first, 'src', 'a.ts'));
    const contentHash = xxh64Hex(payload);
    const key = `${PREFIX}:ts:${contentHash}`;
    store.append(key, encodeEntry({ key, codec: 'none', meta: new Uint8Array(0), payload, rawLength: payload.length }));
    const location = store.flush().get(key) as PackLocation;
    store.saveIndex(new Map([['src/a.ts', { ...record(0), contentHash, key, location }]]));
    const firstId = store.indexId;
    store.close();

    // A fresh clone elsewhere, with the cache directory restored at the same relative place.
    const second = path.join(dir, 'ci-run-2', 'elsewhere', 'checkout');
    fs.mkdirSync(path.dirname(second), { recursive: true });
    execFileSync('cp', ['-R', first, second]);
    fs.rmSync(first, { recursive: true, force: true });
    const moved = DiskStore.open({ root: second, cacheDir: null, env: {}, keyPrefix: PREFIX, maxBytes: 1 << 30, maxAgeMs: 86_400_000 });
    if (moved.store === null) throw new Error(moved.warning);
    expect(moved.store.indexId).toBe(firstId);
    const index = moved.store.loadIndex();
    expect(moved.store.lastIndexStatus).toBe('loaded');
    const found = index.get('src/a.ts') as IndexRecord;
    expect(found.contentHash).toBe(contentHash);
    expect(Buffer.from(moved.store.readEntry(found.location, key)?.payload ?? []).equals(payload)).toBe(true);
    moved.store.close();
  });
});

describe('isRootRelativePath (every index path is checked at load)', () => {
  it('accepts what Strata writes and refuses what could leave the root', () => {
    for (const ok of ['a.ts', 'src/a.ts', '.hidden/d.d.ts', 'src/..a.ts', 'src/a..ts', 'a b/ü.ts', 'x/.../y.ts']) expect(isRootRelativePath(ok)).toBe(true);
    for (const bad of ['', '/etc/passwd', '..', '.', '../x.ts', 'src/../../x.ts', './a.ts', 'src/./a.ts', 'src/..', 'src/.', 'src//a.ts', 'src/', 'a\0.ts']) expect(isRootRelativePath(bad)).toBe(false);
  });
});
