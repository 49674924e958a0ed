/**
 * Build step (`npm run build`, after tsc): writes the CLI bundle, {@link BUNDLE_FILE}, with esbuild
 * from the TypeScript sources (entry: bundle-entry.ts). main.ts runs `strata warm` from it: one file
 * resolved, read and compiled instead of the ~60 modules of a restart of an unchanged tree (which
 * is dominated by start-up).
 *
 * From the sources, not from tsc's output in dist/: esbuild then links the ES imports itself, and
 * `import * as fs from 'node:fs'` does not become tsc's `__importStar(require("node:fs"))` in each of
 * ~60 modules (a copy of every export of the built-in, each with a getter: ~10 ms of a restart).
 * {@link sharedBuiltins} gives the modules one such namespace object per built-in. tsc still
 * type-checks every file, and builds what runs without the bundle.
 *
 * Packages are external (resolved and loaded by Node at run time, as without the bundle) except
 * {@link BUNDLED_PACKAGES}: plain CommonJS with no file of their own to find, on the restart path
 * (resolving `msgpackr/index-no-eval` through its exports map and compiling it took ~8 ms of a
 * restart). typescript (9 MB, loaded lazily, by workers too), piscina, chokidar (ESM-only),
 * prom-client, systeminformation, the native addons (lz4-napi, @node-rs/xxhash), commander and any
 * dependency added later stay external.
 *
 * The bundle stays in dist/engine/cli/: esbuild leaves `__dirname` as the bundle's directory, and the
 * modules that read files beside them (cli.ts: package.json, bench-command.ts: dist/bench/suite.js,
 * pool/parse-pool.ts: dist/workers/worker.js) sit two levels below dist/ too. Its text is ASCII, so
 * that V8 holds its source (kept for lazy compilation) as a one-byte string, not a two-byte one.
 *
 * No V8 code cache of the bundle (vm.Script with cachedData, as the hand-written bundler this
 * replaced had): measured with this bundle, it made a restart no faster (README, "The CLI bundle").
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as esbuild from 'esbuild';

/** The bundle, relative to dist/. */
export const BUNDLE_FILE = 'engine/cli/strata-bundle.js';
/** The bundle's entry, relative to the package root. */
export const BUNDLE_ENTRY = 'engine/cli/bundle-entry.ts';
/**
 * The restart lane's bundle (restart-entry.ts), relative to dist/: main.ts asks it first for a plain
 * `strata warm`. Small (the lane loads no engine) and loaded with a plain `require`.
 */
export const RESTART_BUNDLE_FILE = 'engine/cli/strata-restart.js';
export const RESTART_BUNDLE_ENTRY = 'engine/cli/restart-entry.ts';
/**
 * Dependencies bundled (with what they require); every other package stays external. Not commander:
 * the bundle only runs the `warm` command lines that need no commander (warm-argv.ts); bundled, it
 * was 124 KB more (16%) for a restart measured no faster.
 */
export const BUNDLED_PACKAGES = ['ignore', 'ini', 'msgpackr', 'cli-progress'] as const;

/** One namespace object per `node:` built-in, shared by every module that imports it (see the module comment). */
export const sharedBuiltins: esbuild.Plugin = {
  name: 'shared-builtins',
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) =>
      args.kind === 'import-statement' && args.namespace !== 'builtin' ? { path: args.path, namespace: 'builtin' } : { path: args.path, external: true },
    );
    build.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({
      contents: `export * from ${JSON.stringify(args.path)};\nexport default require(${JSON.stringify(args.path)});\n`,
      loader: 'js',
    }));
  },
};

/** The packages left to Node: every dependency of the manifest but {@link BUNDLED_PACKAGES}, with their subpaths. */
export function externalPackages(root: string): string[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
  const names = ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'].flatMap((field) => Object.keys(manifest[field] ?? {}));
  return [...new Set(names)].filter((name) => !(BUNDLED_PACKAGES as readonly string[]).includes(name)).flatMap((name) => [name, `${name}/*`]);
}

/** Writes the bundle of `entry` (relative to the package at `root`) into `outfile`; answers esbuild's metafile. */
export async function writeBundle(root: string, outfile: string = path.join(root, 'dist', BUNDLE_FILE), entry: string = BUNDLE_ENTRY): Promise<esbuild.Metafile> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { build } = require('esbuild') as typeof esbuild;
  const result = await build({
    absWorkingDir: root, // the paths in the bundle's comments: the same output wherever the build runs
    entryPoints: [path.join(root, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: externalPackages(root),
    plugins: [sharedBuiltins],
    tsconfig: path.join(root, 'tsconfig.json'),
    metafile: true,
    logLevel: 'warning',
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    write: false,
  });
  // esbuild escapes non-ASCII text in code, not in the comments it keeps: those, as `\uXXXX` text.
  const text = (result.outputFiles[0] as esbuild.OutputFile).text.replace(/[^\x00-\x7f]/g, (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`);
  // Atomically: a CLI started during a build runs the old bundle or the new one, never half of one.
  const temporary = `${outfile}.${process.pid}.tmp`;
  fs.mkdirSync(path.dirname(outfile), { recursive: true });
  fs.writeFileSync(temporary, text);
  fs.renameSync(temporary, outfile);
  return result.metafile;
}

if (require.main === module) {
  const root = path.resolve(__dirname, '..', '..', '..');
  const write = async (file: string, entry: string): Promise<void> => {
    const metafile = await writeBundle(root, path.join(root, 'dist', file), entry);
    const written = path.join(root, 'dist', file);
    process.stdout.write(`CLI bundle: ${Object.keys(metafile.inputs).length} modules, ${fs.statSync(written).size} bytes in ${path.relative(process.cwd(), written)}\n`);
  };
  write(BUNDLE_FILE, BUNDLE_ENTRY)
    .then(() => write(RESTART_BUNDLE_FILE, RESTART_BUNDLE_ENTRY))
    .catch((error: unknown) => {
      process.stderr.write(`CLI bundle: ${String(error)}\n`);
      process.exitCode = 1;
    });
}
