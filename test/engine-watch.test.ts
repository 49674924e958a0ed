import * as fs from 'node:fs';
import * as path from 'node:path';
import { WatchProcess } from './helpers/watch-process.js';
import { makeTree, type TempTree } from './helpers/temp-tree.js';

const RUNNER = path.join(__dirname, 'fixtures', 'engine-watch-runner.js');

describe('engine.watch and engine.subscribe', () => {
  let tree: TempTree;
  beforeEach(() => {
    tree = makeTree({ 'src/a.ts': 'export const a = 1;\n', 'src/b.ts': 'export const b = 1;\n' });
  });
  afterEach(() => tree.remove());

  it('delivers each change to a subscriber, after which the engine answers the new content', async () => {
    const watcher = new WatchProcess(RUNNER, [tree.root]);
    try {
      await watcher.waitFor(() => watcher.lines.some((line) => line.ready === true), 'ready');
      fs.writeFileSync(path.join(tree.root, 'src/a.ts'), 'export const a = 2;\n');
      await watcher.waitFor(() => watcher.lines.some((line) => line.path === 'src/a.ts' && line.content === 'export const a = 2;\n'), 'the edit');
      const tmp = path.join(tree.root, 'src/b.ts.tmp');
      fs.writeFileSync(tmp, 'export const b = 42;\n');
      fs.renameSync(tmp, path.join(tree.root, 'src/b.ts')); // an editor's atomic save
      await watcher.waitFor(() => watcher.lines.some((line) => line.path === 'src/b.ts' && line.content === 'export const b = 42;\n'), 'the atomic save');
      const last = watcher.lines.at(-1) as { revision: number; streams: { hits: number; entries: number } };
      expect(last.revision).toBeGreaterThanOrEqual(2);
      expect(last.streams.hits).toBeGreaterThanOrEqual(2);
      expect(last.streams.entries).toBe(1);
    } finally {
      watcher.child.kill('SIGTERM');
      expect((await watcher.exited).code).toBe(0);
    }
  });
});
