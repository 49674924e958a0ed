/**
 * Loads the `typescript` package in a worker through a V8 code cache, so a fresh worker spends
 * ~40% less time before its first parse (TOOLCHAIN.md: ~170 ms → ~67 ms on a quiet machine).
 * The loaded module is installed in `require.cache`, so every later `require('typescript')` in this
 * thread gets it. The cache is written once, after a first parse (so lazily compiled functions are
 * in it), atomically, and keyed by TypeScript, Node and architecture; V8 itself rejects data that
 * does not match the source or its flags, and we then load normally and rewrite it.
 *
 * V8 checks the data's header (version, flags, source hash) but not, in release builds, its payload:
 * a flipped byte inside it aborts the whole process ("Fatal error: unreachable code"). So the file
 * carries our own frame, {@link CODE_CACHE_HEADER_BYTES} bytes (magic, payload length, XXH64 of the
 * payload) before V8's data; a file whose frame does not verify is never handed to V8, and is
 * treated as rejected (loaded normally, then rewritten).
 *
 * Trust: the cache sits in `node_modules/.cache/strata/v8` beside the typescript package it
 * describes — anyone who can write there can already rewrite node_modules/typescript itself.
 * `STRATA_V8_CACHE=off` disables it; `STRATA_V8_CACHE_DIR` moves it (tests).
 */
import type { CodeCacheOutcome } from '../shared/protocol.js';
import * as fs from 'node:fs';
import Module from 'node:module';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { xxh64 } from '../native-bindings/hash.js';

/** 'SV8C': the first four bytes of a framed code cache file. */
export const CODE_CACHE_MAGIC = 0x43385653;
/** Frame header: magic u32, payload length u32, XXH64 of the payload u64 (little-endian). */
export const CODE_CACHE_HEADER_BYTES = 16;

export interface TypescriptLoad {
  readonly codeCache: CodeCacheOutcome;
  readonly loadMs: number;
}

let loaded: { script: vm.Script; cacheFile: string; needsWrite: boolean } | null = null;

function cacheFileFor(packageDir: string, version: string): string {
  const dir = process.env.STRATA_V8_CACHE_DIR || path.join(packageDir, '..', '.cache', 'strata', 'v8');
  return path.join(dir, `typescript-${version}-${process.version}-${process.arch}.bin`);
}

/** The frame written before V8's data (see the module comment). */
export function frameCodeCache(data: Uint8Array): Buffer {
  const header = Buffer.alloc(CODE_CACHE_HEADER_BYTES);
  header.writeUInt32LE(CODE_CACHE_MAGIC, 0);
  header.writeUInt32LE(data.length, 4);
  header.writeBigUInt64LE(xxh64(data), 8);
  return header;
}

/** V8's data inside a framed file, or null when the frame does not verify (corrupt, truncated, foreign). */
export function unframeCodeCache(file: Buffer): Buffer | null {
  if (file.length < CODE_CACHE_HEADER_BYTES || file.readUInt32LE(0) !== CODE_CACHE_MAGIC) return null;
  const payload = file.subarray(CODE_CACHE_HEADER_BYTES);
  if (payload.length === 0 || file.readUInt32LE(4) !== payload.length) return null;
  return xxh64(payload) === file.readBigUInt64LE(8) ? payload : null;
}

/** Loads typescript into require.cache (once per thread). Falls back to a plain require on any problem. */
export function preloadTypescript(): TypescriptLoad {
  const started = performance.now();
  const entry = require.resolve('typescript');
  if (require.cache[entry] || process.env.STRATA_V8_CACHE === 'off') {
    require('typescript');
    return { codeCache: 'off', loadMs: performance.now() - started };
  }
  const packageDir = path.dirname(require.resolve('typescript/package.json'));
  const version = (JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { version: string }).version;
  const cacheFile = cacheFileFor(packageDir, version);
  let cachedData: Buffer | undefined;
  let corrupt = false;
  try {
    const framed = unframeCodeCache(fs.readFileSync(cacheFile));
    corrupt = framed === null;
    cachedData = framed ?? undefined;
  } catch {
    cachedData = undefined; // first run: no cache yet
  }
  const source = fs.readFileSync(entry, 'utf8');
  const script = new vm.Script(Module.wrap(source), { filename: entry, ...(cachedData ? { cachedData } : {}) });
  const module = new Module(entry, undefined);
  module.filename = entry;
  module.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(entry));
  const wrapper = script.runInThisContext() as (exports: unknown, req: NodeJS.Require, mod: Module, filename: string, dirname: string) => void;
  wrapper.call(module.exports, module.exports, Module.createRequire(entry), module, entry, path.dirname(entry));
  module.loaded = true;
  require.cache[entry] = module;
  const codeCache = corrupt || script.cachedDataRejected === true ? 'rejected' : cachedData === undefined ? 'miss' : 'hit';
  loaded = { script, cacheFile, needsWrite: codeCache !== 'hit' };
  return { codeCache, loadMs: performance.now() - started };
}

/** Writes the code cache if this thread loaded without a valid one. Best effort: a failure only costs speed. */
export function saveTypescriptCodeCache(): void {
  if (loaded === null || !loaded.needsWrite) return;
  loaded.needsWrite = false;
  const temporary = `${loaded.cacheFile}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    fs.mkdirSync(path.dirname(loaded.cacheFile), { recursive: true, mode: 0o700 });
    const data = loaded.script.createCachedData();
    fs.writeFileSync(temporary, Buffer.concat([frameCodeCache(data), data]), { mode: 0o600 });
    fs.renameSync(temporary, loaded.cacheFile);
  } catch {
    fs.rmSync(temporary, { force: true }); // read-only node_modules: run without the cache
  }
}
