/**
 * The watcher's ignore rules for single paths, built on discovery's layers and verdict: `.git`,
 * `node_modules`, the cache directory, `.gitignore` at every depth, and the rules from outside the
 * root (discovery's repository-ignores.ts: `.gitignore` above it, `info/exclude`, `core.excludesFile`), with
 * git's precedence (the deepest ignore file with a matching pattern decides). Each `.gitignore` is
 * read once and kept until the watcher sees it change.
 */
import * as path from 'node:path';
import { ignoreVerdict, Layer, readIgnoreFile } from '../discovery/ignore-rules.js';
import { repositoryIgnores } from '../discovery/repository-ignores.js';

export class IgnoreRules {
  /** root-relative directory → the patterns of its `.gitignore` (null: none). */
  readonly #layers = new Map<string, Layer | null>();
  /** The rules from outside the root: core.excludesFile, info/exclude, `.gitignore` files above it. */
  readonly #outer: readonly Layer[];
  readonly #cacheDir: string | null;

  constructor(
    readonly root: string,
    readonly includeNodeModules: boolean,
    cacheDir: string | null,
  ) {
    this.#outer = repositoryIgnores(root).layers;
    const relative = cacheDir === null ? null : path.relative(root, path.resolve(root, cacheDir)).split(path.sep).join('/');
    this.#cacheDir = relative === null || relative === '' || relative.startsWith('..') || path.isAbsolute(relative) ? null : relative;
  }

  /** Drops a directory's cached `.gitignore` (it changed). */
  forget(dir: string): void {
    this.#layers.delete(dir);
  }

  isIgnored(relative: string, directory: boolean): boolean {
    const segments = relative.split('/');
    for (const segment of segments) {
      if (segment === '.git') return true;
      if (segment === 'node_modules' && !this.includeNodeModules) return true;
    }
    const cacheDir = this.#cacheDir;
    if (cacheDir !== null && (relative === cacheDir || relative.startsWith(`${cacheDir}/`))) return true;
    // Git's precedence (discovery's rule): the deepest ignore file with a matching pattern decides,
    // the rules from outside the root below every `.gitignore` inside it.
    const layers: Layer[] = [...this.#outer];
    for (let depth = 0; depth < segments.length; depth++) {
      const layer = this.#layer(segments.slice(0, depth).join('/'));
      if (layer !== null) layers.push(layer);
    }
    return ignoreVerdict(layers, relative, directory) === 'ignored';
  }

  #layer(dir: string): Layer | null {
    let layer = this.#layers.get(dir);
    if (layer === undefined) {
      layer = readLayer(dir, path.join(this.root, dir, '.gitignore'));
      this.#layers.set(dir, layer);
    }
    return layer;
  }
}

/** An ignore file's patterns, or null when it is missing, unreadable or empty (nothing to match). */
function readLayer(base: string, file: string): Layer | null {
  const { text } = readIgnoreFile(file);
  return text === undefined || text.trim() === '' ? null : new Layer(base, [text]);
}

