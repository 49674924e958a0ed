import * as fs from 'node:fs';
import * as path from 'node:path';
import { AccessPatterns, type LearnedFile } from '../engine/prediction/access-patterns.js';
import { loadPatterns, PATTERNS_FORMAT, savePatterns } from '../engine/prediction/patterns-file.js';
import { writeChecksummedFile } from '../engine/store/checksummed-file.js';
import { Prefetcher, type PrefetchHost } from '../engine/prediction/prefetcher.js';
import { makeTree, type TempTree } from './helpers/temp-tree.js';

/** A clock the test moves by hand. */
function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let time = 1_000;
  return { now: () => time, advance: (ms) => void (time += ms) };
}

function followerWeights(patterns: AccessPatterns, file: string): Record<string, number> {
  return Object.fromEntries(patterns.describe(file)?.followers ?? []);
}

describe('AccessPatterns', () => {
  it('counts co-accesses by closeness in the window, without self-follows or credit for immediate repeats', () => {
    const patterns = new AccessPatterns({ window: 3 });
    for (const file of ['a.ts', 'b.ts', 'b.ts', 'c.ts', 'a.ts']) patterns.record(file);
    expect(followerWeights(patterns, 'a.ts')).toEqual({ 'b.ts': 1, 'c.ts': 0.5 });
    expect(followerWeights(patterns, 'b.ts')).toEqual({ 'c.ts': 1, 'a.ts': 0.5 });
    expect(followerWeights(patterns, 'c.ts')).toEqual({ 'a.ts': 1 });
    expect(patterns.describe('a.ts')?.weight).toBe(2);
    expect(patterns.describe('b.ts')?.weight).toBe(2);
    expect(patterns.predictNext('a.ts', 5)).toEqual(['b.ts', 'c.ts']);
    expect(patterns.predictNext('a.ts', 1)).toEqual(['b.ts']);
    expect(patterns.predictNext('unknown.ts', 5)).toEqual([]);
  });

  it('predicts only followers seen often enough relative to their file', () => {
    const patterns = new AccessPatterns({ window: 1, minConfidence: 0.3 });
    for (let i = 0; i < 9; i++) patterns.record('hub.ts');
    patterns.record('hub.ts');
    patterns.record('rare.ts'); // followed hub once in 10 accesses
    expect(patterns.predictNext('hub.ts', 4)).toEqual([]);
    for (let i = 0; i < 6; i++) (patterns.record('hub.ts'), patterns.record('often.ts')); // 6 of hub's 16 accesses
    expect(patterns.predictNext('hub.ts', 4)).toEqual(['often.ts']);
  });

  it('stays within its file and follower bounds however many files it sees', () => {
    const patterns = new AccessPatterns({ maxFiles: 40, maxFollowers: 3, window: 8 });
    for (let i = 0; i < 2_000; i++) patterns.record(`f${i % 500}.ts`);
    expect(patterns.size).toBeLessThanOrEqual(45); // maxFiles plus the pruning slack
    for (const file of patterns.export()) expect(file.followers.length).toBeLessThanOrEqual(3);
  });

  it('decays every weight when a new session starts recording, and forgets what fades out', () => {
    const earlier: LearnedFile[] = [
      { path: 'kept.ts', weight: 1, meanIntervalMs: null, firstAccessMs: 0, followers: [['faint.ts', 0.5]] },
      { path: 'faint.ts', weight: 0.06, meanIntervalMs: null, firstAccessMs: 5, followers: [] },
    ];
    const patterns = AccessPatterns.fromLearned(earlier, { sessionDecay: 0.8, minWeight: 0.05 });
    expect(patterns.size).toBe(2); // loading alone decays nothing
    patterns.record('new.ts');
    expect(patterns.describe('kept.ts')?.weight).toBeCloseTo(0.8);
    expect(followerWeights(patterns, 'kept.ts')).toEqual({ 'faint.ts': 0.4 });
    expect(patterns.describe('faint.ts')).toBeUndefined();
    expect(patterns.export().find((file) => file.path === 'kept.ts')?.followers).toEqual([]); // no follower the model no longer knows
  });

  it('learns the mean interval between accesses and when a run first needs each file', () => {
    const clock = manualClock();
    const patterns = new AccessPatterns({}, clock.now);
    patterns.record('a.ts');
    clock.advance(50);
    patterns.record('b.ts');
    clock.advance(50);
    patterns.record('a.ts');
    clock.advance(200);
    patterns.record('a.ts');
    const a = patterns.describe('a.ts')!;
    expect(a.meanIntervalMs).toBeCloseTo(100 + 0.3 * (200 - 100));
    expect(a.firstAccessMs).toBe(0);
    expect(patterns.describe('b.ts')?.firstAccessMs).toBe(50);
    expect(patterns.describe('b.ts')?.meanIntervalMs).toBeNull();
    expect(patterns.expectedNextAccessMs('a.ts')).toBeCloseTo(clock.now() + 130);
    expect(patterns.expectedNextAccessMs('b.ts')).toBeNull();
  });

  it('starts a run with the most used files, ordered by when runs first need them', () => {
    const learned = (file: string, weight: number, firstAccessMs: number | null): LearnedFile => ({ path: file, weight, meanIntervalMs: null, firstAccessMs, followers: [] });
    const patterns = AccessPatterns.fromLearned([learned('late.ts', 5, 900), learned('early.ts', 3, 10), learned('rare.ts', 0.5, 0), learned('never-timed.ts', 4, null)]);
    expect(patterns.startupSet(3)).toEqual(['early.ts', 'late.ts', 'never-timed.ts']);
    expect(patterns.startupSet(0)).toEqual([]);
  });
});

describe('patterns file', () => {
  let tree: TempTree;
  let file: string;
  beforeEach(() => {
    tree = makeTree();
    file = path.join(tree.root, 'patterns', 'root.bin');
  });
  afterEach(() => tree.remove());

  it('round-trips what was learned, owner-only', () => {
    const patterns = new AccessPatterns({ window: 4 });
    for (const name of ['src/a.ts', 'src/b.ts', 'src/c.ts', 'src/a.ts', 'src/b.ts']) patterns.record(name);
    savePatterns(file, patterns.export());
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const loaded = loadPatterns(file);
    expect(loaded.type).toBe('loaded');
    if (loaded.type !== 'loaded') return;
    const restored = AccessPatterns.fromLearned(loaded.files);
    const sorted = (files: LearnedFile[]): LearnedFile[] => files.map((entry) => ({ ...entry, followers: [...entry.followers].sort() })).sort((x, y) => (x.path < y.path ? -1 : 1));
    expect(sorted(restored.export())).toEqual(sorted(patterns.export()));
    expect(restored.predictNext('src/a.ts', 2)).toEqual(patterns.predictNext('src/a.ts', 2));
  });

  it('reports a missing file as missing', () => {
    expect(loadPatterns(file)).toEqual({ type: 'missing' });
  });

  const hostile: [string, (target: string) => void][] = [
    ['random bytes', (target) => fs.writeFileSync(target, Buffer.from('not a patterns file at all, just garbage bytes'))],
    ['an empty file', (target) => fs.writeFileSync(target, '')],
    ['a flipped body byte', (target) => {
      savePatterns(target, [{ path: 'a.ts', weight: 1, meanIntervalMs: null, firstAccessMs: 0, followers: [] }]);
      const bytes = fs.readFileSync(target);
      const at = bytes.length - 2;
      bytes.writeUInt8(bytes.readUInt8(at) ^ 0xff, at);
      fs.writeFileSync(target, bytes);
    }],
    ['a path leaving the root', (target) => savePatterns(target, [{ path: '../outside.ts', weight: 1, meanIntervalMs: null, firstAccessMs: 0, followers: [] }])],
    ['an absolute path', (target) => savePatterns(target, [{ path: '/etc/passwd', weight: 1, meanIntervalMs: null, firstAccessMs: 0, followers: [] }])],
    ['a follower index out of range', (target) => writeChecksummedFile(target, PATTERNS_FORMAT, [['a.ts', 1, null, null, [7, 1]]])],
    ['a negative weight', (target) => writeChecksummedFile(target, PATTERNS_FORMAT, [['a.ts', -1, null, null, []]])],
    ['a duplicated path', (target) => writeChecksummedFile(target, PATTERNS_FORMAT, [['a.ts', 1, null, null, []], ['a.ts', 1, null, null, []]])],
    ['a map instead of rows', (target) => writeChecksummedFile(target, PATTERNS_FORMAT, { files: ['a.ts'] })],
  ];
  it.each(hostile)('detects %s: reported corrupt, removed, never thrown', (_name, write) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    write(file);
    const loaded = loadPatterns(file);
    expect(loaded.type).toBe('corrupt');
    expect(fs.existsSync(file)).toBe(false);
  });
});

describe('Prefetcher', () => {
  /** A host whose loads resolve when the test says so. */
  function fakeHost(options: { room?: () => boolean; fail?: (file: string) => boolean } = {}): PrefetchHost & { started: string[]; maxRunning: number; finish: () => void } {
    const pending: (() => void)[] = [];
    let running = 0;
    const host = {
      started: [] as string[],
      maxRunning: 0,
      load(file: string): Promise<unknown> {
        host.started.push(file);
        running++;
        host.maxRunning = Math.max(host.maxRunning, running);
        return new Promise((resolve, reject) =>
          pending.push(() => {
            running--;
            if (options.fail?.(file)) reject(new Error('gone'));
            else resolve(undefined);
          }),
        );
      },
      isLoaded: (file: string) => file === 'loaded.ts',
      hasRoom: () => options.room?.() ?? true,
      finish: () => {
        for (const settle of pending.splice(0)) settle();
      },
    };
    return host;
  }
  const settle = async (host: { finish: () => void }, prefetcher: Prefetcher): Promise<void> => {
    for (let i = 0; i < 20; i++) {
      host.finish();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await prefetcher.idle();
  };

  it('never loads in the caller’s tick and keeps loads in flight bounded', async () => {
    const host = fakeHost();
    const prefetcher = new Prefetcher(host, { concurrency: 2, maxQueued: 10, maxTracked: 10 });
    prefetcher.request(['a.ts', 'b.ts', 'c.ts', 'd.ts', 'loaded.ts']);
    expect(host.started).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(host.started).toEqual(['a.ts', 'b.ts']);
    await settle(host, prefetcher);
    expect(host.started).toEqual(['a.ts', 'b.ts', 'c.ts', 'd.ts']);
    expect(host.maxRunning).toBe(2);
    expect(prefetcher.stats()).toEqual({ issued: 4, hits: 0, failures: 0, skipped: 1 });
  });

  it('counts a later access of a prefetched file as a hit, once, and failures without throwing', async () => {
    const host = fakeHost({ fail: (file) => file === 'gone.ts' });
    const prefetcher = new Prefetcher(host, { concurrency: 4, maxQueued: 10, maxTracked: 10 });
    prefetcher.request(['a.ts', 'gone.ts']);
    await settle(host, prefetcher);
    expect(prefetcher.noteAccess('a.ts')).toBe(true);
    expect(prefetcher.noteAccess('a.ts')).toBe(false);
    expect(prefetcher.noteAccess('gone.ts')).toBe(false);
    expect(prefetcher.stats()).toMatchObject({ issued: 2, hits: 1, failures: 1 });
  });

  it('drops its queue when memory is tight, and the oldest requests past its bound', async () => {
    let room = false;
    const host = fakeHost({ room: () => room });
    const prefetcher = new Prefetcher(host, { concurrency: 1, maxQueued: 2, maxTracked: 10 });
    prefetcher.request(['a.ts', 'b.ts', 'c.ts']); // a.ts dropped: the queue holds two
    await settle(host, prefetcher);
    expect(host.started).toEqual([]);
    expect(prefetcher.stats()).toMatchObject({ issued: 0, skipped: 3 });
    room = true;
    prefetcher.request(['d.ts']);
    await settle(host, prefetcher);
    expect(host.started).toEqual(['d.ts']);
  });
});
