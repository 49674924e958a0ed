/**
 * `strata stats [root]`: what the root's cache directory holds, read in a fresh process WITHOUT
 * warming, parsing or creating anything (DESIGN.md, "Contract"): entries and bytes per level on
 * disk, and the last warm's counters (`runs/<index id>.json`, written by every persisted warm).
 *
 * JSON (`--json`): `{ schemaVersion, root, cacheDir, indexId, levels: { content, ast, results,
 * streams: { entries, bytes } }, disk: { bytes, packs, indexes, other, index, results }, lastRun,
 * metrics, alerts }`. Levels that are never persisted (content, streams) show `null`s. Without a
 * cache directory: `cacheDir: null`, a message, exit 0.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { xxh64 } from '../../native-bindings/hash.js';
import { isStrataError } from '../../shared/errors.js';
import type { LevelName, LevelSnapshot } from '../level-counters.js';
import { evaluateAlerts, LEVEL_NAMES, metricsReport, type Alert, type MetricsReport } from '../ops/metrics-report.js';
import { resolveOptions, type ResolvedOptions } from '../config/options.js';
import { loadLastRun } from '../store/last-run-file.js';
import { lastRunFileFor, resultsFileFor } from '../store/layout.js';
import { scanStore } from '../store/bounds.js';
import { CACHE_DIR_ENV, DEFAULT_CACHE_SUBDIR, userCacheDirFor } from '../store/cache-dir.js';
import { hasMarker, INDEX_SUFFIX, INDEXES_DIR } from '../store/layout.js';
import { decodePlainData } from '../../shared/safe-msgpack.js';
import { indexIdFor } from '../store/root-index.js';
import { decodeIndex } from '../store/root-index-codec.js';
import { INDEX_FORMAT_VERSION, INDEX_HEADER_BYTES, indexVersionOf } from '../store/root-index-format.js';
import { REPORT_SCHEMA_VERSION, type StopReason } from '../warming/warm-report.js';
import { commonOptions, optionsFromCommon, type CommonFlags } from './common.js';
import { EXIT_OK } from './exit-codes.js';
import { formatBytes, printJson } from './output.js';

/** Record count of an index: u32 at this offset of its header (root-index-format.ts). */
const INDEX_COUNT_OFFSET = 20;
/** The results file's header (results-file.ts): magic 'SRES', version, XXH64 of the body. */
const RESULTS_MAGIC = 0x53455253;
const RESULTS_VERSION = 1;
const RESULTS_HEADER_BYTES = 16;

/** Entries and bytes a level holds on disk; null where the level is not persisted or unreadable. */
export interface DiskLevel {
  readonly entries: number | null;
  readonly bytes: number | null;
}

export interface FilesAndBytes {
  readonly files: number;
  readonly bytes: number;
}

/** The counters of the last persisted warm of the root. */
export interface LastRun {
  readonly savedAt: string | null;
  readonly profile: string | null;
  readonly files: number;
  readonly parsed: number;
  readonly fromCache: number;
  readonly fromMemory: number;
  readonly fromDisk: number;
  readonly failed: number;
  readonly skipped: number;
  readonly parseErrors: number;
  readonly durationMs: number;
  readonly filesPerSec: number;
  readonly workers: number;
  readonly stoppedBy: StopReason;
  readonly levels: Readonly<Record<LevelName, LevelSnapshot>>;
}

export interface CacheDirSummary {
  readonly schemaVersion: number;
  readonly root: string;
  /** The cache directory a warm of this root uses; null when there is none yet. */
  readonly cacheDir: string | null;
  readonly indexId: string | null;
  readonly levels: Readonly<Record<LevelName, DiskLevel>>;
  readonly disk: {
    /** All of `packs/` and `indexes/` (shared by every root of the directory). */
    readonly bytes: number;
    readonly packs: FilesAndBytes;
    readonly indexes: FilesAndBytes;
    /** Temporary, quarantined and old-format files (reclaimed first by the bound). */
    readonly other: FilesAndBytes;
    /** This root's index: its size and the files it records (null when absent or unreadable). */
    readonly index: { readonly bytes: number; readonly indexedFiles: number | null } | null;
    /** This root's L3 results file. */
    readonly results: { readonly bytes: number; readonly entries: number | null } | null;
    /**
     * This root's files that are present but do not verify (cache-directory-relative paths): its
     * index, results file or last-run file. Each is rebuilt by the next warm; nothing is changed here.
     */
    readonly corrupt: readonly string[];
  };
  readonly lastRun: LastRun | null;
  /** Hit rates and eviction rates of the last run (budgets of the current options). */
  readonly metrics: MetricsReport | null;
  /** Alerts the last run's counters raise. */
  readonly alerts: readonly Alert[];
  /** Why there is nothing to show, when there is nothing. */
  readonly message: string | null;
}

/** The directory a warm of this root would use, found without creating anything; null if none. */
export function existingCacheDir(options: Pick<ResolvedOptions, 'root' | 'cacheDir'>, env: NodeJS.ProcessEnv = process.env): string | null {
  const fromEnv = env[CACHE_DIR_ENV];
  const named = options.cacheDir ?? (fromEnv !== undefined && fromEnv !== '' ? path.resolve(options.root, fromEnv) : null);
  const candidates = named !== null ? [path.resolve(options.root, named)] : [path.join(options.root, DEFAULT_CACHE_SUBDIR), userCacheDirFor(options.root, env)];
  return candidates.find((dir) => hasMarker(dir)) ?? null;
}

function statSize(file: string): number | null {
  try {
    const stat = fs.statSync(file);
    return stat.isFile() ? stat.size : null;
  } catch {
    return null; // absent (or unreadable): shown as absent
  }
}

/** The record count from an index's header, for the current format only; null otherwise. */
function indexedFiles(file: string): number | null {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const header = new Uint8Array(INDEX_HEADER_BYTES);
    const read = fs.readSync(fd, header, 0, INDEX_HEADER_BYTES, 0);
    if (read < INDEX_HEADER_BYTES || indexVersionOf(header) !== INDEX_FORMAT_VERSION) return null;
    return new DataView(header.buffer).getUint32(INDEX_COUNT_OFFSET, true);
  } finally {
    fs.closeSync(fd);
  }
}

/** Whether an index file passes the checks a load makes before it looks at the records (header, checksum). */
function indexVerifies(file: string): boolean {
  try {
    decodeIndex(fs.readFileSync(file), '');
    return true; // loaded, or written for another parser or index version: not corrupt
  } catch (error) {
    if (isStrataError(error) && error.code === 'ECORRUPT') return false;
    return true; // unreadable: shown as present, not as corrupt
  }
}

/** Result entries in a results file, read-only (a corrupt file is left for the engine to remove). */
function resultEntries(file: string): number | null {
  try {
    const bytes = fs.readFileSync(file);
    if (bytes.length < RESULTS_HEADER_BYTES) return null;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (view.getUint32(0, true) !== RESULTS_MAGIC || view.getUint32(4, true) !== RESULTS_VERSION) return null;
    const body = bytes.subarray(RESULTS_HEADER_BYTES);
    if (xxh64(body) !== view.getBigUint64(8, true)) return null;
    const rows = decodePlainData(body, 'results file');
    return Array.isArray(rows) ? rows.length : null;
  } catch {
    return null; // unreadable or corrupt: the count is unknown, the size is still shown
  }
}

function numberField(object: Record<string, unknown>, name: string): number {
  const value = object[name];
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

function lengthField(object: Record<string, unknown>, name: string): number {
  const value = object[name];
  return Array.isArray(value) ? value.length : typeof value === 'number' ? value : 0;
}

function levelsField(value: unknown): Record<LevelName, LevelSnapshot> {
  const levels = {} as Record<LevelName, LevelSnapshot>;
  const given = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  for (const name of LEVEL_NAMES) {
    const level = typeof given[name] === 'object' && given[name] !== null ? (given[name] as Record<string, unknown>) : {};
    levels[name] = { hits: numberField(level, 'hits'), misses: numberField(level, 'misses'), evictions: numberField(level, 'evictions'), bytes: numberField(level, 'bytes'), entries: numberField(level, 'entries') };
  }
  return levels;
}

/** The last warm's report of the root in `cacheDir`; null when there is none or it does not verify. */
export function readLastRun(cacheDir: string, indexId: string): LastRun | null {
  const load = loadLastRun(lastRunFileFor(cacheDir, indexId));
  if (load.run === null) return null; // no warm persisted yet, or a corrupt file (the next warm rewrites it)
  const run = load.run;
  const stoppedBy = run.stoppedBy;
  return {
    savedAt: typeof run.savedAt === 'string' ? run.savedAt : null,
    profile: typeof run.profile === 'string' ? run.profile : null,
    files: numberField(run, 'files'),
    parsed: numberField(run, 'parsed'),
    fromCache: numberField(run, 'fromCache'),
    fromMemory: numberField(run, 'fromMemory'),
    fromDisk: numberField(run, 'fromDisk'),
    failed: lengthField(run, 'failed'),
    skipped: lengthField(run, 'skipped'),
    parseErrors: numberField(run, 'parseErrors'),
    durationMs: numberField(run, 'durationMs'),
    filesPerSec: numberField(run, 'filesPerSec'),
    workers: numberField(run, 'workers'),
    stoppedBy: stoppedBy === 'memory-limit' || stoppedBy === 'time-limit' || stoppedBy === 'interrupted' ? stoppedBy : null,
    levels: levelsField(run.levels),
  };
}

const NOT_PERSISTED: DiskLevel = { entries: null, bytes: null };

/** Reads the root's cache directory (see the module comment). Creates, locks and parses nothing. */
export function summarizeCacheDir(options: ResolvedOptions, env: NodeJS.ProcessEnv = process.env): CacheDirSummary {
  const dir = existingCacheDir(options, env);
  if (dir === null) {
    const none = { files: 0, bytes: 0 };
    return {
      schemaVersion: REPORT_SCHEMA_VERSION,
      root: options.root,
      cacheDir: null,
      indexId: null,
      levels: { content: NOT_PERSISTED, ast: { entries: 0, bytes: 0 }, results: { entries: 0, bytes: 0 }, streams: NOT_PERSISTED },
      disk: { bytes: 0, packs: none, indexes: none, other: none, index: null, results: null, corrupt: [] },
      lastRun: null,
      metrics: null,
      alerts: [],
      message: `no cache directory for ${options.root} yet: run \`strata warm\` first`,
    };
  }
  const indexId = indexIdFor(dir, options.root);
  const files = scanStore(dir);
  const sum = (kinds: readonly string[]): FilesAndBytes => {
    const chosen = files.filter((file) => kinds.includes(file.kind));
    return { files: chosen.length, bytes: chosen.reduce((total, file) => total + file.bytes, 0) };
  };
  const packs = sum(['pack']);
  const indexFile = path.join(dir, INDEXES_DIR, `${indexId}${INDEX_SUFFIX}`);
  const indexBytes = statSize(indexFile);
  const index = indexBytes === null ? null : { bytes: indexBytes, indexedFiles: indexedFiles(indexFile) };
  const resultsFile = resultsFileFor(dir, indexId);
  const resultsBytes = statSize(resultsFile);
  const results = resultsBytes === null ? null : { bytes: resultsBytes, entries: resultEntries(resultsFile) };
  const lastRun = readLastRun(dir, indexId);
  const corrupt: string[] = [];
  if (index !== null && !indexVerifies(indexFile)) corrupt.push(path.relative(dir, indexFile));
  if (results !== null && results.entries === null) corrupt.push(path.relative(dir, resultsFile));
  if (loadLastRun(lastRunFileFor(dir, indexId)).status === 'corrupt') corrupt.push(path.relative(dir, lastRunFileFor(dir, indexId)));
  const metrics = lastRun === null ? null : metricsReport({ levels: lastRun.levels, content: { budget: options.contentBudget }, ast: { budget: options.astBudget } });
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    root: options.root,
    cacheDir: dir,
    indexId,
    levels: {
      content: NOT_PERSISTED,
      // Packs may hold entries of other roots sharing the directory: bytes are the directory's.
      ast: { entries: index?.indexedFiles ?? 0, bytes: packs.bytes },
      results: { entries: results === null ? 0 : results.entries, bytes: results?.bytes ?? 0 },
      streams: NOT_PERSISTED,
    },
    disk: { bytes: files.reduce((total, file) => total + file.bytes, 0), packs, indexes: sum(['index']), other: sum(['temp', 'stale']), index, results, corrupt },
    lastRun,
    metrics,
    alerts: metrics === null ? [] : evaluateAlerts(metrics, options),
    message: lastRun === null ? 'no persisted warm of this root yet: run `strata warm`' : null,
  };
}

function cell(value: number | null, bytes = false): string {
  if (value === null) return '-';
  return bytes ? formatBytes(value) : String(value);
}

function rate(value: number | null): string {
  return value === null ? '-' : `${(value * 100).toFixed(1)}%`;
}

function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => ('  ' + row.map((text, column) => (column === 0 ? text.padEnd(widths[column]!) : text.padStart(widths[column]!))).join('  ')).trimEnd());
}

/** The human-readable form of a summary. */
export function formatCacheDirSummary(summary: CacheDirSummary): string {
  if (summary.cacheDir === null) return `${summary.root}: ${summary.message ?? 'no cache directory'}`;
  const lines = [`${summary.root}`, `cache directory ${summary.cacheDir} (index ${summary.indexId ?? '-'}): ${formatBytes(summary.disk.bytes)} on disk`, '', 'on disk'];
  lines.push(...table([['level', 'entries', 'bytes'], ...LEVEL_NAMES.map((name) => [name, cell(summary.levels[name].entries), cell(summary.levels[name].bytes, true)])]));
  lines.push(`  packs ${summary.disk.packs.files} (${formatBytes(summary.disk.packs.bytes)}), indexes ${summary.disk.indexes.files} (${formatBytes(summary.disk.indexes.bytes)}), other ${summary.disk.other.files} (${formatBytes(summary.disk.other.bytes)})`);
  if (summary.disk.corrupt.length > 0) lines.push(`  corrupt (rebuilt by the next warm): ${summary.disk.corrupt.join(', ')}`);
  const run = summary.lastRun;
  if (run === null || summary.metrics === null) {
    lines.push('', summary.message ?? 'no last run');
    return lines.join('\n');
  }
  lines.push('', `last run ${run.savedAt ?? '(time unknown)'}${run.profile !== null ? `, profile ${run.profile}` : ''}: ${run.files} files in ${(run.durationMs / 1000).toFixed(2)} s (${Math.round(run.filesPerSec)} files/s, ${run.workers} workers)`);
  lines.push(`  parsed ${run.parsed} (${run.parseErrors} with syntax errors), from cache ${run.fromCache} (memory ${run.fromMemory}, disk ${run.fromDisk}), failed ${run.failed}, skipped ${run.skipped}${run.stoppedBy !== null ? `, stopped by ${run.stoppedBy}` : ''}`);
  const metrics = summary.metrics;
  lines.push(
    ...table([
      ['level', 'hits', 'misses', 'hit rate', 'evictions', 'entries', 'bytes'],
      ...LEVEL_NAMES.map((name) => {
        const level = metrics.levels[name];
        return [name, String(level.hits), String(level.misses), rate(level.hitRate), String(level.evictions), String(level.entries), formatBytes(level.bytes)];
      }),
      ['combined', String(metrics.combined.hits), String(metrics.combined.misses), rate(metrics.combined.hitRate), '', '', ''],
    ]),
  );
  for (const alert of summary.alerts) lines.push(`  alert: ${alert.message}`);
  return lines.join('\n');
}

export function registerStats(program: Command, setExit: (code: number) => void): void {
  const command = program.command('stats [root]').description("what the root's cache directory holds and the last warm's counters (reads only; warms nothing)");
  commonOptions(command).action((root: string | undefined, flags: CommonFlags) => {
    const summary = summarizeCacheDir(resolveOptions(optionsFromCommon(root, flags)));
    if (flags.json) printJson(summary);
    else if (!flags.quiet) process.stdout.write(formatCacheDirSummary(summary) + '\n');
    setExit(EXIT_OK);
  });
}
