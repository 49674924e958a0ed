import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { prepareCacheDir } from '../engine/store/cache-dir.js';
import { DiskStore } from '../engine/store/disk-store.js';
import { INDEXES_DIR, PACKS_DIR, TEMP_SUFFIX } from '../engine/store/layout.js';
import { isPackName, listPack } from '../engine/store/packs.js';
import { xxh64Hex } from '../native-bindings/hash.js';
import { prng } from '../bench/seeded-random.js';
import { envCount, recordReliability } from '../bench/reliability-counts.js';
import { sleep } from './helpers/sleep.js';

const PREFIX = 'process-test';
/** Writers killed: a handful in `npm test`, more in the soak (STRATA_SOAK_KILLS). */
const KILLS = envCount('STRATA_SOAK_KILLS', 6);
const DIST = path.join(__dirname, '..');

/**
 * The writer every child runs: appends batches of random entries, flushes each batch as a pack,
 * records the locations in the root's index and saves it, `rounds` times (0 = until killed).
 */
function writerScript(): string {
  return `
    const crypto = require('node:crypto');
    const { DiskStore } = require(${JSON.stringify(path.join(DIST, 'engine', 'store', 'disk-store.js'))});
    const { encodeEntry } = require(${JSON.stringify(path.join(DIST, 'shared', 'entry-format.js'))});
    const { xxh64Hex } = require(${JSON.stringify(path.join(DIST, 'native-bindings', 'hash.js'))});
    const [root, cacheDir, tag, roundsText] = process.argv.slice(1);
    const rounds = Number(roundsText);
    const opened = DiskStore.open({ root, cacheDir, env: {}, keyPrefix: ${JSON.stringify(PREFIX)}, maxBytes: 2 ** 40, maxAgeMs: 2 ** 40 });
    if (opened.store === null) { console.error(opened.warning); process.exit(2); }
    const store = opened.store;
    const index = store.loadIndex();
    let n = 0;
    process.stdout.write('ready\\n');
    for (let round = 0; rounds === 0 || round < rounds; round++) {
      const batch = [];
      for (let i = 0; i < 25; i++, n++) {
        const payload = crypto.randomBytes(64 + ((n * 97) % 3000));
        const contentHash = xxh64Hex(payload);
        const key = ${JSON.stringify(PREFIX)} + ':ts:' + contentHash;
        store.append(key, encodeEntry({ key, codec: 'none', meta: Buffer.from(tag + n), payload, rawLength: payload.length }));
        batch.push({ file: 'src/' + tag + '/f' + (n % 200) + '.ts', key, contentHash, size: payload.length });
      }
      const locations = store.flush();
      for (const { file, key, contentHash, size } of batch) {
        const location = locations.get(key);
        if (location === undefined) throw new Error('a batch was lost: ' + store.warnings.join('; '));
        index.set(file, { size, mtimeNs: BigInt(n), ctimeNs: BigInt(n), ino: BigInt(n), dev: 1n, contentHash, key, location, lastAccessMs: Date.now() });
      }
      if (!store.saveIndex(index)) throw new Error('index save failed: ' + store.warnings.join('; '));
    }
    if (store.counters.writeErrors !== 0) throw new Error('write errors');
    store.close();
  `;
}

function startWriter(root: string, cacheDir: string, tag: string, rounds: number): { child: ChildProcess; ready: Promise<void>; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ['-e', writerScript(), root, cacheDir, tag, String(rounds)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.once('data', () => resolve());
    void exit.then((code) => reject(new Error(`writer exited with ${code} before starting: ${stderr}`)));
  });
  void exit.then((code) => {
    if (code !== 0 && code !== null) process.stderr.write(`writer ${tag} stderr: ${stderr}\n`);
  });
  return { child, ready, exit };
}



/**
 * What a reader must find, whatever happened to the writers: the index loads (an atomic rename
 * never exposes a half-written one), every location it references reads either nothing (a pack
 * that was evicted) or a valid entry with the right key and content, and every file named like a
 * pack is a complete pack.
 */
function verify(root: string, cacheDir: string): { records: number; missing: number } {
  const opened = DiskStore.open({ root, cacheDir, env: {}, keyPrefix: PREFIX, maxBytes: 2 ** 40, maxAgeMs: 2 ** 40 });
  if (opened.store === null) throw new Error(opened.warning);
  const store = opened.store;
  const index = store.loadIndex();
  expect(['loaded', 'missing']).toContain(store.lastIndexStatus);
  let missing = 0;
  for (const [file, record] of index) {
    const entry = store.readEntry(record.location, record.key);
    if (entry === null) {
      missing++;
      continue;
    }
    expect(entry.key).toBe(record.key);
    expect(xxh64Hex(entry.payload)).toBe(record.contentHash);
    expect(file.startsWith('src/')).toBe(true);
  }
  expect(store.counters.corruptEntries).toBe(0);
  expect(store.counters.corruptIndexes).toBe(0);
  for (const name of fs.readdirSync(path.join(cacheDir, PACKS_DIR))) {
    if (isPackName(name)) expect(listPack(path.join(cacheDir, PACKS_DIR, name))?.length).toBeGreaterThan(0);
    else expect(name.endsWith(TEMP_SUFFIX)).toBe(true);
  }
  for (const name of fs.readdirSync(path.join(cacheDir, INDEXES_DIR))) expect(name.endsWith('.idx') || name.endsWith(TEMP_SUFFIX)).toBe(true);
  store.close();
  return { records: index.size, missing };
}

describe('store across processes', () => {
  let base: string;
  let root: string;
  let cacheDir: string;

  beforeEach(() => {
    base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'strata-processes-')));
    root = path.join(base, 'repo');
    cacheDir = path.join(base, 'cache');
    fs.mkdirSync(root);
  });
  afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

  it(`leaves no entry or index that reads as valid but is not, after kill -9 at random moments (${KILLS} kills)`, async () => {
    const random = prng(0xc0ffee);
    let lastRecords = 0;
    for (let kill = 0; kill < KILLS; kill++) {
      const writer = startWriter(root, cacheDir, `w${kill}`, 0);
      await writer.ready;
      await sleep(20 + Math.floor(random() * 200));
      writer.child.kill('SIGKILL');
      await writer.exit;
      const { records, missing } = verify(root, cacheDir);
      expect(missing).toBe(0); // a kill never un-renames a pack: everything referenced is there
      expect(records).toBeGreaterThanOrEqual(lastRecords); // each writer started from the last saved index
      lastRecords = records;
    }
    expect(lastRecords).toBeGreaterThan(0);
    recordReliability('crash: kill -9 of store writers', { crashes: KILLS, operations: KILLS, wrongAnswers: 0 });
  }, 60_000 + KILLS * 2_000);

  it('keeps the index loadable and every referenced entry valid while two processes write at once', async () => {
    const writers = [startWriter(root, cacheDir, 'a', 12), startWriter(root, cacheDir, 'b', 12)];
    expect(await Promise.all(writers.map((writer) => writer.exit))).toEqual([0, 0]);
    const { records, missing } = verify(root, cacheDir);
    expect(records).toBeGreaterThan(0);
    expect(missing).toBe(0);
    expect(fs.readdirSync(path.join(cacheDir, PACKS_DIR)).filter(isPackName)).toHaveLength(24); // one pack per batch, none shared
  });

  it('serves nothing wrong while another process enforces a tight bound under a writer', async () => {
    expect(prepareCacheDir(cacheDir, true)).toBeNull();
    const writer = startWriter(root, cacheDir, 'c', 15);
    const enforcer = spawn(
      process.execPath,
      [
        '-e',
        `const { enforceBounds } = require(${JSON.stringify(path.join(DIST, 'engine', 'store', 'bounds.js'))});
         const end = Date.now() + 1500;
         const pause = new Int32Array(new SharedArrayBuffer(4));
         while (Date.now() < end) {
           enforceBounds({ dir: process.argv[1], maxBytes: 60000, maxAgeMs: 2 ** 40 });
           Atomics.wait(pause, 0, 0, 5);
         }`,
        cacheDir,
      ],
      { stdio: 'inherit' },
    );
    const enforcerExit = new Promise<number | null>((resolve) => enforcer.once('exit', resolve));
    expect(await writer.exit).toBe(0);
    expect(await enforcerExit).toBe(0);
    verify(root, cacheDir); // evicted packs read as missing; nothing reads as corrupt
  });
});
