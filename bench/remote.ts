/**
 * Remote tier benchmark (issue 21). In one run: a fresh machine (empty local cache, the tree at
 * another path) warming from a loopback redis-server, against parsing the same tree cold, and the
 * restart of the unchanged tree from a filled local cache (the floor); whole `strata warm` processes,
 * spawn to exit, interleaved run by run; medians, bytes moved, load averages before and after. The
 * remote is filled once by a read-write warm. Writes bench/results/remote.json.
 *
 *   npm run bench:remote -- [--tree DIR] [--runs 3]     (default tree: this repo's node_modules/eslint/lib)
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateKeyPair } from '../engine/remote/remote-keys.js';
import { median } from './stats.js';
import { timedWarm } from './timed-warm.js';

const PROJECT = path.join(__dirname, '..', '..');
const RESULTS = path.join(PROJECT, 'bench', 'results');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? (process.argv[i + 1] as string) : fallback;
}

/** A whole `strata warm` process with an empty local cache, or with `keptCache` (filled by its first use). */
async function warm(root: string, extra: string[], keptCache?: string): Promise<{ wallMs: number; report: Record<string, any> }> {
  const cacheDir = keptCache ?? fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bench-remote-cache-'));
  try {
    return await timedWarm<Record<string, any>>(root, cacheDir, extra);
  } finally {
    if (keptCache === undefined) fs.rmSync(cacheDir, { recursive: true, force: true });
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

async function main(): Promise<void> {
  const source = path.resolve(arg('--tree', path.join(PROJECT, 'node_modules', 'eslint', 'lib')));
  const runs = Number(arg('--runs', '3'));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bench-remote-'));
  const machineA = path.join(work, 'a');
  const machineB = path.join(work, 'elsewhere', 'b');
  fs.cpSync(source, machineA, { recursive: true });
  fs.cpSync(source, machineB, { recursive: true });
  const keys = generateKeyPair(path.join(work, 'keys'));
  const port = await freePort();
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 100 && spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() !== 'PONG'; i++) await new Promise((r) => setTimeout(r, 50));
    const url = `redis://127.0.0.1:${port}`;
    // The floor no fresh machine beats: a restart of the unchanged tree from a filled local cache.
    const restartCache = path.join(work, 'restart-cache');
    await warm(machineB, [], restartCache);
    const filled = await warm(machineA, ['--remote', url, '--remote-mode', 'read-write', '--remote-signing-key', keys.privateFile, '--remote-trusted-key', keys.publicFile]);
    const loadBefore = os.loadavg();
    const cold: number[] = [];
    const fromRemote: number[] = [];
    const restart: number[] = [];
    let last: Record<string, any> = {};
    // Interleaved, so that a change in the machine's load falls on both sides alike.
    for (let run = 0; run < runs; run++) {
      cold.push((await warm(machineB, [])).wallMs);
      const remote = await warm(machineB, ['--remote', url, '--remote-trusted-key', keys.publicFile]);
      fromRemote.push(remote.wallMs);
      last = remote.report;
      restart.push((await warm(machineB, [], restartCache)).wallMs);
    }
    const result = {
      tree: source,
      files: last.files,
      sourceBytes: last.bytes,
      runs,
      load: { before: loadBefore, after: os.loadavg() },
      coldMs: median(cold),
      fromRemoteMs: median(fromRemote),
      speedup: median(cold) / median(fromRemote),
      restartFloorMs: median(restart),
      all: { cold, fromRemote, restart },
      parsedFromRemote: last.parsed,
      fromRemote: last.fromRemote,
      remote: last.remote,
      bytesIn: last.remote?.bytesIn,
      bytesOutWhenFilling: filled.report.remote?.bytesOut,
      uploaded: filled.report.remote?.uploaded,
    };
    fs.mkdirSync(RESULTS, { recursive: true });
    fs.writeFileSync(path.join(RESULTS, 'remote.json'), JSON.stringify(result, null, 2) + '\n');
    console.log(JSON.stringify(result, null, 2));
  } finally {
    server.kill('SIGKILL');
    fs.rmSync(work, { recursive: true, force: true });
  }
}

void main();
