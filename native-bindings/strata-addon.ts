/**
 * Strata's own addon (src/strata_native.c, compiled at build time by build-native.ts), loaded once
 * for the adapters that use it (stat-batch.ts, stat-compare.ts, ast-columns.ts, hash.ts). Missing
 * (no C compiler when the package was built), unloadable, of another layout, or skipped under
 * `STRATA_NATIVE=js`: each adapter runs its fallback (pure JS; @node-rs/xxhash first for hashing),
 * with the same results.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeLoadFailure, forcedJsFallback, FORCED_FALLBACK_REASON, type FallbackReason } from './backend.js';

/** The addon's functions (see the comment at the top of src/strata_native.c). */
export interface StrataAddon {
  lstatMany(paths: Uint8Array, count: number, out: Float64Array): void;
  lstatSnapshot(root: Uint8Array, spec: Uint8Array, rows: number): [Float64Array, Int32Array];
  validateAstColumns(bytes: Uint8Array, nodeCount: number, textLength: number, posOffset: number, endOffset: number, subtreeEndOffset: number): number;
  firstStatDifference(stats: Float64Array, dirIndex: Int32Array, expected: Float64Array, maxFileSize: number, tolerance: number): number;
  checkSnapshot(root: Uint8Array, spec: Uint8Array, rows: number, expected: Float64Array, maxFileSize: number, tolerance: number): number;
  xxh64(bytes: Uint8Array): bigint;
  xxh64File(path: Uint8Array, from: number): bigint | null;
  /** The encoded AST of an lz4 AST payload, widened and checked; a failure code (1–3) when anything is off. */
  lz4UnpackAst(payload: Uint8Array, packedLength: number): Uint8Array | number;
  /** Numbers per path of the stat functions (stat-batch.ts checks it against its own layout). */
  readonly statFields: number;
}

/**
 * Where the addon lies: beside this module in dist/native-bindings/, or (from the CLI bundle in
 * dist/engine/cli/) two levels up and into native-bindings/.
 */
function addonCandidates(): string[] {
  return [path.join(__dirname, 'strata_native.node'), path.join(__dirname, '..', '..', 'native-bindings', 'strata_native.node')];
}

export interface LoadedAddon {
  readonly addon: StrataAddon | undefined;
  /** Why the fallbacks run; undefined when the addon is live. */
  readonly reason: FallbackReason;
}

function loadAddon(): LoadedAddon {
  if (forcedJsFallback()) return { addon: undefined, reason: FORCED_FALLBACK_REASON };
  const file = addonCandidates().find((candidate) => fs.existsSync(candidate));
  if (file === undefined) return { addon: undefined, reason: 'strata_native.node was not built (no C compiler or Node-API headers at build time)' };
  let addon: StrataAddon;
  try {
    addon = require(file) as StrataAddon;
  } catch (error) {
    return { addon: undefined, reason: describeLoadFailure(file, error) };
  }
  const functions = [addon.lstatMany, addon.lstatSnapshot, addon.validateAstColumns, addon.firstStatDifference, addon.checkSnapshot, addon.xxh64, addon.xxh64File, addon.lz4UnpackAst];
  if (functions.some((fn) => typeof fn !== 'function')) return { addon: undefined, reason: `${file} is of another build` };
  return { addon, reason: undefined };
}

/** The addon, or why not. */
export const strataAddon: LoadedAddon = loadAddon();
