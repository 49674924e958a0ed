import * as fs from 'node:fs';
import * as path from 'node:path';
import { createEngine } from '../engine/engine.js';
import { generateMonorepo } from '../bench/corpus.js';
import { makeTree } from './helpers/temp-tree.js';

const isolated = { env: {}, readConfigFile: false } as const;
const MiB = 1024 * 1024;

describe('bad input in a warm', () => {
  it('gives each bad file its typed failure or skip reason, and the rest of the warm completes', async () => {
    const tree = makeTree({
      'ok.ts': 'export const ok = 1;\n',
      'with space/ünïcødé 名前.ts': 'export const u = 1;\n',
      'binary.js': Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00, 0x01]),
      'latin1.ts': Buffer.from('const s = "\xe9";\n', 'latin1'),
      'syntax.ts': 'export const = ;\nclass {\n',
      'deep.ts': `export const deep = ${'['.repeat(20_000)}${']'.repeat(20_000)};\n`,
    });
    fs.writeFileSync(path.join(tree.root, 'huge.js'), Buffer.alloc(50 * MiB, 0x20)); // 50 MB of spaces
    fs.symlinkSync('loop-b.ts', path.join(tree.root, 'loop-a.ts'));
    fs.symlinkSync('loop-a.ts', path.join(tree.root, 'loop-b.ts'));
    const engine = createEngine({ root: tree.root, workers: 2 }, isolated);
    try {
      const report = await engine.warm();
      expect(report.files).toBe(report.parsed + report.fromCache + report.failed.length + report.skipped.length);
      expect(report.skipped).toEqual(
        expect.arrayContaining([
          { path: 'binary.js', reason: 'binary' },
          { path: 'huge.js', reason: 'too-large' },
          { path: 'loop-a.ts', reason: 'symlink-loop' },
          { path: 'loop-b.ts', reason: 'symlink-loop' },
        ]),
      );
      expect(report.failed).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'latin1.ts', code: 'EINVALIDUTF8' })]));
      // TypeScript's recursive parser may overflow on 20,000 nested brackets: then that file alone fails.
      const deep = report.failed.find((failure) => failure.path === 'deep.ts');
      if (deep) expect(deep.code).toBe('EWORKER');
      expect(report.parsed).toBeGreaterThanOrEqual(3); // ok.ts, the unicode name, syntax.ts (an answer, not a failure)
      expect(report.parseErrors).toBeGreaterThanOrEqual(1);
      expect((await engine.ast('with space/ünïcødé 名前.ts')).imports).toEqual([]);
    } finally {
      await engine.close();
      tree.remove();
    }
  });
});

describe('load: a tree many times larger than the budgets', () => {
  it('keeps every level within its budget and reports every source file', async () => {
    const tree = makeTree();
    generateMonorepo(tree.root, { files: 20_000, seed: 3 });
    const engine = createEngine({ root: tree.root, workers: 2, persist: false, contentBudget: 4 * MiB, astBudget: 16 * MiB }, isolated);
    try {
      const report = await engine.warm();
      expect(report.files).toBe(20_000);
      expect(report.parsed + report.fromCache).toBe(20_000);
      expect(report.bytes).toBeGreaterThan(10 * 4 * MiB); // the corpus is more than ten times the L1 budget
      const stats = engine.stats();
      expect(stats.levels.content.bytes).toBeLessThanOrEqual(4 * MiB);
      expect(stats.content.reservedBytes).toBeLessThanOrEqual(4 * MiB);
      expect(stats.levels.ast.bytes).toBeLessThanOrEqual(16 * MiB);
      expect(stats.levels.content.evictions).toBeGreaterThan(0);
      expect(stats.levels.ast.evictions).toBeGreaterThan(0);
      process.stderr.write(`load test: 20,000 files, ${(report.bytes / MiB).toFixed(0)} MiB, peak RSS ${(report.peakRssBytes / MiB).toFixed(0)} MiB, ${report.durationMs.toFixed(0)} ms\n`);
    } finally {
      await engine.close();
      tree.remove();
    }
  }, 240_000);
});
