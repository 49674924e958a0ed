import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createEngine } from '../engine/engine.js';
import type { WarmReport } from '../engine/warming/warm-report.js';
import { BATCH_MAX_FILES, MAX_BATCHES_PER_WORKER } from '../engine/warming/warm.js';
import { generateMonorepo } from '../bench/corpus.js';
import { CLI, makeTree } from './helpers/temp-tree.js';
import { envCount, recordReliability } from '../bench/reliability-counts.js';
import { isolated } from './helpers/engines.js';

const MiB = 1024 * 1024;
/** Files of the load test: 20,000 in `npm test`, 100,000 in the soak (STRATA_SOAK_FILES). */
const LOAD_FILES = envCount('STRATA_SOAK_FILES', 20_000);
/** Peak RSS the load test may reach (coordinator and worker threads), whatever the tree's size. */
const LOAD_RSS_BUDGET = 1024 * MiB;
/** The unprivileged user the unreadable-input test runs as when the tests run as root (as in CI). */
const NOBODY = 65534;

/**
 * Runs node with `args` where file permissions apply: as ourselves, or, when we are root (root reads
 * everything), as root without capabilities (setpriv), so the checkout still loads wherever it sits
 * (a clone under /root, mode 0700, is out of `nobody`'s reach); as `nobody` where setpriv is missing.
 */
function spawnUnprivileged(args: readonly string[], env: NodeJS.ProcessEnv): SpawnSyncReturns<string> {
  if (process.getuid?.() !== 0) return spawnSync(process.execPath, args, { encoding: 'utf8', env });
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((file) => fs.existsSync(file));
  if (setpriv) return spawnSync(setpriv, ['--bounding-set=-all', '--inh-caps=-all', '--', process.execPath, ...args], { encoding: 'utf8', env });
  return spawnSync(process.execPath, args, { encoding: 'utf8', uid: NOBODY, gid: NOBODY, env });
}

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
      recordReliability('bad input: typed failures and skips', { badInputs: 7, operations: 2, wrongAnswers: 0, missingFiles: 0 });
    } finally {
      await engine.close();
      tree.remove();
    }
  });
});

describe('unreadable and vanishing input', () => {
  it('fails an unreadable file with EACCES, warns about an unreadable directory, and completes the warm', () => {
    const tree = makeTree({ 'ok.ts': 'export const ok = 1;\n', 'secret.ts': 'export const s = 1;\n', 'locked/inner.ts': 'export const i = 1;\n', 'name with spaces/ü 名.ts': 'export const u = 1;\n' });
    try {
      // Readable and traversable by everyone except the two on purpose.
      for (const dir of [tree.root, path.join(tree.root, 'name with spaces')]) fs.chmodSync(dir, 0o755);
      fs.chmodSync(path.join(tree.root, 'secret.ts'), 0o000);
      fs.chmodSync(path.join(tree.root, 'locked'), 0o000);
      const warm = spawnUnprivileged([CLI, 'warm', tree.root, '--json', '--no-persist', '--workers', '1'], { PATH: process.env.PATH ?? '', HOME: tree.root });
      expect(warm.status).toBe(0);
      const report = JSON.parse(warm.stdout) as WarmReport;
      expect(report.failed).toEqual([{ path: 'secret.ts', code: 'EACCES', message: expect.any(String) }]);
      // A directory is not a source file: it cannot be failed, but the files it hides are not silently lost.
      expect(report.warnings).toEqual(expect.arrayContaining([{ path: 'locked', message: expect.stringContaining('EACCES') }]));
      expect(report).toMatchObject({ files: 3, parsed: 2, skipped: [] });
      recordReliability('bad input: unreadable file and directory', { badInputs: 3, operations: 1, wrongAnswers: 0, missingFiles: 0 });
    } finally {
      fs.chmodSync(path.join(tree.root, 'locked'), 0o755);
      tree.remove();
    }
  });

  it('fails files deleted while the warm runs with ENOENT, counted, and finishes', async () => {
    const tree = makeTree();
    for (const dir of ['a', 'b']) for (let i = 0; i < 600; i++) tree.write(`${dir}/f${i}.ts`, `export const v${i} = ${i};\n`);
    const engine = createEngine({ root: tree.root, executor: 'in-thread', persist: false }, isolated);
    let deleted = 0;
    try {
      // The first progress report comes after 256 files: everything is deleted while the rest is in the pipeline.
      const report = await engine.warm({
        onProgress: () => {
          if (deleted > 0) return;
          for (const dir of ['a', 'b']) {
            for (const name of fs.readdirSync(path.join(tree.root, dir))) {
              fs.unlinkSync(path.join(tree.root, dir, name));
              deleted++;
            }
          }
        },
      });
      expect(deleted).toBe(1200);
      expect(report.failed.length).toBeGreaterThan(0);
      expect(new Set(report.failed.map((failure) => failure.code))).toEqual(new Set(['ENOENT']));
      expect(report.files).toBe(report.parsed + report.failed.length);
      expect(report.parsed).toBeGreaterThan(0);
      await expect(engine.ast('a/f0.ts')).rejects.toMatchObject({ code: 'ENOENT' });
      recordReliability('bad input: files deleted mid-warm', { badInputs: report.failed.length, operations: 2, wrongAnswers: 0, missingFiles: 0 });
    } finally {
      await engine.close();
      tree.remove();
    }
  });
});

describe('load: a tree many times larger than the budgets', () => {
  // In a process of its own: the bound is on the engine's RSS, not on a test runner's that ran other suites first.
  const LOAD_RUNNER = path.join(__dirname, 'fixtures', 'load-warm-runner.js');
  interface LoadRun {
    report: WarmReport;
    maxPending: number;
    content: { bytes: number; evictions: number };
    ast: { bytes: number; evictions: number };
    reservedBytes: number;
  }

  it(`keeps every level within its budget, its queues bounded and its RSS under budget, and reports every source file (${LOAD_FILES} files)`, async () => {
    const tree = makeTree();
    generateMonorepo(tree.root, { files: LOAD_FILES, seed: 3 });
    try {
      const child = spawn(process.execPath, [LOAD_RUNNER, tree.root, String(4 * MiB), String(16 * MiB)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      const { report, maxPending, content, ast, reservedBytes } = JSON.parse(stdout) as LoadRun;
      expect(report.files).toBe(LOAD_FILES);
      expect(report.parsed + report.fromCache).toBe(LOAD_FILES);
      // Files discovered but not finished: the batches in flight plus the one being filled, never the tree.
      expect(maxPending).toBeLessThanOrEqual((2 * MAX_BATCHES_PER_WORKER + 1) * BATCH_MAX_FILES);
      expect(report.peakRssBytes).toBeLessThanOrEqual(LOAD_RSS_BUDGET);
      expect(report.bytes).toBeGreaterThan(10 * 4 * MiB); // the corpus is more than ten times the L1 budget
      expect(content.bytes).toBeLessThanOrEqual(4 * MiB);
      expect(reservedBytes).toBeLessThanOrEqual(4 * MiB);
      expect(ast.bytes).toBeLessThanOrEqual(16 * MiB);
      expect(content.evictions).toBeGreaterThan(0);
      expect(ast.evictions).toBeGreaterThan(0);
      recordReliability(`load: ${LOAD_FILES} files`, { operations: 1, wrongAnswers: 0, missingFiles: LOAD_FILES - report.files, peakRssBytes: report.peakRssBytes, rssBudgetBytes: LOAD_RSS_BUDGET });
      process.stderr.write(`load test: ${LOAD_FILES} files, ${(report.bytes / MiB).toFixed(0)} MiB, peak RSS ${(report.peakRssBytes / MiB).toFixed(0)} MiB, ${report.durationMs.toFixed(0)} ms\n`);
    } finally {
      tree.remove();
    }
  }, 240_000 + LOAD_FILES * 20);
});
