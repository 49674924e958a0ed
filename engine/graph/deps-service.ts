/**
 * The answers of `strata deps` (DESIGN.md, "Contract"): a file's dependencies, its dependents (direct,
 * or transitive within a depth), and the whole graph.
 *
 * Built on an engine-shaped source ({@link DepsSource}): every answer reads the imports of the files
 * it reports on through `astOf`, which revalidates each file against the disk, and resolves them with
 * a fresh resolution snapshot ({@link ModuleResolver.refresh}); nothing is read blindly from a cache.
 * The in-memory {@link DependencyGraph} is updated incrementally by each scan and answers the walks.
 *
 * Paths out are root-relative with `/`.
 */
import * as path from 'node:path';
import { isStrataError, StrataError } from '../../shared/errors.js';
import type { ImportKind, ImportRecord } from '../../shared/imports.js';
import { discoverSourceFiles } from '../discovery/discovery.js';
import { isSourceFile } from '../discovery/source-files.js';
import { toAbsolute } from '../paths.js';
import { realpathOr, isInside } from './compiler-options.js';
import { DependencyGraph } from './dependency-graph.js';
import { ModuleResolver } from './module-resolver.js';

/** What the service needs from an engine. */
export interface DepsSource {
  readonly root: string;
  /** The file's current imports (revalidated against the disk) and export signature; `path` absolute. */
  astOf(relativeOrAbsolute: string): Promise<{ readonly path: string; readonly imports: readonly ImportRecord[]; readonly signature?: string }>;
  /** Every source file under the root, absolute. */
  listSourceFiles(): Promise<string[]>;
}

/** One import of a file, resolved (DESIGN.md's `dependencies[]` entry). */
export interface DependencyEntry {
  readonly specifier: string;
  /** Root-relative path of the file it names, or null when it does not resolve within the root. */
  readonly resolved: string | null;
  readonly kind: ImportKind;
  readonly typeOnly: boolean;
  readonly external: boolean;
}

export interface DependenciesAnswer {
  readonly file: string;
  /** Root-relative path of the tsconfig.json whose options resolved the imports, or null (defaults). */
  readonly tsconfig: string | null;
  readonly dependencies: DependencyEntry[];
}

/** A file importing the one asked about, with the import that does it. */
export interface DependentEntry {
  readonly path: string;
  readonly specifier: string;
  readonly kind: ImportKind;
}

export interface DependentsAnswer {
  readonly file: string;
  readonly dependents: DependentEntry[];
}

/** A file reached within a depth: `via` is the file it imports on a shortest path, through `specifier`. */
export interface ReachedEntry {
  readonly path: string;
  readonly depth: number;
  readonly via: string;
  readonly specifier: string;
  readonly kind: ImportKind;
}

export interface TransitiveDependentsAnswer {
  readonly file: string;
  readonly depth: number;
  /** De-duplicated, sorted by depth then path. */
  readonly dependents: ReachedEntry[];
}

export interface TransitiveDependenciesAnswer {
  readonly file: string;
  readonly depth: number;
  /** In-root files only (externals are not walked), de-duplicated, sorted by depth then path. */
  readonly dependencies: ReachedEntry[];
}

/** A source file whose imports could not be read (it is still a key of the whole graph, with no edges). */
export interface GraphFailure {
  readonly path: string;
  readonly code: string;
  readonly message: string;
}

export interface WholeGraphAnswer {
  readonly root: string;
  /** Every source file (sorted) → the in-root, non-external files it imports (sorted, unique). */
  readonly files: Record<string, string[]>;
  readonly failed: GraphFailure[];
}

export interface DependencyServiceOptions {
  /** @default a resolver over the source's root */
  readonly resolver?: ModuleResolver;
  /** `astOf` calls in flight during a scan. @default 32 */
  readonly concurrency?: number;
  /**
   * Graph nodes kept in memory between queries (the profile's `graphMaxNodes`). Past it the graph
   * is dropped after answering and rebuilt by the next query: the cap bounds memory, never answers.
   * @default unbounded
   */
  readonly maxNodes?: number;
}

interface FileDependencies {
  readonly tsconfig: string | null;
  readonly entries: DependencyEntry[];
}

const DEFAULT_CONCURRENCY = 32;

export class DependencyService {
  readonly root: string;
  readonly #rootReal: string;
  readonly #source: DepsSource;
  readonly #resolver: ModuleResolver;
  readonly #concurrency: number;
  readonly #maxNodes: number;
  #graph = new DependencyGraph();
  /** Source file (root-relative) → its resolved imports, as of the last scan that read it. */
  readonly #records = new Map<string, DependencyEntry[]>();
  /** Source file (root-relative) → its export signature as last read (what early cutoff compares). */
  readonly #signatures = new Map<string, string>();
  /** Set while a watcher keeps the graph current: the node cap then no longer drops it. */
  #held = false;

  constructor(source: DepsSource, options: DependencyServiceOptions = {}) {
    this.#source = source;
    this.root = path.resolve(source.root);
    this.#rootReal = realpathOr(this.root);
    this.#resolver = options.resolver ?? new ModuleResolver({ root: this.root });
    this.#concurrency = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);
    this.#maxNodes = options.maxNodes ?? Infinity;
  }

  /** Nodes held in memory now. */
  get nodeCount(): number {
    return this.#graph.size;
  }

  /** Drops the graph when it holds more nodes than allowed; the next query rebuilds what it needs. */
  #bound<T>(answer: T): T {
    if (!this.#held && this.#graph.size > this.#maxNodes) {
      this.#graph = new DependencyGraph();
      this.#records.clear();
      this.#signatures.clear();
    }
    return answer;
  }

  /** The graph as of the last scan (read-only use). */
  get graph(): DependencyGraph {
    return this.#graph;
  }

  /** The file's imports, each resolved. */
  async dependenciesOf(file: string): Promise<DependenciesAnswer> {
    this.#resolver.refresh();
    const relative = this.#relative(file);
    const read = await this.#read(relative);
    return this.#bound({ file: relative, tsconfig: read.tsconfig, dependencies: read.entries });
  }

  /** The files that import `file` directly (with the import), or with `depth` every file within that many edges. */
  dependentsOf(file: string): Promise<DependentsAnswer>;
  dependentsOf(file: string, depth: number): Promise<TransitiveDependentsAnswer>;
  async dependentsOf(file: string, depth?: number): Promise<DependentsAnswer | TransitiveDependentsAnswer> {
    const relative = this.#relative(file);
    await this.#scan();
    if (depth === undefined) {
      const dependents: DependentEntry[] = [];
      for (const source of this.#graph.dependents(relative).sort(compare)) {
        for (const entry of this.#edgesBetween(source, relative)) dependents.push({ path: source, specifier: entry.specifier, kind: entry.kind });
      }
      return this.#bound({ file: relative, dependents });
    }
    const reached = this.#graph.transitiveDependents(relative, depth);
    return this.#bound({ file: relative, depth, dependents: sortReached(reached.map((r) => this.#reachedEntry(r.path, r.depth, r.via, r.path, r.via))) });
  }

  /**
   * Every in-root file `file` imports within `depth` edges. Reads only the files it reaches (no scan
   * of the whole tree); non-source files (JSON, CSS) are leaves.
   */
  async transitiveDependenciesOf(file: string, depth: number): Promise<TransitiveDependenciesAnswer> {
    this.#resolver.refresh();
    const relative = this.#relative(file);
    let frontier = [relative];
    const read = new Set<string>();
    for (let level = 0; level < depth && frontier.length > 0; level++) {
      const toRead = frontier.filter((each) => !read.has(each) && isSourceFile(each));
      for (const each of toRead) read.add(each);
      await this.#forEachConcurrently(toRead, async (each) => {
        await this.#readIntoGraph(each);
      });
      const next = new Set<string>();
      for (const each of toRead) for (const target of this.#graph.dependencies(each)) if (!read.has(target)) next.add(target);
      frontier = [...next];
    }
    const reached = this.#graph.transitiveDependencies(relative, depth);
    return this.#bound({ file: relative, depth, dependencies: sortReached(reached.map((r) => this.#reachedEntry(r.path, r.depth, r.via, r.via, r.path))) });
  }

  /** Every source file → the in-root files it imports. */
  async wholeGraph(): Promise<WholeGraphAnswer> {
    const { files, failed } = await this.#scan();
    const result: Record<string, string[]> = {};
    for (const file of files) result[file] = [...new Set(this.#graph.dependencies(file))].sort(compare);
    return this.#bound({ root: this.root, files: result, failed });
  }

  /**
   * Reads the whole tree into the graph and keeps it whole from now on (a watcher updates it file by
   * file through {@link reread}, {@link remove} and {@link resolveDangling}; a scan per event would
   * read every file).
   */
  async holdWhole(): Promise<{ files: string[]; failed: GraphFailure[] }> {
    this.#held = true;
    return this.#scan();
  }

  /** The export signature of `file` as last read; undefined when never read or unreadable. */
  signatureOf(file: string): string | undefined {
    return this.#signatures.get(file);
  }

  /** Re-reads one file's imports into the graph (after a change); returns its new signature, null when unreadable. */
  async reread(file: string): Promise<string | null> {
    this.#resolver.refresh();
    const failure = await this.#readIntoGraph(file);
    return failure === null ? (this.#signatures.get(file) ?? null) : null;
  }

  /** Removes a deleted file; its direct importers are re-read, as their imports may now resolve elsewhere. */
  async remove(file: string): Promise<void> {
    this.#records.delete(file);
    this.#signatures.delete(file);
    const importers = this.#graph.removeFile(file);
    this.#resolver.refresh();
    await this.#forEachConcurrently(importers, async (importer) => void (await this.#readIntoGraph(importer)));
  }

  /**
   * Re-resolves the files with in-root imports that resolved nowhere (a file was added, so one may
   * resolve now). Only those: re-resolving every import on each added file would cost a scan.
   */
  async resolveDangling(): Promise<void> {
    const dangling: string[] = [];
    for (const [file, entries] of this.#records) if (entries.some((entry) => entry.resolved === null && !entry.external)) dangling.push(file);
    if (dangling.length === 0) return;
    this.#resolver.refresh();
    await this.#forEachConcurrently(dangling, async (file) => void (await this.#readIntoGraph(file)));
  }

  /** Reads and resolves every source file, updating the graph; files gone since the last scan are removed. */
  async #scan(): Promise<{ files: string[]; failed: GraphFailure[] }> {
    this.#resolver.refresh();
    const listed = (await this.#source.listSourceFiles()).map((file) => this.#relative(file));
    const files = [...new Set(listed)].sort(compare);
    const present = new Set(files);
    for (const known of [...this.#records.keys()]) {
      if (present.has(known)) continue;
      this.#records.delete(known);
      this.#signatures.delete(known);
      this.#graph.removeFile(known);
    }
    const failed: GraphFailure[] = [];
    await this.#forEachConcurrently(files, async (file) => {
      const failure = await this.#readIntoGraph(file);
      if (failure !== null) failed.push(failure);
    });
    failed.sort((a, b) => compare(a.path, b.path));
    return { files, failed };
  }

  /** Reads one file into the graph; a file that cannot be read keeps no edges and is reported. */
  async #readIntoGraph(file: string): Promise<GraphFailure | null> {
    try {
      await this.#read(file);
      return null;
    } catch (error) {
      this.#records.set(file, []);
      this.#signatures.delete(file);
      this.#graph.setDependencies(file, []);
      const code = isStrataError(error) ? error.code : ((error as NodeJS.ErrnoException | undefined)?.code ?? 'EIO');
      return { path: file, code, message: error instanceof Error ? error.message : String(error) };
    }
  }

  /** Reads the file's imports through the source, resolves them, and records its edges. */
  async #read(file: string): Promise<FileDependencies> {
    const ast = await this.#source.astOf(file);
    const config = this.#resolver.compilerOptions.forFile(ast.path);
    const entries: DependencyEntry[] = [];
    const seen = new Set<string>();
    for (const record of ast.imports) {
      const key = `${record.kind}\0${record.typeOnly ? 1 : 0}\0${record.specifier}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const { resolved, external } = this.#resolver.resolveWith(ast.path, record, config);
      entries.push({ specifier: record.specifier, resolved: resolved === null ? null : this.#relative(resolved), kind: record.kind, typeOnly: record.typeOnly, external });
    }
    this.#records.set(file, entries);
    if (ast.signature !== undefined) this.#signatures.set(file, ast.signature);
    this.#graph.setDependencies(file, internalTargets(entries));
    return { tsconfig: config.configPath === null ? null : this.#relative(config.configPath), entries };
  }

  /** The imports of `source` that lead to `target`. */
  #edgesBetween(source: string, target: string): DependencyEntry[] {
    return (this.#records.get(source) ?? []).filter((entry) => !entry.external && entry.resolved === target);
  }

  /** A reached file, with the import of `importer` that leads to `imported` on the walk. */
  #reachedEntry(file: string, depth: number, via: string, importer: string, imported: string): ReachedEntry {
    const edge = this.#edgesBetween(importer, imported)[0];
    if (edge === undefined) throw new Error(`dependency graph: no import of ${imported} in ${importer}`);
    return { path: file, depth, via, specifier: edge.specifier, kind: edge.kind };
  }

  async #forEachConcurrently(items: readonly string[], run: (item: string) => Promise<void>): Promise<void> {
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < items.length) {
        const item = items[next++] as string;
        await run(item);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#concurrency, items.length) }, lane));
  }

  /** Root-relative with `/`; accepts absolute paths under the root or its realpath, or root-relative ones. */
  #relative(file: string): string {
    const absolute = path.resolve(this.root, file);
    const base = isInside(this.root, absolute) ? this.root : isInside(this.#rootReal, absolute) ? this.#rootReal : null;
    const relative = base === null ? '' : path.relative(base, absolute);
    if (base === null || relative === '') throw new StrataError('ENOTINROOT', `${file} is not a file inside the root ${this.root}`, file);
    return relative.split(path.sep).join('/');
  }
}

/** The files a file's graph node points at: resolved, in-root, not external. */
function internalTargets(entries: readonly DependencyEntry[]): string[] {
  const targets: string[] = [];
  for (const entry of entries) if (!entry.external && entry.resolved !== null) targets.push(entry.resolved);
  return targets;
}

function sortReached(entries: ReachedEntry[]): ReachedEntry[] {
  return entries.sort((a, b) => a.depth - b.depth || compare(a.path, b.path));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** What {@link engineDepsSource} needs: an engine fits. */
export interface DepsHost {
  readonly root: string;
  readonly options: { readonly maxFileSize: number; readonly cacheDir: string | null };
  ast(file: string): Promise<{ readonly path: string; readonly imports: readonly ImportRecord[]; readonly signature?: string }>;
}

/** A {@link DepsSource} over an engine: `astOf` is `engine.ast`, source files come from discovery. */
export function engineDepsSource(engine: DepsHost): DepsSource {
  const options = engine.options;
  return {
    root: engine.root,
    astOf: (file) => engine.ast(file),
    async listSourceFiles() {
      const files: string[] = [];
      const excludeDirs = options.cacheDir === null ? [] : [options.cacheDir];
      for await (const event of discoverSourceFiles(engine.root, { includeNodeModules: false, maxFileSize: options.maxFileSize, excludeDirs })) {
        if (event.type === 'file') files.push(path.join(engine.root, ...event.path.split('/')));
      }
      return files;
    },
  };
}

/** A dependencies answer with absolute paths (the library's; the CLI prints the root-relative one). */
export function absoluteDependencies(root: string, answer: DependenciesAnswer): DependenciesAnswer {
  const absolute = (relative: string): string => toAbsolute(root, relative);
  return { ...answer, file: absolute(answer.file), dependencies: answer.dependencies.map((entry) => ({ ...entry, resolved: entry.resolved === null ? null : absolute(entry.resolved) })) };
}

/** A dependents answer (direct, or transitive with `via`) with absolute paths. */
export function absoluteDependents<A extends DependentsAnswer | TransitiveDependentsAnswer>(root: string, answer: A): A {
  const absolute = (relative: string): string => toAbsolute(root, relative);
  const dependents = answer.dependents.map((entry) => ('via' in entry ? { ...entry, path: absolute(entry.path), via: absolute(entry.via) } : { ...entry, path: absolute(entry.path) }));
  return { ...answer, file: absolute(answer.file), dependents } as A;
}
