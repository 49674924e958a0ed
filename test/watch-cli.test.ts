/** `strata watch --json` (registerWatch) in a child process, against real files. */
import { makeTree, type TempTree } from './helpers/temp-tree.js';
import { WatchProcess } from './helpers/watch-process.js';
import { CLI } from './helpers/temp-tree.js';

jest.setTimeout(60_000);

describe('strata watch', () => {
  let tree: TempTree;
  let cli: WatchProcess | undefined;

  beforeEach(() => {
    tree = makeTree({ 'src/a.ts': 'export const a = 1;\n' });
  });

  afterEach(async () => {
    await cli?.stop();
    cli = undefined;
    tree.remove();
  });

  it('prints "watching <root>" on stderr once ready, then one JSON object per line per event', async () => {
    cli = new WatchProcess(CLI, ['watch', tree.root, '--json', '--cache-dir', `${tree.root}/.cache`]);
    await cli.waitFor(() => cli!.stderr.includes('watching '), 'the ready line on stderr');
    expect(cli.stderr).toContain(`watching ${tree.root}`);
    tree.write('src/a.ts', 'export const a = 2;\n');
    tree.write('src/b.ts', 'export const b = 1;\n');
    const change = await cli.waitForEvent('src/a.ts', ['change']);
    const add = await cli.waitForEvent('src/b.ts', ['add']);
    for (const line of [change, add]) {
      expect(Object.keys(line).sort()).toEqual(['event', 'invalidated', 'path', 'revision', 'schemaVersion']);
      expect(typeof line.schemaVersion).toBe('number');
    }
    expect(add.revision).toBeGreaterThan(change.revision);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('exits 0 on %s', async (signal) => {
    cli = new WatchProcess(CLI, ['watch', '--root', tree.root, '--json']);
    await cli.waitFor(() => cli!.stderr.includes('watching '), 'the ready line on stderr');
    cli.child.kill(signal);
    await expect(cli.exited).resolves.toEqual({ code: 0, signal: null });
  });
});
