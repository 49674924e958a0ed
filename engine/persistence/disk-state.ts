/**
 * The disk level as one session: opens the cache directory on first need (an unusable one is a
 * warning and the engine runs in memory, never a fatal error), loads the persisted L3 results once,
 * and saves every level's state together — on demand, periodically (production) and at close.
 */
import { AstPersistence } from '../ast/ast-persistence.js';
import type { ResolvedOptions } from '../config/options.js';
import { logger } from '../ops/log.js';
import type { ResultsCache } from '../results/results-cache.js';
import { loadResults, saveResults } from '../results/results-file.js';

export interface DiskStateParts {
  readonly options: ResolvedOptions;
  readonly keyPrefix: string;
  readonly env: NodeJS.ProcessEnv;
  readonly results: ResultsCache;
  /** Where problems go (the next warm reports them). */
  warn(message: string): void;
  /** State of other parts saved with the index (learned access patterns), before it. */
  saveOthers(): void;
}

export class DiskState {
  readonly #parts: DiskStateParts;
  #persistence: AstPersistence | null = null;
  #opened = false;
  #resultsLoaded = false;

  constructor(parts: DiskStateParts) {
    this.#parts = parts;
  }

  /** The disk level, opened on first call; null when persistence is off, unusable, or closed. */
  open(): AstPersistence | null {
    if (!this.#opened) {
      this.#opened = true;
      if (this.#parts.options.persist) {
        const opened = AstPersistence.open(this.#parts.options, this.#parts.keyPrefix, this.#parts.env);
        this.#persistence = opened.persistence;
        logger.debug('disk level', { dir: opened.dir, indexedFiles: opened.persistence?.indexSize ?? 0, warning: opened.warning });
        if (opened.warning !== null) this.#parts.warn(`running in memory: ${opened.warning}`);
      }
    }
    return this.#persistence;
  }

  /** The disk level if it was opened (never opens it: stats must not touch the disk). */
  get current(): AstPersistence | null {
    return this.#persistence;
  }

  /** Loads persisted L3 results once (they are keyed by state: only valid ones can ever be hit). */
  loadResults(): void {
    if (this.#resultsLoaded) return;
    this.#resultsLoaded = true;
    const persistence = this.open();
    if (persistence === null) return;
    const loaded = loadResults(persistence.resultsFile);
    if (loaded.corrupt) {
      persistence.countCorruptResults();
      this.#parts.warn('results file was corrupt: removed, results will be recomputed');
    }
    const results = this.#parts.results;
    results.load(loaded.results);
    results.dirty = false;
  }

  /** Writes the index, the other parts' state and the L3 results now; a failure is logged, never thrown. */
  save(): void {
    const persistence = this.#persistence;
    if (persistence === null) return;
    try {
      this.#saveAll(persistence);
      logger.debug('state saved', { dir: persistence.dir });
    } catch (error) {
      logger.warn('could not save state', { message: (error as Error).message });
    }
  }

  /** Waits for background writes, saves everything and releases the directory; later calls find it closed. */
  async close(): Promise<void> {
    const persistence = this.#persistence;
    this.#persistence = null;
    this.#opened = true;
    if (persistence === null) return;
    try {
      await persistence.settle();
      this.#saveAll(persistence);
    } finally {
      persistence.close();
    }
  }

  #saveAll(persistence: AstPersistence): void {
    this.#parts.saveOthers();
    persistence.save();
    const results = this.#parts.results;
    if (results.dirty) {
      saveResults(persistence.resultsFile, results.entries());
      results.dirty = false;
    }
  }
}
