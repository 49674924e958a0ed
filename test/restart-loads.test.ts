/**
 * What a restart of an unchanged tree loads (issue 19): `strata warm` in a fresh process, every AST
 * on disk, nothing parsed, must load no TypeScript, no Piscina pool, no chokidar and no prom-client
 * (traced through `Module._load`, as test/cli-top-help.test.ts does). A restart that must parse
 * loads TypeScript (in its workers) and Piscina: the trace sees them, so the check can fail.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI } from './helpers/temp-tree.js';

const HEAVY = ['typescript', 'piscina', 'chokidar', 'prom-client'];

let base: string;
let tracer: string;

beforeEach(() => {
  base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'strata-loads-')));
  tracer = path.join(base, 'trace.js');
  fs.writeFileSync(tracer, "const M = require('module'); const load = M._load; M._load = function (request, ...rest) { process.stderr.write('LOAD ' + request + '\\n'); return load.call(this, request, ...rest); };\n");
});

afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

/** `strata warm --json` in a fresh Node: its report and the packages (bare requests) it loaded, by name. */
function warm(root: string, cacheDir: string): { parsed: number; fromDisk: number; heavy: string[] } {
  const run = spawnSync(process.execPath, ['-r', tracer, CLI, 'warm', root, '--cache-dir', cacheDir, '--json', '--workers', '1'], { encoding: 'utf8', env: { PATH: process.env.PATH }, timeout: 120_000 });
  if (run.status !== 0) throw new Error(`warm exited ${run.status}: ${run.stderr}`);
  const report = JSON.parse(run.stdout) as { parsed: number; fromDisk: number };
  const loaded = run.stderr.split('\n').filter((line) => line.startsWith('LOAD ')).map((line) => line.slice(5));
  const heavy = HEAVY.filter((name) => loaded.some((request) => request === name || request.startsWith(`${name}/`) || request.includes(`/node_modules/${name}/`)));
  return { parsed: report.parsed, fromDisk: report.fromDisk, heavy };
}

describe('a restart of an unchanged tree loads only what its answer needs', () => {
  it('loads no TypeScript, pool, chokidar or prom-client when nothing is parsed; a parse loads them', () => {
    const root = path.join(base, 'tree');
    for (let i = 0; i < 20; i++) {
      fs.mkdirSync(path.join(root, `d${i % 4}`), { recursive: true });
      fs.writeFileSync(path.join(root, `d${i % 4}`, `f${i}.ts`), `export const v${i} = ${i};\n`);
    }
    const cacheDir = path.join(base, 'cache');
    const cold = warm(root, cacheDir);
    expect(cold.parsed).toBe(20);
    expect(cold.heavy).toEqual(expect.arrayContaining(['piscina'])); // the trace sees the pool when it is used
    const restart = warm(root, cacheDir);
    expect({ parsed: restart.parsed, fromDisk: restart.fromDisk, heavy: restart.heavy }).toEqual({ parsed: 0, fromDisk: 20, heavy: [] });
  });
});
