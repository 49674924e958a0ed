/**
 * L3 results on disk: one file per root in the cache directory (`results/<index id>.bin`), a
 * checksummed plain-data msgpack body, replaced atomically. Results are keyed by their state key
 * (analyzer, version, file, content hash, dependency digest), so a stored result is valid exactly
 * when its key is asked for again: nothing on disk can be served for a state it was not built for.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { xxh64 } from '../../native-bindings/hash.js';
import { isStrataError } from '../../shared/errors.js';
import { ensurePrivateDir, RESULTS_DIR, writeFileAtomic } from '../store/layout.js';
import { decodePlainData, encodePlainData } from '../store/safe-msgpack.js';

const RESULTS_MAGIC = 0x53455253; // 'SRES'
const RESULTS_VERSION = 1;
const HEADER_BYTES = 16; // magic u32, version u32, checksum u64 (over the body)

/** One persisted result: the analyzer's value (plain data) and when it was last used. */
export interface StoredResult {
  readonly key: string;
  /** Root-relative path of the file the result is about. */
  readonly path: string;
  readonly value: unknown;
  readonly lastAccessMs: number;
}

export function resultsFileFor(cacheDir: string, indexId: string): string {
  return path.join(cacheDir, RESULTS_DIR, `${indexId}.bin`);
}

/** Loads results; a missing file is empty, a corrupt one is empty and reported (`corrupt: true`). */
export function loadResults(file: string): { results: StoredResult[]; corrupt: boolean } {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch {
    return { results: [], corrupt: false };
  }
  try {
    if (bytes.length < HEADER_BYTES) throw new Error('short');
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (view.getUint32(0, true) !== RESULTS_MAGIC || view.getUint32(4, true) !== RESULTS_VERSION) throw new Error('header');
    const body = bytes.subarray(HEADER_BYTES);
    if (xxh64(body) !== view.getBigUint64(8, true)) throw new Error('checksum');
    const rows = decodePlainData(body, 'results file');
    if (!Array.isArray(rows)) throw new Error('shape');
    const results = rows.map((row: unknown): StoredResult => {
      if (!Array.isArray(row) || row.length !== 4 || typeof row[0] !== 'string' || typeof row[1] !== 'string' || typeof row[3] !== 'number') throw new Error('row');
      return { key: row[0], path: row[1], value: row[2] as unknown, lastAccessMs: row[3] };
    });
    return { results, corrupt: false };
  } catch (error) {
    if (isStrataError(error) || error instanceof Error) {
      fs.rmSync(file, { force: true }); // never read again; rebuilt from the analyzers
      return { results: [], corrupt: true };
    }
    throw error;
  }
}

export function saveResults(file: string, results: Iterable<StoredResult>): void {
  const rows: unknown[] = [];
  for (const result of results) rows.push([result.key, result.path, result.value, result.lastAccessMs]);
  const body = encodePlainData(rows);
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32LE(RESULTS_MAGIC, 0);
  header.writeUInt32LE(RESULTS_VERSION, 4);
  header.writeBigUInt64LE(xxh64(body), 8);
  ensurePrivateDir(path.dirname(file));
  writeFileAtomic(file, [header, body]);
}
