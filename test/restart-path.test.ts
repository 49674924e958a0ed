/**
 * The pieces of the restart and load fast paths: the CLI's commander-free `warm` parsing answers
 * what commander answers, transient pack reads never leak into decoded records, and the index's
 * column comparison agrees with its records.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { parseWarmArgv } from '../engine/cli/warm-argv.js';
import { registerWarm } from '../engine/cli/warm-command.js';
import { writeAll } from '../engine/store/layout.js';
import { PackReader, PackWriter, type PackLocation } from '../engine/store/packs.js';
import { accessIfSameStamp, keyLocations } from '../engine/store/columnar-root-index.js';
import { decodeIndex, encodeIndex } from '../engine/store/root-index-codec.js';
import type { IndexRecord } from '../engine/store/root-index-format.js';
import { decodeAstEntry, encodeAstEntry } from '../shared/ast-entry.js';
import { parseSource } from '../workers/parse-source.js';
import { indexRecord } from './helpers/index-record.js';

async function commanderParse(argv: string[]): Promise<{ root: string | undefined; flags: Record<string, unknown> }> {
  const program = new Command().exitOverride();
  registerWarm(program, 0, () => undefined);
  let parsed: { root: string | undefined; flags: Record<string, unknown> } | undefined;
  program.commands[0]!.action((root: string | undefined, flags: Record<string, unknown>) => {
    parsed = { root, flags: { ...flags } };
  });
  await program.parseAsync(argv, { from: 'user' });
  return parsed!;
}

describe('strata warm without commander', () => {
  const lines = [
    ['warm'],
    ['warm', 'some/root'],
    ['warm', 'some/root', '--json', '--quiet', '--cache-dir', '/tmp/x'],
    ['warm', '--no-persist', 'r', '--workers', '2', '--memory-limit', '512', '--time-limit', '3'],
    ['warm', '--root', 'r', '--profile', 'ci', '--budget', 'auto', '--verbose'],
    ['warm', '--changed', '--depth', '2'],
    ['warm', 'r', '--remote', 'redis://127.0.0.1:6379', '--remote-trusted-key', 'a.pub', '--json'],
    ['warm', '--remote', 'redis://a:1,redis://b:2', '--remote-mode', 'read-write', '--remote-namespace', 'pr-7', '--remote-signing-key', 'k', '--remote-trusted-key', 'a.pub', '--remote-trusted-key', 'b.pub'],
  ];
  it.each(lines)('parses %j as commander does', async (...argv) => {
    const fast = parseWarmArgv(argv);
    expect(fast).not.toBeNull();
    expect({ root: fast!.root, flags: { ...fast!.flags } }).toEqual(await commanderParse(argv));
  });

  it('leaves everything else to commander', () => {
    for (const argv of [
      ['stats'],
      ['warm', '--help'],
      ['warm', '-h'],
      ['warm', '--entry', 'a.ts'],
      ['warm', '--include', 'node_modules'],
      ['warm', '--workers=2'],
      ['warm', '--workers'],
      ['warm', '--workers', '--json'],
      ['warm', '--json', '--json'],
      ['warm', 'a', 'b'],
      ['warm', '--', 'a'],
      ['warm', '--unknown'],
      ['warm', '--constructor', 'x'],
      ['warm', '--remote-trusted-key'],
      ['warm', '--remote', 'redis://a:1', '--remote', 'redis://b:2'],
    ]) {
      expect(parseWarmArgv(argv)).toBeNull();
    }
  });
});

describe('transient pack reads', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'strata-transient-')));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('decodes records that keep nothing of the reused buffer', () => {
    const writer = new PackWriter(dir);
    const sources = ['const a = 1;', 'export function f(x: number) { return x * 2; }\n'.repeat(200), 'import { y } from "./y";\nlet z = y;'];
    const keys = sources.map((_, i) => `k${i}`);
    sources.forEach((text, i) => writer.append(keys[i]!, encodeAstEntry(keys[i]!, parseSource(`f${i}.ts`, text), 'lz4-block-v1')));
    const flushed = writer.flush()!;
    const reader = new PackReader(dir);
    const records = keys.map((key) => decodeAstEntry(reader.readTransient(flushed.locations.get(key) as PackLocation).bytes!, key));
    const fresh = keys.map((key) => decodeAstEntry(new PackReader(dir).read(flushed.locations.get(key) as PackLocation)!, key));
    expect(records).toEqual(fresh);
    expect(reader.readTransient({ ...(flushed.locations.get('k0') as PackLocation), pack: '../x.pack' }).miss).toBe('invalid-location');
    reader.close();
  });
});

describe('index stamps from columns', () => {
  it('agree with the records, before and after a record is built or replaced', () => {
    const record = (i: number): IndexRecord => indexRecord(i);
    const records = new Map(Array.from({ length: 5 }, (_, i) => [`src/f${i}.ts`, record(i)]));
    const decoded = decodeIndex(encodeIndex(records, 'p', '.'), 'p');
    if (decoded.status !== 'loaded') throw new Error(decoded.status);
    const index = decoded.records;
    const stamp = (r: IndexRecord): [number, bigint, bigint, bigint, bigint] => [r.size, r.mtimeNs, r.ctimeNs, r.ino, r.dev];
    expect(accessIfSameStamp(index, 'src/f1.ts', ...stamp(record(1)))).toBe(5_001);
    expect(accessIfSameStamp(index, 'src/f1.ts', ...stamp({ ...record(1), mtimeNs: 1n }))).toBeUndefined();
    expect(accessIfSameStamp(index, 'src/f1.ts', ...stamp({ ...record(1), size: 1 }))).toBeUndefined();
    expect(accessIfSameStamp(index, 'src/nope.ts', ...stamp(record(1)))).toBeUndefined();
    index.get('src/f2.ts'); // built
    expect(accessIfSameStamp(index, 'src/f2.ts', ...stamp(record(2)))).toBe(5_002);
    index.set('src/f3.ts', { ...record(3), ino: 7n, lastAccessMs: 9 });
    expect(accessIfSameStamp(index, 'src/f3.ts', ...stamp(record(3)))).toBeUndefined();
    expect(accessIfSameStamp(index, 'src/f3.ts', ...stamp({ ...record(3), ino: 7n }))).toBe(9);
    expect(keyLocations(index)).toEqual(new Map([...records.values()].map((r) => [r.key, r.location])));
    expect(keyLocations(new Map(records))).toEqual(keyLocations(index));
  });
});

describe('writeAll', () => {
  it('writes every chunk in order, empty ones and more than one writev can take included', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-writeall-'));
    try {
      const chunks = Array.from({ length: 2500 }, (_, i) => Uint8Array.from({ length: i % 7 }, (_, j) => (i + j) & 0xff));
      const file = path.join(dir, 'out');
      const fd = fs.openSync(file, 'w');
      writeAll(fd, chunks);
      fs.closeSync(fd);
      expect(Buffer.compare(fs.readFileSync(file), Buffer.concat(chunks))).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
