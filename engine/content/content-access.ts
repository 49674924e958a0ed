/**
 * L1 as callers see it: a path (absolute or root-relative) in, the file's current bytes out, from
 * the cache while its fingerprint holds (content-reader.ts), as a copy or a pinned zero-copy view.
 * Also finds cached entries whose file moved on, for `validate()` and periodic revalidation.
 */
import * as fs from 'node:fs';
import { StrataError } from '../../shared/errors.js';
import { toAbsolute, toRootPath } from '../paths.js';
import type { ContentBytes, ContentCache } from './content-cache.js';
import type { ContentRead, ContentReader } from './content-reader.js';
import { fingerprintOf, sameFingerprint } from './fingerprint.js';

/** A pinned, zero-copy view of a file's cached bytes. Valid until `release()`. */
export interface ContentView {
  readonly path: string;
  readonly bytes: Uint8Array;
  release(): void;
}

/** A read that produced bytes: held by L1 (`cached`, pinnable) or in a buffer of its own (`transient`). */
export interface ValidRead {
  /** Root-relative path. */
  readonly relative: string;
  readonly absolute: string;
  readonly bytes: ContentBytes;
  readonly read: Extract<ContentRead, { type: 'cached' | 'transient' }>;
}

export class ContentAccess {
  readonly #root: string;
  readonly #cache: ContentCache;
  readonly #reader: ContentReader;

  constructor(root: string, cache: ContentCache, reader: ContentReader) {
    this.#root = root;
    this.#cache = cache;
    this.#reader = reader;
  }

  /** The file's current bytes; skipped files reject with ENOTCACHED, unreadable ones with their code. */
  read(file: string): ValidRead {
    const { relative, absolute } = toRootPath(this.#root, file);
    const read = this.#reader.read(relative, absolute);
    switch (read.type) {
      case 'cached':
        return { relative, absolute, bytes: read.entry, read };
      case 'transient':
        return { relative, absolute, bytes: read.content, read };
      case 'skipped':
        throw new StrataError('ENOTCACHED', `${relative} is not parsed as source (${read.reason})`, relative);
      case 'failed':
        throw new StrataError(read.code, `${relative}: ${read.message}`, relative);
    }
  }

  /** The file's current bytes, copied out of the slab. */
  copy(file: string): Buffer {
    const { bytes } = this.read(file);
    const copy = Buffer.alloc(bytes.length);
    copy.set(new Uint8Array(bytes.buffer, bytes.offset, bytes.length));
    return copy;
  }

  /** A pinned view of the file's bytes in L1: never reused while pinned. */
  view(file: string): ContentView {
    const { relative, read } = this.read(file);
    const path = toAbsolute(this.#root, relative);
    if (read.type === 'transient') {
      // Bytes L1 could not hold live in a buffer of their own: nothing to pin.
      const content = read.content;
      return { path, bytes: new Uint8Array(content.buffer, content.offset, content.length), release: () => undefined };
    }
    const entry = read.entry;
    this.#cache.pin(entry);
    let released = false;
    return {
      path,
      bytes: new Uint8Array(entry.buffer, entry.offset, entry.length),
      release: () => {
        if (released) return;
        released = true;
        this.#cache.unpin(entry);
      },
    };
  }

  /** Root-relative paths of L1 entries whose file's fingerprint moved, or whose file is gone. */
  staleEntries(): string[] {
    const stale: string[] = [];
    for (const entry of this.#cache.entries()) {
      try {
        const stats = fs.statSync(toAbsolute(this.#root, entry.path), { bigint: true });
        if (!sameFingerprint(fingerprintOf(stats), entry.fingerprint)) stale.push(entry.path);
      } catch {
        stale.push(entry.path); // gone: nothing left to serve
      }
    }
    return stale;
  }

  /** Drops stale entries (reads re-check anyway; this frees the memory); answers how many. */
  dropStale(): number {
    let dropped = 0;
    for (const file of this.staleEntries()) if (this.#cache.delete(file)) dropped++;
    return dropped;
  }
}
