/**
 * The restart lane: a whole-tree warm of an unchanged tree, in a fresh process, answered from the
 * restart receipt (engine/restart/receipt-file.ts) without the engine: no index decoded, no walk, no pool, no
 * TypeScript. `strata warm` tries it first (engine/cli/restart-entry.ts, its own small bundle); where
 * it does not answer, the warm runs as always, and that warm writes the receipt again.
 *
 * It answers only what the full path would answer the same way, with the same report and the same
 * effects on the cache directory (the index stamped as used, the last run's report saved):
 * - persistence on, no remote tier, no memory limit, no `budget: 'auto'` (each changes what a warm
 *   does or reports), and a cache directory that resolves and whose marker is intact;
 * - a receipt naming the index on disk, by its verified checksum (a replaced or corrupt index is
 *   never vouched for), under this TypeScript's key prefix, with every record's last access within
 *   the access resolution (past it, the full path re-stamps the records and saves the index);
 * - the same walk key, computed afresh (the root's realpath, the pruning options, the ignore rules
 *   from outside the root), and every path's stamp as expected (engine/restart/receipt-check.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { astKeyPrefix, DEFAULT_PARSE_SETTINGS, installedParser } from '../ast/keys.js';
import { resolveOptions, type StrataOptions } from '../config/options.js';
import { prepareWalk } from '../discovery/walk-setup.js';
import { storeBytes } from '../store/bounds.js';
import { resolveCacheDir } from '../store/cache-dir.js';
import { saveLastRun } from '../store/last-run-file.js';
import { INDEX_SUFFIX, INDEXES_DIR, lastRunFileFor, restartReceiptFileFor, stampUsed } from '../store/layout.js';
import { indexIdFor } from '../store/index-id.js';
import { ACCESS_RESOLUTION_MS, CHECKSUMMED_FROM, INDEX_HEADER_BYTES, storedIndexChecksum } from '../store/root-index-format.js';
import { xxh64File } from '../../native-bindings/hash.js';
import { checkReceipt } from '../restart/receipt-check.js';
import { readReceipt } from '../restart/receipt-file.js';
import { unchangedTreeReport, type WarmReport } from './warm-report.js';

export interface RestartRequest {
  /** The options a `createEngine` for this warm would be given. */
  readonly options: StrataOptions;
  /** performance.now() at which the run started (durationMs counts from it). */
  readonly startedAt: number;
  readonly env?: NodeJS.ProcessEnv;
}

/** Why the lane did not answer (tests and `STRATA_RESTART=explain`), or the report of the warm it answered. */
export type RestartAnswer = { readonly report: WarmReport; readonly declined?: undefined } | { readonly report: null; readonly declined: string };

const declined = (why: string): RestartAnswer => ({ report: null, declined: why });

export function answerRestart(request: RestartRequest): RestartAnswer {
  const env = request.env ?? process.env;
  let options;
  try {
    options = resolveOptions(request.options, { env });
  } catch {
    return declined('the options do not resolve'); // the full path reports the error
  }
  if (!options.persist || options.remote !== null || options.memoryLimit !== null || options.budget === 'auto') return declined('options the lane does not handle');
  const cache = resolveCacheDir({ root: options.root, cacheDir: options.cacheDir, env });
  if (cache.dir === null || cache.markerRepaired === true) return declined('no usable cache directory');
  const indexId = indexIdFor(cache.dir, options.root);
  const receipt = readReceipt(restartReceiptFileFor(cache.dir, indexId));
  if (receipt === null) return declined('no receipt');
  if (receipt.keyPrefix !== astKeyPrefix(installedParser(), DEFAULT_PARSE_SETTINGS)) return declined('another key prefix');
  if (Date.now() - receipt.oldestAccessMs > ACCESS_RESOLUTION_MS) return declined('records due for a new access stamp');
  const indexFile = path.join(cache.dir, INDEXES_DIR, `${indexId}${INDEX_SUFFIX}`);
  if (indexChecksumOf(indexFile) !== receipt.indexChecksum) return declined('another index');
  let setup;
  try {
    // The directories a warm excludes: the cache directory as given and as resolved (warm-requests.ts).
    const excludeDirs = [options.cacheDir, cache.dir].filter((dir): dir is string => typeof dir === 'string');
    setup = prepareWalk(options.root, { includeNodeModules: options.includeNodeModules, excludeDirs });
  } catch {
    return declined('the root cannot be resolved');
  }
  const verdict = checkReceipt(receipt, setup, options.maxFileSize);
  if (!verdict.unchanged) return declined(verdict.changed);
  if (options.warmTimeLimit !== null && performance.now() - request.startedAt >= options.warmTimeLimit) return declined('past the time limit');
  if (stampUsed(indexFile) !== null) return declined('the index cannot be stamped'); // the full path warns
  const diskBytes = storeBytes(cache.dir);
  const report = unchangedTreeReport({
    root: options.root,
    profile: options.profile,
    files: verdict.files,
    bytes: verdict.bytes,
    diskBytes,
    durationMs: performance.now() - request.startedAt,
    workers: options.workers,
    warnings: setup.warnings.map((problem) => ({ path: problem.path, message: problem.message })),
    peakRssBytes: process.memoryUsage.rss(),
  });
  saveLastRun(lastRunFileFor(cache.dir, indexId), { ...report, savedAt: new Date().toISOString() });
  return { report };
}

/**
 * The verified checksum of the index file (its header's, when its bytes hash to it); null when absent,
 * unreadable, of another version or not intact. Hashed from the file (hash.ts, `xxh64File`), not from
 * a buffer of its size: no 1.6 MB to fault in.
 */
function indexChecksumOf(file: string): bigint | null {
  let header: Uint8Array;
  try {
    header = readHeader(file, INDEX_HEADER_BYTES);
  } catch {
    return null;
  }
  const stored = storedIndexChecksum(header);
  return stored !== null && xxh64File(file, CHECKSUMMED_FROM) === stored ? stored : null;
}

function readHeader(file: string, bytes: number): Uint8Array {
  const fd = fs.openSync(file, 'r');
  try {
    const header = new Uint8Array(bytes);
    return header.subarray(0, fs.readSync(fd, header, 0, bytes, 0));
  } finally {
    fs.closeSync(fd);
  }
}
