/**
 * Adaptive sizing of the in-memory levels (L1 content, L2 ASTs), the predecessor's rule: compare the
 * mean hit rate of the last WINDOW samples with the WINDOW before them; a falling hit rate grows the
 * level by GROW_FACTOR, a high and stable one shrinks it by SHRINK_FACTOR, memory pressure shrinks
 * every level. Budgets stay within [min, max]; max is the profile's (or the user's) maximum.
 * Pure bookkeeping: the engine samples the counters on a timer and applies what `tick` returns.
 */
export type SizedLevel = 'content' | 'ast';

export const SIZED_LEVELS: readonly SizedLevel[] = ['content', 'ast'];

/** Samples per half of the comparison (the predecessor's 10 against the 10 before). */
export const WINDOW = 10;
/** A drop of the mean hit rate by more than this grows the level. */
export const FALL_THRESHOLD = 0.05;
/** Above this mean hit rate, and stable, the level is larger than it needs to be. */
export const HIGH_HIT_RATE = 0.95;
/** "Stable": the mean moved by less than this. */
export const STABLE_DELTA = 0.01;
export const GROW_FACTOR = 1.2;
export const SHRINK_FACTOR = 0.9;
/** A sample with fewer accesses than this says nothing about the hit rate, and is not kept. */
export const MIN_ACCESSES_PER_SAMPLE = 50;

export interface LevelBounds {
  readonly min: number;
  readonly max: number;
}

/** Cumulative counters of a level, and its budget now. */
export interface LevelReading {
  readonly hits: number;
  readonly misses: number;
  readonly budget: number;
}

export type SizingReason = 'hit-rate-falling' | 'hit-rate-high' | 'memory-pressure';

export interface SizingChange {
  readonly at: string;
  readonly level: SizedLevel;
  readonly from: number;
  readonly to: number;
  readonly reason: SizingReason;
  /** Mean hit rate of the recent window when the change was made; null for memory pressure. */
  readonly hitRate: number | null;
}

interface LevelHistory {
  lastHits: number;
  lastMisses: number;
  rates: number[];
}

export class AdaptiveSizer {
  readonly bounds: Readonly<Record<SizedLevel, LevelBounds>>;
  readonly #history: Record<SizedLevel, LevelHistory | null> = { content: null, ast: null };

  constructor(bounds: Readonly<Record<SizedLevel, LevelBounds>>) {
    for (const level of SIZED_LEVELS) {
      const { min, max } = bounds[level];
      if (!(min > 0 && max >= min)) throw new RangeError(`adaptive sizing bounds of ${level}: need 0 < min ≤ max, got ${min}..${max}`);
    }
    this.bounds = bounds;
  }

  /** One sample per level; returns the budget changes to apply (already clamped to the bounds). */
  tick(levels: Readonly<Record<SizedLevel, LevelReading>>, memoryPressure: boolean, now: Date = new Date()): SizingChange[] {
    const changes: SizingChange[] = [];
    for (const level of SIZED_LEVELS) {
      const reading = levels[level];
      const decision = memoryPressure ? ({ reason: 'memory-pressure', hitRate: null } as const) : this.#sample(level, reading);
      if (decision === null) continue;
      const factor = decision.reason === 'hit-rate-falling' ? GROW_FACTOR : SHRINK_FACTOR;
      const { min, max } = this.bounds[level];
      const to = Math.round(Math.min(max, Math.max(min, reading.budget * factor)));
      if (to === reading.budget) continue;
      // The next decision is made on samples taken at the new size only.
      const history = this.#history[level];
      if (history) history.rates = [];
      changes.push({ at: now.toISOString(), level, from: reading.budget, to, reason: decision.reason, hitRate: decision.hitRate });
    }
    return changes;
  }

  #sample(level: SizedLevel, reading: LevelReading): { reason: SizingReason; hitRate: number } | null {
    const history = this.#history[level];
    if (history === null) {
      this.#history[level] = { lastHits: reading.hits, lastMisses: reading.misses, rates: [] };
      return null;
    }
    const hits = reading.hits - history.lastHits;
    const misses = reading.misses - history.lastMisses;
    if (hits + misses < MIN_ACCESSES_PER_SAMPLE) return null;
    history.lastHits = reading.hits;
    history.lastMisses = reading.misses;
    history.rates.push(hits / (hits + misses));
    if (history.rates.length > 2 * WINDOW) history.rates.shift();
    if (history.rates.length < 2 * WINDOW) return null;
    const older = mean(history.rates.slice(0, WINDOW));
    const recent = mean(history.rates.slice(WINDOW));
    if (older - recent > FALL_THRESHOLD) return { reason: 'hit-rate-falling', hitRate: recent };
    if (recent > HIGH_HIT_RATE && Math.abs(recent - older) < STABLE_DELTA) return { reason: 'hit-rate-high', hitRate: recent };
    return null;
  }
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** Changes kept for stats: the most recent ones. */
export const MAX_KEPT_CHANGES = 100;
/** The floor of a level: a third of its configured budget (the predecessor's 25 MB for a 75 MB L1). */
export const MIN_BUDGET_FRACTION = 1 / 3;

export interface SizingStats {
  readonly enabled: boolean;
  readonly bounds: Readonly<Record<SizedLevel, LevelBounds>> | null;
  /** Oldest first; at most MAX_KEPT_CHANGES. */
  readonly changes: readonly SizingChange[];
}

export interface SizedLevels {
  read(): Readonly<Record<SizedLevel, LevelReading>>;
  apply(level: SizedLevel, budget: number): void;
  /** True while the process is near its memory limit. */
  underPressure(): boolean;
  log(change: SizingChange): void;
}

/** A budgeted level as adaptive sizing reads and resizes it (L1's and L2's caches fit). */
export interface SizableLevel {
  readonly budget: number;
  snapshot(): { readonly hits: number; readonly misses: number };
  setBudget(budget: number): void;
}

/** {@link SizedLevels} over the caches themselves. */
export function sizedLevels(levels: Readonly<Record<SizedLevel, SizableLevel>>, underPressure: () => boolean, log: (change: SizingChange) => void): SizedLevels {
  const reading = (level: SizableLevel): LevelReading => {
    const { hits, misses } = level.snapshot();
    return { hits, misses, budget: level.budget };
  };
  return {
    read: () => ({ content: reading(levels.content), ast: reading(levels.ast) }),
    apply: (level, budget) => levels[level].setBudget(budget),
    underPressure,
    log,
  };
}

/** Samples the levels, applies the sizer's changes, and keeps them for stats. */
export class SizingController {
  readonly #sizer: AdaptiveSizer;
  readonly #levels: SizedLevels;
  readonly #changes: SizingChange[] = [];

  constructor(bounds: Readonly<Record<SizedLevel, LevelBounds>>, levels: SizedLevels) {
    this.#sizer = new AdaptiveSizer(bounds);
    this.#levels = levels;
  }

  static boundsFor(options: { readonly contentBudget: number; readonly contentBudgetMax: number; readonly astBudget: number; readonly astBudgetMax: number }): Record<SizedLevel, LevelBounds> {
    const floor = (budget: number): number => Math.max(1, Math.floor(budget * MIN_BUDGET_FRACTION));
    return {
      content: { min: floor(options.contentBudget), max: options.contentBudgetMax },
      ast: { min: floor(options.astBudget), max: options.astBudgetMax },
    };
  }

  tick(now?: Date): SizingChange[] {
    const changes = this.#sizer.tick(this.#levels.read(), this.#levels.underPressure(), now);
    for (const change of changes) {
      this.#levels.apply(change.level, change.to);
      this.#levels.log(change);
      this.#changes.push(change);
    }
    if (this.#changes.length > MAX_KEPT_CHANGES) this.#changes.splice(0, this.#changes.length - MAX_KEPT_CHANGES);
    return changes;
  }

  stats(): SizingStats {
    return { enabled: true, bounds: this.#sizer.bounds, changes: [...this.#changes] };
  }
}
