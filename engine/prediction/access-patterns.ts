/**
 * The access-pattern learner behind predictive warming: which files an analyzer uses together
 * (co-access) and when (intervals), learned from the paths it asks for, bounded, and exportable as
 * plain data for the patterns file.
 *
 * Co-access is directional ("B tends to follow A"): an analyzer following imports asks for a file
 * and then for what it imports, so what followed a file last time is what to prefetch when it is
 * asked for again. Each access credits the files of a short sliding window of recent distinct
 * accesses, the closest one most (1 / distance).
 *
 * Bounded: at most `maxFiles` files (the least-used go first) with at most `maxFollowers` followers
 * each. Decay: at the start of every session that records anything, every weight is multiplied by
 * `sessionDecay` and weights below `minWeight` are forgotten, so old habits fade and a file that is
 * never used again leaves the model after a few runs.
 */

export interface AccessPatternLimits {
  /** Files tracked; past it, the lowest weights are dropped. @default 4096 */
  readonly maxFiles: number;
  /** Followers kept per file (the heaviest). @default 16 */
  readonly maxFollowers: number;
  /** Recent distinct accesses credited by each new access. @default 8 */
  readonly window: number;
  /** Factor applied to every weight when a new session starts recording. @default 0.8 */
  readonly sessionDecay: number;
  /** Weights below this are forgotten at decay time. @default 0.05 */
  readonly minWeight: number;
  /** A follower is predicted when its weight is at least this share of its file's. @default 0.2 */
  readonly minConfidence: number;
}

export const DEFAULT_PATTERN_LIMITS: AccessPatternLimits = {
  maxFiles: 4096,
  maxFollowers: 16,
  window: 8,
  sessionDecay: 0.8,
  minWeight: 0.05,
  minConfidence: 0.2,
};

/** Smoothing of the interval averages: recent runs count most (about the last five intervals). */
const INTERVAL_SMOOTHING = 0.3;
/** Files dropped in one go when over `maxFiles`, as a share of it: pruning is amortised. */
const PRUNE_SLACK = 1 / 8;

/** One file as learned, in plain data (what the patterns file stores). */
export interface LearnedFile {
  /** Root-relative path with '/' separators. */
  readonly path: string;
  /** Decayed access count. */
  readonly weight: number;
  /** Smoothed time between two accesses of this file within a session; null until seen twice. */
  readonly meanIntervalMs: number | null;
  /** Smoothed time from a session's first access to this file's first access in it. */
  readonly firstAccessMs: number | null;
  /** Files that followed this one, with their decayed co-access weights. */
  readonly followers: readonly (readonly [path: string, weight: number])[];
}

interface FilePattern {
  weight: number;
  meanIntervalMs: number | null;
  firstAccessMs: number | null;
  readonly followers: Map<string, number>;
  /** This session only: when it was last accessed (null: not yet in this session). */
  lastAccessMs: number | null;
}

export class AccessPatterns {
  readonly limits: AccessPatternLimits;
  readonly #files = new Map<string, FilePattern>();
  /** Most recent distinct accesses, oldest first. */
  readonly #window: string[] = [];
  readonly #now: () => number;
  #sessionStartMs: number | null = null;
  #changed = false;

  /** @param now a monotonic clock in ms (injected by tests). */
  constructor(limits: Partial<AccessPatternLimits> = {}, now: () => number = () => performance.now()) {
    this.limits = { ...DEFAULT_PATTERN_LIMITS, ...limits };
    this.#now = now;
  }

  /** A learner that continues from what an earlier run learned (already validated plain data). */
  static fromLearned(files: readonly LearnedFile[], limits: Partial<AccessPatternLimits> = {}, now?: () => number): AccessPatterns {
    const patterns = new AccessPatterns(limits, now);
    for (const file of files) {
      const followers = new Map<string, number>();
      for (const [follower, weight] of file.followers) if (follower !== file.path) followers.set(follower, weight);
      patterns.#files.set(file.path, { weight: file.weight, meanIntervalMs: file.meanIntervalMs, firstAccessMs: file.firstAccessMs, followers, lastAccessMs: null });
      trimFollowers(followers, patterns.limits.maxFollowers);
    }
    patterns.#pruneFiles(patterns.limits.maxFiles);
    return patterns;
  }

  /** Files the model knows. */
  get size(): number {
    return this.#files.size;
  }

  /** True when something was learned (or forgotten) since the last `markSaved()`. */
  get changed(): boolean {
    return this.#changed;
  }

  markSaved(): void {
    this.#changed = false;
  }

  /** Learns one access to `path` (root-relative). */
  record(path: string): void {
    const now = this.#now();
    if (this.#sessionStartMs === null) this.#beginSession(now);
    this.#changed = true;
    let file = this.#files.get(path);
    if (file === undefined) {
      file = { weight: 0, meanIntervalMs: null, firstAccessMs: null, followers: new Map(), lastAccessMs: null };
      this.#files.set(path, file);
    }
    file.weight += 1;
    if (file.lastAccessMs === null) file.firstAccessMs = smooth(file.firstAccessMs, now - this.#sessionStartMs!);
    else file.meanIntervalMs = smooth(file.meanIntervalMs, now - file.lastAccessMs);
    file.lastAccessMs = now;
    this.#creditWindow(path);
    if (this.#files.size > this.limits.maxFiles * (1 + PRUNE_SLACK)) this.#pruneFiles(this.limits.maxFiles);
  }

  /** The files most likely to be asked for after `path`, most likely first. */
  predictNext(path: string, limit: number): string[] {
    const file = this.#files.get(path);
    if (file === undefined || limit <= 0) return [];
    const threshold = file.weight * this.limits.minConfidence;
    return [...file.followers]
      .filter(([, weight]) => weight >= threshold)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, limit)
      .map(([follower]) => follower);
  }

  /**
   * What a new run should warm first: the `limit` most used files, ordered by when a run usually
   * first needs them (so a warm cut short by a limit still has the earliest ones ready).
   */
  startupSet(limit: number): string[] {
    const chosen = [...this.#files].sort((a, b) => b[1].weight - a[1].weight || (a[0] < b[0] ? -1 : 1)).slice(0, Math.max(0, limit));
    const when = (pattern: FilePattern): number => pattern.firstAccessMs ?? Infinity;
    return chosen.sort((a, b) => when(a[1]) - when(b[1]) || b[1].weight - a[1].weight).map(([path]) => path);
  }

  /** When `path` is expected again in this session (its last access + its mean interval); null if unknown. */
  expectedNextAccessMs(path: string): number | null {
    const file = this.#files.get(path);
    if (file?.lastAccessMs == null || file.meanIntervalMs === null) return null;
    return file.lastAccessMs + file.meanIntervalMs;
  }

  /** What is learned about one file, as plain data; undefined when unknown. */
  describe(path: string): LearnedFile | undefined {
    const file = this.#files.get(path);
    return file === undefined ? undefined : learned(path, file);
  }

  /** Drops files (e.g. deleted ones) from the model and from every follower list. */
  forget(paths: Iterable<string>): void {
    const gone = new Set(paths);
    if (gone.size === 0) return;
    for (const path of gone) if (this.#files.delete(path)) this.#changed = true;
    for (const file of this.#files.values()) for (const path of gone) if (file.followers.delete(path)) this.#changed = true;
  }

  /** Everything learned, as plain data; followers only among known files (what a file can store). */
  export(): LearnedFile[] {
    const out: LearnedFile[] = [];
    for (const [path, file] of this.#files) {
      const described = learned(path, file);
      out.push({ ...described, followers: described.followers.filter(([follower]) => this.#files.has(follower)) });
    }
    return out;
  }

  #beginSession(now: number): void {
    this.#sessionStartMs = now;
    const { sessionDecay, minWeight } = this.limits;
    for (const [path, file] of this.#files) {
      file.weight *= sessionDecay;
      if (file.weight < minWeight) {
        this.#files.delete(path);
        continue;
      }
      for (const [follower, weight] of file.followers) {
        if (weight * sessionDecay < minWeight) file.followers.delete(follower);
        else file.followers.set(follower, weight * sessionDecay);
      }
    }
  }

  /** Credits `path` as a follower of each file in the window, then moves it to the window's end. */
  #creditWindow(path: string): void {
    const window = this.#window;
    // An immediate repeat says nothing about what comes next.
    if (window[window.length - 1] === path) return;
    for (let i = window.length - 1, distance = 1; i >= 0; i--, distance++) {
      const previous = window[i]!;
      if (previous === path) continue;
      const file = this.#files.get(previous);
      if (file === undefined) continue; // pruned meanwhile
      file.followers.set(path, (file.followers.get(path) ?? 0) + 1 / distance);
      trimFollowers(file.followers, this.limits.maxFollowers);
    }
    const at = window.indexOf(path);
    if (at >= 0) window.splice(at, 1);
    window.push(path);
    if (window.length > this.limits.window) window.shift();
  }

  #pruneFiles(keep: number): void {
    if (this.#files.size <= keep) return;
    const lightest = [...this.#files].sort((a, b) => a[1].weight - b[1].weight).slice(0, this.#files.size - keep);
    for (const [path] of lightest) this.#files.delete(path);
    this.#changed = true;
  }
}

function smooth(mean: number | null, sample: number): number {
  return mean === null ? sample : mean + INTERVAL_SMOOTHING * (sample - mean);
}

/** Keeps the `max` heaviest followers (ties: the first credited stays). */
function trimFollowers(followers: Map<string, number>, max: number): void {
  if (followers.size <= max) return;
  const dropped = [...followers].sort((a, b) => b[1] - a[1]).slice(max);
  for (const [follower] of dropped) followers.delete(follower);
}

function learned(path: string, file: FilePattern): LearnedFile {
  return { path, weight: file.weight, meanIntervalMs: file.meanIntervalMs, firstAccessMs: file.firstAccessMs, followers: [...file.followers] };
}
