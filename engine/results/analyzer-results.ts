/**
 * An analyzer's namespace in L3. A result is stored under a state key derived from everything it
 * may depend on: analyzer id and version, the file, its content hash and, when the analyzer says
 * its results depend on the file's dependencies, a digest of those dependencies' export signatures
 * (following re-export chains). A result is therefore valid exactly while that state holds: an
 * edit that keeps a dependency's signature (early cutoff) leaves it valid; one that changes it, or
 * the file itself, makes a new key. A computation that started before its file or one of its
 * dependencies was invalidated is returned to its caller but never stored. With a remote tier, a
 * local miss asks the remote first (a verified result is kept locally and returned without running
 * the analyzer), and a computed result that was stored is uploaded behind the caller.
 */
import { xxh64String } from '../../native-bindings/hash.js';
import type { AstResult } from '../ast/ast-reader.js';
import type { Revision, RevisionClock } from '../revision-clock.js';
import type { ResultsCache } from './results-cache.js';

export interface AnalyzerSpec {
  /** A stable name for the analyzer (its namespace). */
  readonly id: string;
  /** Bump it when the analyzer's output changes: results of other versions are never returned. */
  readonly version: string | number;
  /** Whether results depend on the file's dependencies (their export signatures). @default true */
  readonly dependsOnDependencies?: boolean;
}

export interface ComputeContext {
  /** Absolute path of the file. */
  readonly path: string;
  /** The file's current AST (validated against the disk). */
  readonly ast: AstResult;
  readonly signal: AbortSignal | undefined;
}

export interface AnalyzerResults<T> {
  /** The valid result for the file's current state, or undefined. */
  get(file: string): Promise<T | undefined>;
  /** Stores a result for the file's current state. */
  set(file: string, value: T): Promise<void>;
  /**
   * The valid result, or `fn`'s, computed once however many callers ask for the same state at the
   * same time. `fn` must return plain data (it is persisted). Rejects with the signal's reason when
   * aborted.
   */
  compute(file: string, fn: (context: ComputeContext) => T | Promise<T>, options?: { signal?: AbortSignal }): Promise<T>;
}

/** What the namespace needs from the engine. */
export interface ResultsHost {
  readonly clock: RevisionClock;
  readonly cache: ResultsCache;
  /** Root-relative path of a file given absolute or root-relative. */
  relative(file: string): string;
  ast(file: string): Promise<AstResult>;
  /** Digest of the file's dependencies' signatures, and the root-relative dependencies it covers. */
  dependencyState(file: string): Promise<{ readonly digest: string; readonly files: readonly string[] }>;
  /**
   * The shared remote tier's results (remote/remote-results.ts), asked after a local miss and given
   * each computed result; absent when no remote is configured.
   */
  readonly remote?: {
    fetch(stateKey: string): Promise<{ readonly value: unknown } | undefined>;
    upload(stateKey: string, value: unknown): void;
  };
}

interface FileState {
  readonly key: string;
  readonly relative: string;
  readonly ast: AstResult;
  readonly dependencies: readonly string[];
  readonly revision: Revision;
}

export function analyzerResults<T>(host: ResultsHost, spec: AnalyzerSpec): AnalyzerResults<T> {
  const dependsOnDependencies = spec.dependsOnDependencies ?? true;
  // Engine-wide: two namespaces of the same analyzer (two subscribers, two call sites) share one computation.
  const inFlight = host.cache.inFlight as Map<string, Promise<T>>;

  const stateOf = async (file: string): Promise<FileState> => {
    const revision = host.clock.now;
    const relative = host.relative(file);
    const ast = await host.ast(file);
    const dependencies = dependsOnDependencies ? await host.dependencyState(file) : { digest: '', files: [] };
    const key = xxh64String(JSON.stringify([spec.id, String(spec.version), relative, ast.contentHash, dependencies.digest]));
    return { key: `${spec.id}:${key}`, relative, ast, dependencies: dependencies.files, revision };
  };

  const stillCurrent = (state: FileState): boolean =>
    host.clock.isCurrent(state.relative, state.revision) && state.dependencies.every((dependency) => host.clock.isCurrent(dependency, state.revision));

  const store = (state: FileState, value: T): boolean => {
    if (!stillCurrent(state)) return false;
    host.cache.set({ key: state.key, path: state.relative, value, lastAccessMs: Date.now() });
    return true;
  };

  /** After a local miss: a verified remote result for this state, kept locally. */
  const fromRemote = async (state: FileState): Promise<{ value: T } | undefined> => {
    const found = await host.remote?.fetch(state.key);
    if (found === undefined) return undefined;
    store(state, found.value as T);
    return { value: found.value as T };
  };

  return {
    async get(file) {
      const state = await stateOf(file);
      const cached = host.cache.get(state.key);
      if (cached !== undefined) return cached.value as T;
      return (await fromRemote(state))?.value;
    },
    async set(file, value) {
      const state = await stateOf(file);
      if (store(state, value)) host.remote?.upload(state.key, value);
    },
    async compute(file, fn, options = {}) {
      const signal = options.signal;
      signal?.throwIfAborted();
      const state = await stateOf(file);
      const cached = host.cache.get(state.key);
      if (cached !== undefined) return cached.value as T;
      let running = inFlight.get(state.key);
      if (running === undefined) {
        running = (async () => {
          try {
            const remote = await fromRemote(state);
            if (remote !== undefined) return remote.value;
            const value = await fn({ path: state.ast.path, ast: state.ast, signal });
            signal?.throwIfAborted();
            if (store(state, value)) host.remote?.upload(state.key, value);
            return value;
          } finally {
            inFlight.delete(state.key);
          }
        })();
        inFlight.set(state.key, running);
      }
      return running;
    },
  };
}
