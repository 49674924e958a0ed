/**
 * Predictive warming for one engine: learns from the files callers ask for (never from warming or
 * prefetching, which would only teach the model its own guesses), prefetches the likely next files,
 * loads what earlier runs learned and saves what this run learned. When `predictive` is off it only
 * counts how `ast()` calls were answered, so runs with and without it compare on the same figure.
 * Nothing here throws into a caller: an unreadable model is a warning and an empty model.
 */
import * as fs from 'node:fs';
import { isSourceFile } from '../discovery/source-files.js';
import { toAbsolute } from '../paths.js';
import type { AccessPatternLimits, AccessPatterns } from './access-patterns.js';
import { loadPatterns, savePatterns } from './patterns-file.js';
import { Prefetcher, type PrefetchHost, type PrefetchStats } from './prefetcher.js';

/** Predicted files queued per access: an analyzer following imports needs the next few, not dozens. */
export const PREFETCH_PER_ACCESS = 4;
/** Prefetch loads in flight per worker: enough to keep the pool fed, few enough to leave callers room. */
const PREFETCH_LOADS_PER_WORKER = 2;
const PREFETCH_MAX_QUEUED = 64;
const PREFETCH_MAX_TRACKED = 4096;

export interface PredictiveHost extends PrefetchHost {
  readonly root: string;
  /** Where the model is persisted; null when the engine runs in memory (then nothing is loaded or saved). */
  patternsFile(): string | null;
  warn(message: string): void;
}

export interface PredictiveOptions {
  readonly enabled: boolean;
  readonly workers: number;
  readonly limits?: Partial<AccessPatternLimits>;
}

/** How `ast()` calls were answered (warming and prefetching excluded): the hit rate callers saw. */
export interface AstAnswers {
  readonly memory: number;
  /** Answered below memory without a parse: the disk store, or (with a remote tier) the remote. */
  readonly disk: number;
  readonly parsed: number;
}

export interface PredictiveStats extends PrefetchStats {
  readonly enabled: boolean;
  /** Files the model knows (loaded and learned). */
  readonly learnedFiles: number;
  /** Accesses learned from in this run. */
  readonly accesses: number;
  /** Predicted files handed to the prefetcher. */
  readonly predictions: number;
  /** Pattern files found corrupt (removed and relearned). */
  readonly corruptPatternFiles: number;
  readonly astAnswers: AstAnswers;
}

export class PredictiveWarming {
  readonly #host: PredictiveHost;
  readonly #options: PredictiveOptions;
  readonly #prefetcher: Prefetcher;
  #patterns: AccessPatterns | null = null;
  #file: string | null = null;
  #accesses = 0;
  #predictions = 0;
  #corruptFiles = 0;
  readonly #answers = { memory: 0, disk: 0, parsed: 0 };

  constructor(host: PredictiveHost, options: PredictiveOptions) {
    this.#host = host;
    this.#options = options;
    this.#prefetcher = new Prefetcher(host, { concurrency: Math.max(1, options.workers) * PREFETCH_LOADS_PER_WORKER, maxQueued: PREFETCH_MAX_QUEUED, maxTracked: PREFETCH_MAX_TRACKED });
  }

  /** A caller asked for `path` (root-relative): learn it and queue what usually follows. */
  recordAccess(path: string): void {
    if (!this.#options.enabled) return;
    this.#accesses++;
    this.#prefetcher.noteAccess(path);
    const patterns = this.#model();
    patterns.record(path);
    // Callers may also read other files (package.json): only source files have an AST to prefetch.
    const next = patterns.predictNext(path, PREFETCH_PER_ACCESS).filter(isSourceFile);
    if (next.length === 0) return;
    this.#predictions += next.length;
    this.#prefetcher.request(next);
  }

  recordAstAnswer(from: keyof AstAnswers): void {
    this.#answers[from]++;
  }

  /** The learned startup set (up to `limit`), earliest-needed first; files gone (or not source) are forgotten. */
  startupSet(limit: number): string[] {
    if (!this.#options.enabled) return [];
    const patterns = this.#model();
    const wanted = patterns.startupSet(limit);
    const gone = wanted.filter((file) => !isSourceFile(file) || !fs.existsSync(toAbsolute(this.#host.root, file)));
    patterns.forget(gone);
    const goneSet = new Set(gone);
    return wanted.filter((file) => !goneSet.has(file));
  }

  /** Writes the model when it changed; a failure is a warning (the next run relearns). */
  save(): void {
    const patterns = this.#patterns;
    if (patterns === null || !patterns.changed || this.#file === null) return;
    try {
      savePatterns(this.#file, patterns.export());
      patterns.markSaved();
    } catch (error) {
      this.#host.warn(`could not save learned access patterns: ${(error as Error).message}`);
    }
  }

  /** Stops prefetching and waits for loads in flight (before the engine's pool closes). */
  async stop(): Promise<void> {
    await this.#prefetcher.stop();
  }

  /** Resolves when no prefetch is queued or running (tests, benchmarks). */
  idle(): Promise<void> {
    return this.#prefetcher.idle();
  }

  stats(): PredictiveStats {
    return {
      enabled: this.#options.enabled,
      learnedFiles: this.#patterns?.size ?? 0,
      accesses: this.#accesses,
      predictions: this.#predictions,
      corruptPatternFiles: this.#corruptFiles,
      astAnswers: { ...this.#answers },
      ...this.#prefetcher.stats(),
    };
  }

  /** The model, loaded from the patterns file on first need. */
  #model(): AccessPatterns {
    if (this.#patterns !== null) return this.#patterns;
    // Loaded on first need: a warm that parses nothing and serves no ast() call never learns.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { AccessPatterns: Patterns } = require('./access-patterns.js') as typeof import('./access-patterns.js');
    this.#file = this.#host.patternsFile();
    const loaded = this.#file === null ? ({ type: 'missing' } as const) : loadPatterns(this.#file);
    if (loaded.type === 'corrupt') {
      this.#corruptFiles++;
      this.#host.warn(`learned access patterns were corrupt (${loaded.reason}): removed, patterns will be relearned`);
    }
    this.#patterns = loaded.type === 'loaded' ? Patterns.fromLearned(loaded.files, this.#options.limits) : new Patterns(this.#options.limits);
    return this.#patterns;
  }
}
