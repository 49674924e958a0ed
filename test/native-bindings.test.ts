import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { xxh64 as addonXxh64 } from '@node-rs/xxhash';
import { compressSync as addonCompress, uncompressSync as addonUncompress } from 'lz4-napi';
import {
  DEFAULT_MAX_OUTPUT_BYTES,
  forcedJsFallback,
  hashBackend,
  LZ4_CODEC_ID,
  lz4Backend,
  lz4Compress,
  lz4CompressJs,
  lz4Decompress,
  lz4DecompressJs,
  nativeBackends,
  nativeModeFrom,
  xxh64,
  xxh64Hex,
  xxh64Js,
  xxh64String,
  XXH64_OF_EMPTY,
} from '../native-bindings/index.js';

/** The built adapter that child processes load (this test runs from dist/test). */
const INDEX_JS = path.join(__dirname, '..', 'native-bindings', 'index.js');
const ONE_MIB = 1024 * 1024;
/** Past LZ4's 65,535-byte match window, so distant repeats must not be referenced. */
const BEYOND_MATCH_WINDOW = 70_000;
/** Arrays up to this size are compared with `toEqual`. */
const SMALL_ARRAY_BYTES = 4096;

/** Deterministic bytes (xorshift32), so a failure reproduces. */
function seededBytes(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = seed | 0 || 1;
  for (let index = 0; index < length; index++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[index] = state & 0xff;
  }
  return bytes;
}

function utf8(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'utf8'));
}

/** Plain Uint8Array copy, so comparisons never depend on Buffer vs Uint8Array. */
function plain(bytes: Uint8Array): Uint8Array {
  return Uint8Array.from(bytes);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/** The `code` of what `run` throws, or 'returned' when it does not throw. */
function outcomeOf(run: () => unknown): string {
  try {
    run();
    return 'returned';
  } catch (error) {
    const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
    return typeof code === 'string' ? code : `uncoded: ${String(error)}`;
  }
}

/**
 * Asserts equal bytes. Small arrays go through `toEqual` for a readable diff; large ones are
 * compared natively (jest's element-wise walk takes seconds on a megabyte) and report the
 * first differing index.
 */
function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  if (expected.length <= SMALL_ARRAY_BYTES) {
    expect(plain(actual)).toEqual(plain(expected));
    return;
  }
  expect(actual.length).toBe(expected.length);
  const same = Buffer.compare(Buffer.from(actual.buffer, actual.byteOffset, actual.length), Buffer.from(expected)) === 0;
  expect(same ? -1 : actual.findIndex((byte, index) => byte !== expected[index])).toBe(-1);
}

/** A size-prefixed block from hex, for hand-built malformed inputs. */
function frame(declared: number, blockHex: string): Uint8Array {
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32LE(declared, 0);
  return concat(prefix, Buffer.from(blockHex, 'hex'));
}

const sourceLike = plain(readFileSync(require.resolve('typescript/lib/typescript.js')).subarray(0, ONE_MIB));

describe('native-bindings', () => {
  it('runs the native addons unless STRATA_NATIVE=js forces the fallbacks', () => {
    const expected = forcedJsFallback() ? 'js' : 'native';
    expect(nativeBackends()).toEqual({ hash: expected, lz4: expected, stat: expected, astColumns: expected });
    expect(hashBackend).toBe(expected);
    expect(lz4Backend).toBe(expected);
  });

  it('reads STRATA_NATIVE as js only for "js", and as auto for anything else', () => {
    expect(nativeModeFrom('js')).toBe('js');
    expect(nativeModeFrom(' JS ')).toBe('js');
    expect(nativeModeFrom(undefined)).toBe('auto');
    expect(nativeModeFrom('')).toBe('auto');
    expect(nativeModeFrom('auto')).toBe('auto');
    expect(nativeModeFrom('native')).toBe('auto');
    expect(nativeModeFrom('jsx')).toBe('auto');
  });
});

describe('xxh64', () => {
  const vectors: ReadonlyArray<readonly [string, bigint]> = [
    ['', 0xef46db3751d8e999n],
    ['a', 0xd24ec4f1a98c6e5bn],
    ['abc', 0x44bc2cf5ad770999n],
    // 39 bytes: one 32-byte stripe, then the 8-, 4- and 1-byte tail steps.
    ['Nobody inspects the spammish repetition', 0xfbcea83c8a378bf1n],
  ];

  it.each(vectors)('hashes the reference vector %j to the published value in both backends', (text, expected) => {
    expect(xxh64Js(utf8(text))).toBe(expected);
    expect(xxh64(utf8(text))).toBe(expected);
    expect(xxh64Hex(utf8(text))).toBe(expected.toString(16).padStart(16, '0'));
    expect(xxh64String(text)).toBe(expected.toString(16).padStart(16, '0'));
  });

  it('exports the empty-input hash', () => {
    expect(XXH64_OF_EMPTY).toBe(0xef46db3751d8e999n);
  });

  it('produces identical hashes from the native and the JS backend for every length from 0 to 100', () => {
    const source = seededBytes(100, 7);
    for (let length = 0; length <= 100; length++) {
      const bytes = source.subarray(0, length);
      expect([length, xxh64Js(bytes)]).toEqual([length, addonXxh64(bytes)]);
    }
  });

  it('produces identical hashes from the native and the JS backend for a 1 MB random buffer', () => {
    const bytes = seededBytes(ONE_MIB, 42);
    expect(xxh64Js(bytes)).toBe(addonXxh64(bytes));
    expect(xxh64(bytes)).toBe(addonXxh64(bytes));
  });

  it('produces identical hashes when the high bytes are all set (carry and sign paths)', () => {
    const bytes = new Uint8Array(77).fill(0xff);
    expect(xxh64Js(bytes)).toBe(addonXxh64(bytes));
  });

  it('hashes a view over a SharedArrayBuffer at an offset as its own bytes', () => {
    const slab = new SharedArrayBuffer(4096);
    const view = new Uint8Array(slab, 13, 1000);
    view.set(seededBytes(1000, 3));
    new Uint8Array(slab).fill(0xaa, 0, 13); // neighbours must not leak into the hash
    const copy = plain(view);
    expect(xxh64(view)).toBe(addonXxh64(copy));
    expect(xxh64Js(view)).toBe(addonXxh64(copy));
    expect(xxh64Hex(view)).toBe(xxh64Hex(copy));
  });

  it('zero-pads hex digests to 16 characters', () => {
    let text = '';
    for (let attempt = 0; ; attempt++) {
      text = `pad-${attempt}`;
      if (addonXxh64(text) < 1n << 60n) break; // first hex digit is 0
    }
    const expected = addonXxh64(text).toString(16).padStart(16, '0');
    expect(expected.startsWith('0')).toBe(true);
    expect(xxh64String(text)).toBe(expected);
    expect(xxh64Hex(utf8(text))).toBe(expected);
  });

  it('hashes strings as their UTF-8 bytes, lone surrogates as U+FFFD', () => {
    for (const text of ['é😀', 'x\ud800y', '\udc00']) {
      expect(xxh64String(text)).toBe(xxh64Hex(utf8(text)));
    }
    expect(xxh64String('\ud800')).toBe(xxh64Hex(utf8('\ufffd')));
  });
});

describe('lz4', () => {
  const repeatedRandom = seededBytes(BEYOND_MATCH_WINDOW, 11);
  const datasets: ReadonlyArray<readonly [string, Uint8Array]> = [
    ['empty', new Uint8Array(0)],
    ['one byte', utf8('x')],
    ['12 bytes', utf8('abcabcabcabc')],
    ['13 bytes', utf8('abcabcabcabca')],
    ['repetitive', utf8('ab'.repeat(50_000))],
    ['zeros', new Uint8Array(100_000)],
    ['random', seededBytes(65_536, 5)],
    ['distant repeat', concat(repeatedRandom, repeatedRandom)],
    ['1 MB of source', sourceLike],
  ];

  it('records one codec id for both backends', () => {
    expect(LZ4_CODEC_ID).toBe('lz4-block-v1');
  });

  it('writes the lz4-napi framing: a little-endian u32 size, then the block', () => {
    const input = utf8('hello hello hello hello hello hello');
    const fromJs = Buffer.from(lz4CompressJs(input));
    const fromAddon = addonCompress(Buffer.from(input));
    expect(fromJs.readUInt32LE(0)).toBe(input.length);
    expect(fromAddon.readUInt32LE(0)).toBe(input.length);
    expect(plain(lz4CompressJs(new Uint8Array(0)))).toEqual(plain(addonCompress(Buffer.alloc(0))));
  });

  it.each(datasets)('round-trips %s through every backend pairing', (_name, data) => {
    const fromJs = lz4CompressJs(data);
    const fromAddon = addonCompress(Buffer.from(data));
    expectSameBytes(lz4DecompressJs(fromJs), data); // js -> js
    expectSameBytes(addonUncompress(Buffer.from(fromJs)), data); // js -> native
    expectSameBytes(lz4DecompressJs(fromAddon), data); // native -> js
    expectSameBytes(lz4Decompress(lz4Compress(data)), data); // adapter -> adapter
    expectSameBytes(lz4Decompress(fromJs), data);
  });

  it('compresses repetitive and source-like input about as well as the native codec', () => {
    const repetitive = utf8('ab'.repeat(50_000));
    expect(lz4CompressJs(repetitive).length).toBeLessThan(1_000);
    const jsSize = lz4CompressJs(sourceLike).length;
    const nativeSize = addonCompress(Buffer.from(sourceLike)).length;
    expect(jsSize).toBeLessThan(sourceLike.length / 2);
    expect(jsSize).toBeLessThan(nativeSize * 1.1);
  });

  it('stays within the LZ4 worst-case bound on incompressible input', () => {
    const random = seededBytes(65_536, 9);
    expect(lz4CompressJs(random).length).toBeLessThanOrEqual(4 + 65_536 + Math.floor(65_536 / 255) + 16);
  });

  it('compresses and decompresses views over a SharedArrayBuffer at an offset', () => {
    const slab = new SharedArrayBuffer(8192);
    const view = new Uint8Array(slab, 21, 3000);
    view.set(utf8('export const answer = 42;\n'.repeat(200)).subarray(0, 3000));
    const expected = plain(view);
    expect(plain(lz4Decompress(lz4Compress(view)))).toEqual(expected);
    expect(plain(lz4DecompressJs(lz4CompressJs(view)))).toEqual(expected);

    const compressed = lz4CompressJs(expected);
    const slab2 = new SharedArrayBuffer(compressed.length + 64);
    const compressedView = new Uint8Array(slab2, 33, compressed.length);
    compressedView.set(compressed);
    expect(plain(lz4Decompress(compressedView))).toEqual(expected);
    expect(plain(lz4DecompressJs(compressedView))).toEqual(expected);
  });

  describe('on malformed input', () => {
    const decoders: ReadonlyArray<readonly [string, (bytes: Uint8Array) => Uint8Array]> = [
      ['the JS decoder', (bytes) => lz4DecompressJs(bytes)],
      ['the adapter', (bytes) => lz4Decompress(bytes)],
    ];
    const payload = utf8(readFileSync(__filename, 'utf8').slice(0, 2_000));
    const compressed = lz4CompressJs(payload);

    it.each(decoders)('%s throws ECORRUPT on every truncation', (_name, decode) => {
      for (let length = 0; length < compressed.length; length++) {
        expect([length, outcomeOf(() => decode(compressed.subarray(0, length)))]).toEqual([length, 'ECORRUPT']);
      }
    });

    it.each(decoders)('%s throws ECORRUPT on garbage', (_name, decode) => {
      for (let seed = 1; seed <= 500; seed++) {
        const garbage = seededBytes(5 + (seed % 200), seed);
        new DataView(garbage.buffer).setUint32(0, seed * 4, true); // a plausible declared size
        expect([seed, outcomeOf(() => decode(garbage))]).toEqual([seed, 'ECORRUPT']);
      }
    });

    it('returns the declared size or throws ECORRUPT for every single-bit flip, identically in both backends', () => {
      // LZ4 blocks carry no checksum: a flipped literal decodes to wrong bytes of the right size.
      // Callers verify content against its hash; the decoder only guarantees safety and agreement.
      for (let bit = 0; bit < compressed.length * 8; bit++) {
        const flipped = Uint8Array.from(compressed);
        flipped[bit >> 3]! ^= 1 << (bit & 7);
        const js = outcomeOf(() => expect(lz4DecompressJs(flipped).length).toBe(payload.length));
        const adapter = outcomeOf(() => expect(lz4Decompress(flipped).length).toBe(payload.length));
        expect([bit, js]).toEqual([bit, adapter]);
        expect(['returned', 'ECORRUPT']).toContain(js);
      }
    });

    it.each(decoders)('%s throws ECORRUPT when the size prefix is flipped', (_name, decode) => {
      for (let bit = 0; bit < 32; bit++) {
        const flipped = Uint8Array.from(compressed);
        flipped[bit >> 3]! ^= 1 << (bit & 7);
        expect([bit, outcomeOf(() => decode(flipped))]).toEqual([bit, 'ECORRUPT']);
      }
    });

    it.each(decoders)('%s refuses a declared size above the cap before allocating it', (_name, decode) => {
      expect(outcomeOf(() => decode(frame(0xffff_ffff, '00')))).toBe('ECORRUPT');
      expect(outcomeOf(() => decode(frame(DEFAULT_MAX_OUTPUT_BYTES + 1, '00')))).toBe('ECORRUPT');
    });

    it.each(decoders)('%s refuses a declared size the block could never expand to', (_name, decode) => {
      expect(outcomeOf(() => decode(frame(1_000_000, '00')))).toBe('ECORRUPT');
      // A dense valid block stays allowed: one literal, a match of 19 + 255 * 9 bytes, an empty
      // final sequence; 15 block bytes expand 154-fold.
      const extensions = 'ff'.repeat(9) + '00';
      const dense = frame(1 + 19 + 255 * 9, '1f61' + '0100' + extensions + '00');
      expect(decode(dense).length).toBe(1 + 19 + 255 * 9);
    });

    it('honours a caller-given maxOutputBytes', () => {
      const data = lz4CompressJs(new Uint8Array(100));
      expect(outcomeOf(() => lz4Decompress(data, 99))).toBe('ECORRUPT');
      expect(outcomeOf(() => lz4DecompressJs(data, 99))).toBe('ECORRUPT');
      expect(lz4Decompress(data, 100).length).toBe(100);
      expect(lz4DecompressJs(data, 100).length).toBe(100);
      expect(outcomeOf(() => lz4Decompress(data, -1))).toBe('EINVALIDOPTION');
      expect(outcomeOf(() => lz4DecompressJs(data, Number.NaN))).toBe('EINVALIDOPTION');
    });

    it.each(decoders)('%s throws ECORRUPT when a block decodes shorter than it declares', (_name, decode) => {
      // lz4_flex alone would return the 5 bytes; both backends must refuse it.
      expect(outcomeOf(() => decode(frame(10, '506162636465')))).toBe('ECORRUPT');
    });

    it.each(decoders)('%s throws ECORRUPT on a zero or out-of-range match offset', (_name, decode) => {
      expect(outcomeOf(() => decode(frame(10, '1061' + '0000' + '00')))).toBe('ECORRUPT');
      expect(outcomeOf(() => decode(frame(10, '1061' + '0200' + '00')))).toBe('ECORRUPT');
    });

    it.each(decoders)('%s ends quickly on an endless-looking length extension', (_name, decode) => {
      const started = Date.now();
      const longRun = concat(frame(1_000, 'f0'), new Uint8Array(ONE_MIB).fill(0xff));
      expect(outcomeOf(() => decode(longRun))).toBe('ECORRUPT');
      expect(Date.now() - started).toBeLessThan(5_000);
    });
  });
});

describe('STRATA_NATIVE', () => {
  interface ChildReport {
    hash: string;
    lz4: string;
    hashReason: string | null;
    hexes: string[];
    compressedHex: string;
  }
  const hashed = ['', 'a', 'Nobody inspects the spammish repetition', 'é😀 x'.repeat(30)];
  const compressedText = 'const value = 1;\n'.repeat(100);
  const script = `
    const b = require(${JSON.stringify(INDEX_JS)});
    const texts = ${JSON.stringify(hashed)};
    process.stdout.write(JSON.stringify({
      hash: b.hashBackend,
      lz4: b.lz4Backend,
      hashReason: b.hashFallbackReason ?? null,
      hexes: texts.map((t) => b.xxh64String(t) + ':' + b.xxh64Hex(Buffer.from(t))),
      compressedHex: Buffer.from(b.lz4Compress(Buffer.from(${JSON.stringify(compressedText)}))).toString('hex'),
    }));
  `;

  function runChild(value: string | undefined): ChildReport {
    const env: NodeJS.ProcessEnv = { ...process.env };
    if (value === undefined) delete env['STRATA_NATIVE'];
    else env['STRATA_NATIVE'] = value;
    const child = spawnSync(process.execPath, ['-e', script], { env, encoding: 'utf8', timeout: 30_000 });
    if (child.status !== 0) throw new Error(`child exited ${String(child.status)}: ${child.stderr}`);
    return JSON.parse(child.stdout) as ChildReport;
  }

  it('forces the JS fallback in every adapter when set to js', () => {
    const report = runChild('js');
    expect(report.hash).toBe('js');
    expect(report.lz4).toBe('js');
    expect(report.hashReason).toBe('forced by STRATA_NATIVE=js');
  });

  it.each([['unset', undefined], ['auto', 'auto'], ['an unknown value', 'bogus']])(
    'loads the native addons when %s',
    (_label, value) => {
      const report = runChild(value);
      expect(report.hash).toBe('native');
      expect(report.lz4).toBe('native');
      expect(report.hashReason).toBeNull();
    },
  );

  it('hashes and compresses interchangeably under either setting', () => {
    const js = runChild('js');
    const native = runChild(undefined);
    expect(js.hexes).toEqual(native.hexes);
    expect(js.hexes).toEqual(hashed.map((text) => `${xxh64String(text)}:${xxh64Hex(utf8(text))}`));
    for (const report of [js, native]) {
      const compressed = new Uint8Array(Buffer.from(report.compressedHex, 'hex'));
      expect(Buffer.from(addonUncompress(Buffer.from(compressed))).toString('utf8')).toBe(compressedText);
      expect(Buffer.from(lz4DecompressJs(compressed)).toString('utf8')).toBe(compressedText);
    }
  });
});
