import { AdaptiveSizer, GROW_FACTOR, MIN_ACCESSES_PER_SAMPLE, SHRINK_FACTOR, WINDOW, type LevelReading, type SizedLevel } from '../engine/memory/adaptive-sizing.js';
import { createEngine, type Engine } from '../engine/engine.js';
import { resolveOptions } from '../engine/config/options.js';
import { MEBIBYTE } from '../engine/config/units.js';
import { makeTree, type TempTree } from './helpers/temp-tree.js';

const MB = MEBIBYTE;

/** Feeds the sizer samples of the given hit rates (100 accesses each) for one level; returns all changes. */
function feed(sizer: AdaptiveSizer, state: { hits: number; misses: number; budget: number }, rates: readonly number[], pressure = false) {
  const changes = [];
  for (const rate of rates) {
    state.hits += Math.round(rate * 100);
    state.misses += 100 - Math.round(rate * 100);
    const idle: LevelReading = { hits: 0, misses: 0, budget: 10 * MB };
    const levels: Record<SizedLevel, LevelReading> = { content: { ...state }, ast: idle };
    for (const change of sizer.tick(levels, pressure)) {
      if (change.level === 'content') state.budget = change.to;
      changes.push(change);
    }
  }
  return changes;
}

const bounds = { content: { min: 25 * MB, max: 150 * MB }, ast: { min: 5 * MB, max: 20 * MB } };

describe('AdaptiveSizer (the predecessor rule)', () => {
  it('decides nothing before two windows of samples, then grows a level whose hit rate fell', () => {
    const sizer = new AdaptiveSizer(bounds);
    const state = { hits: 0, misses: 0, budget: 75 * MB };
    expect(feed(sizer, state, [0.9])).toEqual([]); // the first reading only sets the baseline
    expect(feed(sizer, state, Array(WINDOW).fill(0.9))).toEqual([]);
    expect(feed(sizer, state, Array(WINDOW - 1).fill(0.6))).toEqual([]);
    const [change, ...rest] = feed(sizer, state, [0.6]);
    expect(rest).toEqual([]);
    expect(change).toMatchObject({ level: 'content', from: 75 * MB, to: Math.round(75 * MB * GROW_FACTOR), reason: 'hit-rate-falling' });
    expect(change!.hitRate).toBeCloseTo(0.6, 5);
  });

  it('shrinks a level whose hit rate is high and stable, never below its minimum', () => {
    const sizer = new AdaptiveSizer(bounds);
    const state = { hits: 0, misses: 0, budget: 30 * MB };
    const changes = feed(sizer, state, Array(1 + 2 * WINDOW * 4).fill(0.99));
    expect(changes[0]).toMatchObject({ from: 30 * MB, to: Math.round(30 * MB * SHRINK_FACTOR), reason: 'hit-rate-high' });
    expect(state.budget).toBe(25 * MB);
    for (const change of changes) expect(change.to).toBeGreaterThanOrEqual(25 * MB);
  });

  it('never grows a level past its maximum, however long the hit rate keeps falling', () => {
    const sizer = new AdaptiveSizer(bounds);
    const state = { hits: 0, misses: 0, budget: 140 * MB };
    let rate = 1;
    const rates: number[] = [1];
    for (let i = 0; i < 200; i++) rates.push((rate = Math.max(0, rate - 0.01)));
    const changes = feed(sizer, state, rates);
    expect(changes.length).toBeGreaterThan(0);
    expect(state.budget).toBe(150 * MB);
    for (const change of changes) expect(change.to).toBeLessThanOrEqual(150 * MB);
  });

  it('shrinks every level under memory pressure, down to the minimum', () => {
    const sizer = new AdaptiveSizer(bounds);
    const state = { hits: 0, misses: 0, budget: 26 * MB };
    const changes = feed(sizer, state, [0.5, 0.5], true);
    expect(changes.map((change) => [change.level, change.reason])).toContainEqual(['content', 'memory-pressure']);
    expect(changes.map((change) => change.level)).toContain('ast');
    expect(state.budget).toBe(25 * MB);
  });

  it('ignores idle intervals and refuses bounds that make no sense', () => {
    const sizer = new AdaptiveSizer(bounds);
    const levels = (hits: number): Record<SizedLevel, LevelReading> => ({ content: { hits, misses: 0, budget: 75 * MB }, ast: { hits: 0, misses: 0, budget: 10 * MB } });
    sizer.tick(levels(0), false);
    for (let i = 1; i <= 100; i++) expect(sizer.tick(levels(0), false)).toEqual([]);
    // Accesses of quiet intervals add up until a sample says something: 2 × WINDOW samples, then a decision.
    const changes = [];
    for (let i = 1; i <= 2 * WINDOW * 2; i++) changes.push(...sizer.tick(levels(i * Math.ceil(MIN_ACCESSES_PER_SAMPLE / 2)), false));
    expect(changes).toHaveLength(1);
    expect(() => new AdaptiveSizer({ ...bounds, ast: { min: 10, max: 5 } })).toThrow(RangeError);
  });
});

describe('adaptive sizing in the engine', () => {
  let tree: TempTree;
  let engine: Engine | undefined;
  beforeAll(() => {
    tree = makeTree();
    for (let i = 0; i < 2_000; i++) tree.write(`src/file-${i}.ts`, `export const v${i} = ${i};\n`);
  });
  afterEach(async () => {
    await engine?.close();
    engine = undefined;
  });
  afterAll(() => tree.remove());

  it('grows L1 when its hit rate falls, logs each change in stats, and never passes contentBudgetMax', async () => {
    const budget = 4 * MB;
    engine = createEngine({ root: tree.root, executor: 'in-thread', persist: false, adaptiveSizing: true, contentBudget: budget, contentBudgetMax: Math.round(budget * 1.1) }, { env: {}, readConfigFile: false });
    const read = async (from: number, count: number): Promise<void> => {
      for (let i = from; i < from + count; i++) await engine!.content(`src/file-${i}.ts`);
    };
    const changes = engine.adaptSizes();
    // Two windows of hits on the same 60 files, then two windows of reads of new files (all misses).
    for (let tick = 0; tick < 2 * WINDOW; tick++) {
      await read(0, 60);
      changes.push(...engine.adaptSizes());
    }
    expect(changes).toEqual([]);
    let next = 60;
    for (let tick = 0; tick < 2 * WINDOW; tick++) {
      await read(next, 60);
      next += 60;
      changes.push(...engine.adaptSizes());
    }
    // GROW_FACTOR would pass the maximum: the growth stops at it.
    expect(GROW_FACTOR).toBeGreaterThan(1.1);
    expect(changes).toEqual([expect.objectContaining({ level: 'content', from: budget, to: Math.round(budget * 1.1), reason: 'hit-rate-falling' })]);
    const stats = engine.stats();
    expect(stats.content.budget).toBe(Math.round(budget * 1.1));
    expect(stats.adaptiveSizing).toMatchObject({ enabled: true, bounds: { content: { max: Math.round(budget * 1.1) } } });
    expect(stats.adaptiveSizing.changes).toEqual(changes);
    expect(stats.levels.content.bytes).toBeLessThanOrEqual(stats.content.budget);
  });

  it('is off in the CI profile and when asked, and a budget above the profile maximum raises the maximum', async () => {
    expect(resolveOptions({ profile: 'ci' }, { env: {}, readConfigFile: false }).adaptiveSizing).toBe(false);
    expect(resolveOptions({ profile: 'development' }, { env: {}, readConfigFile: false })).toMatchObject({ adaptiveSizing: true, contentBudgetMax: 150 * MB, astBudgetMax: 1000 * MB });
    expect(resolveOptions({ contentBudget: '400MB' }, { env: {}, readConfigFile: false }).contentBudgetMax).toBe(400 * MB);
    engine = createEngine({ root: tree.root, executor: 'in-thread', persist: false, adaptiveSizing: false }, { env: {}, readConfigFile: false });
    expect(engine.adaptSizes()).toEqual([]);
    expect(engine.stats().adaptiveSizing).toEqual({ enabled: false, bounds: null, changes: [] });
  });
});
