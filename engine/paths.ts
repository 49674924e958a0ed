/** Paths in: absolute or root-relative. Inside the engine: root-relative with '/' separators. */
import * as path from 'node:path';
import { StrataError } from '../shared/errors.js';

export interface RootPath {
  readonly absolute: string;
  readonly relative: string;
}

/** A path segment that `path.resolve` would rewrite (`.`, `..`, an empty one from `//`). */
const UNNORMALIZED = /(?:^|\/)\.{0,2}(?:\/|$)/;

export function toRootPath(root: string, input: string): RootPath {
  // Fast path (every hit of a warm cache asks): an absolute, normalized path under the root.
  if (path.sep === '/' && input.length > root.length + 1 && input.startsWith(root) && input.charCodeAt(root.length) === 47 /* '/' */) {
    const relative = input.slice(root.length + 1);
    if (!UNNORMALIZED.test(relative)) return { absolute: input, relative };
  }
  const absolute = path.resolve(root, input);
  const relative = path.relative(root, absolute).split(path.sep).join('/');
  if (relative === '' || relative.startsWith('../') || relative === '..' || path.isAbsolute(relative)) {
    throw new StrataError('ENOTINROOT', `${input} is not a file inside the root ${root}`, input);
  }
  return { absolute, relative };
}

export function toAbsolute(root: string, relative: string): string {
  return path.join(root, ...relative.split('/'));
}
