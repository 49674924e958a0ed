import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DiskStore } from '../engine/store/disk-store.js';
import { isPackName, listPack, PackReader, PackWriter, type PackLocation } from '../engine/store/packs.js';
import { decodeEntry, encodeEntry } from '../shared/entry-format.js';
import { xxh64Hex } from '../native-bindings/hash.js';

const PREFIX = 'packs-test';

function makeEntry(i: number): { key: string; bytes: Uint8Array; payload: Uint8Array } {
  const payload = Uint8Array.from({ length: 50 + ((i * 37) % 400) }, (_, j) => (i * 31 + j) & 0xff);
  const key = `${PREFIX}:ts:${xxh64Hex(payload)}`;
  return { key, payload, bytes: encodeEntry({ key, codec: 'none', meta: Uint8Array.of(i & 0x7f), payload, rawLength: payload.length }) };
}

describe('packs', () => {
  let dir: string;
  let packsDir: string;

  beforeEach(() => {
    dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'strata-packs-')));
    packsDir = path.join(dir, 'packs');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes one pack file holding every appended entry, and reads each one back', () => {
    const writer = new PackWriter(packsDir);
    const entries = Array.from({ length: 120 }, (_, i) => makeEntry(i));
    for (const entry of entries) writer.append(entry.key, entry.bytes);
    expect(writer.pendingCount).toBe(120);
    const flushed = writer.flush();
    expect(flushed).not.toBeNull();
    expect(writer.pendingCount).toBe(0);
    expect(fs.readdirSync(packsDir)).toEqual([flushed?.pack]);
    expect(fs.statSync(path.join(packsDir, flushed?.pack as string)).size).toBe(flushed?.bytes);

    const reader = new PackReader(packsDir);
    for (const entry of entries) {
      const location = flushed?.locations.get(entry.key) as PackLocation;
      const decoded = decodeEntry(reader.read(location) as Uint8Array, entry.key);
      expect(Buffer.from(decoded.payload).equals(Buffer.from(entry.payload))).toBe(true);
    }
    reader.close();
  });

  it('lists and verifies a pack from its own table of contents, without an index', () => {
    const writer = new PackWriter(packsDir);
    const entries = Array.from({ length: 10 }, (_, i) => makeEntry(i));
    for (const entry of entries) writer.append(entry.key, entry.bytes);
    const flushed = writer.flush();
    const listed = listPack(path.join(packsDir, flushed?.pack as string));
    expect(listed?.map((entry) => entry.key)).toEqual(entries.map((entry) => entry.key));
    for (const entry of listed ?? []) expect(entry).toEqual({ ...(flushed?.locations.get(entry.key) as PackLocation), key: entry.key });
    expect(listPack(path.join(packsDir, 'nope.pack'))).toBeNull();
  });

  it('writes nothing for an empty flush and gives every pack a unique name', () => {
    const writer = new PackWriter(packsDir);
    expect(writer.flush()).toBeNull();
    const names = new Set<string>();
    for (let i = 0; i < 20; i++) {
      writer.append(`k${i}`, makeEntry(i).bytes);
      names.add((writer.flush() as { pack: string }).pack);
    }
    expect(names.size).toBe(20);
    for (const name of names) expect(isPackName(name)).toBe(true);
    expect(fs.readdirSync(packsDir).filter((name) => !isPackName(name))).toEqual([]);
  });

  it('answers null for a missing pack, a range beyond its end and a malformed location, without throwing', () => {
    const writer = new PackWriter(packsDir);
    const entry = makeEntry(1);
    writer.append(entry.key, entry.bytes);
    const location = writer.flush()?.locations.get(entry.key) as PackLocation;
    const reader = new PackReader(packsDir);
    expect(reader.readDetailed({ ...location, offset: location.offset + 1_000_000 }).miss).toBe('out-of-range');
    expect(reader.readDetailed({ ...location, pack: '../../etc/passwd' }).miss).toBe('invalid-location');
    expect(reader.readDetailed({ ...location, offset: -8 }).miss).toBe('invalid-location');
    expect(reader.readDetailed({ ...location, length: 0 }).miss).toBe('invalid-location');
    reader.close();
    fs.rmSync(path.join(packsDir, location.pack));
    expect(new PackReader(packsDir).readDetailed(location).miss).toBe('missing-pack');
  });

  it('keeps reading correctly with more packs than open descriptors', () => {
    const writer = new PackWriter(packsDir);
    const placed: { key: string; location: PackLocation }[] = [];
    for (let i = 0; i < 12; i++) {
      const entry = makeEntry(i);
      writer.append(entry.key, entry.bytes);
      placed.push({ key: entry.key, location: writer.flush()?.locations.get(entry.key) as PackLocation });
    }
    const reader = new PackReader(packsDir, { maxOpen: 3 });
    for (let round = 0; round < 3; round++) {
      for (const { key, location } of placed) expect(decodeEntry(reader.read(location) as Uint8Array, key).key).toBe(key);
    }
    reader.close();
  });

  it('reads entries in pack order through one read ahead, byte for byte, in any order and mix of reads', () => {
    // Two packs of ~2,000 entries each (~560 KB): larger than the read-ahead window.
    const writer = new PackWriter(packsDir);
    const placed: { key: string; bytes: Uint8Array; location: PackLocation }[] = [];
    for (let pack = 0; pack < 2; pack++) {
      const entries = Array.from({ length: 2000 }, (_, i) => makeEntry(pack * 2000 + i));
      for (const entry of entries) writer.append(entry.key, entry.bytes);
      const flushed = writer.flush();
      for (const entry of entries) placed.push({ key: entry.key, bytes: entry.bytes, location: flushed?.locations.get(entry.key) as PackLocation });
    }
    // The module's own `fs` (not this file's import wrapper), so the spy sees the reader's calls.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const reads = jest.spyOn(require('node:fs') as typeof fs, 'readSync');
    const reader = new PackReader(packsDir);
    const check = (order: readonly number[], transient: boolean): void => {
      for (const i of order) {
        const { location, bytes } = placed[i]!;
        const got = transient ? reader.readTransient(location).bytes : reader.read(location);
        expect(got).not.toBeNull();
        if (!transient) expect(got?.byteOffset).toBe(0); // its own buffer: aligned payloads stay aligned
        expect(Buffer.from(got as Uint8Array).equals(Buffer.from(bytes))).toBe(true);
        if (transient) (got as Uint8Array).fill(0); // a transient view is the reader's scratch, never the read-ahead itself
      }
    };
    const inOrder = placed.map((_, i) => i);
    reads.mockClear();
    check(inOrder, true);
    expect(reads.mock.calls.length).toBeLessThan(placed.length / 20);
    check(inOrder, false);
    check([...inOrder].reverse(), true);
    const random = inOrder.map((i) => (i * 7919) % placed.length);
    check(random, true);
    const alternating = inOrder.slice(0, 2000).flatMap((i) => [i, i + 2000]); // between the packs
    check(alternating, false);
    reads.mockRestore();
    reader.close();
  });

  describe('through the store', () => {
    const open = (): DiskStore => {
      const opened = DiskStore.open({ root: dir, cacheDir: path.join(dir, 'cache'), env: {}, keyPrefix: PREFIX, maxBytes: 1 << 30, maxAgeMs: 86_400_000 });
      if (opened.store === null) throw new Error(opened.warning);
      return opened.store;
    };

    it('flushes a batch as one pack with one location per key and counts it', () => {
      const store = open();
      const entries = Array.from({ length: 30 }, (_, i) => makeEntry(i));
      for (const entry of entries) store.append(entry.key, entry.bytes);
      const locations = store.flush();
      expect(locations.size).toBe(30);
      expect(new Set([...locations.values()].map((location) => location.pack)).size).toBe(1);
      expect(store.counters.packsWritten).toBe(1);
      for (const entry of entries) expect(store.readEntry(locations.get(entry.key) as PackLocation, entry.key)?.key).toBe(entry.key);
      expect(store.flush().size).toBe(0);
      store.close();
    });

    it('refuses entries of a truncated pack with ECORRUPT detection, counts them and keeps the intact ones', () => {
      const store = open();
      const entries = Array.from({ length: 10 }, (_, i) => makeEntry(i));
      for (const entry of entries) store.append(entry.key, entry.bytes);
      const locations = store.flush();
      const pack = path.join(store.dir, 'packs', (locations.get(entries[0]?.key as string) as PackLocation).pack);
      const cut = (locations.get(entries[6]?.key as string) as PackLocation).offset + 10;
      fs.truncateSync(pack, cut);
      store.close();

      const reopened = open();
      const results = entries.map((entry) => reopened.readEntry(locations.get(entry.key) as PackLocation, entry.key));
      expect(results.slice(0, 6).every((result) => result !== null)).toBe(true);
      expect(results.slice(6).every((result) => result === null)).toBe(true);
      expect(reopened.counters.corruptEntries).toBe(4);
      expect(() => listPack(pack)).toThrow(expect.objectContaining({ code: 'ECORRUPT' }));
      reopened.close();
    });

    it('refuses an entry with a flipped byte, counts it, and serves its neighbours', () => {
      const store = open();
      const entries = Array.from({ length: 5 }, (_, i) => makeEntry(i));
      for (const entry of entries) store.append(entry.key, entry.bytes);
      const locations = store.flush();
      const target = locations.get(entries[2]?.key as string) as PackLocation;
      const file = path.join(store.dir, 'packs', target.pack);
      const bytes = fs.readFileSync(file);
      const at = target.offset + target.length - 3;
      bytes[at] = (bytes[at] as number) ^ 0x10;
      fs.writeFileSync(file, bytes);
      store.close();

      const reopened = open();
      expect(reopened.readEntry(target, entries[2]?.key as string)).toBeNull();
      expect(reopened.counters.corruptEntries).toBe(1);
      for (const index of [0, 1, 3, 4]) {
        const entry = entries[index] as { key: string };
        expect(reopened.readEntry(locations.get(entry.key) as PackLocation, entry.key)?.key).toBe(entry.key);
      }
      expect(listPack(file)?.length).toBe(5); // the table of contents is intact; the record's own checksum caught it
      reopened.close();
    });

    it('loses a batch it cannot write (counted and warned), never throwing', () => {
      const store = open();
      const packs = path.join(store.dir, 'packs');
      fs.rmSync(packs, { recursive: true });
      fs.writeFileSync(packs, 'a file where the packs directory should be');
      const entry = makeEntry(1);
      store.append(entry.key, entry.bytes);
      expect(store.flush().size).toBe(0);
      expect(store.pendingCount).toBe(0);
      expect(store.counters.writeErrors).toBe(1);
      expect(store.warnings.join('\n')).toMatch(/cannot write a pack/);
      store.close();
    });

    it('recreates its directory when it is cleared while the process runs', () => {
      const store = open();
      fs.rmSync(store.dir, { recursive: true });
      const entry = makeEntry(2);
      store.append(entry.key, entry.bytes);
      const location = store.flush().get(entry.key) as PackLocation;
      expect(store.readEntry(location, entry.key)?.key).toBe(entry.key);
      expect(fs.existsSync(path.join(store.dir, 'STRATA_CACHE_DIR.json'))).toBe(true);
      fs.rmSync(store.dir, { recursive: true });
      expect(store.saveIndex(new Map())).toBe(true);
      expect(store.counters.writeErrors).toBe(0);
      store.close();
    });

    it('counts a read of a pack that no longer exists as missing, never as an error', () => {
      const store = open();
      const entry = makeEntry(3);
      store.append(entry.key, entry.bytes);
      const location = store.flush().get(entry.key) as PackLocation;
      fs.rmSync(path.join(store.dir, 'packs', location.pack));
      expect(store.readEntry(location, entry.key)).toBeNull();
      expect(store.counters.missingPacks).toBe(1);
      store.close();
    });
  });
});
