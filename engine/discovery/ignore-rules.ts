/**
 * The ignore rules of a walk: `.gitignore` files, `info/exclude` and `core.excludesFile` (those from
 * above the root: repository-ignores.ts) as layers of patterns,
 * matched with git's precedence (the deepest file with a matching pattern decides), and the layers
 * for a directory a deeper file re-included.
 */
import * as fs from 'node:fs';
import ignore from 'ignore';
import type { Ignore } from 'ignore';

/** `ignore` matches case-insensitively where the file system usually is. */
const IGNORE_CASE = process.platform === 'darwin' || process.platform === 'win32';

/**
 * Tests made through one `ignore` matcher before it is replaced by a fresh one: `ignore` caches the
 * result of every path it has seen (and of its parents), which would otherwise grow with the tree.
 */
const MATCHER_CACHE_LIMIT = 16_384;

/** The patterns of one ignore file, matched against paths relative to its directory. */
export class Layer {
  /** Compiled on the first test: a restart that reuses every directory listing tests nothing. */
  #matcher: Ignore | null = null;
  #tests = 0;

  /**
   * @param base root-relative directory holding the ignore file; '' for the root (and above it).
   * @param patterns the texts of its patterns, kept to rebuild the matcher and to derive variants.
   * @param prefix for an ignore file above the root: the path from its directory to the root, with
   *   a trailing '/' (its patterns match paths relative to its own directory); '' otherwise.
   */
  constructor(
    readonly base: string,
    readonly patterns: readonly string[],
    readonly prefix = '',
  ) {}

  /** Tests a root-relative path below `base` (with a trailing '/' for a directory). */
  test(rel: string): { ignored: boolean; unignored: boolean } {
    if (this.#matcher === null || ++this.#tests > MATCHER_CACHE_LIMIT) {
      this.#matcher = Layer.#compile(this.patterns);
      this.#tests = 0;
    }
    return this.#matcher.test(this.prefix + (this.base === '' ? rel : rel.slice(this.base.length + 1)));
  }

  static #compile(patterns: readonly string[]): Ignore {
    const matcher = ignore({ ignorecase: IGNORE_CASE });
    // One `add` per text: `ignore` splits a string into lines, but not the strings of an array.
    for (const text of patterns) matcher.add(text);
    return matcher;
  }
}

export type Verdict = 'ignored' | 'included' | 'reincluded';

/** Git's rule: the deepest ignore file with a matching pattern decides; none matching means included. */
export function ignoreVerdict(layers: readonly Layer[], rel: string, directory: boolean): Verdict {
  for (let index = layers.length - 1; index >= 0; index--) {
    const result = layers[index]!.test(directory ? `${rel}/` : rel);
    if (result.ignored) return 'ignored';
    if (result.unignored) return directory ? 'reincluded' : 'included';
  }
  return 'included';
}

/**
 * Layers for the inside of a directory that a deeper ignore file re-included after a shallower one
 * excluded it. `ignore` treats everything under an excluded directory as excluded, which is right
 * for the layer alone but not once a deeper file re-included the directory (git then matches the
 * shallower patterns against each path below, one by one). The shallower layer gets a trailing
 * `!/dir/` so that it no longer excludes the directory, only what its own patterns match below it.
 */
export function deriveLayers(layers: readonly Layer[], dirRel: string): readonly Layer[] {
  return layers.map((layer) => {
    if (!layer.test(`${dirRel}/`).ignored) return layer;
    const relative = layer.prefix + (layer.base === '' ? dirRel : dirRel.slice(layer.base.length + 1));
    return new Layer(layer.base, [...layer.patterns, `!/${escapePattern(relative)}/`], layer.prefix);
  });
}

/** Escapes a literal path for use in a gitignore pattern. */
function escapePattern(literal: string): string {
  return literal.replace(/[\\*?[\]]/g, '\\$&').replace(/ $/, '\\ ');
}

export function readIgnoreFile(file: string): { text?: string; error?: unknown } {
  try {
    return { text: stripBom(fs.readFileSync(file, 'utf8')) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return {};
    return { error };
  }
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
