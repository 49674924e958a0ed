/**
 * The warm pipeline's input when the caller names the files (`warm({ files })`, the learned startup
 * set): the same events as a discovery walk, one stat per file, without walking the tree. Links are
 * followed once, by realpath, and only within the root, as the walk does.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileFailureCodeOf } from '../../shared/errors.js';
import { skipped, type DiscoveryEvent } from './discovery-events.js';

export interface ListedFilesOptions {
  readonly maxFileSize: number;
  readonly signal?: AbortSignal;
}

/** Yields one event per root-relative path in `files` (duplicates once), in the order given. */
export async function* listedSourceFiles(root: string, files: readonly string[], options: ListedFilesOptions): AsyncGenerator<DiscoveryEvent> {
  const rootReal = fs.realpathSync.native(root);
  const seen = new Set<string>();
  for (const rel of files) {
    options.signal?.throwIfAborted();
    if (seen.has(rel)) continue;
    seen.add(rel);
    yield listedFile(rootReal, rel, options.maxFileSize);
  }
}

function listedFile(rootReal: string, rel: string, maxFileSize: number): DiscoveryEvent {
  const own = path.join(rootReal, ...rel.split('/'));
  try {
    let absolutePath = own;
    let stats = fs.lstatSync(own, { bigint: true });
    if (stats.isSymbolicLink()) {
      absolutePath = fs.realpathSync.native(own);
      const inside = path.relative(rootReal, absolutePath);
      if (inside.startsWith('..') || path.isAbsolute(inside)) return skipped(rel, 'symlink-outside-root');
      stats = fs.statSync(absolutePath, { bigint: true });
    }
    if (stats.isDirectory()) return { type: 'failed', failure: { path: rel, code: 'EISDIR', message: `${rel} is a directory` } };
    if (stats.size > BigInt(maxFileSize)) return skipped(rel, 'too-large');
    return { type: 'file', path: rel, absolutePath, size: Number(stats.size), stats };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') return skipped(rel, 'symlink-loop');
    return { type: 'failed', failure: { path: rel, code: fileFailureCodeOf(error), message: `${rel}: ${(error as Error).message}` } };
  }
}
