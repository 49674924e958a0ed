/**
 * What a walk of a root starts from (its realpath, the resolved excludes, the ignore rules from
 * outside it) and the walk key a directory snapshot is stored under. Apart from the walk so that the
 * restart lane (engine/restart/) can compute the same key without loading the walk.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { warning, type DiscoveryWarning } from './discovery-events.js';
import type { Layer } from './ignore-rules.js';
import { repositoryIgnores } from './repository-ignores.js';
import { resolveExcludes } from './walk-fs.js';

/**
 * What every stored listing depends on besides its own directory's entries and `.gitignore`: the
 * root, the options that prune entries, and the ignore rules from outside the root.
 */
export function walkKeyOf(rootReal: string, includeNodeModules: boolean, excludes: readonly string[], outer: readonly Layer[]): string {
  return JSON.stringify([rootReal, includeNodeModules, excludes, outer.map((layer) => [layer.prefix, layer.patterns])]);
}

/** What a walk of a root starts from: its realpath, the resolved excludes, the rules from outside it. */
export interface WalkSetup {
  /** Wall clock when the walk started: stamps close to it are racy. */
  readonly startedAtMs: number;
  readonly rootReal: string;
  readonly excludes: readonly string[];
  readonly layers: readonly Layer[];
  /** Problems with the rules from outside the root, as the walk reports them first. */
  readonly warnings: readonly DiscoveryWarning[];
  /** The key a directory snapshot must have been taken under to be used (see {@link walkKeyOf}). */
  readonly walkKey: string;
}

/** Resolves the root and what prunes the walk; throws when the root does not exist. */
export function prepareWalk(root: string, options: { readonly includeNodeModules: boolean; readonly excludeDirs?: readonly string[] | undefined }): WalkSetup {
  const startedAtMs = Date.now();
  const rootReal = fs.realpathSync(path.resolve(root));
  const excludes = resolveExcludes(root, options.excludeDirs ?? []);
  const outer = repositoryIgnores(rootReal);
  const warnings = outer.warnings.map((problem) => warning(problem.path, problem.message));
  return { startedAtMs, rootReal, excludes, layers: outer.layers, warnings, walkKey: walkKeyOf(rootReal, options.includeNodeModules, excludes, outer.layers) };
}

