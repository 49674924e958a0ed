/**
 * The restart of an unchanged tree (issue 19), on real files: the batch lstat (Strata's own addon,
 * native-bindings/src/strata_native.c) gives exactly what `fs.lstatSync` gives; the unchanged-tree
 * check answers an unchanged tree with the files a walk would report, and gives up at every change a
 * walk would handle otherwise, handing the walk its stats; through the engine a restart answers every
 * file from disk and a change is still re-parsed.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as discovery from '../engine/discovery/discovery.js';
import { discoverSourceFiles, type DirectorySnapshot, type DiscoveryEvent, type PreparedWalk } from '../engine/discovery/discovery.js';
import { RACY_WINDOW_MS } from '../engine/discovery/directory-snapshot.js';
import * as unchangedTree from '../engine/discovery/unchanged-tree.js';
import { checkUnchangedTree, type UnchangedTreeCheck } from '../engine/discovery/unchanged-tree.js';
import { forcedJsFallback } from '../native-bindings/backend.js';
import { lstatMany, lstatManyJs, lstatSnapshot, lstatSnapshotJs, statBatchBackend, statBatchFallbackReason, STAT_FIELDS } from '../native-bindings/stat-batch.js';
import { OpenEngines } from './helpers/engines.js';
import { sleep } from './helpers/sleep.js';

let base: string;
const engines = new OpenEngines();

beforeEach(() => {
  base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'strata-unchanged-')));
});

afterEach(async () => {
  jest.restoreAllMocks();
  await engines.closeAll();
  fs.rmSync(base, { recursive: true, force: true });
  fs.rmSync(`${base}-hard-link`, { force: true });
  fs.rmSync(`${base}-cache`, { recursive: true, force: true });
});

function write(root: string, rel: string, content = 'export {};\n'): void {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
}

/** Nested directories, a `.gitignore` deep down, a name outside ASCII. */
function makeTree(root: string): void {
  for (const rel of ['index.ts', 'a/a.ts', 'a/b/b.ts', 'a/b/c/c.ts', 'a/b/c/d/d.js', 'e/e.tsx', 'e/f/f.mts', 'g/h/i/j/k.ts', 'g/h/keep.ts', 'g/h/skip.ts', 'ü/ñame-日本.ts']) write(root, rel, `export const at = ${JSON.stringify(rel)};\n`);
  write(root, 'g/h/.gitignore', 'skip.ts\n');
  write(root, 'README.md', '# not a source file\n');
}

const MAX_FILE_SIZE = 1 << 20;
const settle = (): Promise<void> => sleep(RACY_WINDOW_MS + 100);

async function walkEvents(root: string, options: { snapshot?: DirectorySnapshot | null; onSnapshot?: (snapshot: DirectorySnapshot) => void; prepared?: PreparedWalk } = {}): Promise<DiscoveryEvent[]> {
  const events: DiscoveryEvent[] = [];
  const onSnapshot = options.onSnapshot;
  for await (const event of discoverSourceFiles(root, { includeNodeModules: false, maxFileSize: MAX_FILE_SIZE, ...options, ...(onSnapshot ? { onSnapshot: (s: DirectorySnapshot) => onSnapshot(s) } : {}) })) events.push(event);
  return events;
}

/** A snapshot every directory of which the next walk trusts (taken outside the racy window). */
async function trustedSnapshot(root: string): Promise<DirectorySnapshot> {
  await settle();
  let snapshot: DirectorySnapshot | null = null;
  await walkEvents(root, { onSnapshot: (s) => (snapshot = s) });
  if (snapshot === null) throw new Error('no snapshot taken');
  return snapshot;
}

/** What a walk reports, comparable: each event with the stat fields a restart compares. */
function reported(events: readonly DiscoveryEvent[]): unknown[] {
  return events.map((event) => (event.type === 'file' ? { path: event.path, size: event.size, mtimeMs: event.stats.mtimeMs, ctimeMs: event.stats.ctimeMs, ino: event.stats.ino, dev: event.stats.dev } : event));
}

function check(root: string, snapshot: DirectorySnapshot, isUnchanged: (file: string) => boolean = () => true): { result: UnchangedTreeCheck; asked: string[] } {
  const asked: string[] = [];
  const result = checkUnchangedTree(root, { includeNodeModules: false, maxFileSize: MAX_FILE_SIZE }, snapshot, (file) => {
    asked.push(file);
    return isUnchanged(file);
  });
  return { result, asked };
}

describe('batch lstat (native-bindings/stat-batch.ts)', () => {
  it('runs Strata’s own addon unless STRATA_NATIVE=js forces the fallback', () => {
    expect({ backend: statBatchBackend, reason: statBatchFallbackReason ?? null }).toEqual(forcedJsFallback() ? { backend: 'js', reason: expect.stringContaining('STRATA_NATIVE') } : { backend: 'native', reason: null });
  });

  it('gives every field exactly as fs.lstatSync does, and the errno where it fails', () => {
    makeTree(base);
    fs.symlinkSync('a/a.ts', path.join(base, 'link.ts'));
    const paths = [
      path.join(base, 'index.ts'),
      path.join(base, 'a'),
      path.join(base, 'link.ts'), // the link itself, not its target
      path.join(base, 'ü/ñame-日本.ts'),
      path.join(base, 'missing.ts'),
      path.join(base, 'index.ts/inside.ts'),
      path.join(base, 'x'.repeat(5000)),
      base,
    ];
    const native = lstatMany(paths);
    expect(native).toEqual(lstatManyJs(paths));
    const field = (row: number, at: number): number => native[row * STAT_FIELDS + at] as number;
    const stats = fs.lstatSync(paths[2]!);
    expect([field(2, 1), field(2, 2), field(2, 3), field(2, 4), field(2, 5), field(2, 6), field(2, 7)]).toEqual([stats.mode, stats.size, stats.mtimeMs, stats.ctimeMs, stats.ino, stats.dev, stats.nlink]);
    expect([field(0, 0), field(4, 0), field(5, 0), field(6, 0)]).toEqual([0, os.constants.errno.ENOENT, os.constants.errno.ENOTDIR, os.constants.errno.ENAMETOOLONG]);
  });

  it('splits thousands of paths over threads and keeps each one in its place', () => {
    for (let i = 0; i < 3000; i++) write(base, `many/d${i % 30}/f${i}.ts`, 'x'.repeat(i % 97));
    const paths = Array.from({ length: 3000 }, (_, i) => path.join(base, `many/d${i % 30}/f${i}.ts`));
    const native = lstatMany(paths);
    expect(native).toEqual(lstatManyJs(paths));
    expect(Array.from({ length: 3000 }, (_, i) => native[i * STAT_FIELDS + 2])).toEqual(Array.from({ length: 3000 }, (_, i) => i % 97));
  });

  it('stats a snapshot’s directories and files as the JS fallback does, a too-long path failing alone', async () => {
    makeTree(base);
    for (let i = 0; i < 2500; i++) write(base, `wide/w${i % 40}/n${i}.ts`);
    const snapshot = await trustedSnapshot(base);
    const rels = [...snapshot.rels, 'y'.repeat(5000)];
    const items = [...snapshot.items, 'fz.ts/dsub'];
    const native = lstatSnapshot(base, rels, items);
    const js = lstatSnapshotJs(base, rels, items);
    expect(native.dirIndex).toEqual(js.dirIndex);
    expect(native.stats).toEqual(js.stats);
    const last = native.dirIndex[rels.length - 1]!;
    expect([native.stats[last * STAT_FIELDS], native.stats[(last + 1) * STAT_FIELDS], native.stats.length / STAT_FIELDS]).toEqual([os.constants.errno.ENAMETOOLONG, os.constants.errno.ENAMETOOLONG, last + 2]);
    // The first row is the root; its first file follows it.
    const rootFile = snapshot.items[0]!.split('/').find((item) => item.startsWith('f'))!.slice(1);
    expect(native.stats[(native.dirIndex[0]! + 1) * STAT_FIELDS + 2]).toBe(fs.lstatSync(path.join(base, rootFile)).size);
  });
});

describe('unchanged-tree check: answers only what a walk would report', () => {
  it('answers an unchanged tree with the walk’s files, in walk order, and their bytes', async () => {
    makeTree(base);
    const snapshot = await trustedSnapshot(base);
    const { result, asked } = check(base, snapshot);
    const files = (await walkEvents(base)).flatMap((event) => (event.type === 'file' ? [event] : []));
    expect(result.changed).toBeNull();
    expect(result.tree).toEqual({ files: files.length, bytes: files.reduce((sum, file) => sum + file.size, 0), warnings: [] });
    // Each file once (the check goes directory by directory; the walk interleaves files and directories).
    expect([...asked].sort()).toEqual(files.map((file) => file.path).sort());
  });

  it.each([
    ['a file added', (root: string) => write(root, 'a/b/added.ts'), /directory a\/b changed/],
    ['a file removed', (root: string) => fs.rmSync(path.join(root, 'e/f/f.mts')), /directory e\/f changed/],
    ['a file renamed', (root: string) => fs.renameSync(path.join(root, 'a/a.ts'), path.join(root, 'a/z.ts')), /directory a changed/],
    ['a directory renamed', (root: string) => fs.renameSync(path.join(root, 'g/h/i'), path.join(root, 'g/h/k')), /directory g\/h changed/],
    ['a file replaced by a directory', (root: string) => (fs.rmSync(path.join(root, 'a/b/b.ts')), write(root, 'a/b/b.ts/in.ts')), /directory a\/b changed/],
    ['a .gitignore edited in place', (root: string) => fs.writeFileSync(path.join(root, 'g/h/.gitignore'), 'keep.ts\n'), /g\/h\/\.gitignore changed/],
    ['a symlink added', (root: string) => fs.symlinkSync('a.ts', path.join(root, 'a/link.ts')), /directory a changed/],
    ['a file grown past maxFileSize', (root: string) => fs.writeFileSync(path.join(root, 'e/e.tsx'), 'x'.repeat(MAX_FILE_SIZE + 1)), /e\/e\.tsx is too large/],
    ['a second hard link to a file (made outside the tree)', (root: string) => fs.linkSync(path.join(root, 'index.ts'), `${root}-hard-link`), /index\.ts is not a plain file/],
  ])('gives up at %s, and the walk it hands its stats to reports what a plain walk does', async (_name, change, why) => {
    makeTree(base);
    const snapshot = await trustedSnapshot(base);
    change(base);
    const { result } = check(base, snapshot);
    expect(result.tree).toBeNull();
    expect(result.changed).toMatch(why);
    expect(reported(await walkEvents(base, { snapshot, onSnapshot: () => undefined, prepared: { setup: result.setup, prefetch: result.prefetch } }))).toEqual(reported(await walkEvents(base)));
  });

  it('gives up at the first file the caller finds changed (an edit in place: no directory stamp moves)', async () => {
    makeTree(base);
    const snapshot = await trustedSnapshot(base);
    const { result, asked } = check(base, snapshot, (file) => file !== 'a/b/c/c.ts');
    expect(result.tree).toBeNull();
    expect(result.changed).toBe('a/b/c/c.ts changed');
    expect(asked[asked.length - 1]).toBe('a/b/c/c.ts');
  });

  it('gives up on a racy directory, and on a snapshot taken under other options', async () => {
    makeTree(base);
    const trusted = await trustedSnapshot(base);
    write(base, 'e/racy.ts'); // changed now: the stamp the next walk takes of e is racy
    let racy: DirectorySnapshot | null = null;
    await walkEvents(base, { snapshot: trusted, onSnapshot: (s) => (racy = s) });
    expect(check(base, racy!).result.changed).toBe('directory e changed');
    const excluding = checkUnchangedTree(base, { includeNodeModules: false, maxFileSize: MAX_FILE_SIZE, excludeDirs: [path.join(base, 'e')] }, trusted, () => true);
    expect({ tree: excluding.tree, changed: excluding.changed, prefetch: excluding.prefetch }).toEqual({ tree: null, changed: 'another walk key', prefetch: null });
  });
});

describe('unchanged-tree check through the engine (persisted, a new engine each run)', () => {
  async function warmOnce(cacheDir: string): Promise<{ files: number; parsed: number; fromDisk: number; bytes: number; answeredByCheck: boolean }> {
    const checked = jest.spyOn(unchangedTree, 'checkUnchangedTree');
    const walked = jest.spyOn(discovery, 'discoverSourceFiles');
    const engine = engines.open({ root: base, cacheDir, workers: 1 });
    const report = await engine.warm();
    await engine.close();
    // Answered by the check: it ran, and no walk did.
    const answered = checked.mock.calls.length === 1 && walked.mock.calls.length === 0;
    checked.mockRestore();
    walked.mockRestore();
    return { files: report.files, parsed: report.parsed, fromDisk: report.fromDisk, bytes: report.bytes, answeredByCheck: answered };
  }

  it('answers an unchanged restart from the index without a walk, and still re-parses an edit, an add and a removal', async () => {
    makeTree(base);
    const cacheDir = `${base}-cache`; // outside the tree: creating it would move the root's stamp
    const bytes = ['index.ts', 'a/a.ts', 'a/b/b.ts', 'a/b/c/c.ts', 'a/b/c/d/d.js', 'e/e.tsx', 'e/f/f.mts', 'g/h/i/j/k.ts', 'g/h/keep.ts', 'ü/ñame-日本.ts'].reduce((sum, rel) => sum + fs.statSync(path.join(base, rel)).size, 0);
    await settle();
    expect(await warmOnce(cacheDir)).toEqual({ files: 10, parsed: 10, fromDisk: 0, bytes, answeredByCheck: false });
    expect(await warmOnce(cacheDir)).toEqual({ files: 10, parsed: 0, fromDisk: 10, bytes, answeredByCheck: true });
    await settle();
    fs.writeFileSync(path.join(base, 'a/b/c/d/d.js'), 'export const edited = 12345;\n'); // its directory's stamp does not move
    write(base, 'g/h/i/j/new.ts', 'export const n = 1;\n');
    fs.rmSync(path.join(base, 'e/f/f.mts'));
    const changed = await warmOnce(cacheDir);
    expect({ files: changed.files, parsed: changed.parsed, fromDisk: changed.fromDisk, answeredByCheck: changed.answeredByCheck }).toEqual({ files: 10, parsed: 2, fromDisk: 8, answeredByCheck: false });
    // The directories that warm listed changed within the racy window of its start: the next warm
    // lists them again (and takes stamps it trusts), the one after that is answered by the check.
    await settle();
    expect(await warmOnce(cacheDir)).toMatchObject({ files: 10, parsed: 0, fromDisk: 10, answeredByCheck: false });
    expect(await warmOnce(cacheDir)).toMatchObject({ files: 10, parsed: 0, fromDisk: 10, answeredByCheck: true });
  });

  it('walks when the index holds a record no walk reports (an ignored file warmed by name), and drops it', async () => {
    makeTree(base);
    const cacheDir = `${base}-cache`;
    await settle();
    await warmOnce(cacheDir);
    const listed = engines.open({ root: base, cacheDir, workers: 1 });
    expect((await listed.warm({ files: ['g/h/skip.ts'] })).parsed).toBe(1); // ignored by g/h/.gitignore
    await listed.close();
    // Every directory and file unchanged, but the index has 11 records for the walk's 10 files.
    expect(await warmOnce(cacheDir)).toMatchObject({ files: 10, parsed: 0, fromDisk: 10, answeredByCheck: false });
    expect(await warmOnce(cacheDir)).toMatchObject({ files: 10, parsed: 0, fromDisk: 10, answeredByCheck: true });
    const again = engines.open({ root: base, cacheDir, workers: 1 });
    expect((await again.warm({ files: ['g/h/skip.ts'] })).parsed).toBe(1); // its record was dropped
  });
});
