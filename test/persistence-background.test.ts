import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AstPersistence } from '../engine/ast/ast-persistence.js';
import { DiskStore } from '../engine/store/disk-store.js';
import { fingerprintOf } from '../engine/content/fingerprint.js';
import { astKey, type AstKey } from '../engine/ast/keys.js';
import { resolveOptions } from '../engine/config/options.js';
import { xxh64 } from '../native-bindings/hash.js';
import { encodeAstEntry } from '../shared/ast-entry.js';
import { parseSource, type ParsedSource } from '../workers/parse-source.js';
import { envCount, recordReliability } from '../bench/reliability-counts.js';
import { prng } from '../bench/seeded-random.js';
import { WRITER_KEY_PREFIX } from './helpers/background-writer.js';
import { sleep } from './helpers/sleep.js';

/** Writers killed mid-write: a handful in `npm test`, hundreds in the soak (STRATA_SOAK_KILLS). */
const KILLS = envCount('STRATA_SOAK_KILLS', 6);
const WRITER = path.join(__dirname, 'helpers', 'background-writer.js');

interface SourceFile {
  readonly path: string;
  readonly key: AstKey;
  readonly parsed: ParsedSource;
  readonly hash: bigint;
}

describe('pack writes in the background', () => {
  let root: string;
  let cacheDir: string;
  let files: SourceFile[];
  const opened: AstPersistence[] = [];

  const open = (flushBytes?: number): AstPersistence => {
    const options = resolveOptions({ root, cacheDir }, { env: {}, readConfigFile: false });
    const { persistence } = AstPersistence.open(options, 'test-prefix', {}, flushBytes === undefined ? {} : { flushBytes });
    if (persistence === null) throw new Error('no store');
    opened.push(persistence);
    return persistence;
  };
  const remember = (persistence: AstPersistence, file: SourceFile): void => {
    const stats = fs.statSync(path.join(root, file.path), { bigint: true });
    persistence.remember(file.path, fingerprintOf(stats), file.hash, file.key, encodeAstEntry(file.key, file.parsed, 'lz4-block-v1'));
  };
  const packsDir = (): string => path.join(cacheDir, 'packs');

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bg-root-'));
    cacheDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bg-cache-')), 'cache');
    files = Array.from({ length: 5 }, (_, i) => {
      const text = `import { x${i} } from './m${i}';\nexport const v${i} = x${i} + ${i};\n`;
      const file = `src/f${i}.ts`;
      fs.mkdirSync(path.join(root, 'src'), { recursive: true });
      fs.writeFileSync(path.join(root, file), text);
      const hash = xxh64(Buffer.from(text));
      return { path: file, key: astKey('test-prefix', 'ts', hash), parsed: parseSource(file, text), hash };
    });
  });
  afterEach(() => {
    for (const persistence of opened.splice(0)) persistence.close();
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(path.dirname(cacheDir), { recursive: true, force: true });
  });

  it('answers entries still being written from memory, and indexes them once their pack is in place', async () => {
    const writer = open(1); // every entry starts a pack write
    for (const file of files) {
      remember(writer, file);
      expect(writer.has(file.key)).toBe(true);
      const loaded = writer.load(file.key);
      expect(loaded && Buffer.from(loaded.ast)).toEqual(Buffer.from(file.parsed.ast));
    }
    await writer.settle();
    writer.save();
    writer.close();
    expect(fs.readdirSync(packsDir()).filter((name) => name.endsWith('.pack'))).toHaveLength(files.length);
    expect(fs.readdirSync(packsDir()).filter((name) => name.endsWith('.tmp'))).toEqual([]);

    const reader = open();
    expect(reader.indexSize).toBe(files.length);
    for (const file of files) {
      const loaded = reader.load(file.key);
      expect(loaded && Buffer.from(loaded.ast)).toEqual(Buffer.from(file.parsed.ast));
      expect(loaded?.imports).toEqual(file.parsed.imports);
    }
    expect(reader.counters()).toMatchObject({ loaded: files.length, corruptEntries: 0, missingEntries: 0 });
  });

  it('indexes each file waiting for a pack in flight with the content it was last remembered with', async () => {
    const writer = open(1);
    const [a, b, c] = files as [SourceFile, SourceFile, SourceFile];
    remember(writer, a); // a's pack is being written
    const copyOfA = { ...a, path: 'src/copy-of-a.ts' };
    fs.copyFileSync(path.join(root, a.path), path.join(root, copyOfA.path));
    remember(writer, copyOfA); // same content: waits for a's pack, nothing new appended
    remember(writer, b); // b's pack
    remember(writer, { ...c, path: b.path }); // b's file remembered again with c's content before b's pack lands
    await writer.settle();
    writer.save();
    writer.close();

    const opened = DiskStore.open({ root, cacheDir, env: {}, keyPrefix: 'test-prefix', maxBytes: 2 ** 40, maxAgeMs: 2 ** 40 });
    if (opened.store === null) throw new Error(opened.warning ?? 'no store');
    const index = opened.store.loadIndex();
    const keyOf = (file: string): string | undefined => index.get(file)?.key;
    expect([...index.keys()].sort()).toEqual([a.path, b.path, copyOfA.path].sort());
    expect(keyOf(a.path)).toBe(a.key);
    expect(keyOf(copyOfA.path)).toBe(a.key);
    expect(keyOf(b.path)).toBe(c.key); // the older content's record never landed over the newer one
    opened.store.close();
    expect(open().validate(root, false)).toEqual([]); // and every record points at its own entry
  });

  it('counts a failed background write, loses only those entries, and goes on', async () => {
    const writer = open(1);
    const [first, second] = files as [SourceFile, SourceFile];
    remember(writer, first);
    await writer.settle();
    // The packs directory becomes a file: the next pack cannot be written.
    fs.rmSync(packsDir(), { recursive: true });
    fs.writeFileSync(packsDir(), 'not a directory');
    remember(writer, second);
    await writer.settle();
    expect(writer.counters().writeErrors).toBe(1);
    expect(writer.has(second.key)).toBe(false);
    expect(writer.load(second.key)).toBeNull();
    expect(writer.has(first.key)).toBe(true); // indexed before the failure
    writer.save();
    writer.close();

    fs.rmSync(packsDir());
    const reader = open();
    expect(reader.indexSize).toBe(1); // no record points at the pack that was never written
  });

  it('writes entries left below the threshold when the index is saved', async () => {
    const writer = open(); // the default threshold: nothing starts in the background
    for (const file of files) remember(writer, file);
    await writer.settle();
    expect(fs.existsSync(packsDir()) ? fs.readdirSync(packsDir()) : []).toEqual([]);
    writer.save();
    writer.close();
    expect(open().indexSize).toBe(files.length);
  });

  it(`leaves no index record pointing at a missing or invalid entry when killed mid-write (${KILLS} kills)`, async () => {
    const random = prng(0xb6);
    const options = resolveOptions({ root, cacheDir }, { env: {}, readConfigFile: false });
    let records = 0;
    for (let kill = 0; kill < KILLS; kill++) {
      const child = spawn(process.execPath, [WRITER, root, cacheDir, '12'], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise((resolve) => child.on('exit', resolve));
      // Killed at a random moment once it has saved an index (start-up time varies with the load).
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', () => resolve());
        child.on('exit', (code) => reject(new Error(`the writer exited (${String(code)}) before its first save`)));
      });
      await sleep(Math.floor(random() * 600));
      child.kill('SIGKILL');
      await exited;
      const { persistence } = AstPersistence.open(options, WRITER_KEY_PREFIX, {});
      if (persistence === null) throw new Error('no store');
      opened.push(persistence);
      // Every record the index holds reads back and verifies; the index itself loads.
      expect(persistence.validate(root, false)).toEqual([]);
      expect(persistence.counters()).toMatchObject({ corruptIndexes: 0, corruptEntries: 0 });
      records += persistence.indexSize;
    }
    expect(records).toBeGreaterThan(0); // the writers got far enough to index something
    recordReliability('crash: kill -9 of a writer with background pack writes', { crashes: KILLS, operations: records, wrongAnswers: 0, missingFiles: 0 });
  });
});
