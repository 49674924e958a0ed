/**
 * The bytes behind a SourceFile, validated the way L1 validates: by fingerprint (device, inode,
 * size, mtime, ctime), re-hashed when racy. Files inside the root come through L1 (so a host's
 * reads fill and share it); files outside it (TypeScript's lib `.d.ts`, a hoisted `node_modules`)
 * are read directly, read-only, with their fingerprints and hashes remembered here. A file that is
 * gone answers `undefined`, as TypeScript's host does; never a stale hash.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { StrataError } from '../../shared/errors.js';
import { decodeSourceText } from '../../shared/source-text.js';
import { xxh64 } from '../../native-bindings/hash.js';
import type { ContentAccess } from '../content/content-access.js';
import type { ContentBytes } from '../content/content-cache.js';
import { fingerprintOf, isRacy, sameFingerprint, wallClockNs, type Fingerprint } from '../content/fingerprint.js';

/** A file's current content hash, and its text on demand with the hash of exactly those bytes. */
export interface FileSource {
  readonly absolute: string;
  /** Root-relative path (the revision clock's name for it); null outside the root. */
  readonly relative: string | null;
  readonly hash: bigint;
  load(): LoadedSource;
}

export interface LoadedSource {
  readonly text: string;
  readonly hash: bigint;
}

interface Remembered {
  readonly fingerprint: Fingerprint;
  readonly hash: bigint;
  readonly racy: boolean;
}

/** Outside-root files remembered at most; past it the memory starts over (re-hash, never stale). */
const MAX_REMEMBERED = 50_000;

/** Codes that mean "no such file" to a host: TypeScript's host answers `undefined` for them. */
const ABSENT_CODES: ReadonlySet<string> = new Set(['ENOENT', 'ENOTDIR', 'EISDIR']);

export class FileSources {
  readonly #root: string;
  readonly #access: ContentAccess;
  readonly #outside = new Map<string, Remembered>();

  constructor(root: string, access: ContentAccess) {
    this.#root = root;
    this.#access = access;
  }

  /**
   * The file's current source, or `undefined` when it does not exist. In-root files L1 will not
   * hold (binary, too large, not UTF-8) are still read, as TypeScript reads them.
   */
  current(absolute: string): FileSource | undefined {
    if (isInside(this.#root, absolute)) {
      try {
        const { relative, bytes } = this.#access.read(absolute);
        return contentSource(absolute, relative, bytes);
      } catch (error) {
        if (error instanceof StrataError && ABSENT_CODES.has(error.code)) return undefined;
        if (!(error instanceof StrataError) || (error.code !== 'ENOTCACHED' && error.code !== 'EINVALIDUTF8')) throw error;
      }
    }
    return this.#direct(absolute);
  }

  /** Forgets what is remembered of outside-root files (`clear()`). */
  clear(): void {
    this.#outside.clear();
  }

  /** In-root files L1 would not hold are still named by the clock. */
  #relative(absolute: string): string | null {
    return isInside(this.#root, absolute) ? path.relative(this.#root, absolute).split(path.sep).join('/') : null;
  }

  #direct(absolute: string): FileSource | undefined {
    let stats: fs.BigIntStats | undefined;
    try {
      stats = fs.statSync(absolute, { bigint: true, throwIfNoEntry: false });
    } catch (error) {
      throw asStrataError(error, absolute);
    }
    if (stats === undefined || !stats.isFile()) return undefined;
    const fingerprint = fingerprintOf(stats);
    const known = this.#outside.get(absolute);
    // The hash answers the lookup; a miss reads the bytes again and parses what it hashed.
    if (known && !known.racy && sameFingerprint(known.fingerprint, fingerprint)) return { absolute, relative: this.#relative(absolute), hash: known.hash, load: () => readLoaded(absolute) };
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(absolute);
    } catch (error) {
      const failure = asStrataError(error, absolute);
      if (ABSENT_CODES.has(failure.code)) return undefined;
      throw failure;
    }
    const hash = xxh64(bytes);
    if (this.#outside.size >= MAX_REMEMBERED) this.#outside.clear();
    this.#outside.set(absolute, { fingerprint, hash, racy: isRacy(fingerprint, wallClockNs()) });
    return { absolute, relative: this.#relative(absolute), hash, load: () => ({ text: decodeLikeTypeScript(bytes), hash }) };
  }
}

/** A source over bytes L1 holds (or read for this call): hashed already. */
export function contentSource(absolute: string, relative: string, bytes: ContentBytes): FileSource {
  return { absolute, relative, hash: bytes.hash, load: () => ({ text: decodeSourceText(bytes.buffer, bytes.offset, bytes.length), hash: bytes.hash }) };
}

export function isInside(root: string, absolute: string): boolean {
  const relative = path.relative(root, absolute);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}

function readLoaded(absolute: string): LoadedSource {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(absolute);
  } catch (error) {
    throw asStrataError(error, absolute);
  }
  return { text: decodeLikeTypeScript(bytes), hash: xxh64(bytes) };
}

/**
 * Text as TypeScript's `sys.readFile` decodes it: a UTF-16 byte-order mark (big or little endian)
 * means UTF-16, else UTF-8 without its BOM. L1 holds only UTF-8 text, so only direct reads need it.
 */
export function decodeLikeTypeScript(bytes: Buffer): string {
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) {
    const swapped = Buffer.from(bytes.subarray(0, bytes.length & ~1));
    return swapped.swap16().toString('utf16le', 2);
  }
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return bytes.toString('utf16le', 2);
  return decodeSourceText(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function asStrataError(error: unknown, absolute: string): StrataError {
  const code = (error as NodeJS.ErrnoException).code;
  const known = code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR' ? code : 'EIO';
  return new StrataError(known, `${absolute}: ${(error as Error).message}`, absolute);
}
