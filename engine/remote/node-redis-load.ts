/**
 * Loading node-redis, the remote tier's client, in the least time a warm can wait for it.
 *
 * The `redis` package is node-redis's core client, `@redis/client`, plus modules (RedisJSON, search,
 * time series, bloom) this tier never uses: only the core is loaded, resolved from where `redis` is
 * installed (so it is the very core `redis` itself uses).
 *
 * The core is ~830 modules; `npm run build` also writes it as one file with esbuild,
 * `dist/engine/remote/node-redis-<version>.bundle.js` ({@link writeNodeRedisBundle}): one resolve,
 * read and compile instead of ~830 (measured on the 2-core machine under load: loading it and
 * creating a client took ~245 ms against ~400 ms from the modules; README, "Shared remote cache").
 * The bundle is used only when it was built from the installed version (its name says which);
 * otherwise, or when it is missing, the modules load as usual. Its optional peers
 * (`@opentelemetry/api`, `@node-rs/xxhash`, loaded by node-redis only on request) stay outside.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as esbuild from 'esbuild';

/** The installed core's entry file and version. */
function installedCore(): { entry: string; version: string } {
  const entry = require.resolve('@redis/client', { paths: [path.dirname(require.resolve('redis'))] });
  const manifest = path.join(path.dirname(entry), '..', 'package.json');
  return { entry, version: (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { version: string }).version };
}

/** The bundle's file for a core version. `dir` is dist/engine/remote (this module's, or beside the CLI bundle's). */
export function nodeRedisBundleFile(version: string, dir = path.join(__dirname, '..', 'remote')): string {
  return path.join(dir, `node-redis-${version}.bundle.js`);
}

/** node-redis's core client: from its one-file bundle when built from the installed version, else its modules. */
export function loadNodeRedis(): typeof import('redis') {
  const core = installedCore();
  const bundle = nodeRedisBundleFile(core.version);
  /* eslint-disable @typescript-eslint/no-require-imports */
  return (fs.existsSync(bundle) ? require(bundle) : require(core.entry)) as typeof import('redis');
  /* eslint-enable @typescript-eslint/no-require-imports */
}

/** Writes the bundle of the installed core into `dir` (atomically); answers its file. */
export async function writeNodeRedisBundle(dir: string): Promise<string> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { build } = require('esbuild') as typeof esbuild;
  const core = installedCore();
  const outfile = nodeRedisBundleFile(core.version, dir);
  const result = await build({
    entryPoints: [core.entry],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['@opentelemetry/api', '@node-rs/xxhash'],
    logLevel: 'warning',
    write: false,
  });
  fs.mkdirSync(dir, { recursive: true });
  for (const stale of fs.readdirSync(dir)) if (/^node-redis-.*\.bundle\.js$/.test(stale) && path.join(dir, stale) !== outfile) fs.rmSync(path.join(dir, stale), { force: true });
  const temporary = `${outfile}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, (result.outputFiles[0] as esbuild.OutputFile).contents);
  fs.renameSync(temporary, outfile);
  return outfile;
}

if (require.main === module) {
  writeNodeRedisBundle(__dirname).then(
    (file) => process.stdout.write(`node-redis bundle: ${fs.statSync(file).size} bytes in ${path.relative(process.cwd(), file)}\n`),
    (error: unknown) => {
      process.stderr.write(`node-redis bundle: ${String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
