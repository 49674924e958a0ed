/**
 * Build step (`npm run build`, after tsc): compiles Strata's own addon, native-bindings/src/
 * strata_native.c, into {@link ADDON_FILE} with the system's C compiler against the Node-API
 * headers that ship with Node (`<node prefix>/include/node`). No node-gyp: one C file, no
 * dependencies, and node-gyp would download headers this install already has.
 *
 * Without a compiler or the headers the build goes on and Strata runs the pure-JS fallbacks (the
 * same results, slower); set STRATA_REQUIRE_NATIVE=1 (CI does) to make that an error instead.
 *
 *   node dist/native-bindings/build-native.js
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Where the addon is written, relative to dist/. */
export const ADDON_FILE = 'native-bindings/strata_native.node';
/** The addon's source, relative to the package root. */
export const ADDON_SOURCE = 'native-bindings/src/strata_native.c';
/** Set to 1 to make a missing compiler or a failed compile fail the build. */
export const REQUIRE_NATIVE_ENV = 'STRATA_REQUIRE_NATIVE';

/** The directory holding node_api.h for the running Node, or null when this install has none. */
export function nodeApiHeaders(): string | null {
  const candidates = [path.join(path.dirname(process.execPath), '..', 'include', 'node'), ...(process.env.npm_config_nodedir ? [path.join(process.env.npm_config_nodedir, 'include', 'node')] : [])];
  return candidates.find((dir) => fs.existsSync(path.join(dir, 'node_api.h'))) ?? null;
}

/** Compiles the addon; answers null on success, else why it was not built. */
export function buildAddon(root: string, outfile: string): string | null {
  const headers = nodeApiHeaders();
  if (headers === null) return `no Node-API headers beside ${process.execPath}`;
  const compiler = process.env.CC ?? 'cc';
  const platformFlags = process.platform === 'darwin' ? ['-undefined', 'dynamic_lookup'] : [];
  fs.mkdirSync(path.dirname(outfile), { recursive: true });
  const args = ['-O2', '-std=c11', '-Wall', '-Wextra', '-shared', '-fPIC', '-pthread', ...platformFlags, '-I', headers, path.join(root, ADDON_SOURCE), '-o', outfile];
  const result = spawnSync(compiler, args, { encoding: 'utf8' });
  if (result.error !== undefined) return `${compiler}: ${result.error.message}`;
  if (result.status !== 0) return `${compiler} exited with ${result.status}:\n${result.stderr}`;
  return null;
}

if (require.main === module) {
  const root = path.join(__dirname, '..', '..');
  const outfile = path.join(root, 'dist', ADDON_FILE);
  const problem = buildAddon(root, outfile);
  if (problem === null) {
    process.stdout.write(`built ${path.relative(root, outfile)}\n`);
  } else if (process.env[REQUIRE_NATIVE_ENV] === '1') {
    process.stderr.write(`strata: the native addon was not built (${REQUIRE_NATIVE_ENV}=1): ${problem}\n`);
    process.exit(1);
  } else {
    fs.rmSync(outfile, { force: true });
    process.stderr.write(`strata: the native addon was not built, the JS fallbacks will run: ${problem}\n`);
  }
}
