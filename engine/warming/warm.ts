/**
 * The warm pipeline: discovery → L1 read → L2 lookup → batches to the parse pool → L2, then the
 * index saved. Its steps, in order: fit to the memory limit (warm-limits.ts), walk the tree (or
 * the listed files), warm each file, send batches with backpressure (parse-batches.ts), store
 * their outcomes, save the index, report. Bounded everywhere: files are read as they are
 * discovered, and a warm never holds more content pinned than its batches in flight.
 * Warming never throws into the caller; failures are reported per file.
 */
import type { FileFailure, FileSkip } from '../../shared/errors.js';
import type { FileOutcome } from '../../shared/protocol.js';
import { scriptKindName } from '../../shared/script-kind.js';
import type { AstCache } from '../ast/ast-cache.js';
import { ENTRY_CODEC, type AstPersistence } from '../ast/ast-persistence.js';
import { astKey } from '../ast/keys.js';
import type { ResolvedOptions } from '../config/options.js';
import type { ContentBytes, ContentCache } from '../content/content-cache.js';
import type { ContentReader } from '../content/content-reader.js';
import { discoverSourceFiles, type DirectorySnapshot, type DiscoveredFile, type DiscoveryOptions, type PreparedWalk } from '../discovery/discovery.js';
import { listedSourceFiles } from '../discovery/listed-files.js';
import { checkUnchangedTree } from '../discovery/unchanged-tree.js';
import { emptyLevel } from '../level-counters.js';
import { LARGE_FILE_BYTES } from '../memory/memory-governor.js';
import type { ParsePool } from '../pool/parse-pool.js';
import type { RevisionClock } from '../revision-clock.js';
import { countersSince, type RemoteCounters } from '../remote/remote-counters.js';
import type { RemoteTier } from '../remote/remote-tier.js';
import { decodeRemoteAstEntry, remoteAstKey } from '../remote/remote-ast.js';
import { ParseBatches, type PendingFile } from './parse-batches.js';
import { fitToMemoryLimit, WarmLimits } from './warm-limits.js';
import { REPORT_SCHEMA_VERSION, type WarmReport } from './warm-report.js';

export { BATCH_MAX_FILES, BATCH_TARGET_BYTES, MAX_BATCHES_PER_WORKER } from './parse-batches.js';
export { PEAK_RSS_SAMPLE_MS, RSS_SAMPLE_MS } from './warm-limits.js';

/** Local misses looked up on the remote as one group (node-redis pipelines them: a round trip for the records, one for the blobs). */
const REMOTE_LOOKUP_BATCH = 128;
/** Groups in flight at once: the walk reads the next group while the remote answers this one. */
const REMOTE_GROUPS_IN_FLIGHT = 2;

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
  /** The shared remote tier; null when off. */
  readonly remote: RemoteTier | null;
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

export async function runWarm(ctx: WarmContext, request: WarmRequest = {}): Promise<WarmReport> {
  const startedAt = request.startedAt ?? performance.now();
  const deadline = ctx.options.warmTimeLimit === null ? Infinity : startedAt + ctx.options.warmTimeLimit;
  const limits = new WarmLimits(deadline, ctx.options.memoryLimit, request.signal);
  if (limits.governor !== null) await fitToMemoryLimit(limits.governor, ctx);
  const run = new WarmRun(ctx, request, limits);
  await run.walk();
  limits.finish();
  const diskBytes = await run.saveIndex();
  return run.report(startedAt, diskBytes);
}

/** One warm's state: its counters, the files it met, and its batches. */
class WarmRun {
  readonly #ctx: WarmContext;
  readonly #request: WarmRequest;
  readonly #limits: WarmLimits;
  readonly #persistence: AstPersistence | null;
  readonly #batches: ParseBatches;
  readonly #failed: FileFailure[] = [];
  readonly #skipped: FileSkip[] = [];
  readonly #warnings: { path: string; message: string }[];
  /** Files met by this walk: index records of the others are dropped when the walk completes. */
  readonly #seen = new Set<string>();
  /**
   * Files met by this walk and answered by their index record: kept apart in a plain list (no hash
   * set of 10,000 paths on a restart), each one a distinct key of the index.
   */
  readonly #answered: string[] = [];
  /** Large files wait, under a memory limit, to be parsed one at a time after the rest. */
  readonly #deferred: DiscoveredFile[] = [];
  /** The unchanged-tree check answered every file (each one a distinct index record: none to drop). */
  #treeUnchanged = false;
  /** The directory snapshot of a walk that completed. */
  #walked: { readonly snapshot: DirectorySnapshot; readonly changed: boolean } | null = null;
  /** Local misses waiting to be sent to the remote as one group (pinned until answered). */
  #remoteWaiting: PendingFile[] = [];
  /** The remote's counters when this warm began: its report gives what the warm moved them by. */
  readonly #remoteAtStart: RemoteCounters | null;
  /** Groups sent to the remote and not answered yet. */
  readonly #lookups = new Set<Promise<void>>();
  /** Files the remote did not answer, waiting for the walk to queue their parse (pinned). */
  #remoteMisses: PendingFile[] = [];
  #found = 0;
  #parsed = 0;
  #fromMemory = 0;
  #fromDisk = 0;
  #fromRemote = 0;
  #parseErrors = 0;
  #bytes = 0;
  #nextId = 0;

  constructor(ctx: WarmContext, request: WarmRequest, limits: WarmLimits) {
    this.#ctx = ctx;
    this.#remoteAtStart = ctx.remote?.counters() ?? null;
    this.#request = request;
    this.#limits = limits;
    this.#persistence = ctx.persistence;
    this.#warnings = [...ctx.warnings];
    const levels = { content: ctx.content, asts: ctx.asts, pool: ctx.pool, contentPressureThreshold: ctx.options.contentPressureThreshold };
    this.#batches = new ParseBatches(levels, limits, ctx.persistence || ctx.remote ? ENTRY_CODEC : null, {
      parsed: (files, outcomes) => this.#store(files, outcomes),
      settled: () => {
        limits.check();
        this.#progress();
      },
    });
  }

  /** Walks the tree (or the listed files), warming each file; a walk error ends the walk, reported. */
  async walk(): Promise<void> {
    const { options } = this.#ctx;
    const limits = this.#limits;
    const signal = this.#request.signal ? { signal: this.#request.signal } : {};
    const prepared = this.#answerUnchangedTree();
    if (prepared === 'answered') return;
    const discovery =
      this.#request.files === undefined
        ? discoverSourceFiles(options.root, { includeNodeModules: options.includeNodeModules, maxFileSize: options.maxFileSize, excludeDirs: this.#ctx.excludeDirs, ...signal, ...this.#directorySnapshot(), ...(prepared !== null ? { prepared } : {}) })
        : listedSourceFiles(options.root, this.#request.files, { maxFileSize: options.maxFileSize, ...signal });
    try {
      for await (const event of discovery) {
        limits.check();
        if (limits.stoppedBy !== null) {
          if (event.type === 'file' || event.type === 'skipped' || event.type === 'failed') this.#found++;
          break;
        }
        switch (event.type) {
          case 'warning':
            this.#warnings.push({ path: event.path, message: event.message });
            continue;
          case 'skipped':
            this.#found++;
            this.#skipped.push(event.skip);
            continue;
          case 'failed':
            this.#found++;
            this.#failed.push(event.failure);
            continue;
          case 'file':
            break;
        }
        this.#found++;
        if (limits.governor && event.size >= LARGE_FILE_BYTES) {
          this.#deferred.push(event);
          continue;
        }
        await this.#warmFile(event);
        if (this.#found % 256 === 0) this.#progress();
      }
      if (limits.stoppedBy === null) {
        await this.#settleRemote();
        await this.#batches.flush();
      }
      await this.#warmDeferred();
      await this.#batches.drain();
    } catch (error) {
      // Discovery rejects when aborted; any other walk error ends the walk, reported, not thrown.
      if (limits.signalAborted) limits.stoppedBy = 'interrupted';
      else this.#warnings.push({ path: '.', message: `discovery stopped: ${(error as Error).message}` });
    } finally {
      this.#batches.releaseUnsent();
      await Promise.allSettled(this.#lookups);
      for (const file of [...this.#remoteWaiting.splice(0), ...this.#remoteMisses.splice(0)]) if (file.pinned) this.#ctx.content.unpin(file.pinned);
      await discovery.return(undefined);
      await this.#batches.drain();
    }
  }

  /**
   * Restart fast path: with a directory snapshot, a whole-tree warm of an unchanged tree is answered
   * from the index in one loop, without a walk (discovery/unchanged-tree.ts; each file is judged by
   * the same `unchanged` test the walk's files are). Answers 'answered', or what the check prepared
   * for the walk to reuse (null when nothing).
   */
  #answerUnchangedTree(): 'answered' | PreparedWalk | null {
    const persistence = this.#persistence;
    const snapshot = persistence?.directories ?? null;
    if (persistence === null || snapshot === null || this.#request.files !== undefined || this.#request.signal?.aborted === true) return null;
    const { options } = this.#ctx;
    let check;
    try {
      check = checkUnchangedTree(options.root, { includeNodeModules: options.includeNodeModules, maxFileSize: options.maxFileSize, excludeDirs: this.#ctx.excludeDirs }, snapshot, (path, stats) => persistence.unchanged(path, stats));
    } catch {
      return null; // the root is gone or unreadable: the walk reports it
    }
    const tree = check.tree;
    // As many files as records, each answered by its own: nothing to drop from the index.
    if (tree === null || tree.files !== persistence.indexSize) return check;
    this.#treeUnchanged = true;
    for (const problem of tree.warnings) this.#warnings.push({ path: problem.path, message: problem.message });
    this.#found = tree.files;
    this.#fromDisk = tree.files;
    this.#bytes = tree.bytes;
    this.#walked = { snapshot, changed: false };
    this.#limits.check();
    this.#progress();
    return 'answered';
  }

  /** With persistence, the walk reuses the saved directory snapshot and hands its own back (saved only once the walk completes). */
  #directorySnapshot(): Pick<DiscoveryOptions, 'snapshot' | 'onSnapshot'> {
    const persistence = this.#persistence;
    if (persistence === null) return {};
    return { snapshot: persistence.directories, onSnapshot: (snapshot, taken) => (this.#walked = { snapshot, changed: taken.changed }) };
  }

  /** Large files one at a time, nothing else in flight: their parse peak is the largest. */
  async #warmDeferred(): Promise<void> {
    for (const event of this.#deferred) {
      this.#limits.check();
      if (this.#limits.stoppedBy !== null) break;
      await this.#batches.drain();
      await this.#warmFile(event);
      await this.#settleRemote();
      await this.#batches.flush();
    }
  }

  /** One discovered file: answered from the index or memory, or read and queued for parsing. */
  async #warmFile(event: DiscoveredFile): Promise<void> {
    const ctx = this.#ctx;
    const persistence = this.#persistence;
    if (persistence) {
      // Restart fast path: one stat, no read, when the file is exactly as the index remembers it.
      if (persistence.unchanged(event.path, event.stats)) {
        this.#answered.push(event.path);
        this.#fromDisk++;
        this.#bytes += event.size;
        return;
      }
      this.#seen.add(event.path);
    }
    const revision = ctx.clock.now;
    const read = ctx.reader.read(event.path, event.absolutePath);
    if (read.type === 'skipped') {
      this.#skipped.push({ path: event.path, reason: read.reason });
      return;
    }
    if (read.type === 'failed') {
      this.#failed.push({ path: event.path, code: read.code, message: read.message });
      return;
    }
    const content: ContentBytes = read.type === 'cached' ? read.entry : read.content;
    this.#bytes += content.length;
    const key = astKey(ctx.keyPrefix, scriptKindName(event.path), content.hash);
    const inMemory = ctx.asts.get(key);
    if (inMemory !== undefined) {
      this.#fromMemory++;
      persistence?.rememberRecord(event.path, content.fingerprint, content.hash, key, inMemory);
      return;
    }
    if (persistence?.has(key)) {
      // Same content as a stored entry (touched, freshly cloned, restored cache): re-stamp only.
      this.#fromDisk++;
      persistence.remember(event.path, content.fingerprint, content.hash, key, null);
      return;
    }
    const pinned = read.type === 'cached' ? read.entry : null;
    if (pinned) ctx.content.pin(pinned);
    const ref = { id: this.#nextId++, path: event.path, buffer: content.buffer, offset: content.offset, length: content.length, key };
    const pending: PendingFile = { ref, key, fingerprint: content.fingerprint, hash: content.hash, pinned, revision };
    if (ctx.remote !== null && ctx.remote.state !== 'off') {
      // The first local miss starts connecting (node-redis loads, then a TCP and a PING round trip)
      // while the walk reads the rest of the group; a warm answered locally never loads it.
      if (this.#remoteWaiting.length === 0) ctx.remote.connect();
      this.#remoteWaiting.push(pending);
      if (this.#remoteWaiting.length >= REMOTE_LOOKUP_BATCH) await this.#askRemote();
      return;
    }
    await this.#parse(pending);
  }

  async #parse(pending: PendingFile): Promise<void> {
    // The first miss starts the threads, so workers load the parser while discovery goes on;
    // a warm with nothing to parse never starts them.
    this.#ctx.pool.start();
    await this.#batches.add(pending);
  }

  /**
   * Sends the waiting local misses to the remote as one group, and goes on with the walk while it
   * answers (at most {@link REMOTE_GROUPS_IN_FLIGHT} groups at once). Misses of the groups answered
   * so far are queued for parsing here, by the walk, so batches keep a single producer.
   */
  async #askRemote(): Promise<void> {
    const remote = this.#ctx.remote;
    const waiting = this.#remoteWaiting;
    if (remote !== null && waiting.length > 0) {
      this.#remoteWaiting = [];
      const lookup = this.#lookUp(remote, waiting).finally(() => this.#lookups.delete(lookup));
      this.#lookups.add(lookup);
      while (this.#lookups.size >= REMOTE_GROUPS_IN_FLIGHT) await Promise.race(this.#lookups);
    }
    for (const file of this.#remoteMisses.splice(0)) await this.#parse(file);
  }

  /** Every group sent and answered, and every miss queued for parsing. */
  async #settleRemote(): Promise<void> {
    await this.#askRemote();
    await Promise.all(this.#lookups);
    for (const file of this.#remoteMisses.splice(0)) await this.#parse(file);
  }

  /** One group's lookups: verified hits go into L2 and the disk level; misses wait for the walk. */
  async #lookUp(remote: RemoteTier, group: readonly PendingFile[]): Promise<void> {
    const ctx = this.#ctx;
    const hits = await remote.fetchMany(group.map((file) => remoteAstKey(file.key)), decodeRemoteAstEntry);
    for (const file of group) {
      const hit = hits.get(remoteAstKey(file.key));
      if (hit === undefined) {
        this.#remoteMisses.push(file);
        continue;
      }
      if (file.pinned) ctx.content.unpin(file.pinned);
      this.#fromRemote++;
      if (ctx.clock.isCurrent(file.ref.path, file.revision)) {
        ctx.asts.set(file.key, hit.record);
        this.#persistence?.remember(file.ref.path, file.fingerprint, file.hash, file.key, this.#persistence.has(file.key) ? null : hit.bytes);
      }
    }
  }

  /** A batch's outcomes into L2 and the disk level (unpinning their content). */
  #store(files: readonly PendingFile[], outcomes: readonly FileOutcome[]): void {
    const ctx = this.#ctx;
    const byId = new Map(files.map((file) => [file.ref.id, file]));
    for (const outcome of outcomes) {
      const file = byId.get(outcome.id);
      if (file === undefined) continue;
      if (file.pinned) ctx.content.unpin(file.pinned);
      byId.delete(outcome.id);
      if (outcome.type === 'failed') {
        this.#failed.push({ path: file.ref.path, code: outcome.code, message: outcome.message });
        continue;
      }
      this.#parsed++;
      if (outcome.diagnostics > 0) this.#parseErrors++;
      // Content-addressed, but a file invalidated mid-parse is re-read by its next reader anyway:
      // dropping here keeps the rule "work older than the file's last invalidation is never stored".
      if (ctx.clock.isCurrent(file.ref.path, file.revision)) {
        ctx.asts.set(file.key, { ast: outcome.ast, imports: outcome.imports, diagnostics: outcome.diagnostics, nodeCount: outcome.nodeCount, signature: outcome.signature });
        this.#persistence?.remember(file.ref.path, file.fingerprint, file.hash, file.key, outcome.entry);
        if (outcome.entry !== null) ctx.remote?.upload(remoteAstKey(file.key), outcome.entry, ENTRY_CODEC);
      }
    }
    for (const file of byId.values()) {
      if (file.pinned) ctx.content.unpin(file.pinned);
      this.#failed.push({ path: file.ref.path, code: 'EWORKER', message: 'worker returned no outcome for this file' });
    }
  }

  /**
   * Drops index records of files a whole walk no longer met, waits for background pack writes and
   * saves the index; answers the store's size. A failure to save is a warning.
   */
  async saveIndex(): Promise<number> {
    // Uploads of this warm (write-behind) finish here, within a deadline, so its report counts them.
    await this.#ctx.remote?.flush();
    const persistence = this.#persistence;
    if (persistence === null) return 0;
    // Only a whole walk knows which files are gone.
    // Every index record answered (distinct keys as many as the index holds): nothing is gone.
    if (!this.#treeUnchanged && this.#limits.stoppedBy === null && this.#request.files === undefined && this.#answered.length !== persistence.indexSize) {
      for (const path of this.#answered) this.#seen.add(path);
      persistence.retain(this.#seen);
    }
    if (this.#limits.stoppedBy === null && this.#walked !== null) persistence.rememberDirectories(this.#walked.snapshot, this.#walked.changed);
    try {
      await persistence.settle(); // packs written in the background: their files join the index
      persistence.save();
      // A whole walk's index and snapshot: what the next `strata warm` of the unchanged tree checks alone.
      if (this.#limits.stoppedBy === null && this.#walked !== null && this.#request.files === undefined) persistence.saveRestartReceipt(this.#ctx.options.maxFileSize);
      return persistence.diskBytes();
    } catch (error) {
      this.#warnings.push({ path: persistence.dir, message: `could not save the cache: ${(error as Error).message}` });
      return 0;
    }
  }

  report(startedAt: number, diskBytes: number): WarmReport {
    const ctx = this.#ctx;
    const handled = this.#done();
    const durationMs = performance.now() - startedAt;
    return {
      schemaVersion: REPORT_SCHEMA_VERSION,
      root: ctx.options.root,
      profile: ctx.options.profile,
      files: handled,
      parsed: this.#parsed,
      fromCache: this.#fromMemory + this.#fromDisk + this.#fromRemote,
      fromMemory: this.#fromMemory,
      fromDisk: this.#fromDisk,
      ...(ctx.remote !== null ? { fromRemote: this.#fromRemote, remote: countersSince(ctx.remote.counters(), this.#remoteAtStart ?? ctx.remote.counters()) } : {}),
      failed: this.#failed,
      skipped: this.#skipped,
      parseErrors: this.#parseErrors,
      bytes: this.#bytes,
      diskBytes,
      durationMs,
      filesPerSec: durationMs > 0 ? (handled / durationMs) * 1000 : 0,
      workers: ctx.pool.workers,
      stoppedBy: this.#limits.stoppedBy,
      remaining: this.#found - handled,
      warnings: this.#warnings,
      peakRssBytes: this.#limits.peakRss,
      levels: { content: ctx.content.snapshot(), ast: ctx.asts.snapshot(), results: emptyLevel(), streams: emptyLevel() },
    };
  }

  #done(): number {
    return this.#parsed + this.#fromMemory + this.#fromDisk + this.#fromRemote + this.#failed.length + this.#skipped.length;
  }

  #progress(): void {
    this.#request.onProgress?.({ found: this.#found, done: this.#done() });
  }
}
