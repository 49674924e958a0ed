/**
 * The per-root index: root-relative path → stat fingerprint, content hash, L2 key and the location
 * of the entry record. A restart stats each file and compares with its record; only files whose
 * content changed are parsed again.
 *
 * File `indexes/<indexId>.idx`; its byte layout is in root-index-format.ts, its encoding in
 * root-index-codec.ts, its validation in root-index-validation.ts, the loaded index in
 * columnar-root-index.ts. This module owns the index's id and its file: load and save.
 *
 * A load never throws for the file's content: a checksum, format or structure mismatch moves the
 * file aside (`*.corrupt`, reclaimed first by the bound) and answers an empty index, counted.
 * Saves are atomic (temporary file, fsync, rename, directory fsync).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { StrataError } from '../../shared/errors.js';
import type { DirectorySnapshot } from '../discovery/discovery.js';
import { CORRUPT_SUFFIX, ensurePrivateDir, INDEX_SUFFIX, isMissing, writeFileAtomic, openIfPresent } from './layout.js';
import { decodeIndex, encodeIndex, type IndexDecode } from './root-index-codec.js';
import { headerChecksum, type IndexRecord, type RootIndex } from './root-index-format.js';

/** How a load went. */
export type IndexLoadStatus =
  | 'loaded' // the index was read and validated
  | 'missing' // no index for this root yet
  | 'other-prefix' // written for another parser/format identity: ignored, overwritten by the next save
  | 'other-version' // written by another index format version: ignored, reclaimed by the bound
  | 'corrupt'; // failed validation: moved aside and counted

export interface IndexLoad {
  readonly records: RootIndex;
  /** The directory snapshot saved with the index; null when it had none (or was not loaded). */
  readonly directories: DirectorySnapshot | null;
  readonly status: IndexLoadStatus;
  /** 1 when the index was corrupt (and moved aside), else 0. */
  readonly corrupt: number;
}

export { indexIdFor, rootPathRelativeTo } from './index-id.js';

/** Reads a whole file into a fresh (8-aligned) buffer, with the stats of the descriptor read. */
function readWhole(file: string): { bytes: Uint8Array; identity: fs.Stats } | null {
  const fd = openIfPresent(file);
  if (fd === null) return null;
  try {
    const identity = fs.fstatSync(fd);
    const bytes = new Uint8Array(identity.size);
    let done = 0;
    while (done < bytes.length) {
      const read = fs.readSync(fd, bytes, done, bytes.length - done, done);
      if (read === 0) break; // shrank meanwhile: the length checks refuse it
      done += read;
    }
    return { bytes: done === bytes.length ? bytes : bytes.subarray(0, done), identity };
  } finally {
    fs.closeSync(fd);
  }
}

/** One root's index file in a cache directory's `indexes/`. */
export class RootIndexFile {
  readonly #dir: string;
  /** The index id (see {@link indexIdFor}). */
  readonly id: string;
  /** Absolute path of the index file. */
  readonly file: string;
  /** The checksum of the index this process last loaded or saved (what names its content); null before. */
  #checksum: bigint | null = null;

  constructor(indexesDir: string, indexId: string) {
    this.#dir = indexesDir;
    this.id = indexId;
    this.file = path.join(indexesDir, `${indexId}${INDEX_SUFFIX}`);
  }

  /**
   * Loads the index. Never throws for the file's content: a corrupt file is moved aside (renamed to
   * `*.corrupt`) and an empty index is answered with `corrupt: 1`. An index written for another key
   * prefix or index version answers empty (not corrupt). I/O errors other than a missing file throw.
   */
  load(expectedPrefix: string): IndexLoad {
    const read = readWhole(this.file);
    if (read === null) return { records: new Map(), directories: null, status: 'missing', corrupt: 0 };
    const { bytes, identity } = read;
    let decoded: IndexDecode;
    try {
      decoded = decodeIndex(bytes, expectedPrefix);
    } catch (error) {
      if ((error as StrataError).code !== 'ECORRUPT') throw error;
      this.#quarantine(identity);
      return { records: new Map(), directories: null, status: 'corrupt', corrupt: 1 };
    }
    if (decoded.status !== 'loaded') return { records: new Map(), directories: null, status: decoded.status, corrupt: 0 };
    this.#checksum = headerChecksum(bytes);
    return { records: decoded.records, directories: decoded.directories, status: 'loaded', corrupt: 0 };
  }

  /** Replaces the index (and the directory snapshot saved with it) atomically (last writer wins). */
  save(records: ReadonlyMap<string, IndexRecord>, keyPrefix: string, rootPath: string, directories: DirectorySnapshot | null = null): void {
    ensurePrivateDir(this.#dir);
    const bytes = encodeIndex(records, keyPrefix, rootPath, directories);
    writeFileAtomic(this.file, [bytes]);
    this.#checksum = headerChecksum(bytes);
  }

  /** The checksum of the index file as this process last loaded or saved it; null before either. */
  get checksum(): bigint | null {
    return this.#checksum;
  }

  /**
   * Moves the corrupt file aside, unless another process has replaced it since we read it (same
   * inode and mtime, or we leave the newer file alone). Where the directory is read-only the file
   * stays; it is ignored all the same (it fails validation on every load).
   */
  #quarantine(identity: fs.Stats): void {
    try {
      const now = fs.statSync(this.file);
      if (now.ino !== identity.ino || now.mtimeMs !== identity.mtimeMs) return;
      fs.renameSync(this.file, `${this.file}.${Date.now().toString(36)}${CORRUPT_SUFFIX}`);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Gone or replaced by another process first, or a read-only cache: nothing to move.
      if (!isMissing(error) && code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS') throw error;
    }
  }
}
