/** `strata watch --json` (registerWatch) in a child process, against real files. */
import { spawnSync } from 'node:child_process';
import { runStrata } from './helpers/cli.js';
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

  it('names the dependents of an export edit in the first event, with no warm or query before', async () => {
    tree.write('src/util.ts', 'export const u = 1;\n');
    tree.write('src/x.ts', "import { u } from './util';\nexport const x = u;\n");
    tree.write('src/y.ts', "import { x } from './x';\nexport const y = x;\n");
    cli = new WatchProcess(CLI, ['watch', tree.root, '--json', '--cache-dir', `${tree.root}/.cache`]);
    await cli.waitFor(() => cli!.stderr.includes('watching '), 'the ready line on stderr');
    tree.write('src/util.ts', 'export const u = 1;\nexport const v = 2;\n');
    const change = await cli.waitForEvent('src/util.ts', ['change']);
    expect(change.invalidated).toEqual(['src/util.ts', 'src/x.ts', 'src/y.ts']);
  });

  it('--status prints a live status line on stderr, one plain line per update off a terminal', async () => {
    cli = new WatchProcess(CLI, ['watch', tree.root, '--json', '--status', '0.2', '--cache-dir', `${tree.root}/.cache`]);
    const statusLines = (): string[] => cli!.stderr.split('\n').filter((line) => /^r\d+ \| content /.test(line));
    await cli.waitFor(() => statusLines().length >= 2, 'two status lines');
    expect(statusLines()[0]).toMatch(/^r\d+ \| content (–|\d+%) \d+(\.\d)? (B|KiB|MiB) \| ast .* \| results .* \| events 0 \(queued 0, naming 0, rescans 0\) \| pool .* \| graph \d+ of 1 files \| rss [\d.]+ MiB$/);
    tree.write('src/a.ts', 'export const a = 3;\n');
    await cli.waitForEvent('src/a.ts', ['change']);
    await cli.waitFor(() => statusLines().some((line) => / events [1-9]\d* /.test(line)), 'a status line counting the event');
    expect(cli.stderr).not.toContain('\u001b['); // no terminal codes in a pipe
  });

  it('--status redraws one line in place on a terminal (a real pseudo-terminal, via script), events printed above it', () => {
    // Edits every 0.7 s (the watcher's start time varies with the machine's load): at least one lands once it watches.
    const edit = `(for i in 1 2 3 4 5 6; do sleep 0.7; echo "export const a = $i;" > ${tree.root}/src/a.ts; done) &`;
    const command = `${edit} timeout -s TERM 5 ${process.execPath} ${CLI} watch ${tree.root} --status 0.2 --cache-dir ${tree.root}/.cache`;
    const run = spawnSync('script', ['-qfec', command, '/dev/null'], { encoding: 'utf8', timeout: 20_000 });
    const out = run.stdout;
    const draws = out.split('\u001b[2K').length - 1; // readline's clear-line before each redraw
    expect(draws).toBeGreaterThanOrEqual(3);
    // Redrawn in place: no newline between two draws of the status line.
    const afterReady = out.slice(out.indexOf('\n', out.indexOf('watching ')) + 1);
    expect(afterReady.match(/r\d+ \| content /g)!.length).toBeGreaterThanOrEqual(3);
    // One line per event, each printed after the status line was erased; the status line drawn again after the last.
    const lines = afterReady.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines.slice(0, -1)) expect(line.slice(line.lastIndexOf('\u001b[1G') + 4).trim()).toMatch(/^change\s+src\/a\.ts\s+r\d+$/);
    expect(lines.at(-1)).toMatch(/r\d+ \| content /);
  });

  it('rejects a --status that is not a number of seconds, with exit code 2', () => {
    const run = runStrata(['watch', tree.root, '--status', 'often']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('Invalid value for --status: "often"');
  });
});

