/** `strata clear [root]`: empties the root's cache directory (only one that carries Strata's marker). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { resolveOptions } from '../config/options.js';
import { CACHE_DIR_ENV, DEFAULT_CACHE_SUBDIR, userCacheDirFor } from '../store/cache-dir.js';
import { clearCacheDir } from '../store/clear.js';
import { REPORT_SCHEMA_VERSION } from '../warming/warm-report.js';
import { commonOptions, optionsFromCommon, type CommonFlags } from './common.js';
import { EXIT_OK } from './exit-codes.js';
import { log, printJson } from './output.js';

export function registerClear(program: Command, setExit: (code: number) => void): void {
  const command = program.command('clear [root]').description("delete the root's cache directory (only a directory carrying Strata's marker)");
  commonOptions(command).action((root: string | undefined, flags: CommonFlags) => {
    const options = resolveOptions(optionsFromCommon(root, flags));
    const dir = cacheDirToClear(options.root, options.cacheDir, process.env);
    const result = dir === null ? null : clearCacheDir(dir, { root: options.root });
    const report = { schemaVersion: REPORT_SCHEMA_VERSION, root: options.root, dir: result?.dir ?? null, cleared: result?.cleared ?? false, files: result?.files ?? 0, bytes: result?.bytes ?? 0 };
    if (flags.json) printJson(report);
    else if (!flags.quiet) log(report.cleared ? `cleared ${report.dir}: ${report.files} files, ${report.bytes} bytes` : 'no cache directory to clear');
    setExit(EXIT_OK);
  });
}

/** The directory a warm of this root would use, found without creating anything. */
function cacheDirToClear(root: string, cacheDir: string | null, env: NodeJS.ProcessEnv): string | null {
  if (cacheDir !== null) return cacheDir;
  const fromEnv = env[CACHE_DIR_ENV];
  if (fromEnv) return path.resolve(root, fromEnv);
  const candidates = [path.join(root, DEFAULT_CACHE_SUBDIR), userCacheDirFor(root, env)];
  return candidates.find((dir) => fs.existsSync(dir)) ?? null;
}
