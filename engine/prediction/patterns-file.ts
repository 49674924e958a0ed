/**
 * What predictive warming learned, on disk: one file per root beside its index
 * (`patterns/<index id>.bin`), checksummed, plain-data msgpack (never code), replaced atomically,
 * owner-only. Read back as untrusted data: every row is checked (a root-relative path that cannot
 * leave the root, finite non-negative numbers, follower indices in range), and a file failing any
 * check is removed and reported as corrupt, so the engine counts it and learns afresh.
 *
 * Layout of the body: an array of rows `[path, weight, meanIntervalMs | null, firstAccessMs | null,
 * followers]`, where `followers` is a flat array of `(row index, weight)` pairs: paths are stored
 * once, however many files they follow.
 */
import { discardChecksummedFile, readChecksummedFile, writeChecksummedFile, type ChecksummedFormat } from '../store/checksummed-file.js';
import type { LearnedFile } from './access-patterns.js';

export const PATTERNS_FORMAT: ChecksummedFormat = { magic: 0x54415053 /* 'SPAT' */, version: 1, what: 'patterns file', maxBytes: 32 * 1024 * 1024 };
/** Far above what the learner writes (4,096 files × 16 followers): anything bigger was not written by us. */
const MAX_ROWS = 65_536;
const MAX_FOLLOWERS_PER_ROW = 256;

export type PatternsLoad =
  | { readonly type: 'missing' }
  | { readonly type: 'loaded'; readonly files: LearnedFile[] }
  /** The file failed a check and was removed. */
  | { readonly type: 'corrupt'; readonly reason: string };

export function loadPatterns(file: string): PatternsLoad {
  const read = readChecksummedFile(file, PATTERNS_FORMAT);
  if (read.type !== 'ok') return read;
  const files = learnedFiles(read.body);
  if (typeof files === 'string') {
    discardChecksummedFile(file, files);
    return { type: 'corrupt', reason: files };
  }
  return { type: 'loaded', files };
}

export function savePatterns(file: string, files: readonly LearnedFile[]): void {
  const indexOf = new Map(files.map((learned, index) => [learned.path, index]));
  const rows = files.map((learned) => {
    const followers: number[] = [];
    for (const [follower, weight] of learned.followers) {
      const index = indexOf.get(follower);
      if (index !== undefined) followers.push(index, weight);
    }
    return [learned.path, learned.weight, learned.meanIntervalMs, learned.firstAccessMs, followers];
  });
  writeChecksummedFile(file, PATTERNS_FORMAT, rows);
}

/** The rows as learned files, or why they are not acceptable. */
function learnedFiles(body: unknown): LearnedFile[] | string {
  if (!Array.isArray(body)) return 'body is not an array';
  if (body.length > MAX_ROWS) return `more than ${MAX_ROWS} rows`;
  const paths: string[] = [];
  for (const row of body as unknown[]) {
    if (!Array.isArray(row) || row.length !== 5 || !isSafeRelativePath(row[0])) return 'a row without a safe root-relative path';
    paths.push(row[0]);
  }
  if (new Set(paths).size !== paths.length) return 'a path appears twice';
  const files: LearnedFile[] = [];
  for (const [index, row] of (body as unknown[][]).entries()) {
    const [, weight, meanIntervalMs, firstAccessMs, pairs] = row;
    if (!isPositive(weight) || !isNullableDuration(meanIntervalMs) || !isNullableDuration(firstAccessMs)) return `row ${index}: bad numbers`;
    if (!Array.isArray(pairs) || pairs.length % 2 !== 0 || pairs.length > 2 * MAX_FOLLOWERS_PER_ROW) return `row ${index}: bad followers`;
    const followers: [string, number][] = [];
    for (let at = 0; at < pairs.length; at += 2) {
      const target: unknown = pairs[at];
      const followerWeight: unknown = pairs[at + 1];
      if (typeof target !== 'number' || !Number.isInteger(target) || target < 0 || target >= paths.length || target === index || !isPositive(followerWeight)) return `row ${index}: bad follower`;
      followers.push([paths[target]!, followerWeight]);
    }
    files.push({ path: paths[index]!, weight, meanIntervalMs, firstAccessMs, followers });
  }
  return files;
}

/** Root-relative, '/'-separated, no '.', '..' or empty segment, no NUL: it cannot name a file outside the root. */
function isSafeRelativePath(value: unknown): value is string {
  if (typeof value !== 'string' || value === '' || value.length > 4096 || value.includes('\0')) return false;
  return value.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

function isPositive(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

function isNullableDuration(value: unknown): value is number | null {
  return value === null || (typeof value === 'number' && Number.isFinite(value) && value >= 0);
}
