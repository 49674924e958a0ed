/**
 * The directory snapshot (issue 19) on real files: a walk given the snapshot of an earlier walk
 * reuses the listing of every directory whose stamp is unchanged, and still reports exactly what a
 * walk without it reports after files are added, removed, renamed or edited in any directory, after
 * a real `git checkout` of another branch, after a tool puts a directory's mtime back, after a
 * `.gitignore` is edited in place; a racy directory (changed within the racy window of the walk)
 * is listed again. End to end through the engine: an edit is re-parsed, an old-format index is a
 * full walk, never an error.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { discoverSourceFiles, type DirectorySnapshot, type DiscoveryEvent } from '../engine/discovery/discovery.js';
import { RACY_WINDOW_MS } from '../engine/discovery/directory-snapshot.js';
import { decodeIndex, encodeIndex } from '../engine/store/root-index-codec.js';
import { RootIndexFile } from '../engine/store/root-index.js';
import type { Engine } from '../engine/engine.js';
import { xxh64 } from '../native-bindings/hash.js';
import { gitIn } from './helpers/git.js';
import { OpenEngines } from './helpers/engines.js';
import { sleep } from './helpers/sleep.js';

let base: string;
const engines = new OpenEngines();

beforeEach(() => {
  base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'strata-dirsnap-')));
});

afterEach(async () => {
  await engines.closeAll();
  fs.rmSync(base, { recursive: true, force: true });
});

function write(root: string, rel: string, content = 'export {};\n'): void {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
}

/** A tree of several levels: files in the root and in nested directories, one `.gitignore` deep down. */
function makeTree(root: string): void {
  for (const rel of ['index.ts', 'a/a.ts', 'a/b/b.ts', 'a/b/c/c.ts', 'a/b/c/d/d.js', 'e/e.tsx', 'e/f/f.mts', 'g/h/i/j/k.ts', 'g/h/i/j/l.ts', 'g/h/keep.ts', 'g/h/skip.ts', 'g/h/gen/out.ts']) write(root, rel);
  write(root, 'g/h/.gitignore', 'skip.ts\ngen/\n');
  write(root, 'README.md', '# not a source file\n');
}

interface Walked {
  readonly events: DiscoveryEvent[];
  readonly snapshot: DirectorySnapshot;
  readonly listed: number;
  readonly reused: number;
  readonly changed: boolean;
}

async function walk(root: string, snapshot: DirectorySnapshot | null): Promise<Walked> {
  const events: DiscoveryEvent[] = [];
  let taken: Omit<Walked, 'events'> | null = null;
  const options = { includeNodeModules: false, maxFileSize: 1 << 20, snapshot, onSnapshot: (s: DirectorySnapshot, t: { listed: number; reused: number; changed: boolean }) => void (taken = { snapshot: s, ...t }) };
  for await (const event of discoverSourceFiles(root, options)) events.push(event);
  if (taken === null) throw new Error('the walk took no snapshot');
  return { events, ...(taken as Omit<Walked, 'events'>) };
}

/** What a walk reports, comparable: each event with the stat fields a restart compares. */
function reported(events: readonly DiscoveryEvent[]): unknown[] {
  return events.map((event) => (event.type === 'file' ? { path: event.path, size: event.size, mtimeMs: event.stats.mtimeMs, ctimeMs: event.stats.ctimeMs, ino: event.stats.ino } : event));
}

async function plainWalk(root: string): Promise<unknown[]> {
  const events: DiscoveryEvent[] = [];
  for await (const event of discoverSourceFiles(root, { includeNodeModules: false, maxFileSize: 1 << 20 })) events.push(event);
  return reported(events);
}

const filesOf = (events: readonly DiscoveryEvent[]): string[] => events.flatMap((event) => (event.type === 'file' ? [event.path] : []));

/** Waits out the racy window, so that the next walk's snapshot holds trustworthy stamps. */
const settle = (): Promise<void> => sleep(RACY_WINDOW_MS + 100);

/** A snapshot of `root` that the next walk can use, checked to be used whole on an unchanged tree. */
async function trustedSnapshot(root: string): Promise<DirectorySnapshot> {
  await settle();
  const first = await walk(root, null);
  const again = await walk(root, first.snapshot);
  expect({ listed: again.listed, reused: again.reused, changed: again.changed }).toEqual({ listed: 0, reused: first.listed, changed: false });
  expect(reported(again.events)).toEqual(reported(first.events));
  return again.snapshot;
}

/** The walk with the snapshot reports exactly what a walk without one reports; answers it. */
async function expectSameAsPlainWalk(root: string, snapshot: DirectorySnapshot): Promise<Walked> {
  const walked = await walk(root, snapshot);
  expect(reported(walked.events)).toEqual(await plainWalk(root));
  return walked;
}

describe('directory snapshot: a walk reuses unchanged directories and misses no change', () => {
  it('reuses every listing of an unchanged tree, and reports the same files', async () => {
    makeTree(base);
    const snapshot = await trustedSnapshot(base);
    const walked = await expectSameAsPlainWalk(base, snapshot);
    expect(walked.listed).toBe(0);
    expect(filesOf(walked.events)).toEqual(['a/a.ts', 'a/b/b.ts', 'a/b/c/c.ts', 'a/b/c/d/d.js', 'e/e.tsx', 'e/f/f.mts', 'g/h/i/j/k.ts', 'g/h/i/j/l.ts', 'g/h/keep.ts', 'index.ts']);
  });

  it.each([
    ['a file added in the root', (root: string) => write(root, 'added.ts')],
    ['a file added four levels down', (root: string) => write(root, 'a/b/c/d/added.ts')],
    ['a file removed from a nested directory', (root: string) => fs.rmSync(path.join(root, 'a/b/b.ts'))],
    ['a file renamed within its directory', (root: string) => fs.renameSync(path.join(root, 'e/f/f.mts'), path.join(root, 'e/f/g.mts'))],
    ['a file moved to another directory', (root: string) => fs.renameSync(path.join(root, 'a/b/c/c.ts'), path.join(root, 'e/c.ts'))],
    ['a directory renamed', (root: string) => fs.renameSync(path.join(root, 'a/b'), path.join(root, 'a/renamed'))],
    ['a directory removed', (root: string) => fs.rmSync(path.join(root, 'g/h/i'), { recursive: true })],
    ['a new directory with files', (root: string) => write(root, 'e/new/deeper/n.ts')],
    ['a file replaced by a directory of the same name', (root: string) => (fs.rmSync(path.join(root, 'a/a.ts')), write(root, 'a/a.ts/inner.ts'))],
    ['a file edited in place (its directory stamp unchanged)', (root: string) => fs.writeFileSync(path.join(root, 'a/b/c/c.ts'), 'export const edited = 1;\n')],
  ])('sees %s', async (_name, change) => {
    makeTree(base);
    const snapshot = await trustedSnapshot(base);
    change(base);
    const walked = await expectSameAsPlainWalk(base, snapshot);
    expect(walked.reused).toBeGreaterThan(0); // the unchanged directories were still reused
  });

  it('sees a file added to a directory whose mtime a tool put back (its ctime still moves)', async () => {
    makeTree(base);
    const dir = path.join(base, 'a/b/c');
    const restored = 1_700_000_000; // whole seconds: what the tool puts back is exactly what was there
    fs.utimesSync(dir, restored, restored);
    const snapshot = await trustedSnapshot(base);
    const before = fs.statSync(dir);
    write(base, 'a/b/c/restored.ts');
    fs.utimesSync(dir, restored, restored);
    expect(fs.statSync(dir).mtimeMs).toBe(before.mtimeMs);
    const walked = await expectSameAsPlainWalk(base, snapshot);
    expect(filesOf(walked.events)).toContain('a/b/c/restored.ts');
    expect(walked.listed).toBe(1);
  });

  it('sees a .gitignore edited in place: the directory and everything below it are listed again', async () => {
    makeTree(base);
    const snapshot = await trustedSnapshot(base);
    const dir = path.join(base, 'g/h');
    const before = fs.statSync(dir);
    fs.writeFileSync(path.join(dir, '.gitignore'), 'keep.ts\ni/\n'); // skip.ts and gen/ come back, keep.ts and i/ go
    expect(fs.statSync(dir).mtimeMs).toBe(before.mtimeMs);
    const walked = await expectSameAsPlainWalk(base, snapshot);
    expect(filesOf(walked.events).filter((file) => file.startsWith('g/'))).toEqual(['g/h/gen/out.ts', 'g/h/skip.ts']);
  });

  it('sees a root .gitignore edited in place, which changes what is kept four levels down', async () => {
    makeTree(base);
    const snapshot = await trustedSnapshot(base);
    write(base, '.gitignore', '');
    const withEmpty = await trustedSnapshot(base);
    expect(withEmpty.walkKey).toBe(snapshot.walkKey);
    fs.writeFileSync(path.join(base, '.gitignore'), 'd.js\n');
    const walked = await expectSameAsPlainWalk(base, withEmpty);
    expect(filesOf(walked.events)).not.toContain('a/b/c/d/d.js');
  });

  it('lists a racy directory again: one changed within the racy window of the walk that took its stamp', async () => {
    makeTree(base);
    await settle();
    write(base, 'e/f/racy.ts'); // e/f changes now: the next walk's stamp of it is racy
    const first = await walk(base, null);
    const second = await walk(base, first.snapshot);
    // Nothing changed between the two walks, and yet e/f is listed: its stamp could hide a change
    // made within the same tick of a coarse file-system clock.
    expect(second.listed).toBe(1);
    expect(second.changed).toBe(true);
    expect(reported(second.events)).toEqual(reported(first.events));
    const row = first.snapshot.row('e/f');
    expect(Number.isNaN(first.snapshot.stamps[row * 4])).toBe(true);
    // Its stamp, taken again by the second walk outside the window, is trusted by the third.
    await settle();
    const third = await walk(base, (await walk(base, second.snapshot)).snapshot);
    expect(third.listed).toBe(0);
  });

  it('uses nothing of a snapshot taken under other options', async () => {
    makeTree(base);
    const snapshot = await trustedSnapshot(base);
    const events: DiscoveryEvent[] = [];
    let listed = -1;
    for await (const event of discoverSourceFiles(base, { includeNodeModules: false, maxFileSize: 1 << 20, excludeDirs: [path.join(base, 'e')], snapshot, onSnapshot: (_s, taken) => void (listed = taken.listed) })) events.push(event);
    expect(listed).toBe(snapshot.size - 2); // every directory listed but the excluded e and e/f
    expect(filesOf(events).some((file) => file.startsWith('e/'))).toBe(false);
  });

  it('sees every change of a real git checkout of another branch, and of the checkout back', async () => {
    const git = gitIn(base);
    git('init', '-q', '-b', 'main');
    makeTree(base);
    git('add', '-A');
    git('commit', '-q', '-m', 'main');
    git('checkout', '-q', '-b', 'other');
    fs.rmSync(path.join(base, 'a/b/c/d'), { recursive: true });
    git('mv', 'e/f/f.mts', 'g/h/i/f.mts');
    write(base, 'a/b/c/c.ts', 'export const c = 2;\n');
    write(base, 'e/added.ts');
    write(base, 'new/dir/n.ts');
    write(base, 'g/h/.gitignore', 'keep.ts\n');
    git('add', '-A');
    git('commit', '-q', '-m', 'other');
    git('checkout', '-q', 'main');
    const onMain = await trustedSnapshot(base);
    git('checkout', '-q', 'other');
    const onOther = await expectSameAsPlainWalk(base, onMain);
    expect(filesOf(onOther.events)).toEqual(expect.arrayContaining(['e/added.ts', 'g/h/i/f.mts', 'new/dir/n.ts', 'g/h/skip.ts']));
    expect(filesOf(onOther.events)).not.toContain('a/b/c/d/d.js');
    git('checkout', '-q', 'main');
    await expectSameAsPlainWalk(base, onOther.snapshot);
  });
});

describe('directory snapshot in the root index (format 2)', () => {
  it('round-trips with the records, and a stored name that would leave its directory is corrupt', async () => {
    makeTree(base);
    const { snapshot } = await walk(base, null);
    const decoded = decodeIndex(encodeIndex(new Map(), 'p', '.', snapshot), 'p');
    if (decoded.status !== 'loaded' || decoded.directories === null) throw new Error('no snapshot decoded');
    expect({ key: decoded.directories.walkKey, rels: decoded.directories.rels, items: decoded.directories.items, ignores: decoded.directories.gitignores, stamps: [...decoded.directories.stamps] }).toEqual({
      key: snapshot.walkKey,
      rels: snapshot.rels,
      items: snapshot.items,
      ignores: snapshot.gitignores,
      stamps: [...snapshot.stamps],
    });
    const bytes = encodeIndex(new Map(), 'p', '.', snapshot);
    const at = Buffer.from(bytes).indexOf('\0da/de/'); // the root's items begin after its (empty) path
    expect(at).toBeGreaterThan(0);
    // Same length, checksum fixed: only the validation can refuse it.
    const forged = Buffer.from(bytes);
    forged.write('\0d../de', at, 'latin1'); // a directory named ..
    forged.writeBigUInt64LE(xxh64(forged.subarray(12)), 4);
    expect(() => decodeIndex(new Uint8Array(forged.buffer, forged.byteOffset, forged.length), 'p')).toThrow(/not a root-relative path or items/);
  });

  it('an index of format 1 loads as no snapshot: the warm walks everything, parses, and saves format 2', async () => {
    makeTree(base);
    const cacheDir = path.join(base, '.cache');
    const first = engines.open({ root: base, cacheDir, workers: 1 });
    const cold = await first.warm();
    await first.close();
    expect(cold.parsed).toBe(10);
    const [indexName] = fs.readdirSync(path.join(cacheDir, 'indexes')).filter((name) => name.endsWith('.idx'));
    const indexPath = path.join(cacheDir, 'indexes', indexName!);
    const bytes = fs.readFileSync(indexPath);
    bytes.writeUInt16LE(1, 12); // format 1
    fs.writeFileSync(indexPath, bytes);
    const file = new RootIndexFile(path.dirname(indexPath), indexName!.replace(/\.idx$/, ''));
    expect(file.load('any').status).toBe('other-version');
    const engine = engines.open({ root: base, cacheDir, workers: 1 });
    const report = await engine.warm();
    expect({ files: report.files, parsed: report.parsed, failed: report.failed, warnings: report.warnings }).toEqual({ files: 10, parsed: 10, failed: [], warnings: [] });
    expect(fs.readFileSync(indexPath).readUInt16LE(12)).toBe(2);
  });
});

describe('directory snapshot through the engine (persisted, new engine each run)', () => {
  async function warmOnce(cacheDir: string): Promise<{ files: number; parsed: number; fromDisk: number }> {
    const engine: Engine = engines.open({ root: base, cacheDir, workers: 1 });
    const report = await engine.warm();
    await engine.close();
    return { files: report.files, parsed: report.parsed, fromDisk: report.fromDisk };
  }

  it('re-parses exactly the edited and added files, in any directory, and drops the removed ones', async () => {
    makeTree(base);
    const cacheDir = path.join(base, '.cache');
    await settle();
    expect(await warmOnce(cacheDir)).toEqual({ files: 10, parsed: 10, fromDisk: 0 });
    expect(await warmOnce(cacheDir)).toEqual({ files: 10, parsed: 0, fromDisk: 10 });
    await settle();
    write(base, 'a/b/c/d/d.js', 'export const edited = 1;\n'); // same directory stamp
    write(base, 'g/h/i/j/new.ts', 'export const n = 1;\n');
    fs.rmSync(path.join(base, 'e/f/f.mts'));
    expect(await warmOnce(cacheDir)).toEqual({ files: 10, parsed: 2, fromDisk: 8 });
    expect(await warmOnce(cacheDir)).toEqual({ files: 10, parsed: 0, fromDisk: 10 });
  });
});
