/**
 * Runs the CLI bundle (bundle-build.ts) through a V8 code cache: the compiled code of the bundle,
 * functions compiled during a run included, saved after a run that had none (or a rejected one) and
 * handed to `vm.Script` by the next process, which then neither parses nor compiles what it runs.
 * main.ts saves it only after a restart-like warm (nothing parsed): measured on a 10,000-file
 * restart, the cache saved by such a run made it ~7 ms faster than no cache, one saved by a cold warm
 * ~15 ms slower (V8 deserializes the cold path's functions, and compiles the restart's anyway).
 *
 * Safety: V8 checks its data's header (version, flags, source length) but not, in release builds,
 * its payload, and a same-length bundle with other code would be accepted. So the file carries our
 * own frame, {@link CLI_CODE_CACHE_HEADER_BYTES} bytes: magic, payload length, XXH64 of the payload
 * and XXH64 of the bundle it was made from. A file whose frame does not verify, or that was made from
 * another bundle, is never handed to V8: the bundle is compiled from source, and the cache rewritten.
 * Any failure to read or write only costs speed.
 *
 * Where: beside the bundle, `dist/engine/cli/.v8-cache/` (`STRATA_V8_CACHE_DIR` moves it, as for
 * the parser's cache; `STRATA_V8_CACHE=off` disables both). Not in the warm's cache directory: that
 * one may be restored from elsewhere (a CI cache), and code must be exactly as trusted as the
 * package's own files. A read-only install runs without the cache.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { xxh64 } from '../../native-bindings/hash.js';

/** 'SV8B': the first four bytes of a framed CLI code cache file. */
export const CLI_CODE_CACHE_MAGIC = 0x42385653;
/** Frame header: magic u32, payload length u32, XXH64 of the payload u64, XXH64 of the bundle u64 (little-endian). */
export const CLI_CODE_CACHE_HEADER_BYTES = 24;

/** How the bundle was compiled: from a valid cache, without one, with one found invalid, or with caching disabled. */
export type CodeCacheState = 'hit' | 'miss' | 'rejected' | 'off';

export type BundleLoader = (id: string) => unknown;

export interface LoadedBundle {
  /** Loads a bundled module (dist-relative path) and answers its exports. */
  readonly load: BundleLoader;
  readonly state: CodeCacheState;
  readonly cacheFile: string;
  /** Writes the code cache when this process compiled without a valid one. Never throws. */
  save(): void;
}

/** The code cache file for a bundle, per Node version and architecture. */
export function codeCacheFileFor(bundleFile: string, env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.STRATA_V8_CACHE_DIR || path.join(path.dirname(bundleFile), '.v8-cache');
  return path.join(dir, `strata-cli-${process.version}-${process.arch}.bin`);
}

/** The frame header written before V8's data. */
export function frameCliCodeCache(data: Uint8Array, bundleHash: bigint): Buffer {
  const header = Buffer.alloc(CLI_CODE_CACHE_HEADER_BYTES);
  header.writeUInt32LE(CLI_CODE_CACHE_MAGIC, 0);
  header.writeUInt32LE(data.length, 4);
  header.writeBigUInt64LE(xxh64(data), 8);
  header.writeBigUInt64LE(bundleHash, 16);
  return header;
}

/** V8's data inside a framed file made from the bundle hashing to `bundleHash`, or null. */
export function unframeCliCodeCache(file: Buffer, bundleHash: bigint): Buffer | null {
  if (file.length <= CLI_CODE_CACHE_HEADER_BYTES || file.readUInt32LE(0) !== CLI_CODE_CACHE_MAGIC) return null;
  if (file.readBigUInt64LE(16) !== bundleHash) return null;
  const payload = file.subarray(CLI_CODE_CACHE_HEADER_BYTES);
  if (file.readUInt32LE(4) !== payload.length) return null;
  return xxh64(payload) === file.readBigUInt64LE(8) ? payload : null;
}

function readIfPresent(file: string): Buffer | null {
  try {
    return fs.readFileSync(file);
  } catch {
    return null;
  }
}

/**
 * Compiles and starts the bundle (through the code cache when valid). `nodeRequire` is the entry
 * module's `require` (its `cache` lets the bundle reuse modules Node already loaded), `importPackage`
 * runs the bundle's dynamic imports. Null when the bundle cannot be read.
 */
export function loadBundle(
  bundleFile: string,
  distRoot: string,
  nodeRequire: NodeJS.Require,
  importPackage: (specifier: string) => Promise<unknown>,
  env: NodeJS.ProcessEnv = process.env,
): LoadedBundle | null {
  const bytes = readIfPresent(bundleFile);
  if (bytes === null) return null;
  const cacheFile = codeCacheFileFor(bundleFile, env);
  const enabled = env.STRATA_V8_CACHE !== 'off';
  const bundleHash = xxh64(bytes);
  const framed = enabled ? readIfPresent(cacheFile) : null;
  const cachedData = framed === null ? null : unframeCliCodeCache(framed, bundleHash);
  // The bundle is ASCII (bundle-build.ts): latin1 decodes it by copying.
  const script = new vm.Script(bytes.toString('latin1'), { filename: bundleFile, ...(cachedData !== null ? { cachedData } : {}) });
  const state: CodeCacheState = !enabled ? 'off' : framed === null ? 'miss' : cachedData === null || script.cachedDataRejected === true ? 'rejected' : 'hit';
  const factory = script.runInThisContext() as (req: NodeJS.Require, create: typeof createRequire, root: string, importer: typeof importPackage) => BundleLoader;
  const load = factory(nodeRequire, createRequire, distRoot, importPackage);
  let needsWrite = state === 'miss' || state === 'rejected';
  return {
    load,
    state,
    cacheFile,
    save(): void {
      if (!needsWrite) return;
      needsWrite = false;
      const temporary = `${cacheFile}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
      try {
        fs.mkdirSync(path.dirname(cacheFile), { recursive: true, mode: 0o700 });
        const data = script.createCachedData();
        fs.writeFileSync(temporary, Buffer.concat([frameCliCodeCache(data, bundleHash), data]), { mode: 0o600 });
        fs.renameSync(temporary, cacheFile);
      } catch {
        // A read-only install (or a path that cannot be a directory): run without the cache.
        try {
          fs.rmSync(temporary, { force: true });
        } catch {
          // nothing was written
        }
      }
    },
  };
}
