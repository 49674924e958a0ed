/**
 * The shared remote tier against real redis-server processes (started here on free loopback
 * ports): two checkouts at different paths sharing one cache, the server down or stalled, and
 * the poisoning matrix (every tampered or untrusted entry is rejected, counted and re-parsed).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createClient, RESP_TYPES } from 'redis';
import { createEngine } from '../engine/index.js';
import { prometheusText } from '../engine/ops/prometheus.js';
import { generateKeyPair, loadSigningKey } from '../engine/remote/remote-keys.js';
import { blobKey, recordKey, RemoteTier } from '../engine/remote/remote-tier.js';
import { remoteAstDecoder } from '../engine/remote/remote-ast.js';
import { resolveRemote } from '../engine/remote/remote-config.js';
import { sha256Hex, signRecord } from '../engine/remote/signed-record.js';
import { encodeEntry } from '../shared/entry-format.js';
import { runStrata } from './helpers/cli.js';
import { freePort, startRedis, type RedisServer } from './helpers/redis-server.js';
import { makeTree, type TempTree } from './helpers/temp-tree.js';
import { filesAddUp } from './helpers/warm-report.js';

const FILES = 50;
const keys = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-keys-'));
const trustedDir = path.join(keys, 'trusted');
const prDir = path.join(keys, 'pr');
const otherDir = path.join(keys, 'other');
let trusted: ReturnType<typeof generateKeyPair>;
let pr: ReturnType<typeof generateKeyPair>;
let other: ReturnType<typeof generateKeyPair>;
let server: RedisServer;
const trees: TempTree[] = [];

function checkout(): TempTree {
  const spec: Record<string, string> = {};
  for (let i = 0; i < FILES; i++) spec[`src/m${i}.ts`] = `import { m${(i + 1) % FILES} } from './m${(i + 1) % FILES}.js';\nexport const value${i}: number = ${i} * 2;\nexport function f${i}(a: number): number {\n  return a + value${i};\n}\n`;
  const tree = makeTree(spec, 'strata-checkout-');
  trees.push(tree);
  return tree;
}

function cacheDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'strata-remote-cache-'));
}

async function raw(url = server.url) {
  const client = createClient({ url }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  await client.connect();
  return client;
}

beforeAll(async () => {
  trusted = generateKeyPair(trustedDir);
  pr = generateKeyPair(prDir);
  other = generateKeyPair(otherDir);
  server = await startRedis();
});

afterAll(async () => {
  await server.stop();
  for (const tree of trees) tree.remove();
  fs.rmSync(keys, { recursive: true, force: true });
});

describe('remote tier', () => {
  it('keygen writes a 0600 private key and its public key', () => {
    expect(fs.statSync(trusted.privateFile).mode & 0o777).toBe(0o600);
    expect(loadSigningKey(trusted.privateFile).id).toBe(trusted.id);
    expect(trusted.id).toMatch(/^[0-9a-f]{16}$/);
  });

  it('two checkouts at different paths share one cache: the second parses no file', async () => {
    const first = checkout();
    const writer = createEngine({ root: first.root, cacheDir: cacheDir(), executor: 'in-thread', remote: { url: server.url, mode: 'read-write', signingKey: trusted.privateFile, trustedKeys: [trusted.publicFile] } });
    const written = await writer.warm();
    // A warm's report counts that warm alone; stats() (and Prometheus) keep the engine's totals.
    const again = await writer.warm();
    expect(again.remote).toMatchObject({ state: 'on', hits: 0, misses: 0, uploaded: 0, bytesOut: 0 });
    expect(writer.stats().remote).toMatchObject({ uploaded: FILES });
    const exposition = await prometheusText(writer.stats(), writer.options);
    await writer.close();
    expect(exposition).toMatch(/^strata_remote_up 1$/m);
    expect(exposition).toMatch(new RegExp(`^strata_remote_uploaded_total ${FILES}$`, 'm'));
    expect(exposition).toMatch(/^strata_remote_errors_total 0$/m);
    expect(written.parsed).toBe(FILES);
    expect(written.remote).toMatchObject({ state: 'on', uploaded: FILES, errors: 0, rejected: 0 });

    const second = checkout();
    expect(second.root).not.toBe(first.root);
    const run = runStrata(['warm', second.root, '--cache-dir', cacheDir(), '--remote', server.url, '--remote-trusted-key', trusted.publicFile, '--json']);
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(filesAddUp(report)).toBe(true);
    expect(report.files).toBe(FILES);
    expect(report.parsed).toBeLessThanOrEqual(Math.floor(FILES * 0.02));
    expect(report.fromRemote).toBe(FILES);
    expect(report.remote).toMatchObject({ state: 'on', hits: FILES, misses: 0, rejected: 0, errors: 0, uploaded: 0 });
    expect(report.remote.bytesIn).toBeGreaterThan(0);
  });

  it('a warm completes when the server is down at start, and when it dies mid-run', async () => {
    const tree = checkout();
    const downUrl = `redis://127.0.0.1:${await freePort()}`;
    const engine = createEngine({ root: tree.root, persist: false, executor: 'in-thread', remote: { url: downUrl, trustedKeys: [trusted.publicFile] } });
    const report = await engine.warm();
    await engine.close();
    expect(report.parsed).toBe(FILES);
    expect(report.remote).toMatchObject({ state: 'off', hits: 0 });
    expect(report.remote!.errors).toBeGreaterThanOrEqual(1);

    const doomed = await startRedis();
    const reader = createEngine({ root: tree.root, persist: false, executor: 'in-thread', remote: { url: doomed.url, trustedKeys: [trusted.publicFile] } });
    await reader.warm({ files: ['src/m0.ts'] });
    expect(reader.stats().remote).toMatchObject({ state: 'on', misses: 1 });
    await doomed.stop(); // kill -9
    const rest = await reader.warm();
    await reader.close();
    expect(rest.failed).toEqual([]);
    expect(rest.parsed + rest.fromCache).toBe(FILES);
    expect(rest.remote).toMatchObject({ state: 'off' });
  });

  it('a stalled server (SIGSTOP) costs a bounded wait, then the remote is off', async () => {
    const stalled = await startRedis();
    stalled.process.kill('SIGSTOP');
    try {
      const tree = checkout();
      const engine = createEngine({ root: tree.root, persist: false, executor: 'in-thread', remote: { url: stalled.url, trustedKeys: [trusted.publicFile] } });
      const started = performance.now();
      const report = await engine.warm();
      await engine.close();
      expect(report.parsed).toBe(FILES);
      expect(report.remote).toMatchObject({ state: 'off', hits: 0 });
      // One connect timeout (250 ms) at most before the warm goes on without the remote.
      expect(performance.now() - started).toBeLessThan(20_000);
    } finally {
      stalled.process.kill('SIGCONT');
      await stalled.stop();
    }
  });

  describe('poisoning matrix', () => {
    const trustedReader = (): RemoteTier => new RemoteTier(resolveRemote([{ url: server.url, trustedKeys: [trusted.publicFile] }])!);
    let key: string;
    let entry: Buffer;
    let record: Buffer;

    beforeAll(async () => {
      const client = await raw();
      const recordKeys = (await client.keys('strata:ac:trusted:ast:*')).map(String);
      const name = recordKeys[0] as string;
      key = name.slice('strata:ac:trusted:'.length);
      record = (await client.get(name)) as Buffer;
      const digest = record.toString('latin1').match(/[0-9a-f]{64}/)![0];
      entry = (await client.get(blobKey(digest))) as Buffer;
      await client.close();
      expect(entry.length).toBeGreaterThan(0);
    });

    async function fetchAfter(tamper: (client: Awaited<ReturnType<typeof raw>>, targetKey: string) => Promise<void>): Promise<{ value: unknown; counters: ReturnType<RemoteTier['counters']>; problem: string | null }> {
      const targetKey = `ast:${key.slice(4)}-poison-${Math.random().toString(16).slice(2)}`;
      const client = await raw();
      await tamper(client, targetKey);
      await client.close();
      const reader = trustedReader();
      const value = await reader.fetch(targetKey, remoteAstDecoder(targetKey.slice(4)));
      const counters = reader.counters();
      const problem = reader.lastProblem;
      await reader.close();
      return { value, counters, problem };
    }

    const signedBy = (signer: string, namespace: string, cacheKey: string, blob: Buffer): Buffer =>
      signRecord({ namespace, cacheKey, digest: sha256Hex(blob), size: blob.length, codec: 'lz4-block-v1', producer: 'test' }, loadSigningKey(signer));

    it('accepts the genuine record', async () => {
      const reader = trustedReader();
      const value = await reader.fetch(key, remoteAstDecoder(key.slice(4)));
      await reader.close();
      expect(value).toBeDefined();
    });

    it('rejects a pull-request-signed record copied into trusted', async () => {
      const { value, counters, problem } = await fetchAfter(async (client, target) => {
        await client.set(recordKey('trusted', target), signedBy(pr.privateFile, 'pr-7', target, entry));
      });
      expect(value).toBeUndefined();
      expect(counters.rejected).toBe(1);
      expect(problem).toMatch(/another namespace|not trusted/);
    });

    it('rejects a record moved to another key', async () => {
      const { value, counters, problem } = await fetchAfter(async (client, target) => {
        await client.set(recordKey('trusted', target), record);
      });
      expect(value).toBeUndefined();
      expect(counters.rejected).toBe(1);
      expect(problem).toMatch(/another namespace or key/);
    });

    it('rejects an unknown key id, an unsigned record and garbage', async () => {
      for (const [bad, why] of [
        [(target: string) => signedBy(other.privateFile, 'trusted', target, entry), /not trusted/],
        [(target: string) => signedBy(trusted.privateFile, 'trusted', target, entry).subarray(0, -66), /no signature/],
        [() => Buffer.from('not a record'), /bad magic/],
      ] as const) {
        const { value, counters, problem } = await fetchAfter(async (client, target) => {
          await client.set(recordKey('trusted', target), bad(target));
        });
        expect(value).toBeUndefined();
        expect(counters.rejected).toBe(1);
        expect(problem).toMatch(why);
      }
    });

    it('rejects a valid signature over a mismatched blob, a corrupt entry and a decompression bomb', async () => {
      const corrupt = Buffer.from(entry);
      corrupt[corrupt.length - 1] = (corrupt[corrupt.length - 1] as number) ^ 0xff;
      const bomb = (target: string): Buffer => Buffer.from(encodeEntry({ key: target.slice(4), codec: 'lz4-block-v1', meta: new Uint8Array(0), payload: new Uint8Array(16), rawLength: 0xf000_0000 }));
      const cases: ((client: Awaited<ReturnType<typeof raw>>, target: string) => Promise<void>)[] = [
        async (client, target) => {
          // signed over the digest of bytes X; the blob stored under that digest is another one
          const x = Buffer.from(entry);
          x[20] = (x[20] as number) ^ 1;
          await client.set(blobKey(sha256Hex(x)), entry);
          await client.set(recordKey('trusted', target), signedBy(trusted.privateFile, 'trusted', target, x));
        },
        async (client, target) => {
          await client.set(blobKey(sha256Hex(corrupt)), corrupt);
          await client.set(recordKey('trusted', target), signedBy(trusted.privateFile, 'trusted', target, corrupt));
        },
        async (client, target) => {
          const blob = bomb(target);
          await client.set(blobKey(sha256Hex(blob)), blob);
          await client.set(recordKey('trusted', target), signedBy(trusted.privateFile, 'trusted', target, blob));
        },
      ];
      const reasons = [/does not match its digest/, /does not decode/, /over the cap/];
      for (const [i, tamper] of cases.entries()) {
        const { value, counters, problem } = await fetchAfter(tamper);
        expect(value).toBeUndefined();
        expect(counters.rejected).toBe(1);
        expect(problem).toMatch(reasons[i] as RegExp);
      }
    });

    it('counts a record whose blob is gone as a miss, not a rejection', async () => {
      const { value, counters } = await fetchAfter(async (client, target) => {
        const blob = Buffer.from(entry);
        blob[blob.length - 2] = (blob[blob.length - 2] as number) ^ 0x55; // a blob nobody stored
        await client.set(recordKey('trusted', target), signedBy(trusted.privateFile, 'trusted', target, blob));
      });
      expect(value).toBeUndefined();
      expect(counters).toMatchObject({ rejected: 0, misses: 1 });
    });

    it('a warm re-parses a poisoned file and never uses the planted entry', async () => {
      const tree = checkout();
      const client = await raw();
      // The whole trusted namespace replaced by records a pull request signed.
      for (const name of (await client.keys('strata:ac:trusted:*')).map(String)) {
        const cacheKey = name.slice('strata:ac:trusted:'.length);
        await client.set(name, signedBy(pr.privateFile, 'pr-7', cacheKey, entry));
      }
      await client.close();
      const engine = createEngine({ root: tree.root, cacheDir: cacheDir(), executor: 'in-thread', remote: { url: server.url, trustedKeys: [trusted.publicFile] } });
      const report = await engine.warm();
      const ast = await engine.ast('src/m3.ts');
      await engine.close();
      expect(report.parsed).toBe(FILES);
      expect(report.fromRemote).toBe(0);
      expect(report.remote!.rejected).toBe(FILES);
      expect(ast.text).toContain('value3');
    });
  });
});
