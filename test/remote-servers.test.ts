/**
 * The remote tier on real server setups: a 3-master Redis Cluster on loopback (a URL list makes a
 * cluster client; a warm writes through it and a second checkout reads through it), and the Redis
 * ACL setup of the README enforcing namespaces on the server (a pull request's user cannot write
 * `trusted`: refused with NOPERM, counted as errors, and the warm still completes).
 */
import { createClient } from 'redis';
import { createEngine } from '../engine/index.js';
import type { RemoteOptions } from '../engine/remote/remote-config.js';
import { startCluster, type RedisCluster } from './helpers/redis-cluster.js';
import { startRedis, type RedisServer } from './helpers/redis-server.js';
import { Checkouts, keyPairs, rawClient, ringSpec } from './helpers/remote-fixtures.js';
import { filesAddUp } from './helpers/warm-report.js';

jest.setTimeout(60_000);

const FILES = 40;
const keys = keyPairs('main', 'pr');
const checkouts = new Checkouts(ringSpec(FILES));

afterAll(() => {
  checkouts.remove();
  keys.remove();
});

async function warmWith(remote: RemoteOptions, edit?: (write: (file: string, text: string) => void) => void) {
  const tree = checkouts.checkout();
  edit?.((file, text) => tree.write(file, text));
  const engine = createEngine({ root: tree.root, cacheDir: checkouts.cacheDir(), executor: 'in-thread', remote: { trustedKeys: [keys.main.publicFile], ...remote } });
  const report = await engine.warm();
  await engine.close();
  expect(filesAddUp(report)).toBe(true);
  expect(report.failed).toEqual([]);
  return report;
}

describe('a 3-master Redis Cluster on loopback', () => {
  let cluster: RedisCluster;

  beforeAll(async () => {
    cluster = await startCluster(3);
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('a warm writes through the cluster (keys on every master) and a second checkout reads through it', async () => {
    const url = cluster.urls.join(',');
    const written = await warmWith({ url, mode: 'read-write', signingKey: keys.main.privateFile });
    expect(written.remote).toMatchObject({ state: 'on', uploaded: FILES, errors: 0 });

    // Spread over the masters by key slot: a single-node client would have been answered MOVED.
    const perNode = await Promise.all(
      cluster.urls.map(async (nodeUrl) => {
        const client = await rawClient(nodeUrl);
        const size = await client.dbSize();
        await client.close();
        return size;
      }),
    );
    expect(perNode.every((size) => size > 0)).toBe(true);
    expect(perNode.reduce((a, b) => a + b, 0)).toBe(2 * FILES); // a blob and a record per file

    const read = await warmWith({ url });
    expect(read.parsed).toBe(0);
    expect(read.fromRemote).toBe(FILES);
    expect(read.remote).toMatchObject({ state: 'on', hits: FILES, rejected: 0, errors: 0 });
  });

  it('one master down: a warm through the cluster completes', async () => {
    const degraded = await startCluster(3);
    try {
      const url = degraded.urls.join(',');
      await warmWith({ url, mode: 'read-write', signingKey: keys.main.privateFile });
      await degraded.kill(0);
      const read = await warmWith({ url });
      expect(read.parsed + read.fromRemote!).toBe(FILES);
      expect(read.remote!.rejected).toBe(0);
      expect(read.remote!.errors).toBeGreaterThanOrEqual(1); // the lost master's slots fail (counted), never hang
    } finally {
      await degraded.stop();
    }
  });
});

describe('Redis ACLs enforce the namespaces on the server too', () => {
  let server: RedisServer;
  const admin = (port: number): string => `redis://strata-admin:admin-secret@127.0.0.1:${port}`;
  const main = (port: number): string => `redis://strata-main:main-secret@127.0.0.1:${port}`;
  const pr = (port: number): string => `redis://strata-pr-7:pr-secret@127.0.0.1:${port}`;

  beforeAll(async () => {
    server = await startRedis();
    const setup = await rawClient(server.url);
    // The README's setup, as run here (section "Shared remote cache", "Enforcing namespaces").
    for (const rule of [
      'ACL SETUSER strata-admin on >admin-secret ~* &* +@all',
      'ACL SETUSER strata-main on >main-secret resetkeys ~strata:* resetchannels -@all +get +mget +set +ping',
      'ACL SETUSER strata-pr-7 on >pr-secret resetkeys %R~strata:* %W~strata:cas:* %W~strata:ac:pr-7:* resetchannels -@all +get +mget +set +ping',
      'ACL SETUSER default off',
    ]) {
      expect(String(await setup.sendCommand(rule.split(' ')))).toBe('OK');
    }
    await setup.close();
  });

  afterAll(async () => {
    await server.stop();
  });

  it("a pull request's user reads trusted and writes its own namespace; writing trusted or another PR's is refused with NOPERM", async () => {
    const written = await warmWith({ url: main(server.port), mode: 'read-write', signingKey: keys.main.privateFile });
    expect(written.remote).toMatchObject({ uploaded: FILES, errors: 0 });

    // The PR (one file changed): reads its own namespace, then trusted; uploads into pr-7.
    const edit = (write: (file: string, text: string) => void): void => write('src/m1.ts', 'export const value1 = 7;\nexport function f1(a: number): number {\n  return a;\n}\n');
    const prRun = await warmWith({ url: pr(server.port), mode: 'read-write', namespace: 'pr-7', signingKey: keys.pr.privateFile }, edit);
    expect(prRun.fromRemote).toBe(FILES - 1);
    expect(prRun.parsed).toBe(1);
    expect(prRun.remote).toMatchObject({ uploaded: 1, errors: 0, rejected: 0 });

    // The same PR, misconfigured (or hostile) to write trusted: the server refuses the record.
    const planted = await warmWith({ url: pr(server.port), mode: 'read-write', namespace: 'trusted', signingKey: keys.pr.privateFile }, (write) => {
      write('src/m2.ts', 'export const planted = 1;\n');
      write('src/m3.ts', 'export const planted = 2;\n');
    });
    expect(planted.parsed).toBe(2);
    expect(planted.remote!.uploaded).toBe(0);
    expect(planted.remote!.errors).toBeGreaterThanOrEqual(1);

    const client = createClient({ url: pr(server.port) });
    await client.connect();
    await expect(client.set('strata:ac:trusted:ast:x', 'planted')).rejects.toThrow(/NOPERM/);
    await expect(client.set('strata:ac:pr-8:ast:x', 'planted')).rejects.toThrow(/NOPERM/);
    await expect(client.set('strata:ac:pr-7:ast:x', 'fine')).resolves.toBe('OK');
    expect(await client.get('strata:ac:pr-7:ast:x')).toBe('fine');
    await client.close();

    const check = await rawClient(admin(server.port));
    expect(await check.keys('strata:ac:trusted:*')).toHaveLength(FILES); // nothing planted there
    expect(await check.keys('strata:ac:pr-7:*')).toHaveLength(2);
    await check.close();
  });
});
