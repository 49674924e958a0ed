import * as path from 'node:path';
import type { StrataError } from '../shared/errors.js';
import { envNameOf, PROFILES, resolveOptions, type StrataOptions } from '../engine/config/options.js';
import { isolated as isolatedSources } from './helpers/engines.js';
import { refusal } from './helpers/strata-errors.js';
import { makeTree } from './helpers/temp-tree.js';

const MiB = 1024 * 1024;
const machine = { cores: 2, totalMemoryBytes: 16 * 1024 * MiB };
const isolated = { ...isolatedSources, machine } as const;

function refused(given: StrataOptions, sources: Parameters<typeof resolveOptions>[1] = isolated): StrataError {
  return refusal(() => resolveOptions(given, sources), `expected ${JSON.stringify(given)} to be refused`);
}

describe('resolveOptions', () => {
  it('defaults to the development profile, whatever CI says', () => {
    const options = resolveOptions({}, { ...isolated, env: { CI: 'true' } });
    expect(options.profile).toBe('development');
    expect(options.contentBudget).toBe(75 * MiB);
  });

  it('has the profile table of DESIGN.md', () => {
    const dev = resolveOptions({ profile: 'development' }, isolated);
    const prod = resolveOptions({ profile: 'production' }, isolated);
    const ci = resolveOptions({ profile: 'ci' }, isolated);
    expect([dev.contentBudget, prod.contentBudget, ci.contentBudget]).toEqual([75 * MiB, 150 * MiB, 50 * MiB]);
    expect([dev.contentPressureThreshold, dev.contentAggressiveThreshold]).toEqual([0.8, 0.9]);
    expect([prod.contentPressureThreshold, prod.contentAggressiveThreshold]).toEqual([0.7, 0.85]);
    expect([ci.contentPressureThreshold, ci.contentAggressiveThreshold]).toEqual([0.6, 0.75]);
    expect([dev.astBudget, prod.astBudget, ci.astBudget]).toEqual([500 * MiB, 1000 * MiB, 200 * MiB]);
    expect([dev.astMaxEntries, prod.astMaxEntries, ci.astMaxEntries]).toEqual([15000, 15000, 15000]);
    expect([dev.resultsMaxEntries, prod.resultsMaxEntries, ci.resultsMaxEntries]).toEqual([5000, 10000, 1000]);
    expect([dev.graphMaxNodes, prod.graphMaxNodes, ci.graphMaxNodes]).toEqual([8000, 15000, 5000]);
    expect([dev.resultsRetention, prod.resultsRetention, ci.resultsRetention]).toEqual([12, 48, 2].map((h) => h * 3_600_000));
    expect([dev.resultsCleanupInterval, prod.resultsCleanupInterval, ci.resultsCleanupInterval]).toEqual([15, 30, 5].map((m) => m * 60_000));
    expect([dev.saveStateInterval, prod.saveStateInterval, ci.saveStateInterval]).toEqual([null, 6 * 3_600_000, null]);
    expect([dev.warmDepth, prod.warmDepth, ci.warmDepth]).toEqual([3, 3, 1]);
    expect([dev.warmTimeLimit, prod.warmTimeLimit, ci.warmTimeLimit]).toEqual([null, null, 300_000]);
    expect([dev.revalidateInterval, prod.revalidateInterval, ci.revalidateInterval]).toEqual([3_600_000, 3_600_000, null]);
    expect([dev.persist, prod.persist, ci.persist]).toEqual([true, true, true]);
    for (const options of [dev, prod, ci]) {
      expect([options.alertMinHitRate, options.alertMaxMemoryUse, options.alertMaxEvictionRate]).toEqual([0.8, 0.9, 0.1]);
    }
  });

  it('caps workers at the cores available', () => {
    expect(PROFILES.production.workers).toBe(6);
    expect(resolveOptions({ profile: 'production' }, isolated).workers).toBe(2);
    expect(resolveOptions({ profile: 'production' }, { ...isolated, machine: { ...machine, cores: 16 } }).workers).toBe(6);
    expect(resolveOptions({ workers: 1 }, isolated).workers).toBe(1);
  });

  it('applies config file < environment < explicit options', () => {
    const tree = makeTree({ 'strata.config.json': JSON.stringify({ profile: 'ci', contentBudget: '10MB', astMaxEntries: 100, warmDepth: 2 }) });
    try {
      const env = { STRATA_AST_MAX_ENTRIES: '200', STRATA_WARM_DEPTH: '4' };
      const options = resolveOptions({ root: tree.root, warmDepth: 5 }, { env, machine });
      expect(options.profile).toBe('ci');
      expect(options.contentBudget).toBe(10 * MiB);
      expect(options.astMaxEntries).toBe(200);
      expect(options.warmDepth).toBe(5);
      expect(options.astBudget).toBe(200 * MiB); // from the ci profile
    } finally {
      tree.remove();
    }
  });

  it('reads the strata key of package.json when there is no strata.config.json', () => {
    const tree = makeTree({ 'package.json': JSON.stringify({ name: 'x', strata: { maxFileSize: '1MB' } }) });
    try {
      expect(resolveOptions({ root: tree.root }, { env: {}, machine }).maxFileSize).toBe(MiB);
    } finally {
      tree.remove();
    }
  });

  it('takes the profile from STRATA_PROFILE', () => {
    expect(resolveOptions({}, { ...isolated, env: { STRATA_PROFILE: 'production' } }).profile).toBe('production');
    expect(envNameOf('contentPressureThreshold')).toBe('STRATA_CONTENT_PRESSURE_THRESHOLD');
  });

  it('sizes the memory levels from RAM with budget auto', () => {
    const options = resolveOptions({ budget: 'auto' }, isolated);
    const total = options.contentBudget + options.astBudget;
    expect(total / machine.totalMemoryBytes).toBeGreaterThanOrEqual(0.1);
    expect(total / machine.totalMemoryBytes).toBeLessThanOrEqual(0.15);
  });

  it('resolves the root and cache directory to absolute paths', () => {
    const options = resolveOptions({ root: 'some/dir', cacheDir: 'cache' }, isolated);
    expect(options.root).toBe(path.resolve('some/dir'));
    expect(options.cacheDir).toBe(path.resolve('some/dir', 'cache'));
  });

  const invalid: [string, StrataOptions, string][] = [
    ['profile', { profile: 'staging' as never }, 'development, production, ci'],
    ['contentBudget', { contentBudget: 'lots' }, 'a size in bytes'],
    ['contentBudget', { contentBudget: 0 }, 'a size in bytes'],
    ['contentPressureThreshold', { contentPressureThreshold: 1.5 }, 'a number from 0 to 1'],
    ['contentAggressiveThreshold', { contentPressureThreshold: 0.9, contentAggressiveThreshold: 0.5 }, '≥ contentPressureThreshold'],
    ['astBudget', { astBudget: -5 }, 'a size in bytes'],
    ['astMaxEntries', { astMaxEntries: 1.5 }, 'an integer'],
    ['resultsMaxEntries', { resultsMaxEntries: 0 }, 'an integer ≥ 1'],
    ['graphMaxNodes', { graphMaxNodes: 'many' as never }, 'an integer'],
    ['resultsRetention', { resultsRetention: 'forever' }, 'a duration'],
    ['resultsCleanupInterval', { resultsCleanupInterval: -1 }, 'a duration'],
    ['saveStateInterval', { saveStateInterval: 'sometimes' }, 'or none'],
    ['warmDepth', { warmDepth: -1 }, 'an integer ≥ 0'],
    ['workers', { workers: 0 }, 'an integer ≥ 1'],
    ['warmTimeLimit', { warmTimeLimit: '5 parsecs' }, 'a duration'],
    ['revalidateInterval', { revalidateInterval: true as never }, 'a duration'],
    ['alertMinHitRate', { alertMinHitRate: 2 }, 'a number from 0 to 1'],
    ['alertMaxMemoryUse', { alertMaxMemoryUse: -0.1 }, 'a number from 0 to 1'],
    ['alertMaxEvictionRate', { alertMaxEvictionRate: 'high' as never }, 'a number from 0 to 1'],
    ['maxFileSize', { maxFileSize: '5 XB' }, 'a size in bytes'],
    ['includeNodeModules', { includeNodeModules: 'yes' as never }, 'true or false'],
    ['memoryLimit', { memoryLimit: 'tiny' }, 'or none'],
    ['budget', { budget: 'max' as never }, 'profile, auto'],
    ['readValidation', { readValidation: 'mtime' as never }, 'stat, none'],
    ['persist', { persist: 'maybe' as never }, 'true or false'],
    ['cacheDir', { cacheDir: '' }, 'a non-empty path'],
    ['colour', { colour: 'red' } as never, 'one of the known options'],
  ];
  it.each(invalid)('refuses an invalid %s, naming it and what it accepts', (option, given, accepted) => {
    const error = refused(given);
    expect(error.code).toBe('EINVALIDOPTION');
    expect(error.path).toBe(option);
    expect(error.message).toContain(`"${option}"`);
    expect(error.message).toContain(accepted);
  });

  it('refuses an invalid value from the environment, naming the option', () => {
    const error = refused({}, { ...isolated, env: { STRATA_WORKERS: 'zero' } });
    expect(error.path).toBe('workers');
  });
});
