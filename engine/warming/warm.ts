/**
 * The warm pipeline: discovery → L1 read → L2 lookup → batches to the parse pool → L2.
 * Bounded everywhere: files are read as they are discovered, at most MAX_BATCHES_PER_WORKER
 * batches per worker are in flight, and a warm never holds more than that much content pinned.
 * Warming never throws into the caller; failures are reported per file.
 */
import type { FileFailure, FileSkip } from '../../shared/errors.js';
import type { FileOutcome, SlabFileRef } from '../../shared/protocol.js';
import { scriptKindName } from '../../shared/script-kind.js';
import type { AstCache } from '../ast/ast-cache.js';
import { ENTRY_CODEC, type AstPersistence } from '../ast/ast-persistence.js';
import type { ContentBytes, ContentCache, ContentEntry } from '../content/content-cache.js';
import type { Fingerprint } from '../content/fingerprint.js';
import type { ContentReader } from '../content/content-reader.js';
import { discoverSourceFiles, type DiscoveredFile } from '../discovery/discovery.js';
import { astKey, type AstKey } from '../ast/keys.js';
import { listedSourceFiles } from '../discovery/listed-files.js';
import { LARGE_FILE_BYTES, MemoryGovernor, planMemory } from '../memory/memory-governor.js';
import { emptyLevel } from '../level-counters.js';
import type { ResolvedOptions } from '../config/options.js';
import type { ParsePool } from '../pool/parse-pool.js';
import type { Revision, RevisionClock } from '../revision-clock.js';
import { REPORT_SCHEMA_VERSION, type StopReason, type WarmReport } from './warm-report.js';

/** A batch is sent once it holds this many source bytes… */
export const BATCH_TARGET_BYTES = 256 * 1024;
/** …or this many files (many tiny files still make a useful task). */
export const BATCH_MAX_FILES = 256;
/** Batches queued per worker: one running, one waiting, so a worker never idles between tasks. */
export const MAX_BATCHES_PER_WORKER = 2;
/** How often the warm samples the process's RSS under a memory limit… */
export const RSS_SAMPLE_MS = 10;
/**
 * …and without one, only for the report's peak: a sample costs ~0.2 ms on the 2-core VM (it reads
 * /proc), ~200 ms of coordinator time per 10,000-file warm at the 10 ms rate.
 */
export const PEAK_RSS_SAMPLE_MS = 100;

export interface WarmContext {
  readonly options: ResolvedOptions;
  readonly content: ContentCache;
  readonly reader: ContentReader;
  readonly asts: AstCache;
  readonly pool: ParsePool;
  readonly clock: RevisionClock;
  readonly keyPrefix: string;
  readonly excludeDirs: readonly string[];
  /** The disk level; null when persistence is off or unavailable. */
  readonly persistence: AstPersistence | null;
  /** Problems met before the warm (e.g. an unusable cache directory), reported with it. */
  readonly warnings: readonly { readonly path: string; readonly message: string }[];
}

export interface WarmProgress {
  readonly found: number;
  readonly done: number;
}

export interface WarmRequest {
  /** Warm only these root-relative files instead of walking the tree. */
  readonly files?: readonly string[];
  readonly signal?: AbortSignal;
  /** Wall-clock start (performance.now()) to measure durationMs from; the CLI passes its own. */
  readonly startedAt?: number;
  readonly onProgress?: (progress: WarmProgress) => void;
}

interface PendingFile {
  readonly ref: SlabFileRef;
  readonly key: AstKey;
  readonly fingerprint: Fingerprint;
  readonly hash: bigint;
  readonly pinned: ContentEntry | null;
  readonly revision: Revision;
}

export async function runWarm(ctx: WarmContext, request: WarmRequest = {}): Promise<WarmReport> {
  const startedAt = request.startedAt ?? performance.now();
  const { options } = ctx;
  const deadline = options.warmTimeLimit === null ? Infinity : startedAt + options.warmTimeLimit;
  const failed: FileFailure[] = [];
  const skipped: FileSkip[] = [];
  const warnings: { path: string; message: string }[] = [...ctx.warnings];
  const persistence = ctx.persistence;
  const entryCodec = persistence ? ENTRY_CODEC : null;
  /** Files met by this walk: index records of the others are dropped when the walk completes. */
  const seen = new Set<string>();
  /**
   * Files met by this walk and answered by their index record: kept apart in a plain list (no hash
   * set of 10,000 paths on a restart), each one a distinct key of the index.
   */
  const answered: string[] = [];
  let found = 0;
  let parsed = 0;
  let fromMemory = 0;
  let fromDisk = 0;
  let parseErrors = 0;
  let bytes = 0;
  let peakRss = process.memoryUsage.rss();
  let stoppedBy: StopReason = null;
  let nextId = 0;

  // With a memory limit, fit the pool, budgets and batches to it before anything starts.
  const governor = options.memoryLimit === null ? null : new MemoryGovernor(options.memoryLimit);
  if (governor) {
    const plan = planMemory({
      limitBytes: governor.limitBytes,
      rssBytes: governor.sample(),
      workers: ctx.pool.workers,
      contentBudget: ctx.content.budget,
      astBudget: ctx.asts.budget,
    });
    await ctx.pool.resize(Math.min(ctx.pool.workers, plan.workers), plan.workerHeapBytes);
    if (plan.contentBudget < ctx.content.budget) ctx.content.setBudget(plan.contentBudget);
    if (plan.astBudget < ctx.asts.budget) ctx.asts.setBudget(plan.astBudget);
  }
  let pendingDegrade = false;
  /** Large files wait, with a limit, to be parsed one at a time after the rest. */
  const deferred: DiscoveredFile[] = [];

  const inFlight = new Set<Promise<void>>();
  let maxInFlight = Math.max(1, ctx.pool.workers) * MAX_BATCHES_PER_WORKER;
  // Content in flight stays pinned in L1: never pin more than L1 may hold below its pressure line.
  let batchTargetBytes = Math.min(BATCH_TARGET_BYTES, Math.floor((ctx.content.budget * options.contentPressureThreshold) / (maxInFlight + 1)));
  let batch: PendingFile[] = [];
  let batchBytes = 0;

  const done = (): number => parsed + fromMemory + fromDisk + failed.length + skipped.length;
  const report = (): void => request.onProgress?.({ found, done: done() });

  const store = (files: PendingFile[], outcomes: FileOutcome[]): void => {
    const byId = new Map(files.map((file) => [file.ref.id, file]));
    for (const outcome of outcomes) {
      const file = byId.get(outcome.id);
      if (file === undefined) continue;
      if (file.pinned) ctx.content.unpin(file.pinned);
      byId.delete(outcome.id);
      if (outcome.type === 'failed') {
        failed.push({ path: file.ref.path, code: outcome.code, message: outcome.message });
        continue;
      }
      parsed++;
      if (outcome.diagnostics > 0) parseErrors++;
      // Content-addressed, but a file invalidated mid-parse is re-read by its next reader anyway:
      // dropping here keeps the rule "work older than the file's last invalidation is never stored".
      if (ctx.clock.isCurrent(file.ref.path, file.revision)) {
        ctx.asts.set(file.key, { ast: outcome.ast, imports: outcome.imports, diagnostics: outcome.diagnostics, nodeCount: outcome.nodeCount, signature: outcome.signature });
        persistence?.remember(file.ref.path, file.fingerprint, file.hash, file.key, outcome.entry);
      }
    }
    for (const file of byId.values()) {
      if (file.pinned) ctx.content.unpin(file.pinned);
      failed.push({ path: file.ref.path, code: 'EWORKER', message: 'worker returned no outcome for this file' });
    }
  };

  // Set by the abort event: reading `signal.aborted` once per file was a visible share of a restart.
  let aborted = request.signal?.aborted === true;
  const onAbort = (): void => {
    aborted = true;
  };
  request.signal?.addEventListener('abort', onAbort, { once: true });
  let lastRssCheck = -Infinity;
  const checkLimits = (): void => {
    if (stoppedBy !== null) return;
    const now = performance.now();
    if (aborted) stoppedBy = 'interrupted';
    else if (now > deadline) stoppedBy = 'time-limit';
    // Reading RSS costs a system call: sample it, don't ask per file.
    if (now - lastRssCheck < (governor === null ? PEAK_RSS_SAMPLE_MS : RSS_SAMPLE_MS)) return;
    lastRssCheck = now;
    if (governor === null) {
      const rss = process.memoryUsage.rss();
      if (rss > peakRss) peakRss = rss;
      return;
    }
    const verdict = governor.check();
    if (verdict === 'stop' && stoppedBy === null) stoppedBy = 'memory-limit';
    else if (verdict === 'degrade') pendingDegrade = true;
  };

  /** Under memory pressure: drain, halve the budgets, drop to one worker with one batch at a time. */
  const degrade = async (): Promise<void> => {
    pendingDegrade = false;
    if (governor === null || governor.degraded) return;
    governor.markDegraded();
    await Promise.all(inFlight);
    ctx.content.setBudget(Math.max(1, Math.floor(ctx.content.budget / 2)));
    ctx.asts.setBudget(Math.max(1, Math.floor(ctx.asts.budget / 2)));
    await ctx.pool.resize(1, ctx.pool.heapLimitBytes);
    maxInFlight = 1;
    batchTargetBytes = Math.max(1, Math.floor(batchTargetBytes / 2));
  };

  /** Waits until the governor lets `sourceBytes` be parsed; false when the warm must stop instead. */
  const admitted = async (sourceBytes: number): Promise<boolean> => {
    if (governor === null) return true;
    for (;;) {
      if (stoppedBy !== null) return false;
      if (pendingDegrade) await degrade();
      if (governor.admit(sourceBytes, inFlight.size) === 'go') return true;
      await Promise.race(inFlight);
    }
  };

  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const files = batch;
    const sourceBytes = batchBytes;
    batch = [];
    batchBytes = 0;
    while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
    if (!(await admitted(sourceBytes))) {
      releaseUnsent(ctx, files);
      return;
    }
    const task = ctx.pool
      .parse(
        files.map((file) => file.ref),
        entryCodec,
      )
      .then((outcomes) => store(files, outcomes))
      .finally(() => {
        inFlight.delete(task);
        checkLimits();
        report();
      });
    inFlight.add(task);
  };

  /** One discovered file: answered from the index or memory, or read and queued for parsing. */
  const warmFile = async (event: DiscoveredFile): Promise<void> => {
    if (persistence) {
      // Restart fast path: one stat, no read, when the file is exactly as the index remembers it.
      if (persistence.unchanged(event.path, event.stats)) {
        answered.push(event.path);
        fromDisk++;
        bytes += event.size;
        return;
      }
      seen.add(event.path);
    }
    const revision = ctx.clock.now;
    const read = ctx.reader.read(event.path, event.absolutePath);
    if (read.type === 'skipped') {
      skipped.push({ path: event.path, reason: read.reason });
      return;
    }
    if (read.type === 'failed') {
      failed.push({ path: event.path, code: read.code, message: read.message });
      return;
    }
    const content: ContentBytes = read.type === 'cached' ? read.entry : read.content;
    bytes += content.length;
    const key = astKey(ctx.keyPrefix, scriptKindName(event.path), content.hash);
    const inMemory = ctx.asts.get(key);
    if (inMemory !== undefined) {
      fromMemory++;
      persistence?.rememberRecord(event.path, content.fingerprint, content.hash, key, inMemory);
      return;
    }
    if (persistence?.has(key)) {
      // Same content as a stored entry (touched, freshly cloned, restored cache): re-stamp only.
      fromDisk++;
      persistence.remember(event.path, content.fingerprint, content.hash, key, null);
      return;
    }
    // The first miss starts the threads, so workers load the parser while discovery goes on;
    // a warm with nothing to parse never starts them.
    ctx.pool.start();
    const pinned = read.type === 'cached' ? read.entry : null;
    if (pinned) ctx.content.pin(pinned);
    batch.push({ ref: { id: nextId++, path: event.path, buffer: content.buffer, offset: content.offset, length: content.length, key }, key, fingerprint: content.fingerprint, hash: content.hash, pinned, revision });
    batchBytes += content.length;
    if (batchBytes >= batchTargetBytes || batch.length >= BATCH_MAX_FILES) await flush();
  };

  const signal = request.signal ? { signal: request.signal } : {};
  const discovery =
    request.files === undefined
      ? discoverSourceFiles(options.root, { includeNodeModules: options.includeNodeModules, maxFileSize: options.maxFileSize, excludeDirs: ctx.excludeDirs, ...signal })
      : listedSourceFiles(options.root, request.files, { maxFileSize: options.maxFileSize, ...signal });
  try {
    for await (const event of discovery) {
      checkLimits();
      if (stoppedBy !== null) {
        if (event.type === 'file' || event.type === 'skipped' || event.type === 'failed') found++;
        break;
      }
      switch (event.type) {
        case 'warning':
          warnings.push({ path: event.path, message: event.message });
          continue;
        case 'skipped':
          found++;
          skipped.push(event.skip);
          continue;
        case 'failed':
          found++;
          failed.push(event.failure);
          continue;
        case 'file':
          break;
      }
      found++;
      if (governor && event.size >= LARGE_FILE_BYTES) {
        deferred.push(event);
        continue;
      }
      await warmFile(event);
      if (found % 256 === 0) report();
    }
    if (stoppedBy === null) await flush();
    // Large files one at a time, nothing else in flight: their parse peak is the largest.
    for (const event of deferred) {
      checkLimits();
      if (stoppedBy !== null) break;
      await Promise.all(inFlight);
      await warmFile(event);
      await flush();
    }
    await Promise.all(inFlight);
  } catch (error) {
    // Discovery rejects when aborted; any other walk error ends the walk, reported, not thrown.
    if (request.signal?.aborted) stoppedBy = 'interrupted';
    else warnings.push({ path: '.', message: `discovery stopped: ${(error as Error).message}` });
  } finally {
    releaseUnsent(ctx, batch);
    await discovery.return(undefined);
    await Promise.all(inFlight);
  }
  checkLimits();
  request.signal?.removeEventListener('abort', onAbort);
  if (governor && governor.peakBytes > peakRss) peakRss = governor.peakBytes;
  let diskBytes = 0;
  if (persistence) {
    // Only a whole walk knows which files are gone.
    // Every index record answered (distinct keys as many as the index holds): nothing is gone.
    if (stoppedBy === null && request.files === undefined && answered.length !== persistence.indexSize) {
      for (const path of answered) seen.add(path);
      persistence.retain(seen);
    }
    try {
      await persistence.settle(); // packs written in the background: their files join the index
      persistence.save();
      diskBytes = persistence.diskBytes();
    } catch (error) {
      warnings.push({ path: persistence.dir, message: `could not save the cache: ${(error as Error).message}` });
    }
  }
  const handled = done();
  const durationMs = performance.now() - startedAt;
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    root: options.root,
    profile: options.profile,
    files: handled,
    parsed,
    fromCache: fromMemory + fromDisk,
    fromMemory,
    fromDisk,
    failed,
    skipped,
    parseErrors,
    bytes,
    diskBytes,
    durationMs,
    filesPerSec: durationMs > 0 ? (handled / durationMs) * 1000 : 0,
    workers: ctx.pool.workers,
    stoppedBy,
    remaining: found - handled,
    warnings,
    peakRssBytes: peakRss,
    levels: { content: ctx.content.snapshot(), ast: ctx.asts.snapshot(), results: emptyLevel(), streams: emptyLevel() },
  };
}

function releaseUnsent(ctx: WarmContext, files: PendingFile[]): void {
  for (const file of files) if (file.pinned) ctx.content.unpin(file.pinned);
  files.length = 0;
}

