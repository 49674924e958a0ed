/**
 * Persisted entries built on the coordinator (engine/warming/parse-batches.ts: with fewer workers
 * than cores) are the bytes the workers build: the same AST entry from the worker's own packing and
 * from encodeAstEntry on the coordinator, on real files of every size; and a cold warm with one
 * worker writes, entry for entry, what a warm with entries built in the workers writes.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PackReader } from '../engine/store/packs.js';
import { decodeIndex } from '../engine/store/root-index-codec.js';
import { encodeAstEntry } from '../shared/ast-entry.js';
import type { ParseBatchRequest } from '../shared/protocol.js';
import { parseBatch } from '../workers/parse-batch.js';
import { OpenEngines } from './helpers/engines.js';
import { sourceFilesUnder } from './helpers/source-files.js';

const NODE_MODULES = path.join(__dirname, '..', '..', 'node_modules');
const engines = new OpenEngines();
let base: string;

beforeEach(() => {
  base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'strata-coordinator-entries-')));
});

afterEach(async () => {
  await engines.closeAll();
  fs.rmSync(base, { recursive: true, force: true });
});

/** A batch request over `files`, their bytes in one buffer, as the pool sends it. */
function batchOf(files: readonly string[], entryCodec: ParseBatchRequest['entryCodec']): ParseBatchRequest {
  const texts = files.map((file) => fs.readFileSync(file));
  const buffer = new SharedArrayBuffer(texts.reduce((sum, text) => sum + text.length, 0));
  let offset = 0;
  const refs = texts.map((text, id) => {
    new Uint8Array(buffer, offset, text.length).set(text);
    const ref = { id, path: files[id]!, buffer, offset, length: text.length, key: `key-${id}` };
    offset += text.length;
    return ref;
  });
  return { type: 'parse-batch', settings: { languageVersion: 'latest', setParentNodes: false }, files: refs, entryCodec };
}

/** Every entry of the one index in `cacheDir`, by path. */
function entriesIn(cacheDir: string): Map<string, Buffer> {
  const indexes = path.join(cacheDir, 'indexes');
  const [name] = fs.readdirSync(indexes).filter((file) => file.endsWith('.idx'));
  const bytes = new Uint8Array(fs.readFileSync(path.join(indexes, name!)));
  const probe = decodeIndex(bytes, '');
  const decoded = probe.status === 'other-prefix' ? decodeIndex(bytes, probe.keyPrefix) : probe;
  if (decoded.status !== 'loaded') throw new Error(`index: ${decoded.status}`);
  const reader = new PackReader(path.join(cacheDir, 'packs'));
  const entries = new Map([...decoded.records].map(([file, record]) => [file, Buffer.from(reader.read(record.location)!)]));
  reader.close();
  return entries;
}

describe('persisted entries built on the coordinator', () => {
  it('are the bytes a worker builds, small and compressed ones alike', () => {
    const files = sourceFilesUnder(path.join(NODE_MODULES, 'typescript', 'lib'), 600_000, 4_000_000).concat(sourceFilesUnder(path.join(NODE_MODULES, 'eslint', 'lib', 'rules'), 1 << 20, 400_000));
    const inWorker = parseBatch(batchOf(files, 'lz4-block-v1')).outcomes;
    const bare = parseBatch(batchOf(files, null)).outcomes;
    let compressed = 0;
    bare.forEach((outcome, i) => {
      const worker = inWorker[i]!;
      if (outcome.type !== 'parsed' || worker.type !== 'parsed') throw new Error(`${files[i]} did not parse`);
      expect(outcome.entry).toBeNull();
      const here = encodeAstEntry(`key-${i}`, outcome, 'lz4-block-v1');
      expect(Buffer.from(here).equals(Buffer.from(worker.entry!))).toBe(true);
      if (outcome.ast.byteLength >= 4096) compressed++;
    });
    expect(compressed).toBeGreaterThan(5);
    expect(bare.length).toBeGreaterThan(20);
  });

  it('a cold warm with one worker writes what a warm with the entries built in its workers writes', async () => {
    const source = path.join(NODE_MODULES, 'eslint', 'lib', 'rules');
    const root = path.join(base, 'tree');
    fs.cpSync(source, root, { recursive: true });
    const warmInto = async (cacheDir: string, workers: number): Promise<number> => {
      const engine = engines.open({ root, cacheDir, workers });
      const report = await engine.warm();
      await engine.close();
      return report.parsed;
    };
    const one = await warmInto(path.join(base, 'one'), 1);
    const all = await warmInto(path.join(base, 'all'), Math.max(1, os.availableParallelism()));
    expect(one).toBe(all);
    expect(one).toBeGreaterThan(100);
    expect(entriesIn(path.join(base, 'one'))).toEqual(entriesIn(path.join(base, 'all')));
  });
});
