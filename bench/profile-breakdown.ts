/**
 * Per-thread breakdown of `node --cpu-prof` profiles (issue 18): self time of every sample bucketed
 * into parse (TypeScript's parser), encode (ast-encoder and the forEachChild walk it drives),
 * signature (export-signature), compress (lz4, packing, entry framing), hash (xxhash), GC, idle
 * (waiting for work) and other. One line per profile file, i.e. per thread (workers write their own).
 *
 *   node --cpu-prof --cpu-prof-dir DIR dist/engine/cli/main.js warm ROOT ...
 *   node dist/bench/profile-breakdown.js DIR
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string };
  readonly children?: readonly number[];
}
export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

export const BUCKETS = ['parse', 'encode', 'signature', 'compress', 'hash', 'gc', 'idle', 'other'] as const;
type Bucket = (typeof BUCKETS)[number];

const ENCODER_WALK = new Set(['forEachChild', 'visitNode', 'visitNodes', 'visitNode2', 'visitNodes2']);

function bucketOf(node: ProfileNode, parentBucket: Bucket | null): Bucket {
  const { functionName, url } = node.callFrame;
  if (functionName === '(garbage collector)') return 'gc';
  if (functionName === '(idle)' || functionName === 'epoll_wait' || functionName === '(program)' && parentBucket === null) return functionName === '(program)' ? 'other' : 'idle';
  if (/ast-encoder|packed-ast/.test(url)) return /packed-ast/.test(url) ? 'compress' : 'encode';
  if (/export-signature/.test(url)) return 'signature';
  if (/lz4|ast-entry|entry-format|msgpackr/.test(url)) return 'compress';
  if (/xxhash|native-bindings\/hash/.test(url)) return 'hash';
  if (/typescript\.js$/.test(url)) {
    if (ENCODER_WALK.has(functionName) && parentBucket === 'encode') return 'encode';
    // TypeScript functions called from our own code (getText from the signature, …) belong to it.
    if (parentBucket === 'encode' || parentBucket === 'signature') return parentBucket;
    return 'parse';
  }
  // Native or anonymous frames inherit their caller's bucket.
  if ((url === '' || functionName === '') && parentBucket !== null) return parentBucket;
  return 'other';
}

export function breakdown(profile: CpuProfile): Record<Bucket, number> & { totalMs: number } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const bucket = new Map<number, Bucket>();
  const assign = (id: number, parent: Bucket | null): void => {
    const node = byId.get(id)!;
    const own = bucketOf(node, parent);
    bucket.set(id, own);
    for (const child of node.children ?? []) assign(child, own === 'other' && parent !== null && parent !== 'other' ? parent : own);
  };
  assign(profile.nodes[0]!.id, null);
  const totals = Object.fromEntries(BUCKETS.map((b) => [b, 0])) as Record<Bucket, number>;
  for (let i = 0; i < profile.samples.length; i++) totals[bucket.get(profile.samples[i]!) ?? 'other'] += (profile.timeDeltas[i] ?? 0) / 1000;
  return { ...totals, totalMs: (profile.endTime - profile.startTime) / 1000 };
}

if (require.main === module) {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: profile-breakdown DIR');
  const header = ['thread', 'wall', ...BUCKETS];
  process.stdout.write(header.join('\t') + '\n');
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort()) {
    const b = breakdown(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as CpuProfile);
    process.stdout.write([file, `${b.totalMs.toFixed(0)}`, ...BUCKETS.map((k) => b[k].toFixed(0))].join('\t') + '\n');
  }
}
