/**
 * The remote tier's faults, against real redis-server processes: a connection cut in the middle of
 * a value (through a TCP proxy), records whose blobs Redis evicted under a tiny `maxmemory`, and
 * concurrent writers of the same keys (two `strata warm` processes at once).
 */
import { spawn } from 'node:child_process';
import { createEngine } from '../engine/index.js';
import { blobKey } from '../engine/remote/remote-tier.js';
import { startRedis, type RedisServer } from './helpers/redis-server.js';
import { Checkouts, keyPairs, rawClient, recordDigest, ringSpec, type RawClient } from './helpers/remote-fixtures.js';
import { startTcpProxy } from './helpers/tcp-proxy.js';
import { CLI } from './helpers/temp-tree.js';
import { filesAddUp } from './helpers/warm-report.js';

const FILES = 60;
const keys = keyPairs('main', 'second');
const checkouts = new Checkouts(ringSpec(FILES));
const servers: RedisServer[] = [];

afterAll(async () => {
  for (const server of servers) await server.stop();
  checkouts.remove();
  keys.remove();
});

async function server(extraArgs: string[] = []): Promise<RedisServer> {
  const started = await startRedis(extraArgs);
  servers.push(started);
  return started;
}

/** Fills `url`'s trusted namespace with every file of the tree (a read-write warm). */
async function fill(url: string): Promise<void> {
  const writer = createEngine({ root: checkouts.checkout().root, cacheDir: checkouts.cacheDir(), executor: 'in-thread', remote: { url, mode: 'read-write', signingKey: keys.main.privateFile } });
  const report = await writer.warm();
  await writer.close();
  expect(report.remote).toMatchObject({ uploaded: FILES, errors: 0 });
}

/** Record keys of the trusted namespace, and which of them still have their blob. */
async function pairs(client: RawClient): Promise<{ records: number; withBlob: number }> {
  const names = (await client.keys('strata:ac:trusted:ast:*')).map(String);
  let withBlob = 0;
  for (const name of names) {
    const record = await client.get(name);
    if (record !== null && (await client.exists(blobKey(recordDigest(record)))) === 1) withBlob++;
  }
  return { records: names.length, withBlob };
}

describe('remote tier faults', () => {
  it('a connection cut in the middle of a value: the warm completes, the file is parsed, counted as an error, never a hit', async () => {
    const redis = await server();
    await fill(redis.url);
    const proxy = await startTcpProxy(redis.port);
    try {
      proxy.cutMidValue(256); // blobs are ~1 KB and more; records ~250 bytes
      const tree = checkouts.checkout();
      const engine = createEngine({ root: tree.root, cacheDir: checkouts.cacheDir(), executor: 'in-thread', remote: { url: proxy.url, trustedKeys: [keys.main.publicFile] } });
      const report = await engine.warm();
      const ast = await engine.ast('src/m3.ts');
      await engine.close();
      expect(proxy.cuts).toHaveLength(1);
      expect(proxy.cuts[0]!.forwarded).toBeLessThan(proxy.cuts[0]!.valueBytes);
      expect(filesAddUp(report)).toBe(true);
      expect(report.failed).toEqual([]);
      expect(report.files).toBe(FILES);
      expect(report.remote!.errors).toBeGreaterThanOrEqual(1);
      expect(report.remote!.rejected).toBe(0);
      expect(report.fromRemote).toBe(report.remote!.hits);
      expect(report.fromRemote).toBeLessThan(FILES);
      expect(report.parsed).toBe(FILES - report.fromRemote!);
      expect(report.remote!.state).toBe('off'); // the connection is gone for the run
      expect(ast.text).toContain('value3');
    } finally {
      await proxy.close();
    }
  });

  it('records whose blobs Redis evicted (tiny maxmemory, allkeys-lru) are misses, parsed, never a bad hit', async () => {
    const redis = await server();
    const client = await rawClient(redis.url);
    const info = String(await client.sendCommand(['INFO', 'memory']));
    const used = Number(/used_memory:(\d+)/.exec(info)![1]);
    // Room for the entries (~64 KB) and the connections' buffers (not evictable: a smaller room
    // refuses writes with OOM instead of evicting) above an empty server's own use.
    await client.sendCommand(['CONFIG', 'SET', 'maxmemory', String(used + 256 * 1024)]);
    await client.sendCommand(['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru']);
    await client.sendCommand(['CONFIG', 'SET', 'maxmemory-samples', '10']);
    try {
      await fill(redis.url);
      // Records read last are the most recently used: filler writes then evict blobs before them.
      let counts = await pairs(client);
      for (let i = 0; i < 400 && counts.records - counts.withBlob < 5; i++) {
        await client.set(`filler:${i}`, Buffer.alloc(4096, i));
        if (i % 10 === 9) counts = await pairs(client);
      }
      expect(Number(/evicted_keys:(\d+)/.exec(String(await client.sendCommand(['INFO', 'stats'])))![1])).toBeGreaterThan(0);
      expect(counts.records - counts.withBlob).toBeGreaterThanOrEqual(1); // a record whose blob is gone

      const engine = createEngine({ root: checkouts.checkout().root, cacheDir: checkouts.cacheDir(), executor: 'in-thread', remote: { url: redis.url, trustedKeys: [keys.main.publicFile] } });
      const report = await engine.warm();
      const texts = await Promise.all(Array.from({ length: FILES }, (_, i) => engine.ast(`src/m${i}.ts`).then((ast) => ast.text.includes(`value${i}:`))));
      await engine.close();
      expect(filesAddUp(report)).toBe(true);
      expect(report.failed).toEqual([]);
      expect(report.remote).toMatchObject({ rejected: 0, errors: 0 });
      expect(report.fromRemote).toBeLessThanOrEqual(counts.withBlob);
      expect(report.parsed).toBe(FILES - report.fromRemote!);
      expect(report.parsed).toBeGreaterThanOrEqual(counts.records - counts.withBlob);
      expect(report.remote!.misses).toBe(report.parsed);
      expect(texts.every(Boolean)).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('concurrent writers of the same keys (two warm processes at once): a third reader gets verified hits', async () => {
    const redis = await server();
    const warm = (root: string, signer: string): Promise<Record<string, any>> =>
      new Promise((resolve, reject) => {
        const args = [CLI, 'warm', root, '--json', '--quiet', '--cache-dir', checkouts.cacheDir(), '--remote', redis.url, '--remote-mode', 'read-write', '--remote-signing-key', signer];
        const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('error', reject);
        child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(stdout) as Record<string, any>) : reject(new Error(`warm exited ${code}: ${stderr}`))));
      });
    const [a, b] = await Promise.all([warm(checkouts.checkout().root, keys.main.privateFile), warm(checkouts.checkout().root, keys.second.privateFile)]);
    expect(a.remote).toMatchObject({ uploaded: FILES, errors: 0 });
    expect(b.remote).toMatchObject({ uploaded: FILES, errors: 0 });
    const client = await rawClient(redis.url);
    const blobs = await client.keys('strata:cas:*');
    const records = await client.keys('strata:ac:trusted:*');
    await client.close();
    expect(records).toHaveLength(FILES); // one record per key: the last writer's
    expect(blobs).toHaveLength(FILES); // content-addressed, SET NX: one copy of each entry

    const reader = createEngine({ root: checkouts.checkout().root, cacheDir: checkouts.cacheDir(), executor: 'in-thread', remote: { url: redis.url, trustedKeys: [keys.main.publicFile, keys.second.publicFile] } });
    const report = await reader.warm();
    await reader.close();
    expect(report.parsed).toBe(0);
    expect(report.fromRemote).toBe(FILES);
    expect(report.remote).toMatchObject({ hits: FILES, rejected: 0, errors: 0 });
  });
});
