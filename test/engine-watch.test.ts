import * as fs from 'node:fs';
import * as path from 'node:path';
import { WatchProcess } from './helpers/watch-process.js';
import { makeTree, type TempTree } from './helpers/temp-tree.js';

const RUNNER = path.join(__dirname, 'fixtures', 'engine-watch-runner.js');
const RESULTS_RUNNER = path.join(__dirname, 'fixtures', 'result-stream-runner.js');

describe('engine.watch and engine.subscribe', () => {
  let tree: TempTree;
  beforeEach(() => {
    tree = makeTree({ 'src/a.ts': "import { b } from './b';\nexport const a = b;\n", 'src/b.ts': 'export const b = 1;\n', 'src/c.ts': 'export const c = 1;\n' });
  });
  afterEach(() => tree.remove());

  it('delivers each change to a subscriber, after which the engine answers the new content', async () => {
    const watcher = new WatchProcess(RUNNER, [tree.root]);
    try {
      await watcher.waitFor(() => watcher.lines.some((line) => line.ready === true), 'ready');
      // A plain write truncates first. It goes to a file outside b's dependents: under load the watcher can
      // read the empty state of a file (a real state, verified again ~60 ms later), and an empty a.ts
      // imports nothing, so b's event would rightly name no dependent in that window.
      fs.writeFileSync(path.join(tree.root, 'src/c.ts'), 'export const c = 2;\n');
      await watcher.waitFor(() => watcher.lines.some((line) => line.path === 'src/c.ts' && line.content === 'export const c = 2;\n'), 'the edit');
      const tmp = path.join(tree.root, 'src/b.ts.tmp');
      fs.writeFileSync(tmp, 'export const b = 42;\n');
      fs.renameSync(tmp, path.join(tree.root, 'src/b.ts')); // an editor's atomic save
      await watcher.waitFor(() => watcher.lines.some((line) => line.path === 'src/b.ts' && line.content === 'export const b = 42;\n'), 'the atomic save');
      const saved = watcher.lines.find((line) => line.path === 'src/b.ts' && line.content === 'export const b = 42;\n') as { invalidated: string[] };
      expect(saved.invalidated).toEqual(['src/b.ts', 'src/a.ts']); // the file, then its dependents
      const last = watcher.lines.at(-1) as { revision: number; streams: { hits: number; entries: number } };
      expect(last.revision).toBeGreaterThanOrEqual(2);
      expect(last.streams.hits).toBeGreaterThanOrEqual(2);
      expect(last.streams.entries).toBe(1);
    } finally {
      watcher.child.kill('SIGTERM');
      expect((await watcher.exited).code).toBe(0);
    }
  });

  it('streams recomputed results to two subscribers of one analyzer from one computation', async () => {
    const watcher = new WatchProcess(RESULTS_RUNNER, [tree.root]);
    try {
      await watcher.waitFor(() => watcher.lines.some((line) => line.ready === true), 'ready');
      // Saved atomically: a plain write truncates first, and a watcher event that reads the empty file
      // in between is a real second state (computed once more, rightly), which this test is not about.
      const tmp = path.join(tree.root, 'src/a.ts.tmp');
      fs.writeFileSync(tmp, "import './b';\nimport 'node:fs';\nexport const a = 2;\n");
      fs.renameSync(tmp, path.join(tree.root, 'src/a.ts'));
      await watcher.waitFor(() => watcher.lines.filter((line) => line.path === 'src/a.ts' && line.value === 2).length === 2, 'both subscribers');
      const results = watcher.lines.filter((line) => line.path === 'src/a.ts' && line.value === 2);
      expect(new Set(results.map((line) => line.subscriber))).toEqual(new Set([0, 1]));
      expect(Math.max(...results.map((line) => line.runs as number))).toBe(1);
    } finally {
      watcher.child.kill('SIGTERM');
      expect((await watcher.exited).code).toBe(0);
    }
  });
});
