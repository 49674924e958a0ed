/**
 * The real watcher (chokidar on real files), run in a child process: jest on Node 20 cannot load
 * chokidar 5 (ESM-only). Waits are event-driven: each step waits for the line it expects.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeTree, type TempTree } from './helpers/temp-tree.js';
import { WATCH_RUNNER, WatchProcess, type LineEvent } from './helpers/watch-process.js';

jest.setTimeout(60_000);

async function startRunner(root: string, ...args: string[]): Promise<WatchProcess> {
  const runner = new WatchProcess(WATCH_RUNNER, [root, ...args]);
  await runner.waitFor(() => runner.lines.some((line) => line.ready === true), 'ready');
  return runner;
}

function lastEventOf(events: readonly LineEvent[], file: string): LineEvent | undefined {
  for (let i = events.length - 1; i >= 0; i--) if (events[i]!.path === file) return events[i];
  return undefined;
}

describe('WatchService on real files', () => {
  let tree: TempTree;
  let runner: WatchProcess | undefined;

  beforeEach(() => {
    tree = makeTree({
      'src/a.ts': 'export const a = 1;\n',
      'src/b.ts': 'export const b = 1;\n',
      'src/nested/c.ts': 'export const c = 1;\n',
      'src/nested/d.js': 'module.exports = 1;\n',
      'README.md': '# not a source file\n',
      '.gitignore': 'generated/\n',
    });
  });

  afterEach(async () => {
    await runner?.stop();
    runner = undefined;
    tree.remove();
  });

  it('reports an edit as a change of the root-relative path, with the path invalidated', async () => {
    runner = await startRunner(tree.root);
    tree.write('src/a.ts', 'export const a = 2;\n');
    const event = await runner.waitForEvent('src/a.ts', ['change']);
    expect(event.invalidated).toEqual(['src/a.ts']);
    expect(event.revision).toBeGreaterThan(0);
  });

  it('reports an atomic-rename save (temp file renamed over the original) as a change of the original', async () => {
    runner = await startRunner(tree.root);
    const tmp = path.join(tree.root, 'src', 'a.ts.tmp-1234');
    fs.writeFileSync(tmp, 'export const a = 3;\n');
    fs.renameSync(tmp, path.join(tree.root, 'src', 'a.ts'));
    const event = await runner.waitForEvent('src/a.ts', ['change']);
    expect(event.event).toBe('change');
    expect(runner.events.some((e) => e.path === 'src/a.ts' && e.event === 'unlink')).toBe(false);
    expect(runner.events.some((e) => e.path.includes('tmp-1234'))).toBe(false);
  });

  it('reports a delete-then-recreate save within chokidar\'s atomic window as a change', async () => {
    runner = await startRunner(tree.root);
    fs.unlinkSync(path.join(tree.root, 'src', 'b.ts'));
    fs.writeFileSync(path.join(tree.root, 'src', 'b.ts'), 'export const b = 2;\n');
    const event = await runner.waitForEvent('src/b.ts', ['change', 'add']);
    expect(event.event).toBe('change');
  });

  it('reports an added file, a deleted file, and a re-created one', async () => {
    runner = await startRunner(tree.root);
    tree.write('src/new.ts', 'export const n = 1;\n');
    await runner.waitForEvent('src/new.ts', ['add']);
    let from = runner.events.length;
    fs.unlinkSync(path.join(tree.root, 'src', 'new.ts'));
    await runner.waitForEvent('src/new.ts', ['unlink'], from);
    from = runner.events.length;
    tree.write('src/new.ts', 'export const n = 2;\n');
    await runner.waitForEvent('src/new.ts', ['add'], from);
  });

  it('ignores files that are not source files, and paths matched by .gitignore or under node_modules', async () => {
    runner = await startRunner(tree.root);
    tree.write('README.md', 'changed\n');
    tree.write('generated/out.ts', 'export {};\n');
    tree.write('node_modules/pkg/index.js', 'module.exports = 1;\n');
    tree.write('src/marker.ts', 'export {};\n'); // written last: once its event is in, the others had their chance
    await runner.waitForEvent('src/marker.ts', ['add']);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(runner.events.map((e) => e.path)).toEqual(['src/marker.ts']);
  });

  it('reports every file of a removed directory as unlinked', async () => {
    runner = await startRunner(tree.root);
    fs.rmSync(path.join(tree.root, 'src', 'nested'), { recursive: true });
    await runner.waitForEvent('src/nested/c.ts', ['unlink']);
    await runner.waitForEvent('src/nested/d.js', ['unlink']);
  });

  it('reports a directory rename as unlinks of the old paths and adds of the new ones', async () => {
    runner = await startRunner(tree.root);
    fs.renameSync(path.join(tree.root, 'src', 'nested'), path.join(tree.root, 'src', 'moved'));
    await runner.waitForEvent('src/nested/c.ts', ['unlink']);
    await runner.waitForEvent('src/nested/d.js', ['unlink']);
    await runner.waitForEvent('src/moved/c.ts', ['add']);
    await runner.waitForEvent('src/moved/d.js', ['add']);
  });

  it('reflects every file\'s final state after a burst of 500 writes, deletes and rewrites (a branch switch), through a real engine', async () => {
    runner = await startRunner(tree.root, '--engine');
    const files = Array.from({ length: 500 }, (_, i) => `burst/d${i % 10}/f${i}.ts`);
    for (const file of files) tree.write(file, `export const v = 1; // ${file}\n`);
    // Rewrite some twice in quick succession (chokidar throttles the second change) and delete others.
    for (let i = 0; i < 500; i += 5) tree.write(files[i]!, `export const v = 2; // ${files[i]}\n`);
    for (let i = 0; i < 500; i += 5) tree.write(files[i]!, `export const v = 3; // rewritten again\n`);
    for (let i = 1; i < 500; i += 5) fs.unlinkSync(path.join(tree.root, files[i]!));
    const matchesDisk = (file: string): boolean => {
      const last = lastEventOf(runner!.events, file);
      const exists = fs.existsSync(path.join(tree.root, file));
      return exists ? last !== undefined && last.event !== 'unlink' : last === undefined || last.event === 'unlink';
    };
    await runner.waitFor(() => files.every(matchesDisk), 'every path\'s last event to match the disk', 30_000);
    // Every deleted file that was reported at all ends on an unlink; every written one was reported.
    for (let i = 0; i < 500; i++) expect(matchesDisk(files[i]!)).toBe(true);
  });

  it('delivers every event to each of two subscribers, with the same revision', async () => {
    runner = await startRunner(tree.root, '--subscribers', '2');
    tree.write('src/a.ts', 'export const a = 5;\n');
    await runner.waitFor(() => runner!.lines.filter((line) => line.path === 'src/a.ts').length >= 2, 'both subscribers');
    const seen = runner.lines.filter((line) => line.path === 'src/a.ts');
    expect(new Set(seen.map((line) => line.subscriber))).toEqual(new Set([0, 1]));
    expect(seen[0]!.revision).toBe(seen[1]!.revision);
  });

  it('tells a slow subscriber with a small bound to resync instead of growing its queue', async () => {
    runner = await startRunner(tree.root, '--bound', '5', '--slow-ms', '100');
    for (let i = 0; i < 60; i++) tree.write(`many/f${i}.ts`, 'export {};\n');
    await runner.waitFor(() => runner!.events.some((e) => e.event === 'resync'), 'a resync', 20_000);
  });

  it('rescans by stat after an event storm and still reflects every change', async () => {
    runner = await startRunner(tree.root, '--storm', '50');
    for (let i = 0; i < 200; i++) tree.write(`storm/f${i}.ts`, `export const v = ${i};\n`);
    const files = Array.from({ length: 200 }, (_, i) => `storm/f${i}.ts`);
    await runner.waitFor(() => files.every((file) => lastEventOf(runner!.events, file) !== undefined), 'an event for each storm file', 30_000);
    await runner.waitFor(() => runner!.lines.some((line) => line.rescan === 'storm'), 'the storm rescan');
    // A rescan's own work is not counted as events, so it never triggers another: once the writes'
    // events have stopped, the number of storm rescans stays put. (Under load the 200 writes can reach
    // the watcher as two bursts, each a real storm of its own: each needs more than 50 events.)
    const stormRescans = (): number => runner!.lines.filter((line) => line.rescan === 'storm').length;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const settled = stormRescans();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(stormRescans()).toBe(settled);
    const stormEvents = runner.events.filter((e) => e.path.startsWith('storm/')).length;
    expect(settled).toBeLessThanOrEqual(Math.floor(stormEvents / 50));
    const stop = await runner.stop();
    expect(stop.code).toBe(0);
  });

  it('exits 0 on SIGTERM, having released every watcher and timer', async () => {
    runner = await startRunner(tree.root);
    tree.write('src/a.ts', 'export const a = 9;\n');
    await runner.waitForEvent('src/a.ts', ['change']);
    const result = await runner.stop();
    expect(result).toEqual({ code: 0, signal: null });
    expect(runner.lines.some((line) => line.closed === true)).toBe(true);
  });
});
