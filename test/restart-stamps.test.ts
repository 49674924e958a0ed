/**
 * The restart path compares a discovery walk's plain `fs.Stats` (millisecond doubles, number ids)
 * with the index's nanosecond stamps: equal stamps match, any real difference does not, and the
 * racy mark never matches. End to end, a same-size edit with its mtime put back is still seen.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createEngine } from '../engine/engine.js';
import { RACY_WINDOW_NS, STAT_TIME_TOLERANCE_MS } from '../engine/content/fingerprint.js';
import { accessIfSameStats, type PlainStamp } from '../engine/store/columnar-root-index.js';
import { decodeIndex, encodeIndex } from '../engine/store/root-index-codec.js';
import type { IndexRecord, RootIndex } from '../engine/store/root-index-format.js';
import { indexRecord } from './helpers/index-record.js';
import { makeTree, type TempTree } from './helpers/temp-tree.js';
import { sleep } from './helpers/sleep.js';

const NS_PER_MS = 1_000_000n;


/** The plain stats Node would give for a record's stamp (times as sec * 1000 + nsec / 1e6). */
function plain(r: IndexRecord): PlainStamp {
  const ms = (ns: bigint): number => Number(ns / 1_000_000_000n) * 1000 + Number(ns % 1_000_000_000n) / 1e6;
  return { size: r.size, mtimeMs: ms(r.mtimeNs), ctimeMs: ms(r.ctimeNs), ino: Number(r.ino), dev: Number(r.dev) };
}

function loaded(records: Map<string, IndexRecord>): RootIndex {
  const decoded = decodeIndex(encodeIndex(records, 'p', '.'), 'p');
  if (decoded.status !== 'loaded') throw new Error(decoded.status);
  return decoded.records;
}

describe('plain stats against index stamps', () => {
  const records = new Map(Array.from({ length: 4 }, (_, i) => [`src/f${i}.ts`, indexRecord(i)]));
  // From the columns (nothing built), from a built record, and from a plain Map.
  const indexes: [string, () => RootIndex][] = [
    ['columns', () => loaded(records)],
    [
      'built record',
      () => {
        const index = loaded(records);
        for (const file of records.keys()) index.get(file);
        return index;
      },
    ],
    ['plain map', () => new Map(records)],
  ];

  it.each(indexes)('match an equal stamp and nothing else (%s)', (_, make) => {
    const index = make();
    const r = indexRecord(1);
    const stamp = plain(r);
    expect(accessIfSameStats(index, 'src/f1.ts', stamp)).toBe(5_001);
    expect(accessIfSameStats(index, 'src/f2.ts', stamp)).toBeUndefined();
    expect(accessIfSameStats(index, 'src/nope.ts', stamp)).toBeUndefined();
    // Twice the tolerance: a difference near it may round either way (times carry ~0.25 µs resolution).
    const step = 2 * STAT_TIME_TOLERANCE_MS;
    for (const changed of [
      { ...stamp, size: stamp.size + 1 },
      { ...stamp, mtimeMs: stamp.mtimeMs + step },
      { ...stamp, mtimeMs: stamp.mtimeMs - step },
      { ...stamp, ctimeMs: stamp.ctimeMs + step },
      { ...stamp, ctimeMs: stamp.ctimeMs + 2000 },
      { ...stamp, ino: stamp.ino + 1 },
      { ...stamp, dev: stamp.dev + 1 },
    ]) {
      expect(accessIfSameStats(index, 'src/f1.ts', changed)).toBeUndefined();
    }
  });

  it('compare times before 1970 and ids above 2^32', () => {
    const r = indexRecord(0, { mtimeNs: -86_400_123_456_789n, ctimeNs: 5n, ino: 0x1_2345_6789n, dev: 0xfff_0000_0001n });
    const index = loaded(new Map([['a.ts', r]]));
    expect(accessIfSameStats(index, 'a.ts', plain(r))).toBe(5_000);
    expect(accessIfSameStats(index, 'a.ts', { ...plain(r), ino: 0x2345_6789 })).toBeUndefined();
  });

  it('never match the racy mark, even against a time of 0', () => {
    const racy = new Map([...records].map(([file, r]) => [file, { ...r, mtimeNs: -1n }]));
    const built = loaded(racy);
    for (const file of racy.keys()) built.get(file);
    for (const index of [loaded(racy), built, new Map(racy)]) {
      const stamp = plain(indexRecord(1));
      expect(accessIfSameStats(index, 'src/f1.ts', stamp)).toBeUndefined();
      expect(accessIfSameStats(index, 'src/f1.ts', { ...stamp, mtimeMs: 0 })).toBeUndefined();
      expect(accessIfSameStats(index, 'src/f1.ts', { ...stamp, mtimeMs: -1e-6 })).toBeUndefined();
    }
  });

  it('agree with what Node gives for real files', () => {
    const file = __filename;
    const big = fs.statSync(file, { bigint: true });
    const r = indexRecord(0, { size: Number(big.size), mtimeNs: big.mtimeNs, ctimeNs: big.ctimeNs, ino: big.ino, dev: big.dev });
    const index = loaded(new Map([['t.js', r]]));
    expect(accessIfSameStats(index, 't.js', fs.statSync(file))).toBe(5_000);
    expect(accessIfSameStats(index, 't.js', { ...fs.statSync(file), mtimeMs: Number(big.mtimeNs / NS_PER_MS) - 1 })).toBeUndefined();
  });
});

describe('restart of a walked tree', () => {
  let tree: TempTree;
  beforeEach(() => {
    tree = makeTree({ 'src/a.ts': 'export const a = 1;\n', 'src/b.ts': 'export const b = 2;\n' });
  });
  afterEach(() => tree.remove());

  const warm = async () => {
    const engine = createEngine({ root: tree.root, workers: 1 }, { env: {}, readConfigFile: false });
    try {
      return await engine.warm();
    } finally {
      await engine.close();
    }
  };

  it('sees a same-size edit whose mtime was put back, and answers the rest from the index', async () => {
    const file = path.join(tree.root, 'src/a.ts');
    // A whole second, so that utimes can put it back exactly.
    const mtime = Math.floor(Date.now() / 1000) - 3600;
    fs.utimesSync(file, mtime, mtime);
    // Records captured within the racy window never match: let it pass so that they can.
    await sleep(Number(RACY_WINDOW_NS / NS_PER_MS) + 100);
    expect(await warm()).toMatchObject({ files: 2, parsed: 2 });
    expect(await warm()).toMatchObject({ files: 2, parsed: 0, fromDisk: 2 });
    const size = fs.statSync(file).size;
    fs.writeFileSync(file, 'export const a = 7;\n');
    fs.utimesSync(file, mtime, mtime);
    expect([fs.statSync(file).mtimeMs, fs.statSync(file).size]).toEqual([mtime * 1000, size]);
    expect(await warm()).toMatchObject({ files: 2, parsed: 1, fromDisk: 1 });
  }, 20_000);
});
