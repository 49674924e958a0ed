/**
 * The restart receipt's file (`runs/<index id>.receipt`): what a whole-tree warm of an unchanged
 * tree needs to know, laid out for one batch lstat and one loop, so that `strata warm` answers it
 * without loading the index, the engine or the walk (git's index is the model: its stat data sits
 * in one flat file that `git status` compares in one pass).
 *
 * Layout: a 16-byte header (magic u32, version u32, xxh64 of the rest u64), then a u32 length and a
 * JSON meta of that many bytes, then at the next multiple of 8 the snapshot's rows as the addon takes
 * them (native-bindings/stat-batch.ts, `snapshotSpec`), then at the next multiple of 8 the expected
 * stamps: EXPECTED_FIELDS doubles per path (native-bindings/stat-compare.ts), in the batch's order
 * (each row's directory, then its files).
 *
 * Derived and disposable: a receipt names the checksum of the index it was built from, so it
 * describes nothing once the index is replaced; a file that fails any check is not used (the warm
 * takes the full path, which writes a new one).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { xxh64 } from '../../native-bindings/hash.js';
import { EXPECTED_FIELDS } from '../../native-bindings/stat-compare.js';
import { ensurePrivateDir, FILE_MODE } from '../store/layout.js';

const MAGIC = 0x54435253; // "SRCT"
const VERSION = 1;
const HEADER_BYTES = 16;
const ALIGNMENT = 8;
/** Receipts larger than this are refused unread (a hostile file cannot make us allocate more). */
const MAX_RECEIPT_BYTES = 256 * 1024 * 1024;

export interface RestartReceipt {
  /** The header checksum of the index this receipt was built from. */
  readonly indexChecksum: bigint;
  /** The AST key prefix of that index (TypeScript's version and the parse settings). */
  readonly keyPrefix: string;
  /** The walk key of its directory snapshot (root realpath, pruning options, outer ignore rules). */
  readonly walkKey: string;
  /** The `maxFileSize` every stored file was within when it was built. */
  readonly maxFileSize: number;
  /** The oldest last-access time among the records: past the access resolution, a warm re-stamps them (full path). */
  readonly oldestAccessMs: number;
  /** Snapshot rows (directories). */
  readonly rows: number;
  /** Paths stat'ed: every row's directory and every file. */
  readonly paths: number;
  /** The files' total size (what a warm reports as `bytes`). */
  readonly bytes: number;
  /** The rows as `lstatSnapshotSpec` takes them. */
  readonly spec: Uint8Array;
  /** {@link EXPECTED_FIELDS} numbers per path. */
  readonly expected: Float64Array;
  /** Directories (root-relative) whose `.gitignore` text the snapshot holds, with that text (an edit in place leaves the directory's stamp alone). */
  readonly gitignores: readonly (readonly [rel: string, text: string])[];
}

/** The receipt's JSON part: its fields but the binary ones, the checksum as hex. */
type ReceiptMeta = Omit<RestartReceipt, 'indexChecksum' | 'spec' | 'expected'> & { readonly indexChecksum: string; readonly specBytes: number };

const align = (offset: number): number => Math.ceil(offset / ALIGNMENT) * ALIGNMENT;

export function encodeReceipt(receipt: RestartReceipt): Uint8Array {
  const meta: ReceiptMeta = {
    indexChecksum: receipt.indexChecksum.toString(16),
    keyPrefix: receipt.keyPrefix,
    walkKey: receipt.walkKey,
    maxFileSize: receipt.maxFileSize,
    oldestAccessMs: receipt.oldestAccessMs,
    rows: receipt.rows,
    paths: receipt.paths,
    bytes: receipt.bytes,
    specBytes: receipt.spec.length,
    gitignores: receipt.gitignores,
  };
  const metaBytes = Buffer.from(JSON.stringify(meta), 'utf8');
  const specAt = align(HEADER_BYTES + 4 + metaBytes.length);
  const expectedAt = align(specAt + receipt.spec.length);
  const bytes = new Uint8Array(expectedAt + receipt.expected.byteLength);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, VERSION, true);
  view.setUint32(HEADER_BYTES, metaBytes.length, true);
  bytes.set(metaBytes, HEADER_BYTES + 4);
  bytes.set(receipt.spec, specAt);
  bytes.set(new Uint8Array(receipt.expected.buffer, receipt.expected.byteOffset, receipt.expected.byteLength), expectedAt);
  view.setBigUint64(8, xxh64(bytes.subarray(HEADER_BYTES)), true);
  return bytes;
}

/** The receipt in `bytes`, or null for anything that is not exactly what {@link encodeReceipt} writes. */
export function decodeReceipt(bytes: Uint8Array): RestartReceipt | null {
  if (bytes.length < HEADER_BYTES + 4 || bytes.byteOffset % ALIGNMENT !== 0) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC || view.getUint32(4, true) !== VERSION) return null;
  if (xxh64(bytes.subarray(HEADER_BYTES)) !== view.getBigUint64(8, true)) return null;
  const metaLength = view.getUint32(HEADER_BYTES, true);
  if (HEADER_BYTES + 4 + metaLength > bytes.length) return null;
  let meta: ReceiptMeta;
  try {
    meta = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + HEADER_BYTES + 4, metaLength).toString('utf8')) as ReceiptMeta;
  } catch {
    return null;
  }
  if (!validMeta(meta)) return null;
  const specAt = align(HEADER_BYTES + 4 + metaLength);
  const expectedAt = align(specAt + meta.specBytes);
  if (expectedAt + meta.paths * EXPECTED_FIELDS * 8 !== bytes.length) return null;
  const spec = bytes.subarray(specAt, specAt + meta.specBytes);
  if (spec.length === 0 || spec[spec.length - 1] !== 0) return null;
  return {
    indexChecksum: BigInt(`0x${meta.indexChecksum}`),
    keyPrefix: meta.keyPrefix,
    walkKey: meta.walkKey,
    maxFileSize: meta.maxFileSize,
    oldestAccessMs: meta.oldestAccessMs,
    rows: meta.rows,
    paths: meta.paths,
    bytes: meta.bytes,
    spec,
    expected: new Float64Array(bytes.buffer, bytes.byteOffset + expectedAt, meta.paths * EXPECTED_FIELDS),
    gitignores: meta.gitignores,
  };
}

function validMeta(meta: unknown): meta is ReceiptMeta {
  if (typeof meta !== 'object' || meta === null) return false;
  const m = meta as Record<string, unknown>;
  const natural = (value: unknown): boolean => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
  if (typeof m.indexChecksum !== 'string' || !/^[0-9a-f]{1,16}$/.test(m.indexChecksum)) return false;
  if (typeof m.keyPrefix !== 'string' || typeof m.walkKey !== 'string') return false;
  if (!natural(m.maxFileSize) || typeof m.oldestAccessMs !== 'number' || !Number.isFinite(m.oldestAccessMs)) return false;
  if (!natural(m.rows) || !natural(m.paths) || !natural(m.bytes) || !natural(m.specBytes) || (m.rows as number) < 1 || (m.paths as number) < (m.rows as number)) return false;
  if (!Array.isArray(m.gitignores)) return false;
  for (const entry of m.gitignores as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string' || typeof entry[1] !== 'string') return false;
  }
  return true;
}

/** The receipt at `file`; null when absent, unreadable or not a valid receipt. */
export function readReceipt(file: string): RestartReceipt | null {
  let bytes: Buffer;
  try {
    if (fs.statSync(file).size > MAX_RECEIPT_BYTES) return null;
    bytes = fs.readFileSync(file);
  } catch {
    return null;
  }
  // readFileSync's buffer may sit at any offset of a pooled allocation: the doubles need 8-alignment.
  return decodeReceipt(bytes.byteOffset % ALIGNMENT === 0 ? bytes : new Uint8Array(bytes));
}

/**
 * Replaces the receipt by rename (owner-only, like every cache file), not fsynced: after a power cut
 * a receipt that did not reach the disk fails its checksum, and one that did names an index whose
 * own write was synced before it; either way the next warm takes the full path at worst. (An fsync
 * of file and directory is ~35 ms on this VM, on every warm that changes the index.)
 */
export function writeReceipt(file: string, receipt: RestartReceipt): void {
  ensurePrivateDir(path.dirname(file));
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(temporary, encodeReceipt(receipt), { mode: FILE_MODE });
    fs.renameSync(temporary, file);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
}

/** Removes a receipt that no longer describes the index (best effort: a stale one is refused by its checksum anyway). */
export function removeReceipt(file: string): void {
  fs.rmSync(file, { force: true });
}
