import { runStrata } from './helpers/cli.js';
import { makeTree, type TempTree } from './helpers/temp-tree.js';

describe('strata warm (CLI)', () => {
  let tree: TempTree;
  beforeAll(() => {
    tree = makeTree({
      'src/a.ts': "import { b } from './b';\nexport const a = b;\n",
      'src/b.mjs': 'export const b = 1;\n',
      'src/c.cjs': "module.exports = require('./b.mjs');\n",
      'src/broken.tsx': 'const x = <div>;\n',
      'src/blob.js': Buffer.from([1, 0, 2]),
      '.hidden/d.d.ts': 'declare const d: number;\n',
      'node_modules/dep/index.js': 'module.exports = 1;\n',
      '.gitignore': 'ignored/\n',
      'ignored/e.ts': 'export {};\n',
    });
  });
  afterAll(() => tree.remove());

  it('prints one JSON object with the contract fields and the invariant', () => {
    const { status, stdout } = runStrata(['warm', tree.root, '--json']);
    expect(status).toBe(0);
    const report = JSON.parse(stdout) as Record<string, unknown> & { levels: Record<string, unknown>; failed: unknown[]; skipped: unknown[] };
    expect(report).toMatchObject({ schemaVersion: 1, files: 6, parsed: 5, fromCache: 0, parseErrors: 1, stoppedBy: null });
    expect(report.skipped).toEqual([{ path: 'src/blob.js', reason: 'binary' }]);
    expect(report.failed).toEqual([]);
    expect(report.files).toBe((report.parsed as number) + (report.fromCache as number) + report.failed.length + report.skipped.length);
    for (const field of ['bytes', 'diskBytes', 'durationMs', 'filesPerSec', 'workers', 'fromMemory', 'fromDisk']) expect(typeof report[field]).toBe('number');
    expect(Object.keys(report.levels).sort()).toEqual(['ast', 'content', 'results', 'streams']);
    for (const level of Object.values(report.levels)) expect(Object.keys(level as object).sort()).toEqual(['bytes', 'entries', 'evictions', 'hits', 'misses']);
  });

  it('takes the root from --root and walks node_modules only with --include node_modules', () => {
    const plain = JSON.parse(runStrata(['warm', '--root', tree.root, '--json']).stdout) as { files: number };
    const included = JSON.parse(runStrata(['warm', tree.root, '--include', 'node_modules', '--json']).stdout) as { files: number };
    expect(included.files).toBe(plain.files + 1);
  });

  it('prints a human summary on stderr without --json', () => {
    const { status, stdout, stderr } = runStrata(['warm', tree.root]);
    expect(status).toBe(0);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/warmed 6 files/);
  });

  it.each([
    [['warm', '--profile', 'staging'], 'profile', 'development, production, ci'],
    [['warm', '--workers', '0'], '--workers', 'a positive number'],
    [['warm', '--memory-limit', 'lots'], '--memory-limit', 'a positive number'],
    [['warm', '--time-limit', '-3'], '--time-limit', 'a positive number'],
    [['warm', '--budget', 'huge'], 'budget', 'profile, auto'],
    [['warm', '--include', 'vendor'], '--include', 'node_modules'],
  ])('exits 2 on %j, naming the option and its accepted values', (args, option, accepted) => {
    const { status, stderr, stdout } = runStrata([...args, tree.root]);
    expect(status).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(option);
    expect(stderr).toContain(accepted);
  });

  it('exits 2 on an unknown option or command', () => {
    expect(runStrata(['warm', '--frobnicate']).status).toBe(2);
    expect(runStrata(['frobnicate']).status).toBe(2);
  });

  it('refuses an invalid STRATA_* variable with exit 2', () => {
    const { status, stderr } = runStrata(['warm', tree.root, '--json'], { env: { STRATA_WORKERS: 'many' } });
    expect(status).toBe(2);
    expect(stderr).toContain('workers');
  });

  it('prints its version and help', () => {
    const version = runStrata(['--version']);
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const help = runStrata(['warm', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--memory-limit');
  });
});
