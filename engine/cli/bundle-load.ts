/**
 * Loads the CLI bundle (bundle-build.ts) for main.ts, through a V8 code cache when one was written
 * for it: {@link codeCacheFileFor} the bundle, taken at build time (bundle-code-cache.ts) at
 * the end of a real `strata warm` restart, so it holds the bytecode of every function the restart
 * ran, not only the bundle's top level. On an 8,245-file restart: 249 ms against 267 ms with a plain
 * `require` (medians of 20, README "The CLI bundle"); a cache taken right after compiling, before
 * anything ran (what the earlier bundler did), measured no faster. V8 refuses a cache of another
 * source text, V8 version or flags (then the bundle compiles as without one): nothing can run stale
 * code. `STRATA_BUNDLE_CACHE=off` loads it with a plain `require`.
 */
import * as fs from 'node:fs';
import Module from 'node:module';
import * as path from 'node:path';
import * as vm from 'node:vm';

/** The code cache of a bundle: beside it, `.v8cache` for `.js`. */
export function codeCacheFileFor(bundle: string): string {
  return bundle.replace(/\.js$/, '') + '.v8cache';
}
/** Set to a file path: the process writes the bundle's code cache there when its command ends (the build's training run). */
export const WRITE_CODE_CACHE_ENV = 'STRATA_WRITE_BUNDLE_CACHE';

export type BundleExports = typeof import('./bundle-entry.js');

export interface LoadedBundle {
  readonly exports: BundleExports;
  /** Whether V8 took the cache: 'hit', 'rejected' (compiled afresh), 'none' (no cache file, or switched off). */
  readonly codeCache: 'hit' | 'rejected' | 'none';
  /** Writes the cache of what this process compiled so far to `file` (the training run). */
  writeCodeCache(file: string): void;
}

export function loadBundle(file: string): LoadedBundle {
  const cacheFile = codeCacheFileFor(file);
  let cachedData: Buffer | undefined;
  if (process.env.STRATA_BUNDLE_CACHE !== 'off') {
    try {
      cachedData = fs.readFileSync(cacheFile);
    } catch {
      cachedData = undefined;
    }
  }
  if (cachedData === undefined && process.env[WRITE_CODE_CACHE_ENV] === undefined) {
    return { exports: require(file) as BundleExports, codeCache: 'none', writeCodeCache: () => undefined };
  }
  // What `require` does for a CommonJS file, with the cache handed to V8.
  // Dynamic import() from the bundle resolves as it would from a required file.
  const importModuleDynamically = vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER as unknown as vm.ScriptOptions['importModuleDynamically'];
  const script = new vm.Script(Module.wrap(fs.readFileSync(file, 'utf8')), { filename: file, importModuleDynamically, ...(cachedData ? { cachedData } : {}) });
  const bundle = new Module(file, module);
  bundle.filename = file;
  bundle.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(file));
  (script.runInThisContext() as (...args: unknown[]) => void).call(bundle.exports, bundle.exports, Module.createRequire(file), bundle, file, path.dirname(file));
  bundle.loaded = true;
  require.cache[file] = bundle;
  return {
    exports: bundle.exports as BundleExports,
    codeCache: cachedData === undefined ? 'none' : script.cachedDataRejected === true ? 'rejected' : 'hit',
    writeCodeCache: (to) => {
      const temporary = `${to}.${process.pid}.tmp`;
      fs.writeFileSync(temporary, script.createCachedData());
      fs.renameSync(temporary, to);
    },
  };
}
