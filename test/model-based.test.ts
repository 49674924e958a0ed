/**
 * Model-based test (issue 8): random, seeded sequences of file edits (same size and mtime
 * included), truncations, deletions, renames of files and directories, symlink changes, engine
 * restarts and cache-file corruptions, interleaved with content / ast / deps / results reads; every
 * answer is compared with a fresh computation from the disk. A mismatch fails with the seed, the
 * operation index and the last operations.
 *
 * `npm test` runs SEEDS × OPS_PER_SEED (about 2,000 operations) plus every REGRESSION_SEEDS entry.
 * Soak run: `STRATA_SOAK_OPS=100000 npx jest dist/test/model-based.test.js` (seeds of 500 operations
 * each, numbered from STRATA_SOAK_SEED, default 1000). `STRATA_MODEL_VERBOSE=1` logs every operation.
 */
import type { Engine } from '../engine/engine.js';
import { runModel, type ModelStats } from './helpers/model-harness.js';
import { recordReliability } from '../bench/reliability-counts.js';

/** What the README's reliability table counts of a model run. */
function recordModel(stats: readonly ModelStats[], failures: number): void {
  const sum = (pick: (one: ModelStats) => number): number => stats.reduce((total, one) => total + pick(one), 0);
  recordReliability('model-based: random edits, restarts and corruptions', { operations: sum((one) => one.ops), corruptions: sum((one) => one.corruptions), wrongAnswers: failures });
}

const OPS_PER_SEED = 500;
const SEEDS = [1, 2, 3, 4];

/** Seeds that once failed because of an engine bug: each runs in `npm test` from now on. */
const REGRESSION_SEEDS: ReadonlyArray<{ seed: number; ops: number }> = [];

const soakOps = Number(process.env.STRATA_SOAK_OPS ?? 0);
const soakFirstSeed = Number(process.env.STRATA_SOAK_SEED ?? 1000);
const verbose = process.env.STRATA_MODEL_VERBOSE === '1';

describe('model-based: every answer equals a fresh computation from the disk', () => {
  if (soakOps > 0) {
    const count = Math.ceil(soakOps / OPS_PER_SEED);
    it(
      `soak: ${count} seeds × ${OPS_PER_SEED} operations from seed ${soakFirstSeed}`,
      async () => {
        const failures: string[] = [];
        const stats: ModelStats[] = [];
        for (let i = 0; i < count; i++) {
          try {
            stats.push(await runModel(soakFirstSeed + i, OPS_PER_SEED, { verbose }));
          } catch (error) {
            failures.push((error as Error).message);
          }
        }
        recordModel(stats, failures.length);
        if (failures.length > 0) throw new Error(`${failures.length} failing seed(s):\n\n${failures.join('\n\n')}`);
      },
      24 * 3600 * 1000,
    );
    return;
  }

  it.each(SEEDS)('seed %i', async (seed) => {
    const stats = await runModel(seed, OPS_PER_SEED, { verbose });
    expect(stats.reads + stats.mutations).toBe(OPS_PER_SEED);
    recordModel([stats], 0);
  }, 60_000);

  it('the harness itself catches a stale answer (an engine that memoizes content)', async () => {
    const staleContent = (engine: Engine): Engine => {
      const first = new Map<string, Buffer>();
      return new Proxy(engine, {
        get(target, property) {
          if (property === 'content') {
            return async (file: string): Promise<Buffer> => {
              const known = first.get(file);
              if (known !== undefined) return known;
              const bytes = await target.content(file);
              first.set(file, bytes);
              return bytes;
            };
          }
          const value: unknown = Reflect.get(target, property, target);
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
    };
    await expect(runModel(1, OPS_PER_SEED, { wrapEngine: staleContent })).rejects.toThrow(/seed 1, op #\d+: content\(.*\) (is stale or wrong|answered; expected StrataError)/);
  }, 60_000);

  for (const { seed, ops } of REGRESSION_SEEDS) {
    it(`regression seed ${seed} (${ops} operations)`, async () => {
      await runModel(seed, ops, { verbose });
    }, 60_000);
  }
});
