/**
 * The directory snapshot's part of a root index file (layout: root-index-format.ts, format 2):
 * encoding it beside the records and decoding it back as a {@link DirectorySnapshot}, validated
 * (untrusted bytes: a stored name the walk would follow out of its directory is refused).
 */
import { DirectorySnapshot } from '../discovery/discovery.js';
import { DIR_STAMP_COLUMNS, type SnapshotSizes } from './root-index-format.js';
import { corrupt, isRootRelativePath, naturalField } from './root-index-validation.js';

/** Per directory: its root-relative path, this, then its items. */
const PATH_END = '\0';
/** A directory's items: kind characters and names (directory-snapshot.ts); no name is `.` or `..`. */
const ITEMS = /^(?:[fdrl][^/\0]+(?:\/[fdrl][^/\0]+)*)?$/;
const DOT_NAME = /(?:^|\/)[fdrl]\.\.?(?:\/|$)/;

/** The snapshot's texts and meta fields, ready to be laid out. */
export interface EncodedSnapshot {
  readonly sizes: SnapshotSizes;
  readonly meta: { readonly walkKey: string; readonly dirs: number; readonly dirBytes: number; readonly ignoreBytes: number };
  readonly dirText: Buffer;
  readonly ignoreText: Buffer;
}

export function encodeSnapshot(snapshot: DirectorySnapshot): EncodedSnapshot {
  const dirs: string[] = [];
  const ignores: string[] = [];
  for (let i = 0; i < snapshot.size; i++) {
    const rel = snapshot.rels[i] as string;
    const items = snapshot.items[i] as string;
    if ((rel !== '' && !isRootRelativePath(rel)) || !ITEMS.test(items) || DOT_NAME.test(items)) throw new RangeError(`directory snapshot row ${i}: not a root-relative path or items`);
    dirs.push(rel + PATH_END + items);
    const ignore = snapshot.gitignores[i];
    if (ignore !== null && ignore !== undefined) ignores.push(ignore);
  }
  const dirText = Buffer.from(dirs.join(''), 'utf8');
  const ignoreText = Buffer.from(ignores.join(''), 'utf8');
  const sizes = { dirs: snapshot.size, dirBytes: dirText.length, ignoreBytes: ignoreText.length };
  return { sizes, meta: { walkKey: snapshot.walkKey, ...sizes }, dirText, ignoreText };
}

/** Writes the snapshot's columns and texts at their offsets. */
export function writeSnapshot(bytes: Uint8Array, at: { dirStamps: number; dirLengths: number; ignoreLengths: number; dirs: number; ignores: number }, snapshot: DirectorySnapshot, encoded: EncodedSnapshot): void {
  const count = snapshot.size;
  new Float64Array(bytes.buffer, at.dirStamps, count * DIR_STAMP_COLUMNS).set(snapshot.stamps);
  const dirLengths = new Uint32Array(bytes.buffer, at.dirLengths, count);
  const ignoreLengths = new Uint32Array(bytes.buffer, at.ignoreLengths, count);
  for (let i = 0; i < count; i++) {
    dirLengths[i] = (snapshot.rels[i] as string).length + PATH_END.length + (snapshot.items[i] as string).length;
    const ignore = snapshot.gitignores[i];
    ignoreLengths[i] = ignore === null || ignore === undefined ? 0 : ignore.length + 1;
  }
  bytes.set(encoded.dirText, at.dirs);
  bytes.set(encoded.ignoreText, at.ignores);
}

/** The snapshot's sizes from the meta: null when it has none; all or none of the fields must be there. */
export function snapshotSizesOf(fields: Record<string, unknown>): { sizes: SnapshotSizes; walkKey: string } | null {
  if (fields.walkKey === undefined && fields.dirs === undefined && fields.dirBytes === undefined && fields.ignoreBytes === undefined) return null;
  if (typeof fields.walkKey !== 'string') throw corrupt('walkKey is not a string');
  return { walkKey: fields.walkKey, sizes: { dirs: naturalField(fields, 'dirs'), dirBytes: naturalField(fields, 'dirBytes'), ignoreBytes: naturalField(fields, 'ignoreBytes') } };
}

/** Decodes and validates the snapshot's part; throws ECORRUPT for anything a save would not have written. */
export function readSnapshot(buffer: Buffer, at: { dirStamps: number; dirLengths: number; ignoreLengths: number; dirs: number; ignores: number }, sizes: SnapshotSizes, walkKey: string): DirectorySnapshot {
  const count = sizes.dirs;
  const base = buffer.byteOffset;
  const stamps = new Float64Array(buffer.buffer, base + at.dirStamps, count * DIR_STAMP_COLUMNS).slice();
  const dirLengths = new Uint32Array(buffer.buffer, base + at.dirLengths, count);
  const ignoreLengths = new Uint32Array(buffer.buffer, base + at.ignoreLengths, count);
  const dirText = buffer.toString('utf8', at.dirs, at.dirs + sizes.dirBytes);
  const ignoreText = buffer.toString('utf8', at.ignores, at.ignores + sizes.ignoreBytes);
  const rels: string[] = [];
  const items: string[] = [];
  const gitignores: (string | null)[] = [];
  let dirAt = 0;
  let ignoreAt = 0;
  for (let i = 0; i < count; i++) {
    const s = i * DIR_STAMP_COLUMNS;
    // A NaN mtime is a racy stamp (never matches); every other field is a finite number.
    if (!Number.isFinite(stamps[s + 1] as number) || !Number.isFinite(stamps[s + 2] as number) || !Number.isFinite(stamps[s + 3] as number) || Number.isFinite(stamps[s] as number) === Number.isNaN(stamps[s] as number)) {
      throw corrupt(`directory ${i}: stamp out of range`);
    }
    const text = dirText.slice(dirAt, (dirAt += dirLengths[i] as number));
    const end = text.indexOf(PATH_END);
    const rel = end < 0 ? '\0' : text.slice(0, end);
    const kept = text.slice(end + 1);
    if ((rel !== '' && !isRootRelativePath(rel)) || !ITEMS.test(kept) || DOT_NAME.test(kept)) throw corrupt(`directory ${i}: not a root-relative path or items`);
    rels.push(rel);
    items.push(kept);
    const ignoreLength = ignoreLengths[i] as number;
    gitignores.push(ignoreLength === 0 ? null : ignoreText.slice(ignoreAt, (ignoreAt += ignoreLength - 1)));
  }
  if (dirAt !== dirText.length || ignoreAt !== ignoreText.length) throw corrupt('directory snapshot lengths do not add up');
  if (new Set(rels).size !== count) throw corrupt('duplicate directories');
  return new DirectorySnapshot(walkKey, rels, stamps, items, gitignores);
}
