/**
 * The remote tier's command line as real processes, against a real redis-server: `strata remote
 * keygen DIR`, `strata remote status` (reachability, latency, key ids, the last warm's counters),
 * and `strata watch --remote …` (its dependency graph read through the remote, a watched change's
 * new parse uploaded in read-write mode, the counters on its status line).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runStrata } from './helpers/cli.js';
import { startRedis, freePort, type RedisServer } from './helpers/redis-server.js';
import { Checkouts, rawClient, ringSpec } from './helpers/remote-fixtures.js';
import { CLI } from './helpers/temp-tree.js';
import { WatchProcess } from './helpers/watch-process.js';

jest.setTimeout(60_000);

const FILES = 20;
const checkouts = new Checkouts(ringSpec(FILES));
const keysDir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-cli-keys-'));
const privateFile = path.join(keysDir, 'strata-remote.key');
const publicFile = path.join(keysDir, 'strata-remote.pub');
let keyId: string;
let server: RedisServer;
let watch: WatchProcess | undefined;

beforeAll(async () => {
  server = await startRedis();
});

afterAll(async () => {
  await watch?.stop();
  await server.stop();
  checkouts.remove();
  fs.rmSync(keysDir, { recursive: true, force: true });
});

describe('strata remote (CLI processes)', () => {
  it('keygen writes DIR/strata-remote.key (0600) and DIR/strata-remote.pub, and never overwrites a key', () => {
    const run = runStrata(['remote', 'keygen', keysDir, '--json']);
    expect(run.status).toBe(0);
    const written = JSON.parse(run.stdout) as { privateFile: string; publicFile: string; id: string };
    expect(written).toMatchObject({ privateFile, publicFile });
    keyId = written.id;
    expect(keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(fs.statSync(privateFile).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(privateFile, 'utf8')).toContain('BEGIN PRIVATE KEY');
    expect(fs.readFileSync(publicFile, 'utf8')).toContain('BEGIN PUBLIC KEY');

    const before = fs.readFileSync(privateFile, 'utf8');
    const again = runStrata(['remote', 'keygen', keysDir]);
    expect(again.status).not.toBe(0);
    expect(again.stderr).toMatch(/exists; not overwritten/);
    expect(fs.readFileSync(privateFile, 'utf8')).toBe(before);
  });

  it('status says reachability, latency, key ids and the last warm\'s counts; an unreachable server is said so, quickly', async () => {
    const tree = checkouts.checkout();
    const cacheDir = checkouts.cacheDir();
    const remote = ['--remote', server.url, '--remote-trusted-key', publicFile];
    const warmed = runStrata(['warm', tree.root, '--cache-dir', cacheDir, ...remote, '--remote-mode', 'read-write', '--remote-signing-key', privateFile, '--json', '--quiet']);
    expect(warmed.status).toBe(0);

    const run = runStrata(['remote', 'status', tree.root, '--cache-dir', cacheDir, ...remote, '--remote-mode', 'read-write', '--remote-signing-key', privateFile, '--json']);
    expect(run.status).toBe(0);
    const status = JSON.parse(run.stdout);
    expect(status).toMatchObject({ urls: [server.url], mode: 'read-write', namespace: 'trusted', reachable: true, signingKeyId: keyId, trustedKeyIds: [keyId], problem: null });
    expect(status.latencyMs).toBeGreaterThan(0);
    expect(status.latencyMs).toBeLessThan(500); // within the operation deadline (a loaded machine answers slower than 0.1 ms)
    expect(status.lastWarm).toMatchObject({ fromRemote: 0, remote: { state: 'on', uploaded: FILES, errors: 0 } });

    const text = runStrata(['remote', 'status', tree.root, '--cache-dir', cacheDir, ...remote]);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`reachable, [0-9.]+ ms; mode read, namespace trusted; signing key none; trusted ${keyId}`));
    expect(text.stdout).toMatch(/last warm of .*: 0 files from the remote; state on, hits 0, misses 20, .*uploaded 20/);

    const down = `redis://127.0.0.1:${await freePort()}`;
    const started = performance.now();
    const unreachable = runStrata(['remote', 'status', '--remote', down, '--json']);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(unreachable.status).toBe(0);
    expect(JSON.parse(unreachable.stdout)).toMatchObject({ reachable: false, latencyMs: null, problem: expect.stringMatching(/cannot reach/) });
  });

  it('watch --remote: the graph is read through the remote, a watched change is uploaded, the counters are on the status line', async () => {
    const tree = checkouts.checkout();
    const client = await rawClient(server.url);
    const recordsBefore = (await client.keys('strata:ac:trusted:*')).length;
    expect(recordsBefore).toBe(FILES);
    watch = new WatchProcess(CLI, ['watch', tree.root, '--json', '--status', '0.2', '--cache-dir', checkouts.cacheDir(), '--remote', server.url, '--remote-mode', 'read-write', '--remote-signing-key', privateFile, '--remote-trusted-key', publicFile]);
    await watch.waitFor(() => watch!.stderr.includes('watching '), 'the ready line');
    // Every file of the graph came from the remote (a fresh cache). On a loaded machine a lookup
    // may miss its deadline: counted as an error (and that file parsed), never as a miss.
    const counters = /remote on (\d+) hits (\d+) misses \d+ up (\d+) rejected (\d+) errors \| graph 20 of 20 files/;
    await watch.waitFor(() => counters.test(watch!.stderr), 'the remote counters on the status line');
    const [, hits, misses, rejected, errors] = counters.exec(watch.stderr)!.map(Number);
    expect({ misses, rejected }).toEqual({ misses: 0, rejected: 0 });
    expect(hits! + errors!).toBe(FILES);
    expect(hits).toBeGreaterThan(0);
    if (errors === 0) expect(watch.stderr).toMatch(/pool idle/);

    tree.write('src/m4.ts', 'export const value4: number = 44;\nexport function f4(a: number): number {\n  return a * value4;\n}\n');
    await watch.waitForEvent('src/m4.ts', ['change']);
    await watch.waitFor(() => / 1 up 0 rejected \d+ errors/.test(watch!.stderr), 'the upload on the status line');
    let recordsAfter = 0;
    for (let i = 0; i < 100 && recordsAfter <= recordsBefore; i++) {
      recordsAfter = (await client.keys('strata:ac:trusted:*')).length;
      if (recordsAfter <= recordsBefore) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await client.close();
    expect(recordsAfter).toBe(recordsBefore + 1);
    expect(await watch.stop()).toMatchObject({ code: 0 });
    watch = undefined;
  });
});
