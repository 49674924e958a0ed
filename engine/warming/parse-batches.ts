/**
 * The warm's batches to the parse pool, with backpressure: files are sent once a batch holds
 * BATCH_TARGET_BYTES or BATCH_MAX_FILES, at most MAX_BATCHES_PER_WORKER batches per worker are in
 * flight, and the content they name stays pinned in L1 (never more than L1 holds below its
 * pressure line). Under a memory limit each batch waits for the governor's admission, and a
 * degrade drains the pool, halves the budgets and drops to one worker with one batch at a time.
 */
import * as os from 'node:os';
import type { CodecId } from '../../native-bindings/lz4.js';
import { encodeAstEntry } from '../../shared/ast-entry.js';
import type { FileOutcome, SlabFileRef } from '../../shared/protocol.js';
import type { AstCache } from '../ast/ast-cache.js';
import type { AstKey } from '../ast/keys.js';
import type { ContentCache, ContentEntry } from '../content/content-cache.js';
import type { Fingerprint } from '../content/fingerprint.js';
import type { ParsePool } from '../pool/parse-pool.js';
import type { Revision } from '../revision-clock.js';
import type { WarmLimits } from './warm-limits.js';

/** A batch is sent once it holds this many source bytes… */
export const BATCH_TARGET_BYTES = 256 * 1024;
/** …or this many files (many tiny files still make a useful task). */
export const BATCH_MAX_FILES = 256;
/** Batches queued per worker: one running, one waiting, so a worker never idles between tasks. */
export const MAX_BATCHES_PER_WORKER = 2;

/** A file read into L1 and waiting for its parse. */
export interface PendingFile {
  readonly ref: SlabFileRef;
  readonly key: AstKey;
  readonly fingerprint: Fingerprint;
  readonly hash: bigint;
  /** Its L1 entry, pinned until the outcome arrives; null for bytes L1 could not hold. */
  readonly pinned: ContentEntry | null;
  /** The clock when it was read: a result older than the file's last invalidation is never stored. */
  readonly revision: Revision;
}

export interface BatchHandlers {
  /** A batch's outcomes arrived (pins are already released). */
  parsed(files: readonly PendingFile[], outcomes: readonly FileOutcome[]): void;
  /** A batch finished, either way. */
  settled(): void;
}

export class ParseBatches {
  readonly #content: ContentCache;
  readonly #asts: AstCache;
  readonly #pool: ParsePool;
  readonly #limits: WarmLimits;
  readonly #entryCodec: CodecId | null;
  /**
   * The persisted entries (pack, lz4, framing: ~4% of a parse) are built here, on the coordinator,
   * instead of in the workers, when there are fewer workers than cores (`--workers 1` on two): the
   * coordinator is idle most of a cold warm, on a core of its own. The bytes are the same
   * (encodeAstEntry packs the AST itself when the worker did not).
   */
  readonly #entriesHere: boolean;
  readonly #handlers: BatchHandlers;
  readonly #inFlight = new Set<Promise<void>>();
  #maxInFlight: number;
  #targetBytes: number;
  #batch: PendingFile[] = [];
  #batchBytes = 0;

  constructor(levels: { content: ContentCache; asts: AstCache; pool: ParsePool; contentPressureThreshold: number }, limits: WarmLimits, entryCodec: CodecId | null, handlers: BatchHandlers) {
    this.#content = levels.content;
    this.#asts = levels.asts;
    this.#pool = levels.pool;
    this.#limits = limits;
    this.#entryCodec = entryCodec;
    this.#entriesHere = entryCodec !== null && levels.pool.workers < os.availableParallelism();
    this.#handlers = handlers;
    this.#maxInFlight = Math.max(1, levels.pool.workers) * MAX_BATCHES_PER_WORKER;
    // Content in flight stays pinned in L1: never pin more than L1 may hold below its pressure line.
    this.#targetBytes = Math.min(BATCH_TARGET_BYTES, Math.floor((levels.content.budget * levels.contentPressureThreshold) / (this.#maxInFlight + 1)));
  }

  /** Queues a file; sends the batch once it is full. */
  async add(file: PendingFile): Promise<void> {
    this.#batch.push(file);
    this.#batchBytes += file.ref.length;
    if (this.#batchBytes >= this.#targetBytes || this.#batch.length >= BATCH_MAX_FILES) await this.flush();
  }

  /** Sends the batch being filled, once a slot is free and the governor admits it. */
  async flush(): Promise<void> {
    if (this.#batch.length === 0) return;
    const files = this.#batch;
    const sourceBytes = this.#batchBytes;
    this.#batch = [];
    this.#batchBytes = 0;
    while (this.#inFlight.size >= this.#maxInFlight) await Promise.race(this.#inFlight);
    if (!(await this.#admitted(sourceBytes))) {
      this.#release(files);
      return;
    }
    const task = this.#pool
      .parse(
        files.map((file) => file.ref),
        this.#entriesHere ? null : this.#entryCodec,
      )
      .then((outcomes) => this.#handlers.parsed(files, this.#entriesHere ? this.#withEntries(files, outcomes) : outcomes))
      .finally(() => {
        this.#inFlight.delete(task);
        this.#handlers.settled();
      });
    this.#inFlight.add(task);
  }

  /** The outcomes with the entries the workers were not asked for (see {@link #entriesHere}). */
  #withEntries(files: readonly PendingFile[], outcomes: readonly FileOutcome[]): FileOutcome[] {
    const codec = this.#entryCodec as CodecId;
    const keys = new Map(files.map((file) => [file.ref.id, file.key]));
    return outcomes.map((outcome): FileOutcome => {
      const key = keys.get(outcome.id);
      if (outcome.type !== 'parsed' || outcome.entry !== null || key === undefined) return outcome;
      try {
        return { ...outcome, entry: encodeAstEntry(key, outcome, codec) };
      } catch (error) {
        // As in a worker (workers/parse-batch.ts): a file whose entry cannot be built fails alone.
        return { type: 'failed', id: outcome.id, code: 'EWORKER', message: `could not build the entry: ${(error as Error).message}` };
      }
    });
  }

  /** Resolves once every batch sent has finished. */
  async drain(): Promise<void> {
    await Promise.all(this.#inFlight);
  }

  /** Unpins the files of the batch that was never sent (the warm stopped). */
  releaseUnsent(): void {
    this.#release(this.#batch);
  }

  #release(files: PendingFile[]): void {
    for (const file of files) if (file.pinned) this.#content.unpin(file.pinned);
    files.length = 0;
  }

  /** Waits until the governor lets `sourceBytes` be parsed; false when the warm must stop instead. */
  async #admitted(sourceBytes: number): Promise<boolean> {
    const governor = this.#limits.governor;
    if (governor === null) return true;
    for (;;) {
      if (this.#limits.stoppedBy !== null) return false;
      if (this.#limits.pendingDegrade) await this.#degrade();
      if (governor.admit(sourceBytes, this.#inFlight.size) === 'go') return true;
      await Promise.race(this.#inFlight);
    }
  }

  /** Under memory pressure: drain, halve the budgets, drop to one worker with one batch at a time. */
  async #degrade(): Promise<void> {
    this.#limits.pendingDegrade = false;
    const governor = this.#limits.governor;
    if (governor === null || governor.degraded) return;
    governor.markDegraded();
    await Promise.all(this.#inFlight);
    this.#content.setBudget(Math.max(1, Math.floor(this.#content.budget / 2)));
    this.#asts.setBudget(Math.max(1, Math.floor(this.#asts.budget / 2)));
    await this.#pool.resize(1, this.#pool.heapLimitBytes);
    this.#maxInFlight = 1;
    this.#targetBytes = Math.max(1, Math.floor(this.#targetBytes / 2));
  }
}
