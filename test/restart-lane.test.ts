/**
 * The restart lane (engine/restart/, issue 19), on real files: a whole-tree warm of an unchanged tree
 * is answered from the restart receipt with the report a full warm gives and the same effects on the
 * cache directory; every change the full path would see makes it decline (and the full path that
 * runs instead sees the change and writes a new receipt); the CLI answers from the lane's bundle
 * without loading the engine; the comparison and the hash give the same numbers in C as in JS.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { xxh64 as rsXxh64 } from '@node-rs/xxhash';
import { RACY_WINDOW_MS } from '../engine/discovery/directory-snapshot.js';
import { prepareWalk } from '../engine/discovery/walk-setup.js';
import { STAT_TIME_TOLERANCE_MS } from '../engine/content/fingerprint.js';
import { checkReceipt } from '../engine/restart/receipt-check.js';
import { decodeReceipt, encodeReceipt, readReceipt, type RestartReceipt } from '../engine/restart/receipt-file.js';
import { answerRestart, type RestartAnswer } from '../engine/warming/restart-lane.js';
import { RESTART_BUNDLE_FILE, BUNDLE_FILE } from '../engine/cli/bundle-build.js';
import { loadLastRun } from '../engine/store/last-run-file.js';
import { ACCESS_RESOLUTION_MS } from '../engine/store/root-index-format.js';
import type { WarmReport } from '../engine/warming/warm-report.js';
import { forcedJsFallback } from '../native-bindings/backend.js';
import { xxh64File, xxh64Js } from '../native-bindings/hash.js';
import { lstatSnapshotSpec, STAT_CTIME_MS, STAT_DEV, STAT_ERRNO, STAT_FIELDS, STAT_INO, STAT_MODE, STAT_MTIME_MS, STAT_NLINK, STAT_SIZE } from '../native-bindings/stat-batch.js';
import { firstSnapshotDifference, firstStatDifference, firstStatDifferenceJs } from '../native-bindings/stat-compare.js';
import { strataAddon } from '../native-bindings/strata-addon.js';
import { OpenEngines } from './helpers/engines.js';
import { sleep } from './helpers/sleep.js';
import { CLI } from './helpers/temp-tree.js';

let base: string;
let root: string;
let cacheDir: string;
const engines = new OpenEngines();

const FILES = ['index.ts', 'a/a.ts', 'a/b/b.ts', 'a/b/c/c.ts', 'a/b/c/d/d.js', 'e/e.tsx', 'e/f/f.mts', 'g/h/i/j/k.ts', 'g/h/keep.ts', 'g/h/skip.ts', 'ü/ñame-日本.ts'];

function write(rel: string, content: string): void {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
}

/** A tree inside a repository (a `.git` directory and a `.gitignore` above the root), a `.gitignore` deep down, a name outside ASCII. */
function makeTree(): void {
  fs.mkdirSync(path.join(base, '.git'));
  fs.writeFileSync(path.join(base, '.gitignore'), '*.log\n');
  for (const rel of FILES) write(rel, `export const at = ${JSON.stringify(rel)};\n`);
  write('g/h/.gitignore', 'skip.ts\n');
}

/** Past the racy window: records and directory stamps taken from now on are settled. */
const settle = (): Promise<void> => sleep(RACY_WINDOW_MS + 100);

beforeEach(() => {
  base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'strata-lane-')));
  root = path.join(base, 'tree');
  cacheDir = path.join(base, 'cache'); // outside the tree: creating it would move the root's stamp
  makeTree();
});

afterEach(async () => {
  jest.restoreAllMocks();
  await engines.closeAll();
  fs.rmSync(base, { recursive: true, force: true });
  fs.rmSync(`${base}-outside`, { recursive: true, force: true });
});

/** The full path: a new engine (as a new process would have), a whole-tree warm, closed. */
async function fullWarm(options: Record<string, unknown> = {}): Promise<WarmReport> {
  const engine = engines.open({ root, cacheDir, workers: 1, ...options });
  const report = await engine.warm();
  await engine.close();
  return report;
}

function lane(options: Record<string, unknown> = {}): RestartAnswer {
  return answerRestart({ options: { root, cacheDir, workers: 1, ...options }, startedAt: performance.now(), env: {} });
}

function receiptFiles(): string[] {
  const runs = path.join(cacheDir, 'runs');
  return fs.existsSync(runs) ? fs.readdirSync(runs).filter((name) => name.endsWith('.receipt')).map((name) => path.join(runs, name)) : [];
}

function theReceipt(): RestartReceipt {
  const [file] = receiptFiles();
  const receipt = file === undefined ? null : readReceipt(file);
  if (receipt === null) throw new Error('no receipt');
  return receipt;
}

function indexFile(): string {
  const dir = path.join(cacheDir, 'indexes');
  return path.join(dir, fs.readdirSync(dir).find((name) => name.endsWith('.idx')) as string);
}

/** A report without what differs between any two runs (times, memory). */
function stable({ durationMs, filesPerSec, peakRssBytes, ...report }: WarmReport): Omit<WarmReport, 'durationMs' | 'filesPerSec' | 'peakRssBytes'> {
  for (const figure of [durationMs, filesPerSec, peakRssBytes]) expect(typeof figure).toBe('number');
  return report;
}

/** Settled tree, a cold warm and the warm that finds it settled: a receipt on disk, the lane answering. */
async function filledCache(): Promise<void> {
  await settle();
  await fullWarm();
  expect(receiptFiles()).toHaveLength(1);
  expect(lane().declined).toBeUndefined();
}

describe('the restart lane answers an unchanged tree', () => {
  it('with the report a full warm of it gives, stamping the index as used and saving the last run as the full path does', async () => {
    await settle();
    const cold = await fullWarm();
    expect(cold).toMatchObject({ files: 10, parsed: 10 }); // g/h/skip.ts is ignored
    const indexBytes = fs.readFileSync(indexFile());
    const stamped = fs.statSync(indexFile()).mtimeMs;
    await sleep(20);
    const answer = lane();
    expect(answer.declined).toBeUndefined();
    const report = answer.report as WarmReport;
    expect(report).toMatchObject({ files: 10, parsed: 0, fromDisk: 10, fromCache: 10, bytes: cold.bytes, stoppedBy: null });
    // Nothing rewritten, the index stamped as used (the bound's recency), the report kept for `strata stats`.
    expect(fs.readFileSync(indexFile())).toEqual(indexBytes);
    expect(fs.statSync(indexFile()).mtimeMs).toBeGreaterThan(stamped);
    const runsDir = path.join(cacheDir, 'runs');
    const lastRun = loadLastRun(path.join(runsDir, fs.readdirSync(runsDir).find((name) => name.endsWith('.json')) as string));
    expect(lastRun.status).toBe('loaded');
    expect({ ...lastRun.run, savedAt: undefined }).toEqual({ ...JSON.parse(JSON.stringify(report)), savedAt: undefined });
    // The full path over the same cache, in a new engine: the same report, field for field, in the same order.
    const full = await fullWarm();
    expect(Object.keys(report)).toEqual(Object.keys(full));
    expect(stable(report)).toEqual(stable(full));
    expect(fs.readFileSync(indexFile())).toEqual(indexBytes);
  });

  it('with the warnings of the rules above the root, as the full path reports them', async () => {
    fs.writeFileSync(path.join(base, '.gitignore'), 'tree/\n'); // the root itself ignored from above
    await settle();
    await fullWarm();
    await settle();
    const full = await fullWarm();
    expect(full.warnings).toEqual([{ path: '.', message: expect.stringContaining('the root is ignored by the ignore rules above it') }]);
    const answer = lane();
    expect(answer.declined).toBeUndefined();
    expect(stable(answer.report as WarmReport)).toEqual(stable(full));
  });
});

describe('the restart lane declines at every change, and the full path that runs instead sees it', () => {
  /** After a change: the lane declines (for the given reason), a full warm reports what it should, and once settled the lane answers again. */
  async function expectChangeSeen(reason: RegExp, expected: Partial<WarmReport>): Promise<void> {
    expect(lane().declined).toMatch(reason);
    expect(await fullWarm()).toMatchObject(expected);
    await settle();
    expect(await fullWarm()).toMatchObject({ parsed: 0, files: expected.files }); // re-reads the racy record of the change, settled now
    const again = lane();
    expect(again.declined).toBeUndefined();
    expect(stable(again.report as WarmReport)).toEqual(stable(await fullWarm()));
  }

  it('an edit in place of the same size (no directory stamp moves)', async () => {
    await filledCache();
    write('a/b/c/c.ts', 'export const at = "a/b/c/C.ts";\n');
    await expectChangeSeen(/path \d+ of the receipt changed/, { files: 10, parsed: 1 });
  });

  it('an edit whose mtime a tool puts back (its ctime still moves), as after some checkouts', async () => {
    const file = path.join(root, 'e/f/f.mts');
    const whole = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000); // a time utimes can set back exactly
    fs.utimesSync(file, whole, whole);
    await filledCache();
    fs.writeFileSync(file, 'export const at = "e/f/F.mts";\n');
    fs.utimesSync(file, whole, whole);
    expect(fs.statSync(file).mtimeMs).toBe(whole.getTime());
    await expectChangeSeen(/path \d+ of the receipt changed/, { files: 10, parsed: 1 });
  });

  it('a file added, removed, and renamed', async () => {
    await filledCache();
    write('g/h/i/j/new.ts', 'export const fresh = 1;\n');
    await expectChangeSeen(/path \d+ of the receipt changed/, { files: 11, parsed: 1 });
    fs.rmSync(path.join(root, 'a/b/b.ts'));
    await expectChangeSeen(/path \d+ of the receipt changed/, { files: 10, parsed: 0 });
    fs.renameSync(path.join(root, 'index.ts'), path.join(root, 'main.ts'));
    await expectChangeSeen(/path \d+ of the receipt changed/, { files: 10 });
  });

  it('a file replaced by another inode (an atomic save), by a link, or given a second link outside the tree', async () => {
    await filledCache();
    const file = path.join(root, 'a/a.ts');
    const content = fs.readFileSync(file);
    fs.writeFileSync(`${file}.tmp`, content);
    fs.renameSync(`${file}.tmp`, file);
    await expectChangeSeen(/path \d+ of the receipt changed/, { files: 10 });
    fs.rmSync(file);
    fs.symlinkSync(path.join(root, 'index.ts'), file);
    expect(lane().declined).toMatch(/path \d+ of the receipt changed/);
    await fullWarm();
    await settle();
    await fullWarm();
    expect(receiptFiles()).toEqual([]); // a link in the tree: the full path answers it
    fs.rmSync(file);
    fs.writeFileSync(file, content);
    await settle();
    await fullWarm();
    await settle();
    await fullWarm();
    expect(lane().declined).toBeUndefined();
    fs.mkdirSync(`${base}-outside`);
    fs.linkSync(path.join(root, 'e/e.tsx'), `${base}-outside/e.tsx`);
    expect(lane().declined).toMatch(/path \d+ of the receipt changed/);
    expect(await fullWarm()).toMatchObject({ files: 10, parsed: 0 });
  });

  it('a .gitignore edited in place in the tree, and one above the root', async () => {
    await filledCache();
    fs.writeFileSync(path.join(root, 'g/h/.gitignore'), 'skip.ts\nkeep.ts\n');
    await expectChangeSeen(/g\/h\/\.gitignore changed/, { files: 9, parsed: 0 });
    fs.writeFileSync(path.join(base, '.gitignore'), '*.log\ntree/e/\n');
    await expectChangeSeen(/another walk key/, { files: 7, parsed: 0 });
  });

  it('an index replaced or corrupt, a receipt corrupt, and records due for a new access stamp', async () => {
    await filledCache();
    const index = indexFile();
    const bytes = fs.readFileSync(index);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0x40;
    fs.writeFileSync(index, bytes);
    expect(lane().declined).toBe('another index');
    expect(await fullWarm()).toMatchObject({ files: 10, parsed: 10 }); // the full path finds it corrupt and starts empty
    await settle();
    await fullWarm();
    expect(lane().declined).toBeUndefined();
    const [receipt] = receiptFiles() as [string];
    const receiptBytes = fs.readFileSync(receipt);
    receiptBytes[receiptBytes.length - 3] = (receiptBytes[receiptBytes.length - 3] as number) ^ 0x01;
    fs.writeFileSync(receipt, receiptBytes);
    expect(lane().declined).toBe('no receipt');
    await fullWarm(); // nothing changed: the index stays, the receipt is written again
    expect(lane().declined).toBeUndefined();
    // An hour later: the full path re-stamps the records' last access and saves the index.
    const later = Date.now() + ACCESS_RESOLUTION_MS + 60_000;
    jest.spyOn(Date, 'now').mockReturnValue(later);
    expect(lane().declined).toBe('records due for a new access stamp');
    const indexBefore = fs.readFileSync(indexFile());
    expect(await fullWarm()).toMatchObject({ files: 10, parsed: 0 });
    expect(fs.readFileSync(indexFile())).not.toEqual(indexBefore);
    expect(lane().declined).toBeUndefined();
  });

  it('options that change what a warm does or reports', async () => {
    await filledCache();
    expect(lane({ persist: false }).declined).toBe('options the lane does not handle');
    expect(lane({ memoryLimit: '1GiB' }).declined).toBe('options the lane does not handle');
    expect(lane({ budget: 'auto' }).declined).toBe('options the lane does not handle');
    expect(lane({ remote: { url: 'redis://127.0.0.1:1' } }).declined).toBe('options the lane does not handle');
    expect(lane({ maxFileSize: 100 }).declined).toBe('another maxFileSize');
    expect(lane({ includeNodeModules: true }).declined).toBe('another walk key');
    expect(lane({ workers: 0 }).declined).toBe('the options do not resolve');
    expect(lane({ cacheDir: path.join(base, 'other-cache') }).declined).toBe('no receipt');
    expect(lane().declined).toBeUndefined();
  });

  it('writes no receipt for a tree with racy records (changed within the racy window of the warm)', async () => {
    await fullWarm(); // the files were written just now
    expect(receiptFiles()).toEqual([]);
    expect(lane().declined).toBe('no receipt');
  });
});

describe('strata warm through the lane', () => {
  const DIST = path.join(__dirname, '..');
  let probeDir: string;
  let probe: string;
  beforeEach(() => {
    probeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-lane-probe-'));
    probe = path.join(probeDir, 'probe.js');
    // Preloaded into the CLI: writes to stderr, at exit, the modules Node loaded.
    fs.writeFileSync(probe, "process.on('exit', () => process.stderr.write('\\nLOADED ' + JSON.stringify(Object.keys(require.cache))));\n");
  });
  afterEach(() => fs.rmSync(probeDir, { recursive: true, force: true }));

  const cli = (args: string[], env: Record<string, string> = {}) => {
    const run = spawnSync(process.execPath, ['-r', probe, CLI, 'warm', root, '--cache-dir', cacheDir, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, timeout: 60_000 });
    expect(run.status).toBe(0);
    const at = run.stderr.lastIndexOf('\nLOADED ');
    return { stdout: run.stdout, stderr: run.stderr.slice(0, at), loaded: JSON.parse(run.stderr.slice(at + '\nLOADED '.length)) as string[] };
  };

  it('answers from the lane bundle, loading neither the CLI bundle, the engine nor TypeScript, and prints what the full CLI prints', async () => {
    await settle();
    cli(['--quiet']);
    cli(['--quiet']); // the records of the cold warm's racy reads settled: the receipt is written
    const viaLane = cli(['--json']);
    expect(viaLane.loaded).toContain(path.join(DIST, RESTART_BUNDLE_FILE));
    expect(viaLane.loaded).not.toContain(path.join(DIST, BUNDLE_FILE));
    expect(viaLane.loaded.some((file) => /node_modules[/\\](typescript|piscina|commander)[/\\]/.test(file))).toBe(false);
    const full = cli(['--json'], { STRATA_RESTART: 'off' });
    expect(full.loaded).toContain(path.join(DIST, BUNDLE_FILE));
    const strip = (text: string) => {
      const { durationMs, filesPerSec, peakRssBytes, processMaxRssBytes, ...rest } = JSON.parse(text) as Record<string, unknown>;
      for (const figure of [durationMs, filesPerSec, peakRssBytes, processMaxRssBytes]) expect(typeof figure).toBe('number');
      return rest;
    };
    expect(strip(viaLane.stdout)).toEqual(strip(full.stdout));
    expect(strip(viaLane.stdout)).toMatchObject({ files: 10, parsed: 0, fromDisk: 10 });
    // The text report: the same lines but the first one's time and rate.
    const text = cli([]);
    const fullText = cli([], { STRATA_RESTART: 'off' });
    expect(text.loaded).not.toContain(path.join(DIST, BUNDLE_FILE));
    const withoutTimes = (stderr: string) => stderr.replace(/in [\d.]+ s: \d+ files\/s/, 'in T s: R files/s');
    expect(withoutTimes(text.stderr)).toEqual(withoutTimes(fullText.stderr));
    // Command lines the lane does not take run the full CLI.
    expect(cli(['--json', '--verbose']).loaded).toContain(path.join(DIST, BUNDLE_FILE));
    expect(cli(['--json'], { STRATA_LOG: 'debug' }).loaded).toContain(path.join(DIST, BUNDLE_FILE));
  });
});

describe('the receipt file and the comparison', () => {
  it('round-trips a receipt and refuses any byte changed, a truncation, and a misaligned copy', async () => {
    await filledCache();
    const receipt = theReceipt();
    const bytes = encodeReceipt(receipt);
    expect(decodeReceipt(bytes)).toEqual(receipt);
    for (const at of [0, 5, 9, 17, 40, Math.floor(bytes.length / 2), bytes.length - 1]) {
      const flipped = bytes.slice();
      flipped[at] = (flipped[at] as number) ^ 0x10;
      expect(decodeReceipt(flipped)).toBeNull();
    }
    expect(decodeReceipt(bytes.subarray(0, bytes.length - 8))).toBeNull();
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    expect(decodeReceipt(shifted.subarray(1))).toBeNull(); // its doubles would be misaligned
  });

  it('compares the same in C and in JS, over thousands of single-field changes of a real tree’s stats', async () => {
    await filledCache();
    const receipt = theReceipt();
    const setup = prepareWalk(root, { includeNodeModules: false, excludeDirs: [cacheDir] });
    expect(checkReceipt(receipt, setup, receipt.maxFileSize)).toMatchObject({ unchanged: true, files: 10 });
    const { stats, dirIndex } = lstatSnapshotSpec(setup.rootReal, receipt.spec, receipt.rows);
    // Under STRATA_NATIVE=js both sides are the JS rules (the lane's other tests then run them end to end).
    expect(strataAddon.addon === undefined).toBe(forcedJsFallback());
    const compare = (values: Float64Array, index: Int32Array = dirIndex, maxFileSize = receipt.maxFileSize) => {
      const js = firstStatDifferenceJs(values, index, receipt.expected, maxFileSize, STAT_TIME_TOLERANCE_MS);
      expect(firstStatDifference(values, index, receipt.expected, maxFileSize, STAT_TIME_TOLERANCE_MS)).toBe(js);
      return js;
    };
    expect(compare(stats)).toBe(-1);
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const fields = [STAT_ERRNO, STAT_MODE, STAT_SIZE, STAT_MTIME_MS, STAT_CTIME_MS, STAT_INO, STAT_DEV, STAT_NLINK];
    const verdicts = new Map<string, number>();
    for (let round = 0; round < 3000; round++) {
      const values = stats.slice();
      const at = Math.floor(random() * receipt.paths);
      const field = fields[Math.floor(random() * fields.length)] as number;
      const nudge = [1, -1, STAT_TIME_TOLERANCE_MS / 2, STAT_TIME_TOLERANCE_MS * 2, 0o040000, 0o120000][Math.floor(random() * 6)] as number;
      values[at * STAT_FIELDS + field] = (values[at * STAT_FIELDS + field] as number) + nudge;
      const result = compare(values);
      const verdict = result === -1 ? 'same' : result === at ? 'this one' : 'other';
      verdicts.set(verdict, (verdicts.get(verdict) ?? 0) + 1);
      expect(verdict).not.toBe('other');
    }
    expect(verdicts.get('same')).toBeGreaterThan(100); // time nudges within the tolerance, ignored fields
    expect(verdicts.get('this one')).toBeGreaterThan(1000);
    expect(compare(stats, dirIndex.subarray(0, dirIndex.length - 1))).toBe(dirIndex[dirIndex.length - 1]); // a directory taken for a file
    expect(compare(stats, Int32Array.of(...dirIndex, receipt.paths + 5))).toBe(receipt.paths); // a row past the paths
    expect(compare(stats, dirIndex, 10)).not.toBe(-1); // every file over maxFileSize
    // The fused native pass (stat and compare, per thread) against the JS batch + loop, over changed expectations.
    const fused = (expected: Float64Array, maxFileSize = receipt.maxFileSize) => {
      const js = firstStatDifferenceJs(lstatSnapshotSpec(setup.rootReal, receipt.spec, receipt.rows).stats, dirIndex, expected, maxFileSize, STAT_TIME_TOLERANCE_MS);
      expect(firstSnapshotDifference(setup.rootReal, receipt.spec, receipt.rows, expected, maxFileSize, STAT_TIME_TOLERANCE_MS)).toBe(js);
      return js;
    };
    expect(fused(receipt.expected)).toBe(-1);
    let found = 0;
    for (let round = 0; round < 300; round++) {
      const expected = receipt.expected.slice();
      const at = Math.floor(random() * expected.length);
      expected[at] = (expected[at] as number) + [1, -1, STAT_TIME_TOLERANCE_MS / 2, 1e6][Math.floor(random() * 4)]!;
      if (fused(expected) !== -1) found++;
    }
    expect(found).toBeGreaterThan(150);
    expect(fused(receipt.expected, 10)).not.toBe(-1);
    expect(() => firstSnapshotDifference(setup.rootReal, receipt.spec, receipt.rows, receipt.expected.subarray(5), receipt.maxFileSize, STAT_TIME_TOLERANCE_MS)).toThrow(/not of the same paths|not EXPECTED_FIELDS numbers per path/);
  });

  it('hashes in Strata’s addon as @node-rs/xxhash and the JS port do, at every length around the stripe and tail steps', () => {
    expect(strataAddon.addon === undefined).toBe(forcedJsFallback());
    const own = strataAddon.addon?.xxh64 ?? xxh64Js; // under STRATA_NATIVE=js: the port against @node-rs/xxhash
    let seed = 11;
    for (let length = 0; length < 300; length++) {
      const bytes = Uint8Array.from({ length }, () => (seed = (seed * 69069 + 1) >>> 0) >>> 24);
      expect(own(bytes)).toBe(xxh64Js(bytes));
      expect(own(bytes)).toBe(rsXxh64(bytes));
    }
    const big = new Uint8Array(new SharedArrayBuffer(1 << 20), 3, (1 << 20) - 3); // a slab's view, hashed in place
    for (let i = 0; i < big.length; i++) big[i] = i * 31;
    expect(own(big)).toBe(rsXxh64(big));
    // A file's bytes from an offset, read in 64 KiB chunks: lengths around the chunk and the stripe.
    const file = path.join(base, 'hashed.bin');
    for (const length of [0, 5, 31, 32, 65_535, 65_536, 65_537, 131_072 + 45, 1 << 20]) {
      const bytes = big.slice(0, length);
      fs.writeFileSync(file, bytes);
      for (const from of [0, 12]) expect(xxh64File(file, from)).toBe(xxh64Js(bytes.subarray(Math.min(from, length))));
    }
    expect(xxh64File(path.join(base, 'absent.bin'), 0)).toBeNull();
  });
});
