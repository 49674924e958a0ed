/**
 * The watcher's ignore rules for single paths (discovery's, which walks whole trees): `.git`,
 * `node_modules`, the cache directory, `.gitignore` at every depth and `.git/info/exclude`, with
 * git's precedence (the deepest ignore file with a matching pattern decides). Each `.gitignore` is
 * read once and kept until the watcher sees it change.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import ignore from 'ignore';
import type { Ignore } from 'ignore';

/** Tests through one matcher before it is rebuilt (`ignore` caches every path it has seen). */
const MATCHER_CACHE_LIMIT = 16_384;

const IGNORE_CASE = process.platform === 'darwin' || process.platform === 'win32';

class Matcher {
  #matcher: Ignore;
  #tests = 0;
  constructor(readonly text: string) {
    this.#matcher = ignore({ ignorecase: IGNORE_CASE }).add(text);
  }
  test(relative: string): { ignored: boolean; unignored: boolean } {
    if (++this.#tests > MATCHER_CACHE_LIMIT) {
      this.#matcher = ignore({ ignorecase: IGNORE_CASE }).add(this.text);
      this.#tests = 0;
    }
    return this.#matcher.test(relative);
  }
}

export class IgnoreRules {
  /** root-relative directory → the matcher of its `.gitignore` (null: none). */
  readonly #layers = new Map<string, Matcher | null>();
  readonly #exclude: Matcher | null;
  readonly #cacheDir: string | null;

  constructor(
    readonly root: string,
    readonly includeNodeModules: boolean,
    cacheDir: string | null,
  ) {
    this.#exclude = readMatcher(path.join(root, '.git', 'info', 'exclude'));
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
    const tested = directory ? `${relative}/` : relative;
    // Deepest ignore file first: the first with a matching pattern decides.
    for (let depth = segments.length - 1; depth >= 0; depth--) {
      const base = segments.slice(0, depth).join('/');
      const layer = this.#layer(base);
      if (!layer) continue;
      const result = layer.test(base === '' ? tested : tested.slice(base.length + 1));
      if (result.ignored) return true;
      if (result.unignored) return false;
    }
    if (this.#exclude) {
      const result = this.#exclude.test(tested);
      if (result.ignored) return true;
    }
    return false;
  }

  #layer(dir: string): Matcher | null {
    let layer = this.#layers.get(dir);
    if (layer === undefined) {
      layer = readMatcher(path.join(this.root, dir, '.gitignore'));
      this.#layers.set(dir, layer);
    }
    return layer;
  }
}

function readMatcher(file: string): Matcher | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return text.trim() === '' ? null : new Matcher(text);
}
