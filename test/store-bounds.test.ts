import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { enforceBounds, scanStore, storeBytes } from '../engine/store/bounds.js';
import { prepareCacheDir } from '../engine/store/cache-dir.js';
import { FileLock } from '../engine/store/lock.js';
import { PackReader, PackWriter, type PackLocation } from '../engine/store/packs.js';
import { RootIndexFile } from '../engine/store/root-index.js';
import { INDEX_FORMAT_VERSION } from '../engine/store/root-index-format.js';
import { encodeEntry } from '../shared/entry-format.js';

const DAY_MS = 86_400_000;

function setMtime(file: string, ms: number): void {
  fs.utimesSync(file, new Date(ms), new Date(ms));
}

describe('disk bound', () => {
  let dir: string;
  let packsDir: string;
  const now = Date.now();

  beforeEach(() => {
    dir = path.join(fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bounds-'))), 'cache');
    expect(prepareCacheDir(dir, true)).toBeNull();
    packsDir = path.join(dir, 'packs');
  });
  afterEach(() => fs.rmSync(path.dirname(dir), { recursive: true, force: true }));

  /** Writes a pack of about `bytes` bytes whose mtime is `ageMs` ago; answers its file and one location. */
  function pack(ageMs: number, bytes = 10_000): { file: string; location: PackLocation } {
    const writer = new PackWriter(packsDir);
    const payload = new Uint8Array(bytes);
    writer.append('k', encodeEntry({ key: 'k', codec: 'none', meta: new Uint8Array(0), payload, rawLength: payload.length }));
    const flushed = writer.flush();
    if (flushed === null) throw new Error('nothing flushed');
    const file = path.join(packsDir, flushed.pack);
    setMtime(file, now - ageMs);
    return { file, location: flushed.locations.get('k') as PackLocation };
  }

  const exists = (file: string): boolean => fs.existsSync(file);

  it('removes least-recently-used packs first until the size bound holds', () => {
    const packs = [5, 4, 3, 2, 1].map((hours) => pack(hours * 3_600_000).file); // oldest first
    const size = fs.statSync(packs[0] as string).size;
    const report = enforceBounds({ dir, maxBytes: size * 3, maxAgeMs: DAY_MS, now });
    expect(report.ran).toBe(true);
    expect(report.removed.pack).toBe(2);
    expect(packs.map(exists)).toEqual([false, false, true, true, true]);
    expect(storeBytes(dir)).toBeLessThanOrEqual(size * 3);
    expect(report.bytesAfter).toBe(storeBytes(dir));
  });

  it('counts a read as a use: a pack read recently outlives packs written after it', () => {
    const oldest = pack(5 * 3_600_000);
    const middle = pack(4 * 3_600_000);
    const newest = pack(3 * 3_600_000);
    const reader = new PackReader(packsDir);
    expect(reader.read(oldest.location)).not.toBeNull();
    reader.close();
    const size = fs.statSync(oldest.file).size;
    enforceBounds({ dir, maxBytes: size * 2, maxAgeMs: DAY_MS });
    expect([oldest.file, middle.file, newest.file].map(exists)).toEqual([true, false, true]);
  });

  it('removes packs and indexes older than the age bound even when under the size bound', () => {
    const stale = pack(3 * DAY_MS).file;
    const fresh = pack(1_000).file;
    const index = new RootIndexFile(path.join(dir, 'indexes'), 'old');
    index.save(new Map(), 'p', '.');
    setMtime(index.file, now - 3 * DAY_MS);
    const report = enforceBounds({ dir, maxBytes: 1 << 30, maxAgeMs: DAY_MS, now });
    expect([stale, fresh, index.file].map(exists)).toEqual([false, true, false]);
    expect(report.removed).toEqual({ pack: 1, index: 1, temp: 0, stale: 0 });
  });

  it('reclaims packs and indexes of another format version first, however recent', () => {
    const current = [pack(3_000).file, pack(2_000).file];
    const oldFormat = pack(0).file;
    const bytes = fs.readFileSync(oldFormat);
    bytes.writeUInt16LE(0, 4); // pack format version 0
    fs.writeFileSync(oldFormat, bytes);
    const oldIndex = new RootIndexFile(path.join(dir, 'indexes'), 'legacy');
    oldIndex.save(new Map(), 'p', '.');
    const indexBytes = fs.readFileSync(oldIndex.file);
    indexBytes.writeUInt16LE(INDEX_FORMAT_VERSION + 7, 12);
    fs.writeFileSync(oldIndex.file, indexBytes);
    expect(scanStore(dir).filter((file) => file.kind === 'stale').map((file) => file.file).sort()).toEqual([oldFormat, oldIndex.file].sort());

    // Under both bounds, nothing goes: the same rule as for current files.
    expect(enforceBounds({ dir, maxBytes: 1 << 30, maxAgeMs: DAY_MS }).removedBytes).toBe(0);
    // One byte over: the foreign files go before any current pack.
    const report = enforceBounds({ dir, maxBytes: storeBytes(dir) - 1, maxAgeMs: DAY_MS });
    expect(report.removed.stale).toBeGreaterThanOrEqual(1);
    expect(report.removed.pack).toBe(0);
    expect(current.every(exists)).toBe(true);
  });

  it('reclaims quarantined corrupt indexes and temporary files left by killed writers', () => {
    const corrupt = path.join(dir, 'indexes', 'abc.idx.lq3x9a.corrupt');
    fs.writeFileSync(corrupt, 'garbage');
    const oldTemp = path.join(packsDir, 'x.pack.0a1b2c3d4e5f.tmp');
    const youngTemp = path.join(packsDir, 'y.pack.0a1b2c3d4e5f.tmp');
    fs.writeFileSync(oldTemp, 'partial');
    fs.writeFileSync(youngTemp, 'being written');
    setMtime(oldTemp, now - 2 * 3_600_000);
    const kept = pack(0).file;
    // Over the bound by a few bytes once the old temporary file is gone: the quarantined file goes first.
    const report = enforceBounds({ dir, maxBytes: fs.statSync(kept).size + fs.statSync(youngTemp).size + 3, maxAgeMs: DAY_MS, now });
    expect([corrupt, oldTemp, youngTemp, kept].map(exists)).toEqual([false, false, true, true]);
    expect(report.removed.temp).toBe(1);
    expect(report.removed.stale).toBe(1);
  });

  it('skips a round while another process holds the store lock', () => {
    const file = pack(3 * DAY_MS).file;
    const lock = new FileLock(dir, 'store');
    fs.writeFileSync(lock.file, JSON.stringify({ pid: process.pid, startTime: null, hostname: os.hostname(), acquiredAtMs: Date.now(), token: 'x' }));
    expect(enforceBounds({ dir, maxBytes: 0, maxAgeMs: DAY_MS }).ran).toBe(false);
    expect(exists(file)).toBe(true);
  });
});
