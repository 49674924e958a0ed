/**
 * The remote tier outside a warm, against a real redis-server: L3 results shared by two engines at
 * different paths (the second never runs the analyzer, nor parses), tampered result records
 * rejected and recomputed, and `engine.ast()` reading through the remote after a local miss.
 */
import { createEngine, type Engine } from '../engine/index.js';
import type { RemoteOptions } from '../engine/remote/remote-config.js';
import { encodeRemoteResult } from '../engine/remote/remote-results.js';
import { blobKey } from '../engine/remote/remote-tier.js';
import { loadSigningKey } from '../engine/remote/remote-keys.js';
import { sha256Hex, signRecord } from '../engine/remote/signed-record.js';
import { startRedis, type RedisServer } from './helpers/redis-server.js';
import { Checkouts, keyPairs, rawClient, recordDigest, ringSpec } from './helpers/remote-fixtures.js';

const FILES = 12;
const keys = keyPairs('main', 'pr');
const checkouts = new Checkouts(ringSpec(FILES));
let server: RedisServer;

const ANALYZER = { id: 'shape', version: 1 };
type Shape = { lines: number; imports: number; signature: string };

beforeAll(async () => {
  server = await startRedis();
});

afterAll(async () => {
  await server.stop();
  checkouts.remove();
  keys.remove();
});

function engineAt(root: string, remote: RemoteOptions, cacheDir = checkouts.cacheDir()): Engine {
  return createEngine({ root, cacheDir, executor: 'in-thread', remote: { url: server.url, trustedKeys: [keys.main.publicFile], ...remote } });
}

const writer: RemoteOptions = { mode: 'read-write', signingKey: keys.main.privateFile };

/** The analyzer: counts its runs. */
function analyzer(): { runs: number; fn: (context: { ast: { text: string; imports: readonly unknown[]; signature: string } }) => Shape } {
  const counter = { runs: 0, fn: ({ ast }: { ast: { text: string; imports: readonly unknown[]; signature: string } }): Shape => {
    counter.runs++;
    return { lines: ast.text.split('\n').length, imports: ast.imports.length, signature: ast.signature };
  } };
  return counter;
}

describe('remote tier: L3 results and engine.ast()', () => {
  const asked = ['src/m0.ts', 'src/m5.ts', 'src/m11.ts'];
  let expected: Shape[];

  it('a second engine at another path gets results from the remote without running the analyzer or parsing', async () => {
    const first = engineAt(checkouts.checkout().root, writer);
    const a = analyzer();
    const results = first.results<Shape>(ANALYZER);
    expected = await Promise.all(asked.map((file) => results.compute(file, a.fn)));
    await first.close(); // flushes the write-behind queue
    expect(a.runs).toBe(asked.length);
    expect(first.stats().remote).toMatchObject({ errors: 0, rejected: 0 });
    // Each result, and the ASTs it needed (the file and its dependency), were uploaded.
    expect(first.stats().remote!.uploaded).toBeGreaterThanOrEqual(asked.length * 2);

    const secondTree = checkouts.checkout();
    const second = engineAt(secondTree.root, {});
    const b = analyzer();
    const shared = second.results<Shape>(ANALYZER);
    const values = await Promise.all(asked.map((file) => shared.compute(file, b.fn)));
    const stats = second.stats();
    await second.close();
    expect(values).toEqual(expected);
    expect(b.runs).toBe(0);
    expect(stats.pool.tasks).toBe(0); // no parse either: every AST came through engine.ast()'s read-through
    expect(stats.remote).toMatchObject({ state: 'on', rejected: 0, errors: 0, uploaded: 0 });
    expect(stats.remote!.hits).toBeGreaterThanOrEqual(asked.length * 2);

    // get() reads through as well.
    const third = engineAt(checkouts.checkout().root, {});
    const got = await third.results<Shape>(ANALYZER).get('src/m5.ts');
    await third.close();
    expect(got).toEqual(expected[1]);
  });

  it('a tampered or untrusted result record is rejected and the result recomputed, never used', async () => {
    const client = await rawClient(server.url);
    const names = (await client.keys('strata:ac:trusted:result:*')).map(String).sort();
    expect(names.length).toBe(asked.length);
    const stateKeys = names.map((name) => name.slice('strata:ac:trusted:result:'.length));
    const plant = async (name: string, stateKey: string, value: unknown, signer: string, namespace = 'trusted', signedKey = stateKey): Promise<void> => {
      const blob = Buffer.from(encodeRemoteResult(stateKey, value));
      await client.set(blobKey(sha256Hex(blob)), blob);
      const record = signRecord({ namespace, cacheKey: `result:${signedKey}`, digest: sha256Hex(blob), size: blob.length, codec: 'msgpack-plain-v1', producer: 'attacker' }, loadSigningKey(signer));
      await client.set(name, record);
    };
    const evil = { lines: -1, imports: -1, signature: 'planted' };
    // 1: signed by a pull request's key (untrusted for `trusted`)
    await plant(names[0]!, stateKeys[0]!, evil, keys.pr.privateFile, 'pr-9');
    // 2: a trusted signature, but over a blob made for another state key
    await plant(names[1]!, stateKeys[2]!, evil, keys.main.privateFile, 'trusted', stateKeys[1]!);
    // 3: the genuine record, its blob overwritten in place (digest mismatch)
    const genuine = (await client.get(names[2]!)) as Buffer;
    await client.set(blobKey(recordDigest(genuine)), Buffer.from(encodeRemoteResult(stateKeys[2]!, evil)));
    await client.close();

    const engine = engineAt(checkouts.checkout().root, {});
    const c = analyzer();
    const results = engine.results<Shape>(ANALYZER);
    const byKey = new Map<string, Shape>();
    for (const file of asked) byKey.set(file, await results.compute(file, c.fn));
    const stats = engine.stats();
    await engine.close();
    const values = asked.map((file) => byKey.get(file));
    expect(values).toEqual(expected);
    expect(values).not.toContainEqual(evil);
    expect(c.runs).toBe(asked.length);
    expect(stats.remote!.rejected).toBe(asked.length);
  });

  it('engine.ast() reads through the remote after a local miss, keeps the entry locally, and uploads its parses', async () => {
    const tree = checkouts.checkout();
    const cacheDir = checkouts.cacheDir();
    const reader = engineAt(tree.root, {}, cacheDir);
    const ast = await reader.ast('src/m6.ts');
    const stats = reader.stats();
    await reader.close();
    expect(ast.text).toContain('value6');
    expect(stats.pool.tasks).toBe(0);
    expect(stats.remote).toMatchObject({ hits: 1, misses: 0, rejected: 0 });

    // Written to the local cache: a later engine without any remote answers from disk.
    const local = createEngine({ root: tree.root, cacheDir, executor: 'in-thread' });
    expect((await local.ast('src/m6.ts')).text).toContain('value6');
    expect(local.stats().pool.tasks).toBe(0);
    await local.close();

    // A file nobody uploaded: a miss, parsed here, and uploaded behind the caller in read-write mode.
    tree.write('src/new.ts', 'export const fresh = 1;\n');
    const parser = engineAt(tree.root, writer);
    expect((await parser.ast('src/new.ts')).text).toContain('fresh');
    await parser.close();
    expect(parser.stats().remote).toMatchObject({ misses: 1, uploaded: 1 });
    const other = checkouts.checkout();
    other.write('src/new.ts', 'export const fresh = 1;\n');
    const later = engineAt(other.root, {});
    await later.ast('src/new.ts');
    expect(later.stats()).toMatchObject({ pool: { tasks: 0 }, remote: { hits: 1 } });
    await later.close();
  });
});
