/**
 * One monotonic revision clock for the whole engine. Every invalidation bumps it and records, per
 * path, the revision at which the path was last invalidated. Work stamped with the revision it
 * started at is dropped when its file was invalidated after that (never cached stale).
 */
export type Revision = number & { readonly __brand: 'Revision' };

export class RevisionClock {
  #now = 0 as Revision;
  #lastInvalidated = new Map<string, Revision>();
  /** Invalidations so far, and the paths they named (metrics). */
  invalidations = 0;
  invalidatedPaths = 0;

  get now(): Revision {
    return this.#now;
  }

  /** Marks paths changed; returns the new revision. */
  invalidate(paths: Iterable<string>): Revision {
    this.#now = (this.#now + 1) as Revision;
    this.invalidations++;
    for (const path of paths) {
      this.#lastInvalidated.set(path, this.#now);
      this.invalidatedPaths++;
    }
    return this.#now;
  }

  /** True when work on `path` that started at `startedAt` is still current. */
  isCurrent(path: string, startedAt: Revision): boolean {
    const last = this.#lastInvalidated.get(path);
    return last === undefined || last <= startedAt;
  }
}
