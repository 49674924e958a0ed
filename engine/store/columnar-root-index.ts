/**
 * A loaded root index ({@link ColumnarRootIndex}, records built from the file's columns on first
 * access) and the lookups the restart path asks of any index: is a file's stamp unchanged, and where
 * does each key's entry live.
 */
import { STAT_TIME_TOLERANCE_MS } from '../content/fingerprint.js';
import type { PackLocation } from './packs.js';
import { CONTENT_HASH_LENGTH, NUMBER_COLUMNS, NUMBER_LAST_ACCESS, NUMBER_LENGTH, NUMBER_OFFSET, NUMBER_SIZE, STAMP_COLUMNS, STAMP_CTIME, STAMP_DEV, STAMP_INO, STAMP_MTIME, type Columns, type IndexRecord, type RootIndex } from './root-index-format.js';
import { corrupt, isRootRelativePath } from './root-index-validation.js';

/**
 * A loaded index: a real `Map` of path → record whose records are built from the file's columns on
 * first access (`get`, iteration, `forEach`), then kept. Loading therefore costs one path string and
 * one map slot per record; record objects, keys and BigInts cost only when asked for, which a restart
 * does once per file that still exists. Records are plain objects, so spreading or copying one is
 * safe; `set`, `delete`, `has`, `size`, `keys` and `clear` are Map's own.
 *
 * Not-yet-built slots hold the record's row number: code that bypasses the overrides
 * (`Map.prototype.get.call`, `structuredClone`) would see it. Copy with `new Map(index)` instead.
 */
export class ColumnarRootIndex extends Map<string, IndexRecord> {
  readonly #columns: Columns;
  /** The last device id built: one BigInt shared by the whole tree instead of one per record. */
  #dev = 0n;

  /** @internal Built by `decodeIndex` (root-index-codec.ts). */
  constructor(columns: Columns, count: number) {
    super();
    this.#columns = columns;
    const { paths, pathLengths } = columns;
    let at = 0;
    for (let i = 0; i < count; i++) {
      const file = paths.slice(at, (at += pathLengths[i] as number));
      if (!isRootRelativePath(file)) throw corrupt(`record ${i}: not a root-relative path`);
      super.set(file, i as unknown as IndexRecord);
    }
    if (super.size !== count) throw corrupt('duplicate paths');
  }

  override get(path: string): IndexRecord | undefined {
    const value = super.get(path) as IndexRecord | number | undefined;
    return typeof value === 'number' ? this.#build(path, value) : value;
  }

  /**
   * The record's last-access time when `path`'s stamp equals the given one, without building the
   * record (the restart path asks this once per file); undefined when absent or different.
   */
  accessIfSameStamp(path: string, size: number, mtimeNs: bigint, ctimeNs: bigint, ino: bigint, dev: bigint): number | undefined {
    const value = super.get(path) as IndexRecord | number | undefined;
    if (value === undefined) return undefined;
    if (typeof value !== 'number') return sameStamp(value, size, mtimeNs, ctimeNs, ino, dev) ? value.lastAccessMs : undefined;
    const { times, ids, numbers } = this.#columns;
    const s = value * STAMP_COLUMNS;
    const n = value * NUMBER_COLUMNS;
    const same = numbers[n + NUMBER_SIZE] === size && times[s + STAMP_MTIME] === mtimeNs && times[s + STAMP_CTIME] === ctimeNs && ids[s + STAMP_INO] === ino && ids[s + STAMP_DEV] === dev;
    return same ? (numbers[n + NUMBER_LAST_ACCESS] as number) : undefined;
  }

  /**
   * {@link accessIfSameStamp} for a plain `fs.Stats` (millisecond times, number ids): times within
   * {@link STAT_TIME_TOLERANCE_MS} count as equal, ids as their nearest doubles.
   */
  accessIfSameStats(path: string, stats: PlainStamp): number | undefined {
    const value = super.get(path) as IndexRecord | number | undefined;
    if (value === undefined) return undefined;
    if (typeof value !== 'number') return sameStats(value, stats) ? value.lastAccessMs : undefined;
    const { halves, numbers } = this.#columns;
    const n = value * NUMBER_COLUMNS;
    const h = value * STAMP_COLUMNS * 2;
    const same =
      numbers[n + NUMBER_SIZE] === stats.size &&
      timeMatches(halves[h + 2 * STAMP_MTIME + 1] as number, halves[h + 2 * STAMP_MTIME] as number, stats.mtimeMs) &&
      timeMatches(halves[h + 2 * STAMP_CTIME + 1] as number, halves[h + 2 * STAMP_CTIME] as number, stats.ctimeMs) &&
      idMatches(halves[h + 2 * STAMP_INO + 1] as number, halves[h + 2 * STAMP_INO] as number, stats.ino) &&
      idMatches(halves[h + 2 * STAMP_DEV + 1] as number, halves[h + 2 * STAMP_DEV] as number, stats.dev);
    return same ? (numbers[n + NUMBER_LAST_ACCESS] as number) : undefined;
  }

  /** {@link plainStampOf} for this index: from the columns for a record not built yet (no record, no BigInt). */
  plainStampOf(path: string): PlainRecordStamp | undefined {
    const value = super.get(path) as IndexRecord | number | undefined;
    if (value === undefined) return undefined;
    if (typeof value !== 'number') return plainStampOfRecord(value);
    const { halves, numbers } = this.#columns;
    const n = value * NUMBER_COLUMNS;
    const h = value * STAMP_COLUMNS * 2;
    const mtimeHigh = halves[h + 2 * STAMP_MTIME + 1] as number;
    const mtimeLow = halves[h + 2 * STAMP_MTIME] as number;
    return {
      size: numbers[n + NUMBER_SIZE] as number,
      mtimeMs: mtimeHigh === NEVER_MATCHES_HALF && mtimeLow === NEVER_MATCHES_HALF ? NaN : msOfHalves(mtimeHigh, mtimeLow),
      ctimeMs: msOfHalves(halves[h + 2 * STAMP_CTIME + 1] as number, halves[h + 2 * STAMP_CTIME] as number),
      ino: idOfHalves(halves[h + 2 * STAMP_INO + 1] as number, halves[h + 2 * STAMP_INO] as number),
      dev: idOfHalves(halves[h + 2 * STAMP_DEV + 1] as number, halves[h + 2 * STAMP_DEV] as number),
      lastAccessMs: numbers[n + NUMBER_LAST_ACCESS] as number,
    };
  }

  /** @internal Key → location of every record, from the columns for records not built yet. */
  keyLocations(): Map<string, PackLocation> {
    const { numbers, packOf, packs, keyStarts, keyLengths } = this.#columns;
    const keys = this.#columns.keys.text();
    const locations = new Map<string, PackLocation>();
    for (const value of super.values() as MapIterator<IndexRecord | number>) {
      if (typeof value !== 'number') {
        locations.set(value.key, value.location);
        continue;
      }
      const n = value * NUMBER_COLUMNS;
      const keyStart = keyStarts[value] as number;
      locations.set(keys.slice(keyStart, keyStart + (keyLengths[value] as number)), { pack: packs[packOf[value] as number] as string, offset: numbers[n + NUMBER_OFFSET] as number, length: numbers[n + NUMBER_LENGTH] as number });
    }
    return locations;
  }

  override forEach(callback: (value: IndexRecord, key: string, map: Map<string, IndexRecord>) => void, thisArg?: unknown): void {
    for (const [path, record] of this.entries()) callback.call(thisArg, record, path, this);
  }

  override *entries(): MapIterator<[string, IndexRecord]> {
    for (const [path, value] of super.entries() as MapIterator<[string, IndexRecord | number]>) {
      yield [path, typeof value === 'number' ? this.#build(path, value) : value];
    }
  }

  override *values(): MapIterator<IndexRecord> {
    for (const [, record] of this.entries()) yield record;
  }

  override [Symbol.iterator](): MapIterator<[string, IndexRecord]> {
    return this.entries();
  }

  #build(path: string, row: number): IndexRecord {
    const { times, ids, numbers, packOf, packs, hashes, keyStarts, keyLengths } = this.#columns;
    const keys = this.#columns.keys.text();
    const n = row * NUMBER_COLUMNS;
    const s = row * STAMP_COLUMNS;
    const keyStart = keyStarts[row] as number;
    const hash = row * CONTENT_HASH_LENGTH;
    const mtimeNs = times[s + STAMP_MTIME] as bigint;
    const ctimeNs = times[s + STAMP_CTIME] as bigint;
    if (ids[s + STAMP_DEV] !== this.#dev) this.#dev = ids[s + STAMP_DEV] as bigint;
    const record: IndexRecord = {
      size: numbers[n + NUMBER_SIZE] as number,
      mtimeNs,
      // Equal BigInts are shared: a file's ctime often equals its mtime.
      ctimeNs: ctimeNs === mtimeNs ? mtimeNs : ctimeNs,
      ino: ids[s + STAMP_INO] as bigint,
      dev: this.#dev,
      contentHash: hashes.slice(hash, hash + CONTENT_HASH_LENGTH),
      key: keys.slice(keyStart, keyStart + (keyLengths[row] as number)),
      location: { pack: packs[packOf[row] as number] as string, offset: numbers[n + NUMBER_OFFSET] as number, length: numbers[n + NUMBER_LENGTH] as number },
      lastAccessMs: numbers[n + NUMBER_LAST_ACCESS] as number,
    };
    super.set(path, record);
    return record;
  }
}

function sameStamp(record: IndexRecord, size: number, mtimeNs: bigint, ctimeNs: bigint, ino: bigint, dev: bigint): boolean {
  return record.mtimeNs === mtimeNs && record.ctimeNs === ctimeNs && record.size === size && record.ino === ino && record.dev === dev;
}

/** What {@link accessIfSameStats} compares: the fields of a plain (number) `fs.Stats`. */
export interface PlainStamp {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly ino: number;
  readonly dev: number;
}

const TWO_TO_32 = 4294967296;
/** -1 ns as (high, low) int32 halves: the mark of a racy record (ast-persistence), never equal to a file's time. */
const NEVER_MATCHES_HALF = -1;

/** A signed nanosecond time, as int32 halves, in milliseconds. */
function msOfHalves(high: number, low: number): number {
  // high * 2^32 is exact; adding the low half rounds once (to within 128 ns at today's times).
  return (high * TWO_TO_32 + (low >>> 0)) / 1e6;
}

/** Whether a signed nanosecond time, as int32 halves, equals a millisecond double to {@link STAT_TIME_TOLERANCE_MS}. */
function timeMatches(high: number, low: number, ms: number): boolean {
  if (high === NEVER_MATCHES_HALF && low === NEVER_MATCHES_HALF) return false;
  const difference = msOfHalves(high, low) - ms;
  return difference < STAT_TIME_TOLERANCE_MS && difference > -STAT_TIME_TOLERANCE_MS;
}

/** An unsigned 64-bit id, as int32 halves, as the nearest double (as Node rounds it in plain stats). */
function idOfHalves(high: number, low: number): number {
  return (high >>> 0) * TWO_TO_32 + (low >>> 0);
}

function timeMatchesNs(ns: bigint, ms: number): boolean {
  if (ns === -1n) return false;
  const difference = Number(ns) / 1e6 - ms;
  return difference < STAT_TIME_TOLERANCE_MS && difference > -STAT_TIME_TOLERANCE_MS;
}

/** Whether an unsigned 64-bit id, as int32 halves, rounds to the same double as `value` (as Node rounds it in plain stats). */
function idMatches(high: number, low: number, value: number): boolean {
  return idOfHalves(high, low) === value;
}

function sameStats(record: IndexRecord, stats: PlainStamp): boolean {
  return record.size === stats.size && timeMatchesNs(record.mtimeNs, stats.mtimeMs) && timeMatchesNs(record.ctimeNs, stats.ctimeMs) && Number(record.ino) === stats.ino && Number(record.dev) === stats.dev;
}

/**
 * A record's stamp as a plain (number) `fs.Stats` gives it, and its last access: what the restart
 * receipt expects of the file (engine/restart/receipt-writer.ts). `mtimeMs` is NaN for a racy record
 * (stored as never matching).
 */
export interface PlainRecordStamp {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly ino: number;
  readonly dev: number;
  readonly lastAccessMs: number;
}

function plainStampOfRecord(record: IndexRecord): PlainRecordStamp {
  return { size: record.size, mtimeMs: record.mtimeNs < 0n ? NaN : Number(record.mtimeNs) / 1e6, ctimeMs: Number(record.ctimeNs) / 1e6, ino: Number(record.ino), dev: Number(record.dev), lastAccessMs: record.lastAccessMs };
}

/** `path`'s record stamp as plain numbers (a loaded index answers from its columns, building no record); undefined when absent. */
export function plainStampOf(index: RootIndex, path: string): PlainRecordStamp | undefined {
  if (index instanceof ColumnarRootIndex) return index.plainStampOf(path);
  const record = index.get(path);
  return record === undefined ? undefined : plainStampOfRecord(record);
}

/**
 * The last-access time of `path`'s record when its stamp matches a plain `fs.Stats` (see
 * {@link ColumnarRootIndex.accessIfSameStats}); undefined when there is no record or it differs.
 */
export function accessIfSameStats(index: RootIndex, path: string, stats: PlainStamp): number | undefined {
  if (index instanceof ColumnarRootIndex) return index.accessIfSameStats(path, stats);
  const record = index.get(path);
  return record !== undefined && sameStats(record, stats) ? record.lastAccessMs : undefined;
}

/**
 * The last-access time of `path`'s record when its stamp (size, mtime, ctime, inode, device) equals
 * the given one; undefined when there is no record or it differs. A loaded index answers from its
 * columns without building the record.
 */
export function accessIfSameStamp(index: RootIndex, path: string, size: number, mtimeNs: bigint, ctimeNs: bigint, ino: bigint, dev: bigint): number | undefined {
  if (index instanceof ColumnarRootIndex) return index.accessIfSameStamp(path, size, mtimeNs, ctimeNs, ino, dev);
  const record = index.get(path);
  return record !== undefined && sameStamp(record, size, mtimeNs, ctimeNs, ino, dev) ? record.lastAccessMs : undefined;
}

/** Key → location of every record (a loaded index answers from its columns, building no record). */
export function keyLocations(index: RootIndex): Map<string, PackLocation> {
  return index instanceof ColumnarRootIndex ? index.keyLocations() : new Map([...index.values()].map((record) => [record.key, record.location]));
}
