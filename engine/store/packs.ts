/**
 * Immutable pack files: many entry records (shared/entry-format.ts) written in one batch, with one
 * fsync. A pack is never modified after its rename into place, so readers need no lock and several
 * processes never write the same file (names carry time, pid and randomness).
 *
 * ```
 * offset        size   contents (little-endian)
 * 0             16     header: PACK_MAGIC "SPAK" u32, PACK_FORMAT_VERSION u16, ENTRY_FORMAT_VERSION u16, 8 bytes 0
 * 16            …      records, each starting at a multiple of PACK_ALIGNMENT (zero padding between)
 * tocOffset     …      table of contents, per record: offset u64, length u32, key length u32, key (UTF-8)
 * size - 32     32     footer: tocOffset u64, tocLength u32, entryCount u32, PACK_FORMAT_VERSION u16,
 *                       ENTRY_FORMAT_VERSION u16, FOOTER_MAGIC "SPKF" u32, checksum u64
 * ```
 *
 * The footer's checksum is XXH64 of `[tocOffset, size - 8)`: the table of contents and every footer
 * field before it. A pack can therefore be listed and verified without any index (`listPack`), and
 * each record carries its own checksum besides, so a reader that only has a location (from an index)
 * validates exactly what it reads.
 *
 * Writing: the whole pack is assembled in memory, written to `<name>.pack.<random>.tmp` in the packs
 * directory, fsynced once, renamed to `<name>.pack`, and the directory is fsynced. A crash leaves at
 * most a `.tmp` file, which no listing treats as a pack and the bound reclaims.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { xxh64 } from '../../native-bindings/hash.js';
import { ENTRY_ALIGNMENT, ENTRY_FORMAT_VERSION } from '../../shared/entry-format.js';
import { StrataError } from '../../shared/errors.js';
import { ensurePrivateDir, isMissing, PACK_SUFFIX, uniqueToken, writeFileAtomic, writeFileAtomicAsync, openIfPresent } from './layout.js';

/** Version of the pack layout. Bump on any change; older packs are then reclaimed by the bound. */
export const PACK_FORMAT_VERSION = 1;
/** The bytes `S`, `P`, `A`, `K` as a little-endian u32. */
export const PACK_MAGIC = 0x4b415053;
/** The bytes `S`, `P`, `K`, `F` as a little-endian u32. */
export const PACK_FOOTER_MAGIC = 0x464b5053;
/** Records start at multiples of this (an entry's payload is aligned within its record too). */
export const PACK_ALIGNMENT = ENTRY_ALIGNMENT;

// Header fields (byte offsets).
const HEADER_OFFSET_MAGIC = 0;
const HEADER_OFFSET_VERSION = 4;
const HEADER_OFFSET_ENTRY_VERSION = 6;
/** Size of the header; the first record starts here. */
export const PACK_HEADER_BYTES = 16;

// Table-of-contents record fields (byte offsets within one TOC record).
const TOC_OFFSET_OFFSET = 0;
const TOC_OFFSET_LENGTH = 8;
const TOC_OFFSET_KEY_LENGTH = 12;
const TOC_FIXED_BYTES = 16;

// Footer fields (byte offsets from the footer's start).
const FOOTER_OFFSET_TOC_OFFSET = 0;
const FOOTER_OFFSET_TOC_LENGTH = 8;
const FOOTER_OFFSET_ENTRY_COUNT = 12;
const FOOTER_OFFSET_VERSION = 16;
const FOOTER_OFFSET_ENTRY_VERSION = 18;
const FOOTER_OFFSET_MAGIC = 20;
const FOOTER_OFFSET_CHECKSUM = 24;
/** Size of the footer, the last bytes of every pack. */
export const PACK_FOOTER_BYTES = 32;

/** A pack name as this module writes it; anything else in `packs/` is not a pack. */
const PACK_NAME = /^[0-9a-z]{1,12}-[0-9a-z]{1,8}-[0-9a-f]{12}\.pack$/;
/** No record is larger than this (u32 length fields; an entry is far smaller in practice). */
const MAX_RECORD_BYTES = 0xffff_ffff;
/** Descriptors a reader keeps open by default. */
export const DEFAULT_OPEN_PACKS = 16;
/** {@link PackReader.readTransient} keeps a buffer of up to this many bytes for its reads. */
const SCRATCH_MAX_BYTES = 1024 * 1024;
/**
 * Once reads of one pack run in order (a bulk load in index order: entries were packed in the order
 * their files were indexed), one read fetches this many bytes ahead and the next entries are copied
 * out of it: a pread costs ~3 µs on a VM, about what an entry's decompression does. Random reads
 * never trigger it.
 */
const READ_AHEAD_BYTES = 256 * 1024;
/** Reads this close after the previous one's end count as in order (entry padding, a skipped entry). */
const IN_ORDER_GAP_BYTES = 4096;

/** Where one entry record lives. */
export interface PackLocation {
  /** The pack's file name (no directory), e.g. `lq3x9a-1f2e-0a1b2c3d4e5f.pack`. */
  readonly pack: string;
  /** Byte offset of the record in the pack. */
  readonly offset: number;
  /** Byte length of the record. */
  readonly length: number;
}

/** One entry as listed by a pack's table of contents. */
export interface PackTocEntry extends PackLocation {
  readonly key: string;
}

/** True when `name` is a pack file name (not a temporary file, not anything else). */
export function isPackName(name: string): boolean {
  return PACK_NAME.test(name);
}

/** True when `location` is well-formed: a pack name and a range that can hold a record. */
export function isValidLocation(location: PackLocation): boolean {
  return typeof location.pack === 'string' && isPackName(location.pack) && isValidRange(location);
}

/** True when `location`'s range can hold a record (its pack name aside). */
function isValidRange(location: PackLocation): boolean {
  return (
    Number.isSafeInteger(location.offset) &&
    location.offset >= PACK_HEADER_BYTES &&
    Number.isSafeInteger(location.length) &&
    location.length > 0 &&
    location.length <= MAX_RECORD_BYTES
  );
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const UINT32_SPAN = 0x1_0000_0000;

function setU64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value % UINT32_SPAN, true);
  view.setUint32(offset + 4, Math.floor(value / UINT32_SPAN), true);
}

function getU64(view: DataView, offset: number): number {
  return view.getUint32(offset + 4, true) * UINT32_SPAN + view.getUint32(offset, true);
}

/** Padding between records, shared (read-only): never more than one alignment step. */
const ZERO_PADDING = new Uint8Array(PACK_ALIGNMENT);

function alignUp(value: number): number {
  return Math.ceil(value / PACK_ALIGNMENT) * PACK_ALIGNMENT;
}

/** What one flush wrote. */
export interface PackFlush {
  /** The pack's file name. */
  readonly pack: string;
  /** Size of the pack file in bytes. */
  readonly bytes: number;
  /** Where each appended key's record lives (the last append wins for a repeated key). */
  readonly locations: Map<string, PackLocation>;
}

/** One pack's bytes, assembled and not yet written. */
export interface PackBuild {
  /** The pack file's bytes, in order (records by reference: they must not change until written). */
  readonly chunks: readonly Uint8Array[];
  /** What writing them produces. */
  readonly flush: PackFlush;
}

/**
 * Buffers entry records and writes them as one pack per {@link flush}. Appended bytes are kept by
 * reference until the flush: do not modify them in between.
 */
export class PackWriter {
  readonly #dir: string;
  #keys: string[] = [];
  #records: Uint8Array[] = [];
  #bytes = 0;

  /** @param packsDir the `packs/` directory (created on the first flush if missing). */
  constructor(packsDir: string) {
    this.#dir = packsDir;
  }

  /** Entries waiting for the next flush. */
  get pendingCount(): number {
    return this.#records.length;
  }

  /** Record bytes waiting for the next flush (padding and table of contents aside). */
  get pendingBytes(): number {
    return this.#bytes;
  }

  /** Queues one encoded entry record (from `encodeEntry`) under `key`. */
  append(key: string, record: Uint8Array): void {
    if (record.length === 0 || record.length > MAX_RECORD_BYTES) throw new RangeError(`pack record length ${record.length} out of range`);
    this.#keys.push(key);
    this.#records.push(record);
    this.#bytes += record.length;
  }

  /** Drops everything queued. */
  discard(): void {
    this.#keys = [];
    this.#records = [];
    this.#bytes = 0;
  }

  /**
   * Writes everything queued as ONE pack (temporary file, one fsync, rename, directory fsync) and
   * returns where each entry landed; `null` when nothing is queued. On an I/O error it throws and
   * keeps the queue, so the caller may retry or {@link discard}.
   */
  flush(): PackFlush | null {
    const built = this.#build();
    if (built === null) return null;
    ensurePrivateDir(this.#dir);
    writeFileAtomic(path.join(this.#dir, built.flush.pack), built.chunks);
    this.discard();
    return built.flush;
  }

  /**
   * Takes everything queued as one pack's bytes (the queue is empty afterwards), to be written with
   * {@link writePackInBackground}; `null` when nothing is queued.
   */
  takePack(): PackBuild | null {
    const built = this.#build();
    if (built !== null) this.discard();
    return built;
  }

  /**
   * Writes a pack from {@link takePack} like {@link flush} (same steps, same guarantees), with the
   * I/O on the libuv pool so the calling thread goes on. Rejects on an I/O error: nothing was written.
   */
  async writePackInBackground(pack: PackBuild): Promise<void> {
    ensurePrivateDir(this.#dir);
    await writeFileAtomicAsync(path.join(this.#dir, pack.flush.pack), pack.chunks);
  }

  /** The queued records as one pack's chunks, and where each lands. Allocates per pack, not per record. */
  #build(): PackBuild | null {
    if (this.#records.length === 0) return null;
    const name = `${uniqueToken()}${PACK_SUFFIX}`;
    const chunks: Uint8Array[] = [];
    const locations = new Map<string, PackLocation>();
    const offsets: number[] = [];
    const keyLengths: number[] = [];

    const header = new Uint8Array(PACK_HEADER_BYTES);
    const headerView = new DataView(header.buffer);
    headerView.setUint32(HEADER_OFFSET_MAGIC, PACK_MAGIC, true);
    headerView.setUint16(HEADER_OFFSET_VERSION, PACK_FORMAT_VERSION, true);
    headerView.setUint16(HEADER_OFFSET_ENTRY_VERSION, ENTRY_FORMAT_VERSION, true);
    chunks.push(header);
    let offset = PACK_HEADER_BYTES;
    let tocLength = 0;
    for (let i = 0; i < this.#records.length; i++) {
      const record = this.#records[i] as Uint8Array;
      const key = this.#keys[i] as string;
      const padded = alignUp(offset);
      if (padded > offset) chunks.push(ZERO_PADDING.subarray(0, padded - offset));
      offset = padded;
      chunks.push(record);
      const keyLength = Buffer.byteLength(key, 'utf8');
      offsets.push(offset);
      keyLengths.push(keyLength);
      tocLength += TOC_FIXED_BYTES + keyLength;
      locations.set(key, { pack: name, offset, length: record.length });
      offset += record.length;
    }
    const tocOffset = offset;
    const tail = new Uint8Array(tocLength + PACK_FOOTER_BYTES);
    const tailView = new DataView(tail.buffer);
    let at = 0;
    for (let i = 0; i < offsets.length; i++) {
      const keyLength = keyLengths[i] as number;
      setU64(tailView, at + TOC_OFFSET_OFFSET, offsets[i] as number);
      tailView.setUint32(at + TOC_OFFSET_LENGTH, (this.#records[i] as Uint8Array).length, true);
      tailView.setUint32(at + TOC_OFFSET_KEY_LENGTH, keyLength, true);
      utf8Encoder.encodeInto(this.#keys[i] as string, tail.subarray(at + TOC_FIXED_BYTES, at + TOC_FIXED_BYTES + keyLength));
      at += TOC_FIXED_BYTES + keyLength;
    }
    setU64(tailView, at + FOOTER_OFFSET_TOC_OFFSET, tocOffset);
    tailView.setUint32(at + FOOTER_OFFSET_TOC_LENGTH, tocLength, true);
    tailView.setUint32(at + FOOTER_OFFSET_ENTRY_COUNT, offsets.length, true);
    tailView.setUint16(at + FOOTER_OFFSET_VERSION, PACK_FORMAT_VERSION, true);
    tailView.setUint16(at + FOOTER_OFFSET_ENTRY_VERSION, ENTRY_FORMAT_VERSION, true);
    tailView.setUint32(at + FOOTER_OFFSET_MAGIC, PACK_FOOTER_MAGIC, true);
    tailView.setBigUint64(at + FOOTER_OFFSET_CHECKSUM, xxh64(tail.subarray(0, at + FOOTER_OFFSET_CHECKSUM)), true);
    chunks.push(tail);
    return { chunks, flush: { pack: name, bytes: tocOffset + tail.length, locations } };
  }
}

/** Why a read found no record. */
export type PackMiss = 'invalid-location' | 'missing-pack' | 'out-of-range';

/** A read's outcome: the record's bytes, or why there are none. */
export type PackRead = { readonly bytes: Uint8Array; readonly miss?: undefined } | { readonly bytes: null; readonly miss: PackMiss };

/**
 * Reads records by location: one read of exactly the record's range, or, for reads in pack order,
 * one read ahead for the next entries. Keeps a few pack
 * descriptors open (least recently used closed first; packs are immutable, so an open descriptor
 * never sees a partial write). The first open of a pack stamps its mtime: the bound evicts the
 * least recently used packs by mtime (bounds.ts).
 */
export class PackReader {
  readonly #dir: string;
  readonly #maxOpen: number;
  /** pack name → descriptor, in least-recently-used-first order. */
  readonly #open = new Map<string, number>();
  /** The pack of the last read (already the most recent in {@link #open}). */
  #lastPack: string | null = null;
  /** Reused by {@link readTransient}. */
  #scratch: Uint8Array | null = null;
  /** Where the last read ended, and in which pack: a read starting just after it is in order. */
  #lastEnd = -1;
  #lastEndPack: string | null = null;
  /** Bytes read ahead of in-order reads: `ahead.length` bytes of `aheadPack` from `aheadOffset`. */
  #ahead: Uint8Array | null = null;
  #aheadPack: string | null = null;
  #aheadOffset = 0;
  #aheadLength = 0;

  constructor(packsDir: string, options: { maxOpen?: number } = {}) {
    this.#dir = packsDir;
    this.#maxOpen = Math.max(1, options.maxOpen ?? DEFAULT_OPEN_PACKS);
  }

  /** The record's bytes, or `null` when the pack is missing or the range lies outside it. Never throws for a missing pack. */
  read(location: PackLocation): Uint8Array | null {
    return this.readDetailed(location).bytes;
  }

  /** Like {@link read}, saying why nothing was read. */
  readDetailed(location: PackLocation): PackRead {
    return this.#read(location, false);
  }

  /**
   * Like {@link readDetailed}, but the bytes are a view into a buffer this reader reuses: valid until
   * its next read, so the caller copies what it keeps. Saves an allocation per read (loading one
   * small AST is a few microseconds, and the allocation was a fifth of it).
   */
  readTransient(location: PackLocation): PackRead {
    return this.#read(location, true);
  }

  #read(location: PackLocation, transient: boolean): PackRead {
    // The pack name is checked when its descriptor is opened (a cached one was checked then).
    if (!isValidRange(location) || typeof location.pack !== 'string') return { bytes: null, miss: 'invalid-location' };
    const fd = this.#descriptor(location.pack);
    if (fd === null) return { bytes: null, miss: 'invalid-location' };
    if (fd === undefined) return { bytes: null, miss: 'missing-pack' };
    const inOrder = location.pack === this.#lastEndPack && location.offset >= this.#lastEnd && location.offset - this.#lastEnd <= IN_ORDER_GAP_BYTES;
    this.#lastEndPack = location.pack;
    this.#lastEnd = location.offset + location.length;
    // A fresh ArrayBuffer (not Buffer's shared pool): offset 0, so the aligned payload stays aligned.
    const bytes = transient && location.length <= SCRATCH_MAX_BYTES ? this.#scratchOf(location.length) : new Uint8Array(location.length);
    if (this.#copyAhead(location, bytes) || (inOrder && location.length <= READ_AHEAD_BYTES && this.#readAhead(fd, location) && this.#copyAhead(location, bytes))) return { bytes };
    return readAt(fd, bytes, location.offset) === bytes.length ? { bytes } : { bytes: null, miss: 'out-of-range' };
  }

  /** Copies the entry out of the read-ahead bytes when they hold all of it. */
  #copyAhead(location: PackLocation, into: Uint8Array): boolean {
    if (this.#ahead === null || location.pack !== this.#aheadPack) return false;
    const start = location.offset - this.#aheadOffset;
    if (start < 0 || start + location.length > this.#aheadLength) return false;
    into.set(this.#ahead.subarray(start, start + location.length));
    return true;
  }

  /** Reads up to READ_AHEAD_BYTES of the pack from the entry's offset (fewer at its end). */
  #readAhead(fd: number, location: PackLocation): boolean {
    this.#ahead ??= new Uint8Array(READ_AHEAD_BYTES);
    this.#aheadPack = location.pack;
    this.#aheadOffset = location.offset;
    this.#aheadLength = readAt(fd, this.#ahead, location.offset);
    return this.#aheadLength >= location.length;
  }

  /** Closes every descriptor. The reader stays usable (descriptors reopen on demand). */
  close(): void {
    for (const fd of this.#open.values()) fs.closeSync(fd);
    this.#open.clear();
    this.#lastPack = null;
    this.#scratch = null;
    this.#ahead = null;
    this.#aheadPack = null;
    this.#lastEndPack = null;
  }

  /** A view of `length` bytes at offset 0 of the reused buffer (grown by doubling). */
  #scratchOf(length: number): Uint8Array {
    if (this.#scratch === null || this.#scratch.length < length) this.#scratch = new Uint8Array(Math.min(SCRATCH_MAX_BYTES, Math.max(length, 2 * (this.#scratch?.length ?? 4096))));
    return this.#scratch.subarray(0, length);
  }

  /** The pack's descriptor; undefined when the pack is missing, null when `pack` is not a pack name. */
  #descriptor(pack: string): number | undefined | null {
    const cached = this.#open.get(pack);
    if (cached !== undefined) {
      if (pack !== this.#lastPack) {
        this.#open.delete(pack);
        this.#open.set(pack, cached);
        this.#lastPack = pack;
      }
      return cached;
    }
    if (!isPackName(pack)) return null;
    let fd: number;
    try {
      fd = fs.openSync(path.join(this.#dir, pack), 'r');
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
    touch(fd);
    if (this.#open.size >= this.#maxOpen) {
      const [oldest, oldestFd] = this.#open.entries().next().value as [string, number];
      this.#open.delete(oldest);
      fs.closeSync(oldestFd);
    }
    this.#open.set(pack, fd);
    this.#lastPack = pack;
    return fd;
  }
}

/** Fills `into` from `position` of the file, or as much as the file holds there; answers the bytes read. */
function readAt(fd: number, into: Uint8Array, position: number): number {
  let done = 0;
  while (done < into.length) {
    const read = fs.readSync(fd, into, done, into.length - done, position + done);
    if (read === 0) break;
    done += read;
  }
  return done;
}

/** Stamps a pack as used now (its mtime is its last use). A read-only cache simply keeps its times. */
function touch(fd: number): void {
  const now = new Date();
  try {
    fs.futimesSync(fd, now, now);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'EACCES' && code !== 'EROFS') throw error;
  }
}

/** Reads the version fields of a pack's header without validating the rest; `null` if unreadable. */
export function readPackVersion(file: string): { packVersion: number; entryVersion: number } | null {
  const fd = openIfPresent(file);
  if (fd === null) return null;
  try {
    const header = new Uint8Array(PACK_HEADER_BYTES);
    if (fs.readSync(fd, header, 0, PACK_HEADER_BYTES, 0) < PACK_HEADER_BYTES) return null;
    const view = new DataView(header.buffer);
    if (view.getUint32(HEADER_OFFSET_MAGIC, true) !== PACK_MAGIC) return null;
    return { packVersion: view.getUint16(HEADER_OFFSET_VERSION, true), entryVersion: view.getUint16(HEADER_OFFSET_ENTRY_VERSION, true) };
  } finally {
    fs.closeSync(fd);
  }
}

function corruptPack(file: string, what: string): StrataError {
  return new StrataError('ECORRUPT', `Corrupt pack ${path.basename(file)}: ${what}`, file);
}

/**
 * Lists a pack's records from its own table of contents, checking the header, the footer and the
 * footer's checksum. `null` when the file does not exist; `StrataError('ECORRUPT')` when it is not
 * a complete pack of this format version.
 */
export function listPack(file: string): PackTocEntry[] | null {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
  const name = path.basename(file);
  if (bytes.length < PACK_HEADER_BYTES + PACK_FOOTER_BYTES) throw corruptPack(file, `${bytes.length} bytes is too short`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(HEADER_OFFSET_MAGIC, true) !== PACK_MAGIC) throw corruptPack(file, 'bad header magic');
  if (view.getUint16(HEADER_OFFSET_VERSION, true) !== PACK_FORMAT_VERSION) throw corruptPack(file, `format version ${view.getUint16(HEADER_OFFSET_VERSION, true)}`);
  const footer = bytes.length - PACK_FOOTER_BYTES;
  if (view.getUint32(footer + FOOTER_OFFSET_MAGIC, true) !== PACK_FOOTER_MAGIC) throw corruptPack(file, 'bad footer magic');
  const tocOffset = getU64(view, footer + FOOTER_OFFSET_TOC_OFFSET);
  const tocLength = view.getUint32(footer + FOOTER_OFFSET_TOC_LENGTH, true);
  const count = view.getUint32(footer + FOOTER_OFFSET_ENTRY_COUNT, true);
  if (tocOffset < PACK_HEADER_BYTES || tocOffset + tocLength !== footer) throw corruptPack(file, 'table of contents out of bounds');
  const checksum = xxh64(bytes.subarray(tocOffset, footer + FOOTER_OFFSET_CHECKSUM));
  if (checksum !== view.getBigUint64(footer + FOOTER_OFFSET_CHECKSUM, true)) throw corruptPack(file, 'footer checksum mismatch');
  const entries: PackTocEntry[] = [];
  let at = tocOffset;
  for (let i = 0; i < count; i++) {
    if (at + TOC_FIXED_BYTES > footer) throw corruptPack(file, 'table of contents truncated');
    const offset = getU64(view, at + TOC_OFFSET_OFFSET);
    const length = view.getUint32(at + TOC_OFFSET_LENGTH, true);
    const keyLength = view.getUint32(at + TOC_OFFSET_KEY_LENGTH, true);
    const keyEnd = at + TOC_FIXED_BYTES + keyLength;
    if (keyEnd > footer || offset < PACK_HEADER_BYTES || offset + length > tocOffset) throw corruptPack(file, `record ${i} out of bounds`);
    let key: string;
    try {
      key = utf8Decoder.decode(bytes.subarray(at + TOC_FIXED_BYTES, keyEnd));
    } catch (error) {
      throw new StrataError('ECORRUPT', `Corrupt pack ${name}: key ${i} is not UTF-8`, file, { cause: error });
    }
    entries.push({ pack: name, offset, length, key });
    at = keyEnd;
  }
  if (at !== footer) throw corruptPack(file, 'table of contents has trailing bytes');
  return entries;
}
