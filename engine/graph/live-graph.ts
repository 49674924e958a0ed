/**
 * The dependency graph kept current while the root is watched, so that each watch event names the
 * files it affects from the first event on: the whole tree is read into the graph once at the start
 * (each file's imports from L2, on disk after an earlier warm, so a restart re-parses nothing; every
 * file revalidated against the disk), then each event re-reads only the file it is about.
 *
 * What an event affects, with early cutoff: a change that keeps the file's export signature affects
 * no other file (its importers' results stay valid); one that changes it, an added file (imports that
 * resolved nowhere may resolve to it now) and a deleted one affect every transitive dependent.
 */
import type { DependencyService } from './deps-service.js';

export type FileChange = 'add' | 'change' | 'unlink';

export class LiveGraph {
  readonly #service: DependencyService;
  readonly #started: Promise<void>;

  constructor(service: DependencyService) {
    this.#service = service;
    this.#started = service.holdWhole().then(() => undefined);
  }

  /** Resolves once the whole tree is in the graph. */
  ready(): Promise<void> {
    return this.#started;
  }

  /**
   * Updates the graph for one file's change and returns the other files it affects (root-relative,
   * breadth-first: direct importers first). Call one change at a time, in the order they happened.
   */
  async affectedBy(file: string, change: FileChange): Promise<string[]> {
    await this.#started;
    const service = this.#service;
    if (change === 'unlink') {
      const dependents = this.#dependents(file);
      await service.remove(file);
      return dependents;
    }
    const before = service.signatureOf(file);
    const after = await service.reread(file);
    if (change === 'add' && before === undefined) await service.resolveDangling();
    else if (before !== undefined && before === after) return []; // early cutoff
    return this.#dependents(file);
  }

  #dependents(file: string): string[] {
    return this.#service.graph.transitiveDependents(file).map((reached) => reached.path);
  }
}
