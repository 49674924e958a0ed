/**
 * The library's facade. It wires the levels together and forwards to modules that each do one
 * job (content cache, reader, AST cache, pool, warm pipeline); it holds no logic of its own beyond
 * resolving paths and keeping its parts private.
 */
import type * as ts from 'typescript';
import { StrataError } from '../shared/errors.js';
import type { ImportRecord } from '../shared/imports.js';
import { scriptKindName } from '../shared/script-kind.js';
import { decodeSourceText } from '../shared/source-text.js';
import { AstCache } from './ast-cache.js';
import { AstPersistence, ENTRY_CODEC } from './ast-persistence.js';
import { ContentCache, type ContentBytes } from './content-cache.js';
import { ContentReader, type ContentRead } from './content-reader.js';
import { EncodedAst } from './encoded-ast.js';
import { astKey, astKeyPrefix, DEFAULT_PARSE_SETTINGS, installedParser } from './keys.js';
import { resolveOptions, type OptionSources, type ResolvedOptions, type StrataOptions } from './options.js';
import { ParsePool, type ParseExecutor } from './parse-pool.js';
import { toAbsolute, toRootPath } from './paths.js';
import { RevisionClock } from './revision-clock.js';
import { runWarm, type WarmProgress } from './warm.js';
import { REPORT_SCHEMA_VERSION, type WarmReport } from './warm-report.js';
import type { LevelName, LevelSnapshot } from './metrics.js';
import { emptyLevel } from './metrics.js';

export interface EngineOptions extends StrataOptions {
  /** Where parsing runs. @default 'pool' */
  executor?: ParseExecutor;
  /** Worker entry file (tests inject one). @default the built workers/worker.js */
  workerFile?: string;
}

export interface WarmOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: WarmProgress) => void;
  /** performance.now() at which the caller started (durationMs counts from it). */
  readonly startedAt?: number;
}

/** A file's parsed form from L2. Positions refer to `text`. */
export interface AstResult {
  readonly path: string;
  readonly text: string;
  readonly ast: EncodedAst;
  readonly imports: readonly ImportRecord[];
  readonly diagnostics: number;
  /** Hash of what the file exports: equal before and after an edit → importers are unaffected. */
  readonly signature: string;
}

/** A pinned, zero-copy view of a file's cached bytes. Valid until `release()`. */
export interface ContentView {
  readonly path: string;
  readonly bytes: Uint8Array;
  release(): void;
}

export interface EngineStats {
  readonly schemaVersion: number;
  readonly root: string;
  readonly profile: string;
  readonly revision: number;
  readonly levels: Readonly<Record<LevelName, LevelSnapshot>>;
  readonly content: { readonly budget: number; readonly reservedBytes: number; readonly fragmentation: number; readonly restamps: number };
  readonly ast: { readonly budget: number };
  readonly pool: ReturnType<ParsePool['stats']>;
  readonly disk: { readonly dir: string | null; readonly bytes: number; readonly indexedFiles: number; readonly counters: ReturnType<AstPersistence['counters']> | null };
}

export class Engine {
  readonly options: ResolvedOptions;
  readonly #content: ContentCache;
  readonly #reader: ContentReader;
  readonly #asts: AstCache;
  readonly #pool: ParsePool;
  readonly #clock = new RevisionClock();
  readonly #keyPrefix: string;
  readonly #env: NodeJS.ProcessEnv;
  #persistence: AstPersistence | null = null;
  #persistenceOpened = false;
  readonly #warnings: { path: string; message: string }[] = [];
  #closed = false;

  constructor(given: EngineOptions = {}, sources: OptionSources = {}) {
    const { executor = 'pool', workerFile, ...strataOptions } = given;
    this.options = resolveOptions(strataOptions, sources);
    const o = this.options;
    this.#content = new ContentCache({ budget: o.contentBudget, pressureThreshold: o.contentPressureThreshold, aggressiveThreshold: o.contentAggressiveThreshold });
    this.#reader = new ContentReader(this.#content, { maxFileSize: o.maxFileSize, validation: o.readValidation });
    this.#asts = new AstCache({ budget: o.astBudget, maxEntries: o.astMaxEntries });
    this.#pool = new ParsePool({ workers: o.workers, executor, settings: DEFAULT_PARSE_SETTINGS, ...(workerFile ? { workerFile } : {}) });
    this.#keyPrefix = astKeyPrefix(installedParser(), DEFAULT_PARSE_SETTINGS);
    this.#env = sources.env ?? process.env;
  }

  get root(): string {
    return this.options.root;
  }

  /** Reads and parses every source file under the root into L1 and L2. Never throws for a file. */
  async warm(request: WarmOptions = {}): Promise<WarmReport> {
    this.#assertOpen();
    const persistence = this.#openPersistence();
    const warnings = this.#warnings.splice(0);
    return runWarm(
      {
        options: this.options,
        content: this.#content,
        reader: this.#reader,
        asts: this.#asts,
        pool: this.#pool,
        clock: this.#clock,
        keyPrefix: this.#keyPrefix,
        excludeDirs: [this.options.cacheDir, persistence?.dir].filter((dir): dir is string => typeof dir === 'string'),
        persistence,
        warnings,
      },
      request,
    );
  }

  /** The file's current bytes (a copy), from L1 when still valid. */
  async content(file: string): Promise<Buffer> {
    const { bytes } = this.#readValid(file);
    const copy = Buffer.alloc(bytes.length);
    copy.set(new Uint8Array(bytes.buffer, bytes.offset, bytes.length));
    return copy;
  }

  /** A pinned view of the file's bytes in L1: never reused while pinned. Call `release()`. */
  async contentView(file: string): Promise<ContentView> {
    const { relative, read } = this.#readValid(file);
    if (read.type === 'transient') {
      // Bytes L1 could not hold live in a buffer of their own: nothing to pin.
      const content = read.content;
      return { path: toAbsolute(this.root, relative), bytes: new Uint8Array(content.buffer, content.offset, content.length), release: () => undefined };
    }
    const entry = read.entry;
    this.#content.pin(entry);
    let released = false;
    return {
      path: toAbsolute(this.root, relative),
      bytes: new Uint8Array(entry.buffer, entry.offset, entry.length),
      release: () => {
        if (released) return;
        released = true;
        this.#content.unpin(entry);
      },
    };
  }

  /** The file's encoded AST, from L2 or parsed now. */
  async ast(file: string): Promise<AstResult> {
    const { relative, bytes, read } = this.#readValid(file);
    const text = decodeSourceText(bytes.buffer, bytes.offset, bytes.length);
    const key = astKey(this.#keyPrefix, scriptKindName(relative), bytes.hash);
    let record = this.#asts.get(key);
    const persistence = this.#openPersistence();
    if (record === undefined && persistence !== null) {
      record = persistence.load(key) ?? undefined;
      if (record !== undefined) this.#asts.set(key, record);
    }
    if (record === undefined) {
      const revision = this.#clock.now;
      const pinned = read.type === 'cached' ? read.entry : null;
      if (pinned) this.#content.pin(pinned);
      try {
        const [outcome] = await this.#pool.parse([{ id: 0, path: relative, buffer: bytes.buffer, offset: bytes.offset, length: bytes.length, key }], persistence ? ENTRY_CODEC : null);
        if (outcome === undefined || outcome.type === 'failed') {
          throw new StrataError(outcome?.code ?? 'EWORKER', outcome?.message ?? 'no outcome', relative);
        }
        record = { ast: outcome.ast, imports: outcome.imports, diagnostics: outcome.diagnostics, nodeCount: outcome.nodeCount, signature: outcome.signature };
        if (this.#clock.isCurrent(relative, revision)) {
          this.#asts.set(key, record);
          persistence?.remember(relative, bytes.fingerprint, bytes.hash, key, outcome.entry);
        }
      } finally {
        if (pinned) this.#content.unpin(pinned);
      }
    }
    return { path: toAbsolute(this.root, relative), text, ast: EncodedAst.decode(record.ast), imports: record.imports, diagnostics: record.diagnostics, signature: record.signature };
  }

  /** A real `ts.SourceFile` (parent pointers set) for callers that need TypeScript's node API. */
  async sourceFile(file: string): Promise<ts.SourceFile> {
    const { relative, bytes } = this.#readValid(file);
    const text = decodeSourceText(bytes.buffer, bytes.offset, bytes.length);
    // Loaded on demand: the coordinator only pays for the parser when a caller asks for this.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { toSourceFile } = require('../workers/parse-source.js') as typeof import('../workers/parse-source.js');
    return toSourceFile(toAbsolute(this.root, relative), text);
  }

  /** Tells the engine that files changed (for embedders running their own watcher). */
  invalidate(files: Iterable<string>): number {
    this.#assertOpen();
    const relatives = [...files].map((file) => toRootPath(this.root, file).relative);
    for (const relative of relatives) this.#content.delete(relative);
    return this.#clock.invalidate(relatives);
  }

  stats(): EngineStats {
    const allocator = this.#content.allocatorStats();
    return {
      schemaVersion: REPORT_SCHEMA_VERSION,
      root: this.root,
      profile: this.options.profile,
      revision: this.#clock.now,
      levels: { content: this.#content.snapshot(), ast: this.#asts.snapshot(), results: emptyLevel(), streams: emptyLevel() },
      content: { budget: this.#content.budget, reservedBytes: allocator.reservedBytes, fragmentation: allocator.fragmentation, restamps: this.#reader.restamps },
      ast: { budget: this.#asts.budget },
      pool: this.#pool.stats(),
      disk: {
        dir: this.#persistence?.dir ?? null,
        bytes: this.#persistence?.diskBytes() ?? 0,
        indexedFiles: this.#persistence?.indexSize ?? 0,
        counters: this.#persistence?.counters() ?? null,
      },
    };
  }

  /** Drops every in-memory entry. */
  clear(): void {
    this.#content.clear();
    this.#asts.clear();
    this.#clock.invalidate([]);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.close();
    const persistence = this.#persistence;
    this.#persistence = null;
    if (persistence) {
      try {
        persistence.save();
      } finally {
        persistence.close();
      }
    }
    this.#content.clear();
    this.#asts.clear();
  }

  #readValid(file: string): { relative: string; bytes: ContentBytes; read: Extract<ContentRead, { type: 'cached' | 'transient' }> } {
    this.#assertOpen();
    const { relative, absolute } = toRootPath(this.root, file);
    const read = this.#reader.read(relative, absolute);
    switch (read.type) {
      case 'cached':
        return { relative, bytes: read.entry, read };
      case 'transient':
        return { relative, bytes: read.content, read };
      case 'skipped':
        throw new StrataError('ENOTCACHED', `${relative} is not parsed as source (${read.reason})`, relative);
      case 'failed':
        throw new StrataError(read.code, `${relative}: ${read.message}`, relative);
    }
  }

  /** Opens the disk level on first need; an unusable cache directory is a warning, never fatal. */
  #openPersistence(): AstPersistence | null {
    if (!this.#persistenceOpened) {
      this.#persistenceOpened = true;
      if (this.options.persist) {
        const opened = AstPersistence.open(this.options, this.#keyPrefix, this.#env);
        this.#persistence = opened.persistence;
        if (opened.warning !== null) this.#warnings.push({ path: '.', message: `running in memory: ${opened.warning}` });
      }
    }
    return this.#persistence;
  }

  #assertOpen(): void {
    if (this.#closed) throw new StrataError('ECLOSED', 'the engine is closed');
  }
}

export function createEngine(options: EngineOptions = {}, sources: OptionSources = {}): Engine {
  return new Engine(options, sources);
}
