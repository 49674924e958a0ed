/**
 * The engine's way into the dependency graph, loaded on first use: a plain warm never needs the
 * graph, and module resolution loads TypeScript. Holds the one module resolver and the one
 * dependency service, and answers the facade's `deps` / `dependents` with absolute paths.
 *
 * Only types are imported at the top: the modules themselves are `require`d when first asked for.
 */
import type { ImportRecord } from '../../shared/imports.js';
import type { DependenciesAnswer, DependencyService, DependentsAnswer, TransitiveDependentsAnswer } from './deps-service.js';
import type { FileChange, LiveGraph } from './live-graph.js';
import type { ModuleResolver } from './module-resolver.js';

/** What the graph reads through: the engine's own AST reads (not a caller's accesses) and its options. */
export interface GraphHost {
  readonly root: string;
  readonly options: { readonly maxFileSize: number; readonly cacheDir: string | null; readonly graphMaxNodes: number };
  /** The file's current imports, revalidated against the disk; `path` absolute. */
  astOf(file: string): Promise<{ readonly path: string; readonly imports: readonly ImportRecord[]; readonly signature: string }>;
}

export class GraphAccess {
  readonly #host: GraphHost;
  #resolver: ModuleResolver | null = null;
  #deps: DependencyService | null = null;
  #live: LiveGraph | null = null;

  constructor(host: GraphHost) {
    this.#host = host;
  }

  /** Nodes of the in-memory graph (0 before anything asked for it). */
  get nodeCount(): number {
    return this.#deps?.nodeCount ?? 0;
  }

  /** The file's imports, resolved; absolute paths. */
  async dependencies(file: string): Promise<DependenciesAnswer> {
    return depsModule().absoluteDependencies(this.#host.root, await this.#service().dependenciesOf(file));
  }

  /** Files that import this one (with `depth`, transitively); absolute paths. */
  async dependents(file: string, depth?: number): Promise<DependentsAnswer | TransitiveDependentsAnswer> {
    const service = this.#service();
    const answer = depth === undefined ? await service.dependentsOf(file) : await service.dependentsOf(file, depth);
    return depsModule().absoluteDependents(this.#host.root, answer);
  }

  /** Reads the whole tree into the graph and keeps it current from then on (a watcher's start); once. */
  startLive(): Promise<void> {
    if (this.#live === null) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { LiveGraph: Live } = require('./live-graph.js') as typeof import('./live-graph.js');
      this.#live = new Live(this.#service());
    }
    return this.#live.ready();
  }

  /** After {@link startLive}: updates the graph for a file's change; the other files it affects (root-relative). */
  affectedBy(file: string, change: FileChange): Promise<string[]> {
    if (this.#live === null) return Promise.resolve([]);
    return this.#live.affectedBy(file, change);
  }

  /** The resolver with a fresh resolution snapshot (tsconfig files and the tree may have changed). */
  freshResolver(): ModuleResolver {
    const resolver = this.#moduleResolver();
    resolver.refresh();
    return resolver;
  }

  #service(): DependencyService {
    if (this.#deps === null) {
      const { DependencyService: Service, engineDepsSource } = depsModule();
      const host = this.#host;
      const source = engineDepsSource({ root: host.root, options: host.options, ast: (file) => host.astOf(file) });
      this.#deps = new Service(source, { resolver: this.#moduleResolver(), maxNodes: host.options.graphMaxNodes });
    }
    return this.#deps;
  }

  #moduleResolver(): ModuleResolver {
    if (this.#resolver === null) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { ModuleResolver: Resolver } = require('./module-resolver.js') as typeof import('./module-resolver.js');
      this.#resolver = new Resolver({ root: this.#host.root });
    }
    return this.#resolver;
  }
}

function depsModule(): typeof import('./deps-service.js') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./deps-service.js') as typeof import('./deps-service.js');
}
