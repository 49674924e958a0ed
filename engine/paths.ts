/** Paths in: absolute or root-relative. Inside the engine: root-relative with '/' separators. */
import * as path from 'node:path';
import { StrataError } from '../shared/errors.js';

export interface RootPath {
  readonly absolute: string;
  readonly relative: string;
}

export function toRootPath(root: string, input: string): RootPath {
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
