/**
 * Several processes on one cache directory at once (issue 8): two warm-and-read loops while
 * `strata clear` deletes the directory under them, repeatedly. A clear may make the others
 * rebuild; nothing may be served wrong, and nothing may crash.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI, makeTree, type TempTree } from './helpers/temp-tree.js';
import { envCount, recordReliability } from '../bench/reliability-counts.js';
import { sleep } from './helpers/sleep.js';

const DURATION_MS = envCount('STRATA_SOAK_CONCURRENCY_MS', 3_000);
const ENGINE = path.join(__dirname, '..', 'engine', 'engine.js');

/** One process: warm, read every file through the engine and compare with the disk, close; until the deadline. */
const LOOP = `
  const fs = require('node:fs');
  const path = require('node:path');
  const { createEngine } = require(${JSON.stringify(ENGINE)});
  const [root, durationText] = process.argv.slice(1);
  const files = fs.readdirSync(path.join(root, 'src')).map((name) => 'src/' + name);
  (async () => {
    const end = Date.now() + Number(durationText);
    const counts = { warms: 0, reads: 0, wrong: [], fromDisk: 0 };
    while (Date.now() < end) {
      const engine = createEngine({ root, executor: 'in-thread' }, { env: {}, readConfigFile: false });
      const report = await engine.warm();
      counts.warms++;
      counts.fromDisk += report.fromDisk;
      if (report.files !== files.length || report.failed.length > 0) counts.wrong.push('report ' + JSON.stringify({ files: report.files, failed: report.failed }));
      for (const file of files) {
        const disk = fs.readFileSync(path.join(root, file), 'utf8');
        const ast = await engine.ast(file);
        counts.reads++;
        if (ast.text !== disk || ast.ast.end(0) !== disk.length) counts.wrong.push(file);
      }
      await engine.close();
    }
    process.stdout.write(JSON.stringify(counts));
  })();
`;

interface LoopCounts {
  readonly warms: number;
  readonly reads: number;
  readonly wrong: readonly string[];
  readonly fromDisk: number;
}

function runLoop(root: string): Promise<{ code: number | null; counts: LoopCounts | null; stderr: string }> {
  const child = spawn(process.execPath, ['-e', LOOP, root, String(DURATION_MS)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, counts: code === 0 ? (JSON.parse(stdout) as LoopCounts) : null, stderr })));
}

describe('processes sharing one cache directory', () => {
  let tree: TempTree;
  beforeEach(() => {
    tree = makeTree();
    for (let i = 0; i < 40; i++) tree.write(`src/f${i}.ts`, `import { x } from './f${(i + 1) % 40}';\nexport const v${i} = [${'1, '.repeat(50 + i)}];\n`);
  });
  afterEach(() => tree.remove());

  it('serves nothing wrong while two processes warm and read and `strata clear` deletes the cache under them', async () => {
    const loops = [runLoop(tree.root), runLoop(tree.root)];
    let clears = 0;
    const end = Date.now() + DURATION_MS;
    while (Date.now() < end) {
      await sleep(150);
      const clear = spawnSync(process.execPath, [CLI, 'clear', tree.root, '--json'], { encoding: 'utf8' });
      expect(clear.stderr).toBe('');
      expect(clear.status).toBe(0);
      clears++;
    }
    const outcomes = await Promise.all(loops);
    for (const outcome of outcomes) {
      expect(outcome.stderr).toBe('');
      expect(outcome.code).toBe(0);
      expect(outcome.counts?.wrong).toEqual([]);
      expect(outcome.counts?.warms).toBeGreaterThan(0);
    }
    // Afterwards the directory is usable: a warm completes and a second one is answered from disk.
    const first = spawnSync(process.execPath, [CLI, 'warm', tree.root, '--json', '--workers', '1'], { encoding: 'utf8' });
    expect(first.status).toBe(0);
    const second = JSON.parse(spawnSync(process.execPath, [CLI, 'warm', tree.root, '--json', '--workers', '1'], { encoding: 'utf8' }).stdout) as { files: number; fromDisk: number; failed: unknown[] };
    expect(second).toMatchObject({ files: 40, fromDisk: 40, failed: [] });
    expect(fs.existsSync(path.join(tree.root, 'node_modules', '.cache', 'strata', 'STRATA_CACHE_DIR.json'))).toBe(true);
    const reads = outcomes.reduce((total, outcome) => total + (outcome.counts?.reads ?? 0) + (outcome.counts?.warms ?? 0), 0);
    recordReliability('concurrency: 2 warm/read processes + strata clear', { operations: reads + clears + 2, wrongAnswers: 0 });
  }, 60_000 + DURATION_MS * 3);
});
