/**
 * `strata/import-exists` through Strata: a file's imports resolved by Strata's dependency graph
 * (TypeScript's module resolution, `engine.deps()`), each target's exports read from its SourceFile
 * (the SourceFile tier: parsed once per content, however many importers ask).
 */
import * as path from 'node:path';
import type { Engine } from '../../engine/index.js';
import { exportNamesOf, type ExportNames } from './export-names.js';
import type { ExportLookup } from './import-exists-rule.js';

/** Export names per target file, for one run (a target's SourceFile is re-validated by the tier). */
export class StrataExports {
  readonly #engine: Engine;
  readonly #known = new Map<string, Promise<ExportNames | null>>();

  constructor(engine: Engine) {
    this.#engine = engine;
  }

  /** The lookup the rule calls for `file`, with every in-tree import of it answered beforehand. */
  async lookupFor(file: string): Promise<ExportLookup> {
    const answers = new Map<string, ExportNames | null>();
    for (const dependency of (await this.#engine.deps(file)).dependencies) {
      if (dependency.resolved === null || dependency.external) continue;
      answers.set(dependency.specifier, await this.#namesOf(path.resolve(this.#engine.root, dependency.resolved), new Set([file])));
    }
    return (_file, specifier) => answers.get(specifier) ?? null;
  }

  #namesOf(file: string, seen: Set<string>): Promise<ExportNames | null> {
    let known = this.#known.get(file);
    if (known === undefined) {
      known = this.#read(file, seen);
      this.#known.set(file, known);
    }
    return known;
  }

  async #read(file: string, seen: Set<string>): Promise<ExportNames | null> {
    let sourceFile;
    try {
      sourceFile = await this.#engine.sourceFile(file);
    } catch {
      return null; // not source Strata serves (JSON, binary): not checked
    }
    seen.add(file);
    // `export * from` targets, resolved by the graph too.
    const reexports = new Map<string, ExportNames | null>();
    for (const dependency of (await this.#engine.deps(file)).dependencies) {
      if (dependency.kind !== 'export' || dependency.resolved === null || dependency.external) continue;
      const target = path.resolve(this.#engine.root, dependency.resolved);
      reexports.set(dependency.specifier, seen.has(target) ? null : await this.#namesOf(target, seen));
    }
    return exportNamesOf(sourceFile, (specifier) => reexports.get(specifier) ?? null);
  }
}
