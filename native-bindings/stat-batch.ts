/**
 * lstat of many paths in one call: Strata's own addon (src/strata_native.c, a few threads, no
 * `fs.Stats` per path) when it was built and loads, else a loop of `fs.lstatSync` filling the same
 * numbers. On a 2-vCPU VM, 8,245 files: ~13 ms native against ~56 ms for `lstatSync` (the restart
 * of an unchanged tree is mostly these stats; README, "Warm restart").
 *
 * Each path gets {@link STAT_FIELDS} numbers in a Float64Array, at `index * STAT_FIELDS`:
 * errno (0: the stat succeeded), mode, size, mtimeMs, ctimeMs, ino, dev, nlink, as a plain
 * (non-bigint) `fs.Stats` gives them: the same doubles, computed the same way.
 */
import * as fs from 'node:fs';
import type { FallbackReason, NativeBackend } from './backend.js';
import { strataAddon } from './strata-addon.js';

export const STAT_ERRNO = 0;
export const STAT_MODE = 1;
export const STAT_SIZE = 2;
export const STAT_MTIME_MS = 3;
export const STAT_CTIME_MS = 4;
export const STAT_INO = 5;
export const STAT_DEV = 6;
export const STAT_NLINK = 7;
/** Numbers per path. */
export const STAT_FIELDS = 8;

/** The addon, when it lays its numbers out as above (one of another layout would misread every field). */
const addon = strataAddon.addon?.statFields === STAT_FIELDS ? strataAddon.addon : undefined;

/** Which implementation {@link lstatMany} runs. */
export const statBatchBackend: NativeBackend = addon === undefined ? 'js' : 'native';
/** Why the JS fallback is live; `undefined` when the addon is. */
export const statBatchFallbackReason: FallbackReason = strataAddon.addon === undefined || addon !== undefined ? strataAddon.reason : `the addon gives ${strataAddon.addon.statFields} numbers per stat, not ${STAT_FIELDS}`;

/** The lstat of each path, {@link STAT_FIELDS} numbers per path (see the module comment). */
export function lstatMany(paths: readonly string[]): Float64Array {
  const out = new Float64Array(paths.length * STAT_FIELDS);
  if (addon === undefined) lstatManyJs(paths, out);
  else if (paths.length > 0) addon.lstatMany(Buffer.from(paths.join('\0') + '\0', 'utf8'), paths.length, out);
  return out;
}

/** The stats of a directory snapshot's paths: per row its directory, then each of its files. */
export interface SnapshotStats {
  /** {@link STAT_FIELDS} numbers per path. */
  readonly stats: Float64Array;
  /** Per row, the index of its directory's stat; its k-th file item's is at this + 1 + k. */
  readonly dirIndex: Int32Array;
}

/**
 * lstat of each directory of a snapshot (`rels`, root-relative, '' for the root, under `rootReal`)
 * and of each of its file items (`items`, as engine/discovery/directory-snapshot.ts stores them: a
 * kind character and a name, joined by '/'; the files are the 'f' ones). The addon builds the paths.
 */
export function lstatSnapshot(rootReal: string, rels: readonly string[], items: readonly string[]): SnapshotStats {
  if (addon === undefined) return lstatSnapshotJs(rootReal, rels, items);
  const [stats, dirIndex] = addon.lstatSnapshot(Buffer.from(rootReal, 'utf8'), snapshotSpec(rels, items), rels.length);
  return { stats, dirIndex };
}

/** A snapshot's rows as the addon takes them: per row its root-relative path, then its items, each NUL-terminated. */
export function snapshotSpec(rels: readonly string[], items: readonly string[]): Buffer {
  const spec: string[] = [];
  for (let row = 0; row < rels.length; row++) spec.push(rels[row] as string, items[row] as string);
  return Buffer.from(spec.join('\0') + '\0', 'utf8');
}

/**
 * {@link lstatSnapshot} of rows already laid out by {@link snapshotSpec} (the restart lane keeps them
 * that way on disk). Throws a RangeError when `spec` does not hold exactly `rows` rows.
 */
export function lstatSnapshotSpec(rootReal: string, spec: Uint8Array, rows: number): SnapshotStats {
  if (addon !== undefined) {
    const [stats, dirIndex] = addon.lstatSnapshot(Buffer.from(rootReal, 'utf8'), spec, rows);
    return { stats, dirIndex };
  }
  const fields = Buffer.from(spec.buffer, spec.byteOffset, spec.byteLength).toString('utf8').split('\0');
  if (fields.length !== rows * 2 + 1 || fields[rows * 2] !== '') throw new RangeError(`spec: not ${rows} rows`);
  const rels: string[] = [];
  const items: string[] = [];
  for (let row = 0; row < rows; row++) rels.push(fields[row * 2] as string), items.push(fields[row * 2 + 1] as string);
  return lstatSnapshotJs(rootReal, rels, items);
}

/** {@link lstatSnapshot} in JS: the paths built here, then {@link lstatManyJs}. */
export function lstatSnapshotJs(rootReal: string, rels: readonly string[], items: readonly string[]): SnapshotStats {
  const paths: string[] = [];
  const dirIndex = new Int32Array(rels.length);
  for (let row = 0; row < rels.length; row++) {
    const rel = rels[row] as string;
    const dir = rel === '' ? rootReal : `${rootReal}/${rel}`;
    dirIndex[row] = paths.length;
    paths.push(dir);
    const stored = items[row] as string;
    if (stored === '') continue;
    for (const item of stored.split('/')) if (item[0] === 'f') paths.push(`${dir}/${item.slice(1)}`);
  }
  return { stats: lstatManyJs(paths), dirIndex };
}

/** The fallback, also the reference the addon is tested against. */
export function lstatManyJs(paths: readonly string[], out: Float64Array = new Float64Array(paths.length * STAT_FIELDS)): Float64Array {
  for (let i = 0; i < paths.length; i++) {
    const o = i * STAT_FIELDS;
    let stats: fs.Stats;
    try {
      stats = fs.lstatSync(paths[i] as string);
    } catch (error) {
      const errno = (error as NodeJS.ErrnoException).errno;
      out[o + STAT_ERRNO] = typeof errno === 'number' && errno !== 0 ? Math.abs(errno) : 1;
      continue;
    }
    out[o + STAT_MODE] = stats.mode;
    out[o + STAT_SIZE] = stats.size;
    out[o + STAT_MTIME_MS] = stats.mtimeMs;
    out[o + STAT_CTIME_MS] = stats.ctimeMs;
    out[o + STAT_INO] = stats.ino;
    out[o + STAT_DEV] = stats.dev;
    out[o + STAT_NLINK] = stats.nlink;
  }
  return out;
}
