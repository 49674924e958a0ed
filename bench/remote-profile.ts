/**
 * Where a fresh machine's warm from the remote spends its time (issue 21): one `strata warm` from a
 * loopback redis-server (empty local cache, the tree at another path) under `node --cpu-prof`, its
 * main thread's samples bucketed by what is on the stack, and the process's wall time from spawn
 * to exit (what the profile does not see: process start before profiling, exit after it).
 *
 *   npm run build && node dist/bench/remote-profile.js [--tree DIR] [--runs 3]
 *
 * Buckets, the first that matches a sample's stack: node-redis (loading it and creating the
 * client), decode (entry decoding with its caps), verify (record parsing and Ed25519 signatures),
 * digest (SHA-256 of blobs), local writes (the disk level: index, packs, fsync), remote I/O
 * (node-redis's protocol work: commands out, replies in), walk & read (discovery, reading and
 * hashing the files), module load (the CLI's own modules), gc, idle (waiting: round trips, the
 * pool of signature checks), other. Medians over the runs.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateKeyPair } from '../engine/remote/remote-keys.js';
import type { CpuProfile } from './profile-breakdown.js';
import { median } from './stats.js';
import { timedProcess } from './timed-warm.js';

const PROJECT = path.join(__dirname, '..', '..');
const CLI = path.join(PROJECT, 'dist', 'engine', 'cli', 'main.js');

export const REMOTE_BUCKETS = ['node-redis', 'decode', 'verify', 'digest', 'local writes', 'remote I/O', 'walk & read', 'module load', 'gc', 'idle', 'other'] as const;
export type RemoteBucket = (typeof REMOTE_BUCKETS)[number];

const RULES: readonly [RemoteBucket, (names: ReadonlySet<string>, urls: readonly string[]) => boolean][] = [
  ['node-redis', (names) => names.has('loadNodeRedis') || names.has('openCommands')],
  ['decode', (names) => names.has('decodeRemoteAstEntry') || names.has('decodeAstEntry') || names.has('decodeRemoteResult')],
  ['verify', (names) => names.has('parseRecord') || names.has('verifyRecordAsync') || names.has('verifyOneShot')],
  ['digest', (names) => names.has('sha256Hex')],
  ['local writes', (names) => names.has('saveIndex') || names.has('remember') || names.has('settle') || names.has('save')],
  ['remote I/O', (names, urls) => names.has('withDeadline') || urls.some((url) => /node-redis-.*\.bundle\.js|@redis[/\\]client/.test(url))],
  ['walk & read', (names) => names.has('walk') || names.has('#warmFile') || names.has('discoverSourceFiles')],
  ['module load', (names) => names.has('Module._load') || names.has('wrapSafe') || names.has('compileForInternalLoader')],
  ['gc', (names) => names.has('(garbage collector)')],
  ['idle', (names) => names.has('(idle)') || names.has('epoll_wait')],
];

/** Milliseconds per bucket of one profile, and its span. */
export function remoteBreakdown(profile: CpuProfile): Record<RemoteBucket, number> & { spanMs: number } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const bucketOf = new Map<number, RemoteBucket>();
  const classify = (id: number): RemoteBucket => {
    const known = bucketOf.get(id);
    if (known !== undefined) return known;
    const names = new Set<string>();
    const urls: string[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame;
      names.add(frame.functionName);
      urls.push(frame.url);
    }
    const bucket = RULES.find(([, matches]) => matches(names, urls))?.[0] ?? 'other';
    bucketOf.set(id, bucket);
    return bucket;
  };
  const totals = Object.fromEntries(REMOTE_BUCKETS.map((bucket) => [bucket, 0])) as Record<RemoteBucket, number>;
  profile.samples.forEach((id, i) => (totals[classify(id)] += (profile.timeDeltas[i] ?? 0) / 1000));
  return { ...totals, spanMs: (profile.endTime - profile.startTime) / 1000 };
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? (process.argv[i + 1] as string) : fallback;
}

/** One process, spawn to exit, and its warm report. */
async function run(args: string[]): Promise<{ wallMs: number; report: Record<string, any> }> {
  const { wallMs, stdout } = await timedProcess(args);
  return { wallMs, report: JSON.parse(stdout) as Record<string, any> };
}

async function main(): Promise<void> {
  const source = path.resolve(arg('--tree', path.join(PROJECT, 'node_modules', 'eslint', 'lib')));
  const runs = Number(arg('--runs', '3'));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-remote-profile-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 100 && spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() !== 'PONG'; i++) await new Promise((r) => setTimeout(r, 50));
    const url = `redis://127.0.0.1:${port}`;
    const keys = generateKeyPair(path.join(work, 'keys'));
    fs.cpSync(source, path.join(work, 'a'), { recursive: true });
    fs.cpSync(source, path.join(work, 'elsewhere', 'b'), { recursive: true });
    const warm = (root: string, cacheDir: string, extra: string[]): string[] => [CLI, 'warm', root, '--json', '--quiet', '--cache-dir', cacheDir, '--remote', url, ...extra];
    await run(warm(path.join(work, 'a'), path.join(work, 'cache-a'), ['--remote-mode', 'read-write', '--remote-signing-key', keys.privateFile]));
    const rows: (Record<RemoteBucket, number> & { spanMs: number; wallMs: number; parsed: number; errors: number })[] = [];
    for (let i = 0; i < runs; i++) {
      const dir = path.join(work, `profile-${i}`);
      const { wallMs, report } = await run(['--cpu-prof', '--cpu-prof-dir', dir, ...warm(path.join(work, 'elsewhere', 'b'), path.join(work, `cache-b-${i}`), ['--remote-trusted-key', keys.publicFile])]);
      // The main thread's profile (workers write their own when a lookup failed and files were parsed).
      const profiles = fs.readdirSync(dir).filter((file) => file.endsWith('.cpuprofile')).map((file) => JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as CpuProfile);
      const main = profiles.find((profile) => profile.nodes.some((node) => node.callFrame.functionName === 'runWarm'));
      if (main === undefined) throw new Error('no main-thread profile');
      rows.push({ ...remoteBreakdown(main), wallMs, parsed: report.parsed as number, errors: report.remote?.errors as number });
    }
    const pick = (field: keyof (typeof rows)[number]): number => Math.round(median(rows.map((row) => row[field])));
    const result = {
      tree: source,
      runs,
      load: os.loadavg(),
      wallMs: pick('wallMs'),
      outsideProfileMs: Math.round(median(rows.map((row) => row.wallMs - row.spanMs))),
      profiledMs: pick('spanMs'),
      parsed: rows.map((row) => row.parsed),
      errors: rows.map((row) => row.errors),
      buckets: Object.fromEntries(REMOTE_BUCKETS.map((bucket) => [bucket, pick(bucket)])),
    };
    console.log(JSON.stringify(result, null, 2));
  } finally {
    server.kill('SIGKILL');
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) void main();
