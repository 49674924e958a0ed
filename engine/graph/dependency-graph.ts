/**
 * The dependency graph in memory: forward edges per file as its importer set them, reverse edges
 * kept in step incrementally, and cycle-safe breadth-first walks in both directions.
 *
 * Files are interned to numeric ids (a `Map<string, number>` and arrays indexed by id): forward edges
 * are id arrays, reverse edges id sets, and a walk marks visited nodes in a typed array stamped with
 * a per-walk epoch, so a walk allocates nothing but its answer. Ids of removed files are reused.
 *
 * A node exists while it has dependencies set ({@link setDependencies}) or is the target of an edge;
 * a target nobody imports any more and whose own dependencies were never set is dropped.
 * Paths are opaque strings here (the callers use root-relative paths).
 */

/** A file reached by a transitive walk. */
export interface ReachedFile {
  readonly path: string;
  /** Edges from the start (1 = a direct dependent / dependency). */
  readonly depth: number;
  /** The file it was first reached from (the start for depth 1): the walk's breadth-first parent. */
  readonly via: string;
}

const NO_LIMIT = Number.POSITIVE_INFINITY;

export class DependencyGraph {
  readonly #ids = new Map<string, number>();
  /** id → path; undefined for a free id. */
  readonly #names: (string | undefined)[] = [];
  /** id → the ids it depends on (unique), or undefined when its dependencies were never set. */
  readonly #forward: (number[] | undefined)[] = [];
  /** id → the ids that depend on it. */
  readonly #reverse: (Set<number> | undefined)[] = [];
  readonly #free: number[] = [];
  // Walk scratch, grown to the id space on demand.
  #seen = new Uint32Array(0);
  #epoch = 0;
  #queue = new Int32Array(0);
  #depth = new Int32Array(0);
  #via = new Int32Array(0);

  /** Number of files in the graph (with dependencies set, or imported by one). */
  get size(): number {
    return this.#ids.size;
  }

  has(file: string): boolean {
    return this.#ids.has(file);
  }

  /** Every file in the graph, in no particular order. */
  files(): string[] {
    return [...this.#ids.keys()];
  }

  /** Replaces the forward edges of `file` (duplicates and self-edges are kept once, self-edges included). */
  setDependencies(file: string, dependencies: Iterable<string>): void {
    const id = this.#intern(file);
    const previous = this.#forward[id];
    const next: number[] = [];
    const added = new Set<number>();
    for (const dependency of dependencies) {
      const target = this.#intern(dependency);
      if (added.has(target)) continue;
      added.add(target);
      next.push(target);
    }
    this.#forward[id] = next;
    if (previous !== undefined) {
      for (const target of previous) {
        if (added.has(target)) continue;
        this.#reverse[target]?.delete(id);
        this.#dropIfOrphan(target);
      }
    }
    const before = previous === undefined ? null : new Set(previous);
    for (const target of next) if (before === null || !before.has(target)) this.#reverseOf(target).add(id);
  }

  /** The files `file` depends on directly, in the order they were set. */
  dependencies(file: string): string[] {
    const id = this.#ids.get(file);
    if (id === undefined) return [];
    return (this.#forward[id] ?? []).map((target) => this.#name(target));
  }

  /** The files that depend on `file` directly. */
  dependents(file: string): string[] {
    const id = this.#ids.get(file);
    if (id === undefined) return [];
    return [...(this.#reverse[id] ?? [])].map((source) => this.#name(source));
  }

  /** Every file that depends on `file`, directly or not, within `maxDepth` edges; breadth-first, each once, `file` itself excluded. */
  transitiveDependents(file: string, maxDepth: number = NO_LIMIT): ReachedFile[] {
    return this.#walk(file, maxDepth, (id) => this.#reverse[id]);
  }

  /** Every file `file` depends on, directly or not, within `maxDepth` edges; breadth-first, each once, `file` itself excluded. */
  transitiveDependencies(file: string, maxDepth: number = NO_LIMIT): ReachedFile[] {
    return this.#walk(file, maxDepth, (id) => this.#forward[id]);
  }

  /**
   * Removes `file`: its own dependencies and every edge to it. Returns the files that depended on it
   * (their imports no longer lead anywhere: callers re-resolve them).
   */
  removeFile(file: string): string[] {
    const id = this.#ids.get(file);
    if (id === undefined) return [];
    const dependents = [...(this.#reverse[id] ?? [])];
    for (const source of dependents) {
      const edges = this.#forward[source];
      if (edges === undefined) continue;
      const at = edges.indexOf(id);
      if (at !== -1) edges.splice(at, 1);
    }
    this.#reverse[id] = undefined;
    const targets = this.#forward[id] ?? [];
    this.#forward[id] = undefined;
    this.#release(id);
    for (const target of targets) {
      if (target === id) continue;
      this.#reverse[target]?.delete(id);
      this.#dropIfOrphan(target);
    }
    return dependents.filter((source) => source !== id).map((source) => this.#name(source));
  }

  #walk(file: string, maxDepth: number, edgesOf: (id: number) => Iterable<number> | undefined): ReachedFile[] {
    const start = this.#ids.get(file);
    if (start === undefined || !(maxDepth >= 1)) return [];
    this.#prepareWalk();
    const seen = this.#seen;
    const queue = this.#queue;
    const depth = this.#depth;
    const via = this.#via;
    const epoch = this.#epoch;
    seen[start] = epoch;
    depth[start] = 0;
    queue[0] = start;
    let head = 0;
    let tail = 1;
    while (head < tail) {
      const id = queue[head++] as number;
      const next = (depth[id] as number) + 1;
      if (next > maxDepth) continue;
      const edges = edgesOf(id);
      if (edges === undefined) continue;
      for (const neighbour of edges) {
        if (seen[neighbour] === epoch) continue;
        seen[neighbour] = epoch;
        depth[neighbour] = next;
        via[neighbour] = id;
        queue[tail++] = neighbour;
      }
    }
    const reached: ReachedFile[] = new Array(tail - 1);
    for (let i = 1; i < tail; i++) {
      const id = queue[i] as number;
      reached[i - 1] = { path: this.#name(id), depth: depth[id] as number, via: this.#name(via[id] as number) };
    }
    return reached;
  }

  /** Sizes the scratch arrays to the id space and starts a new epoch (no clearing but on wrap-around). */
  #prepareWalk(): void {
    const needed = this.#names.length;
    if (this.#seen.length < needed) {
      const capacity = Math.max(needed, this.#seen.length * 2, 64);
      this.#seen = new Uint32Array(capacity);
      this.#queue = new Int32Array(capacity);
      this.#depth = new Int32Array(capacity);
      this.#via = new Int32Array(capacity);
      this.#epoch = 0;
    }
    this.#epoch++;
    if (this.#epoch === 0xffffffff) {
      this.#seen.fill(0);
      this.#epoch = 1;
    }
  }

  #intern(file: string): number {
    let id = this.#ids.get(file);
    if (id === undefined) {
      id = this.#free.pop() ?? this.#names.length;
      this.#ids.set(file, id);
      this.#names[id] = file;
      this.#forward[id] = undefined;
      this.#reverse[id] = undefined;
    }
    return id;
  }

  #reverseOf(id: number): Set<number> {
    let set = this.#reverse[id];
    if (set === undefined) {
      set = new Set();
      this.#reverse[id] = set;
    }
    return set;
  }

  /** Drops a node that has no dependencies of its own set and nobody depending on it. */
  #dropIfOrphan(id: number): void {
    if (this.#names[id] === undefined || this.#forward[id] !== undefined) return;
    const reverse = this.#reverse[id];
    if (reverse !== undefined && reverse.size > 0) return;
    this.#release(id);
  }

  #release(id: number): void {
    const name = this.#names[id];
    if (name === undefined) return;
    this.#ids.delete(name);
    this.#names[id] = undefined;
    this.#forward[id] = undefined;
    this.#reverse[id] = undefined;
    this.#free.push(id);
  }

  #name(id: number): string {
    const name = this.#names[id];
    if (name === undefined) throw new Error(`dependency graph: no file for id ${id}`);
    return name;
  }
}
