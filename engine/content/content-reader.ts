/**
 * Reads files into L1 and answers content reads with the fingerprint rule of DESIGN.md:
 * unchanged fingerprint → cached bytes; changed fingerprint, same content hash → re-stamp;
 * changed content → new bytes. Racy entries are re-hashed on their next read.
 * Bytes go from the file straight into a slab (no intermediate Buffer).
 */
import { isUtf8 } from 'node:buffer';
import * as fs from 'node:fs';
import { fileFailureCodeOf, type FileFailureCode, type SkipReason } from '../../shared/errors.js';
import { xxh64 } from '../../native-bindings/hash.js';
import type { ContentBytes, ContentCache, ContentEntry } from './content-cache.js';
import { fingerprintOf, isRacy, sameFingerprint, wallClockNs } from './fingerprint.js';
import type { ReadValidation } from '../config/options.js';

/** Content that L1 could not hold (larger than what it may grow by): bytes in a slab of their own. */
export interface TransientContent extends ContentBytes {
  readonly transient: true;
}

export type ContentRead =
  | { readonly type: 'cached'; readonly entry: ContentEntry; readonly from: 'memory' | 'disk' }
  | { readonly type: 'transient'; readonly content: TransientContent }
  | { readonly type: 'skipped'; readonly reason: Extract<SkipReason, 'binary' | 'too-large'> }
  | { readonly type: 'failed'; readonly code: FileFailureCode; readonly message: string };

export interface ContentReaderOptions {
  readonly maxFileSize: number;
  readonly validation: ReadValidation;
  /** Wall clock in ns, compared with file times for the racy rule. @default wallClockNs */
  readonly clock?: () => bigint;
}

const NUL = 0;

export class ContentReader {
  readonly #cache: ContentCache;
  readonly #options: ContentReaderOptions;
  readonly #clock: () => bigint;
  /** Re-stamps: fingerprint changed, content did not (nothing re-parsed). */
  restamps = 0;

  constructor(cache: ContentCache, options: ContentReaderOptions) {
    this.#cache = cache;
    this.#options = options;
    this.#clock = options.clock ?? wallClockNs;
  }

  /** Answers from L1 when the cached bytes are still the file's bytes, else reads the file. */
  read(relativePath: string, absolutePath: string): ContentRead {
    const entry = this.#cache.get(relativePath);
    if (entry === undefined) return this.#load(relativePath, absolutePath, undefined);
    if (this.#options.validation === 'none') return { type: 'cached', entry, from: 'memory' };
    let stats: fs.BigIntStats;
    try {
      stats = fs.statSync(absolutePath, { bigint: true });
    } catch (error) {
      this.#cache.delete(relativePath);
      return failed(error);
    }
    const fingerprint = fingerprintOf(stats);
    if (!entry.racy && sameFingerprint(fingerprint, entry.fingerprint)) return { type: 'cached', entry, from: 'memory' };
    return this.#load(relativePath, absolutePath, entry);
  }

  /**
   * Reads the file. When `previous` holds the same bytes (same hash), it is re-stamped instead of
   * replaced. The fingerprint is taken before reading: an edit during the read changes the ctime,
   * so the next read sees it.
   */
  #load(relativePath: string, absolutePath: string, previous: ContentEntry | undefined): ContentRead {
    let fd: number;
    try {
      fd = fs.openSync(absolutePath, 'r');
    } catch (error) {
      if (previous) this.#cache.delete(relativePath);
      return failed(error);
    }
    try {
      const stats = fs.fstatSync(fd, { bigint: true });
      if (stats.isDirectory()) return failed(Object.assign(new Error('is a directory'), { code: 'EISDIR' }));
      const fingerprint = fingerprintOf(stats);
      const racy = isRacy(fingerprint, this.#clock());
      const size = Number(stats.size);
      if (size > this.#options.maxFileSize) {
        if (previous) this.#cache.delete(relativePath);
        return { type: 'skipped', reason: 'too-large' };
      }
      const range = this.#cache.reserve(size);
      const buffer = range ? range.buffer : new SharedArrayBuffer(size);
      const offset = range ? range.offset : 0;
      const view = new Uint8Array(buffer, offset, size);
      const length = readInto(fd, view);
      const bytes = view.subarray(0, length);
      const problem = classify(bytes);
      if (problem !== null) {
        if (range) this.#cache.unreserve(range);
        if (previous) this.#cache.delete(relativePath);
        return problem;
      }
      const hash = xxh64(bytes);
      if (previous && previous.live && previous.hash === hash && previous.length === length) {
        if (range) this.#cache.unreserve(range);
        this.#cache.restamp(previous, fingerprint, racy);
        this.restamps++;
        return { type: 'cached', entry: previous, from: 'memory' };
      }
      if (range === null) {
        if (previous) this.#cache.delete(relativePath);
        return { type: 'transient', content: { transient: true, buffer, offset: 0, length, hash, fingerprint } };
      }
      return { type: 'cached', entry: this.#cache.commit(relativePath, range, length, hash, fingerprint, racy), from: 'disk' };
    } catch (error) {
      if (previous) this.#cache.delete(relativePath);
      return failed(error);
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** Reads up to view.length bytes; a file that shrank since fstat yields fewer. */
function readInto(fd: number, view: Uint8Array): number {
  let total = 0;
  while (total < view.length) {
    const n = fs.readSync(fd, view, total, view.length - total, total);
    if (n === 0) break;
    total += n;
  }
  return total;
}

/** Binary (a NUL byte) is a skip; invalid UTF-8 is a failure; anything else is source. */
function classify(bytes: Uint8Array): ContentRead | null {
  // Buffer#indexOf is a memchr; TypedArray#indexOf is not.
  if (Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf(NUL) !== -1) return { type: 'skipped', reason: 'binary' };
  if (!isUtf8(bytes)) return { type: 'failed', code: 'EINVALIDUTF8', message: 'content is not valid UTF-8' };
  return null;
}

function failed(error: unknown): ContentRead {
  return { type: 'failed', code: fileFailureCodeOf(error), message: (error as Error).message };
}
