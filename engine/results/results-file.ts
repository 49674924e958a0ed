/**
 * L3 results on disk: one file per root in the cache directory (`results/<index id>.bin`), a
 * checksummed plain-data msgpack body, replaced atomically. Results are keyed by their state key
 * (analyzer, version, file, content hash, dependency digest), so a stored result is valid exactly
 * when its key is asked for again: nothing on disk can be served for a state it was not built for.
 */
import { discardChecksummedFile, readChecksummedFile, writeChecksummedFile, type ChecksummedFormat } from '../store/checksummed-file.js';

const RESULTS_FORMAT: ChecksummedFormat = { magic: 0x53455253 /* 'SRES' */, version: 1, what: 'results file' };

/** One persisted result: the analyzer's value (plain data) and when it was last used. */
export interface StoredResult {
  readonly key: string;
  /** Root-relative path of the file the result is about. */
  readonly path: string;
  readonly value: unknown;
  readonly lastAccessMs: number;
}

/** Loads results; a missing file is empty, a corrupt one is empty and reported (`corrupt: true`). */
export function loadResults(file: string): { results: StoredResult[]; corrupt: boolean } {
  const read = readChecksummedFile(file, RESULTS_FORMAT);
  if (read.type !== 'ok') return { results: [], corrupt: read.type === 'corrupt' };
  const rows = read.body;
  const results: StoredResult[] = [];
  const valid =
    Array.isArray(rows) &&
    rows.every((row: unknown) => {
      if (!Array.isArray(row) || row.length !== 4 || typeof row[0] !== 'string' || typeof row[1] !== 'string' || typeof row[3] !== 'number') return false;
      results.push({ key: row[0], path: row[1], value: row[2] as unknown, lastAccessMs: row[3] });
      return true;
    });
  if (valid) return { results, corrupt: false };
  discardChecksummedFile(file, 'unexpected shape'); // never read again; rebuilt from the analyzers
  return { results: [], corrupt: true };
}

export function saveResults(file: string, results: Iterable<StoredResult>): void {
  const rows: unknown[] = [];
  for (const result of results) rows.push([result.key, result.path, result.value, result.lastAccessMs]);
  writeChecksummedFile(file, RESULTS_FORMAT, rows);
}
