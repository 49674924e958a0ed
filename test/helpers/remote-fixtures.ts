/** Shared pieces of the remote tier's tests: key pairs, checkouts of one generated tree, a raw client. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createClient, RESP_TYPES } from 'redis';
import { generateKeyPair } from '../../engine/remote/remote-keys.js';
import { parseRecord } from '../../engine/remote/signed-record.js';
import { makeTree, type TempTree } from './temp-tree.js';

export type KeyPair = ReturnType<typeof generateKeyPair>;

/** Key pairs under one temporary directory, removed by `remove()`. */
export function keyPairs<const N extends string>(...names: N[]): { readonly [K in N]: KeyPair } & { remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-keys-'));
  const pairs = Object.fromEntries(names.map((name) => [name, generateKeyPair(path.join(dir, name))])) as Record<N, KeyPair>;
  return Object.assign(pairs, { remove: () => fs.rmSync(dir, { recursive: true, force: true }) });
}

/** `files` TypeScript modules in a ring of imports; `pad` extra bytes per file (bigger entries). */
export function ringSpec(files: number, pad = 0): Record<string, string> {
  const spec: Record<string, string> = {};
  const filler = pad > 0 ? `export const text = ${JSON.stringify('x'.repeat(pad))};\n` : '';
  for (let i = 0; i < files; i++) {
    const next = (i + 1) % files;
    spec[`src/m${i}.ts`] = `import { f${next} } from './m${next}.js';\nexport const value${i}: number = ${i} * 2;\nexport function f${i}(a: number): number {\n  return a + value${i};\n}\nexport const uses${i} = typeof f${next};\n${filler}`;
  }
  return spec;
}

/** Checkouts (the same tree at different paths), removed together. */
export class Checkouts {
  readonly #trees: TempTree[] = [];
  readonly #dirs: string[] = [];

  constructor(readonly spec: Record<string, string>) {}

  checkout(): TempTree {
    const tree = makeTree(this.spec, 'strata-checkout-');
    this.#trees.push(tree);
    return tree;
  }

  /** An empty local cache directory. */
  cacheDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-remote-cache-'));
    this.#dirs.push(dir);
    return dir;
  }

  remove(): void {
    for (const tree of this.#trees) tree.remove();
    for (const dir of this.#dirs) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The commands the tests send themselves. */
export interface RawClient {
  get(key: string): Promise<Buffer | null>;
  set(key: string, value: Buffer | string): Promise<unknown>;
  keys(pattern: string): Promise<Buffer[]>;
  exists(key: string): Promise<number>;
  dbSize(): Promise<number>;
  sendCommand(args: string[]): Promise<unknown>;
  close(): Promise<void>;
}

/** A plain node-redis client with Buffer replies (the tests' own view of the server). */
export async function rawClient(url: string): Promise<RawClient> {
  const plain = createClient({ url });
  plain.on('error', () => undefined); // a test that kills its server sees it in the commands' rejections
  const client = plain.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  await client.connect();
  return client as unknown as RawClient;
}

/** The blob digest a stored record names. */
export function recordDigest(record: Buffer): string {
  return parseRecord(record, 'test').digest;
}
