import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createEngine } from '../engine/engine.js';
import { CLI, makeTree } from './helpers/temp-tree.js';
import { sleep } from './helpers/sleep.js';
import { isolated } from './helpers/engines.js';

describe('operating a long-running engine', () => {
  it('revalidates cached content periodically, dropping what changed on disk', async () => {
    const tree = makeTree({ 'a.ts': 'export const a = 1;\n', 'b.ts': 'export const b = 1;\n' });
    const engine = createEngine({ root: tree.root, executor: 'in-thread', persist: false, revalidateInterval: 40 }, isolated);
    try {
      await engine.content('a.ts');
      await engine.content('b.ts');
      fs.writeFileSync(path.join(tree.root, 'a.ts'), 'export const a = 2;\n');
      await sleep(200);
      expect(engine.stats().levels.content.entries).toBe(1);
    } finally {
      await engine.close();
      tree.remove();
    }
  });

  it('saves its state periodically when asked to (the production profile does every 6 h)', async () => {
    const tree = makeTree({ 'a.ts': 'export const a = 1;\n' });
    const engine = createEngine({ root: tree.root, executor: 'in-thread', saveStateInterval: 40 }, isolated);
    try {
      await engine.results<number>({ id: 'n', version: 1, dependsOnDependencies: false }).compute('a.ts', () => 1);
      await sleep(200);
      expect(fs.readdirSync(path.join(tree.root, 'node_modules/.cache/strata/results'))).toHaveLength(1);
    } finally {
      await engine.close();
      tree.remove();
    }
  });

  it('reports invalidations, worker utilisation and batch latency percentiles', async () => {
    const tree = makeTree({ 'a.ts': 'export const a = 1;\n', 'b.ts': 'export const b = 1;\n' });
    const engine = createEngine({ root: tree.root, workers: 1, persist: false }, isolated);
    try {
      await engine.warm();
      engine.invalidate(['a.ts', 'b.ts']);
      const stats = engine.stats();
      expect(stats.invalidations).toEqual({ count: 1, paths: 2 });
      expect(stats.pool.latencyMs.count).toBeGreaterThan(0);
      expect(stats.pool.latencyMs.p99).toBeGreaterThanOrEqual(stats.pool.latencyMs.p50);
      expect(stats.pool.utilisation).toBeGreaterThan(0);
      expect(stats.pool.utilisation).toBeLessThanOrEqual(1);
    } finally {
      await engine.close();
      tree.remove();
    }
  });

  it('logs to stderr with --verbose or STRATA_LOG=debug, keeping stdout pure JSON', () => {
    const tree = makeTree({ 'a.ts': 'export const a = 1;\n' });
    try {
      for (const [args, env] of [[['--verbose'], {}], [[], { STRATA_LOG: 'debug' }]] as const) {
        const result = spawnSync(process.execPath, [CLI, 'warm', tree.root, '--json', ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env } });
        expect(result.status).toBe(0);
        expect(JSON.parse(result.stdout)).toMatchObject({ schemaVersion: 1 });
        expect(result.stderr).toContain('strata debug: warm finished');
      }
      const quiet = spawnSync(process.execPath, [CLI, 'warm', tree.root, '--json'], { encoding: 'utf8', env: { PATH: process.env.PATH } });
      expect(quiet.stderr).not.toContain('strata debug');
    } finally {
      tree.remove();
    }
  });
});
