/**
 * The SourceFile tier as the engine and the TypeScript hosts use it: a path and settings in, the
 * file's current `ts.SourceFile` out — from the tier while the content hash, the settings key and
 * the revision clock hold, else parsed here (on the calling thread: a SourceFile cannot cross
 * threads) and stored. Parsing is synchronous, so callers that ask at once share one parse: the
 * first stores it, the rest hit it. TypeScript is loaded on first use, never at import.
 */
import * as path from 'node:path';
import type * as ts from 'typescript';
import type { ContentAccess } from '../content/content-access.js';
import type { ContentBytes } from '../content/content-cache.js';
import type { Revision } from '../revision-clock.js';
import { contentSource, FileSources, isInside, type FileSource } from './file-sources.js';
import { parseWith, resolveSettings, type SourceFileSettings } from './source-file-settings.js';
import { SourceFileTier, type SourceFileTierSnapshot } from './source-file-tier.js';

/** What the tier needs from the engine. */
export interface SourceFilesHost {
  readonly root: string;
  readonly access: ContentAccess;
  readonly clock: { readonly now: Revision; isCurrent(path: string, startedAt: Revision): boolean };
  readonly budget: number;
  readonly pressureThreshold: number;
  /** True when the process is near its memory limit: parses are then served, not stored. */
  nearMemoryLimit(): boolean;
}

export interface SourceFileRequest {
  /** Parse again and replace the entry (TypeScript's `shouldCreateNewSourceFile`). */
  readonly fresh?: boolean;
  /** The name the SourceFile carries (as the caller spelled it). @default the absolute path */
  readonly fileName?: string;
}

/** The settings of a call that gives none (one object, so its resolution is remembered). */
const DEFAULT_SETTINGS: SourceFileSettings = Object.freeze({});

export class SourceFiles {
  readonly #host: SourceFilesHost;
  readonly #tier: SourceFileTier;
  readonly #sources: FileSources;
  #typescript: typeof ts | null = null;
  #registryKey: ((options: ts.CompilerOptions) => string) | null = null;

  constructor(host: SourceFilesHost) {
    this.#host = host;
    this.#tier = new SourceFileTier({ budget: host.budget, pressureThreshold: host.pressureThreshold });
    this.#sources = new FileSources(host.root, host.access);
  }

  /** TypeScript's compiler API (the installed parser, the one every key names). */
  get typescript(): typeof ts {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (this.#typescript ??= require('typescript') as typeof ts);
  }

  /** The file's current source (hash, bytes), or `undefined` when it does not exist. */
  source(absolute: string): FileSource | undefined {
    return this.#sources.current(absolute);
  }

  /**
   * The current SourceFile of `absolute`, or `undefined` when the file does not exist. A file with
   * syntax errors still yields its SourceFile (with TypeScript's parse diagnostics).
   */
  get(absolute: string, settings: SourceFileSettings = DEFAULT_SETTINGS, request: SourceFileRequest = {}): ts.SourceFile | undefined {
    const source = this.#sources.current(absolute);
    if (source === undefined) return undefined;
    return this.fromSource(source, settings, request);
  }

  /** The SourceFile of bytes L1 just validated (`engine.sourceFile`: in-root reads keep L1's errors). */
  ofContent(absolute: string, relative: string, bytes: ContentBytes, settings: SourceFileSettings = DEFAULT_SETTINGS): ts.SourceFile {
    return this.fromSource(contentSource(absolute, relative, bytes), settings);
  }

  /** The SourceFile of a source already read (`source()`), from the tier or parsed now. */
  fromSource(source: FileSource, settings: SourceFileSettings, request: SourceFileRequest = {}): ts.SourceFile {
    const typescript = this.typescript;
    const fileName = request.fileName ?? source.absolute;
    const resolved = resolveSettings(typescript, (options) => this.#settingsKey(options), fileName, settings);
    const key = `${source.absolute}\0${resolved.key}`;
    if (request.fresh !== true) {
      const hit = this.#tier.get(key, source.hash, this.#host.clock);
      if (hit !== undefined) return hit;
    }
    const startedAt = this.#host.clock.now;
    const { text, hash } = source.load();
    const sourceFile = parseWith(typescript, fileName, text, resolved);
    this.#tier.parses++;
    if (this.#host.nearMemoryLimit()) this.#tier.unstored++;
    else this.#tier.set(key, source.absolute, source.relative, hash, sourceFile, startedAt);
    return sourceFile;
  }

  /** A SourceFile TypeScript's documentRegistry stored under its own bucket key (it compares the text itself). */
  registryEntry(bucketKey: string, absolute: string): ts.SourceFile | undefined {
    return this.#tier.peek(`${absolute}\0registry:${bucketKey}`, this.#host.clock);
  }

  /** Stores a SourceFile TypeScript's documentRegistry parsed; `replacing` when it turned down the entry it was offered. */
  storeRegistryEntry(bucketKey: string, absolute: string, sourceFile: ts.SourceFile, replacing: boolean): void {
    if (replacing) this.#tier.declined();
    this.#tier.parses++;
    // Validated by text on every lookup (TypeScript compares it), so no content hash is kept.
    if (this.#host.nearMemoryLimit()) this.#tier.unstored++;
    else this.#tier.set(`${absolute}\0registry:${bucketKey}`, absolute, this.#relative(absolute), 0n, sourceFile, this.#host.clock.now);
  }

  /** Drops the entries of these root-relative paths (the engine's `invalidate`). */
  invalidate(relatives: Iterable<string>): number {
    const absolutes: string[] = [];
    for (const relative of relatives) absolutes.push(path.join(this.#host.root, ...relative.split('/')));
    return this.#tier.invalidate(absolutes);
  }

  setBudget(budget: number): void {
    this.#tier.setBudget(budget);
  }

  clear(): void {
    this.#tier.clear();
    this.#sources.clear();
  }

  snapshot(): SourceFileTierSnapshot {
    return this.#tier.snapshot();
  }

  /** The compilation-settings key of TypeScript's own documentRegistry (public API, one throwaway registry). */
  #settingsKey(options: ts.CompilerOptions): string {
    if (this.#registryKey === null) {
      const registry = this.typescript.createDocumentRegistry();
      this.#registryKey = (compilerOptions) => registry.getKeyForCompilationSettings(compilerOptions) as string;
    }
    return this.#registryKey(options);
  }

  /** The clock's name for a file: root files follow the revision clock, outside-root ones only their fingerprint and hash. */
  #relative(absolute: string): string | null {
    return isInside(this.#host.root, absolute) ? path.relative(this.#host.root, absolute).split(path.sep).join('/') : null;
  }
}

export type { SourceFileSettings } from './source-file-settings.js';
export type { SourceFileTierSnapshot } from './source-file-tier.js';
