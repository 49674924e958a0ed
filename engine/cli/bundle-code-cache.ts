/**
 * Build step (`npm run build`, after the bundle): writes the bundle's V8 code cache
 * (bundle-load.ts, codeCacheFileFor) from a training run, a real `strata warm` of a small generated
 * tree, cold and then restarted (the restart lane off: the bundle runs where the lane declines); the
 * restart's process writes the cache when its command ends, so the cache holds every function a
 * restart runs. A failed training run leaves no cache (the CLI
 * then compiles the bundle as usual) and fails the build: it means `strata warm` itself is broken.
 *
 *   node dist/engine/cli/bundle-code-cache.js
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { codeCacheFileFor, WRITE_CODE_CACHE_ENV } from './bundle-load.js';

/** The training tree: a few packages of small TypeScript files that import each other. */
function writeTrainingTree(root: string): void {
  for (let p = 0; p < 4; p++) {
    for (let f = 0; f < 10; f++) {
      const file = path.join(root, `packages/p${p}/src/f${f}.ts`);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, `import { v${(f + 1) % 10} } from './f${(f + 1) % 10}';\nexport const v${f}: number = ${f} + 1;\nexport function use${f}(x: number): number { return x * v${f}; }\n`);
    }
  }
  fs.writeFileSync(path.join(root, '.gitignore'), 'dist/\n');
}

/** Trains and writes the cache beside the bundle in `dir`; throws when a training run fails. */
export function writeBundleCodeCache(dir: string = __dirname): string {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bundle-cache-'));
  const cacheFile = codeCacheFileFor(path.join(dir, 'strata-bundle.js'));
  fs.rmSync(cacheFile, { force: true });
  try {
    const root = path.join(work, 'tree');
    writeTrainingTree(root);
    const warm = (env: NodeJS.ProcessEnv): void => {
      const run = spawnSync(process.execPath, [path.join(dir, 'main.js'), 'warm', root, '--cache-dir', path.join(work, 'cache'), '--json'], { env: { ...process.env, ...env, STRATA_BUNDLE_CACHE: 'off', STRATA_RESTART: 'off' }, encoding: 'utf8' });
      if (run.status !== 0) throw new Error(`training warm exited ${run.status}: ${run.stderr}`);
    };
    warm({});
    warm({ [WRITE_CODE_CACHE_ENV]: cacheFile });
    if (!fs.existsSync(cacheFile)) throw new Error('the training restart wrote no code cache');
    return cacheFile;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const file = writeBundleCodeCache();
  process.stdout.write(`bundle code cache: ${fs.statSync(file).size} bytes in ${path.relative(process.cwd(), file)}\n`);
}
