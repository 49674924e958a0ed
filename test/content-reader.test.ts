import * as fs from 'node:fs';
import * as path from 'node:path';
import { ContentCache } from '../engine/content/content-cache.js';
import { ContentReader, type ContentRead } from '../engine/content/content-reader.js';
import { makeTree, type TempTree } from './helpers/temp-tree.js';

const MiB = 1024 * 1024;
/** A clock far past every file time: entries are never "racy" unless a test says so. */
const LATER = (): bigint => BigInt(Date.now() + 3_600_000) * 1_000_000n;

function text(read: ContentRead): string {
  if (read.type === 'cached') return Buffer.from(read.entry.buffer, read.entry.offset, read.entry.length).toString();
  if (read.type === 'transient') return Buffer.from(read.content.buffer, read.content.offset, read.content.length).toString();
  throw new Error(`expected content, got ${JSON.stringify(read)}`);
}

describe('ContentReader', () => {
  let tree: TempTree;
  let cache: ContentCache;
  let reader: ContentReader;
  const read = (name: string): ContentRead => reader.read(name, path.join(tree.root, name));

  beforeEach(() => {
    tree = makeTree({ 'a.ts': 'export const a = 1;\n' });
    cache = new ContentCache({ budget: 8 * MiB, pressureThreshold: 0.8, aggressiveThreshold: 0.9 });
    reader = new ContentReader(cache, { maxFileSize: MiB, validation: 'stat', clock: LATER });
  });
  afterEach(() => tree.remove());

  it('serves an unchanged file from memory without reading it again', () => {
    const first = read('a.ts');
    const second = read('a.ts');
    expect(first.type === 'cached' && first.from).toBe('disk');
    expect(second.type === 'cached' && second.from).toBe('memory');
    expect(second.type === 'cached' && first.type === 'cached' && second.entry).toBe(first.type === 'cached' && first.entry);
    expect(cache.snapshot()).toMatchObject({ hits: 1, misses: 1 });
  });

  it('returns the new content after an edit', () => {
    read('a.ts');
    fs.writeFileSync(path.join(tree.root, 'a.ts'), 'export const a = 2; // longer\n');
    expect(text(read('a.ts'))).toBe('export const a = 2; // longer\n');
  });

  it('returns the new content after a truncation', () => {
    read('a.ts');
    fs.truncateSync(path.join(tree.root, 'a.ts'), 6);
    expect(text(read('a.ts'))).toBe('export');
  });

  it('reports a deleted file as ENOENT and drops its entry', () => {
    read('a.ts');
    fs.unlinkSync(path.join(tree.root, 'a.ts'));
    const after = read('a.ts');
    expect(after).toMatchObject({ type: 'failed', code: 'ENOENT' });
    expect(cache.has('a.ts')).toBe(false);
  });

  it('sees a same-size edit whose mtime was put back (the ctime still moves)', () => {
    const file = path.join(tree.root, 'a.ts');
    const wholeSecond = 1_700_000_000; // restorable exactly, unlike a fractional mtime
    fs.utimesSync(file, wholeSecond, wholeSecond);
    const before = fs.statSync(file, { bigint: true });
    read('a.ts');
    fs.writeFileSync(file, 'export const b = 1;\n'); // same length
    fs.utimesSync(file, wholeSecond, wholeSecond);
    expect(fs.statSync(file, { bigint: true }).mtimeNs).toBe(before.mtimeNs);
    expect(text(read('a.ts'))).toBe('export const b = 1;\n');
  });

  it('re-hashes an entry cached within 2 seconds of its file changing (racy clean)', () => {
    const file = path.join(tree.root, 'a.ts');
    const mtimeNs = fs.statSync(file, { bigint: true }).mtimeNs;
    let now = mtimeNs + 500_000_000n; // cached half a second after the last change
    reader = new ContentReader(cache, { maxFileSize: MiB, validation: 'stat', clock: () => now });
    const first = read('a.ts');
    expect(first.type === 'cached' && first.entry.racy).toBe(true);
    // Same fingerprint, but a racy entry is re-hashed: same bytes → re-stamped, not replaced.
    now = mtimeNs + 10_000_000_000n;
    const second = read('a.ts');
    expect(reader.restamps).toBe(1);
    expect(second.type === 'cached' && second.entry.racy).toBe(false);
    read('a.ts');
    expect(reader.restamps).toBe(1); // no longer racy: trusted on its fingerprint
  });

  it('sees an edit made within the same second as the cached read', () => {
    reader = new ContentReader(cache, { maxFileSize: MiB, validation: 'stat' }); // the real clock
    const file = path.join(tree.root, 'a.ts');
    const second = Math.floor(Date.now() / 1000);
    fs.utimesSync(file, second, second);
    read('a.ts');
    fs.writeFileSync(file, 'export const z = 9;\n');
    fs.utimesSync(file, second, second);
    expect(text(read('a.ts'))).toBe('export const z = 9;\n');
  });

  it('re-stamps instead of re-reading when only the stat data changed (touch, fresh clone)', () => {
    const file = path.join(tree.root, 'a.ts');
    const first = read('a.ts');
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(file, later, later);
    const second = read('a.ts');
    expect(reader.restamps).toBe(1);
    expect(second.type === 'cached' && first.type === 'cached' && second.entry).toBe(first.type === 'cached' && first.entry);
  });

  it('skips binary files and files over the size limit, and fails invalid UTF-8', () => {
    tree.write('bin.ts', Buffer.from([0x61, 0x00, 0x62]));
    tree.write('big.ts', 'x'.repeat(MiB + 1));
    tree.write('latin1.ts', Buffer.from([0x63, 0x6f, 0x6e, 0x73, 0x74, 0x20, 0xe9, 0x3b]));
    expect(read('bin.ts')).toEqual({ type: 'skipped', reason: 'binary' });
    expect(read('big.ts')).toEqual({ type: 'skipped', reason: 'too-large' });
    expect(read('latin1.ts')).toMatchObject({ type: 'failed', code: 'EINVALIDUTF8' });
    expect(cache.size).toBe(0);
  });

  it('hands out content L1 cannot hold as a transient buffer, never dropping it', () => {
    const small = new ContentCache({ budget: 4096, pressureThreshold: 0.8, aggressiveThreshold: 0.9 });
    reader = new ContentReader(small, { maxFileSize: MiB, validation: 'stat', clock: LATER });
    tree.write('large.ts', 'y'.repeat(100_000));
    const result = read('large.ts');
    expect(result.type).toBe('transient');
    expect(text(result)).toBe('y'.repeat(100_000));
    expect(small.usedBytes).toBe(0);
  });

  it('trusts the cache without a stat when validation is off', () => {
    reader = new ContentReader(cache, { maxFileSize: MiB, validation: 'none', clock: LATER });
    read('a.ts');
    fs.writeFileSync(path.join(tree.root, 'a.ts'), 'changed');
    expect(text(read('a.ts'))).toBe('export const a = 1;\n');
  });
});
