/**
 * A 3-master Redis Cluster on loopback for tests: three `redis-server --cluster-enabled yes` in
 * temporary directories, joined by `redis-cli --cluster create … --cluster-replicas 0 --cluster-yes`,
 * ready once every node reports `cluster_state:ok`. Killed (and their directories removed) by `stop()`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { rawCommand } from './redis-server.js';
import { sleep } from './sleep.js';

export interface RedisCluster {
  readonly ports: readonly number[];
  /** `redis://127.0.0.1:P` of each master. */
  readonly urls: readonly string[];
  /** Kills one master (SIGKILL), by its index. */
  kill(index: number): Promise<void>;
  stop(): Promise<void>;
}

function listens(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A free port P whose cluster bus port P + 10000 is free too (both below 65536). */
async function freeClusterPort(taken: ReadonlySet<number>): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20000 + Math.floor(Math.random() * 20000);
    if (!taken.has(port) && (await listens(port)) && (await listens(port + 10000))) return port;
  }
  throw new Error('no free port pair for a cluster node');
}

export async function startCluster(masters = 3): Promise<RedisCluster> {
  const ports: number[] = [];
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  const kill = async (child: ChildProcess | undefined): Promise<void> => {
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  const stop = async (): Promise<void> => {
    await Promise.all(children.map(kill));
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masters; i++) {
      const port = await freeClusterPort(new Set(ports));
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-cluster-node-'));
      ports.push(port);
      dirs.push(dir);
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', path.join(dir, 'nodes.conf'), '--dir', dir, '--save', '', '--appendonly', 'no'];
      children.push(spawn('redis-server', args, { stdio: 'ignore' }));
    }
    for (const port of ports) {
      for (let i = 0; i < 100 && (await rawCommand(port, 'PING', 200).catch(() => '')) !== '+PONG'; i++) await sleep(50);
    }
    const created = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: 30_000 });
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    for (const port of ports) {
      let state = '';
      for (let i = 0; i < 200 && !state.includes('cluster_state:ok'); i++) {
        state = spawnSync('redis-cli', ['-p', String(port), 'cluster', 'info'], { encoding: 'utf8' }).stdout;
        if (!state.includes('cluster_state:ok')) await sleep(50);
      }
      if (!state.includes('cluster_state:ok')) throw new Error(`cluster node ${port} is not ok: ${state}`);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { ports, urls: ports.map((port) => `redis://127.0.0.1:${port}`), kill: (index) => kill(children[index]), stop };
}
