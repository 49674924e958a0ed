/**
 * What a root index must look like to be written or loaded: a record a save would refuse, the
 * meta's numbers, the decoded columns and the paths. Load-side failures are `ECORRUPT`, which the
 * load answers as an empty index (root-index.ts).
 */
import { StrataError } from '../../shared/errors.js';
import { isPackName } from './packs.js';
import { NUMBER_COLUMNS, NUMBER_LAST_ACCESS, NUMBER_LENGTH, NUMBER_OFFSET, NUMBER_SIZE, type Columns, type IndexRecord } from './root-index-format.js';

const CONTENT_HASH = /^[0-9a-f]{16}$/;
const HEX_DIGITS = /^[0-9a-f]*$/;

/** The error every load-side check throws; the load answers it with an empty index. */
export function corrupt(what: string): StrataError {
  return new StrataError('ECORRUPT', `Corrupt index: ${what}`);
}

/**
 * Refuses a record that a load would refuse: writing it would make the whole index read as corrupt.
 * (BigInt fields are checked by `BigInt.asUintN`, which throws a TypeError for anything else.)
 */
export function checkRecord(file: string, record: IndexRecord): void {
  const natural = (value: number): boolean => Number.isSafeInteger(value) && value >= 0;
  const problem = !CONTENT_HASH.test(record.contentHash)
    ? 'contentHash must be 16 lowercase hex digits'
    : typeof record.key !== 'string'
      ? 'key must be a string'
      : !isPackName(record.location.pack)
        ? `location.pack ${JSON.stringify(record.location.pack)} is not a pack name`
        : !natural(record.size) || !natural(record.location.offset) || !natural(record.location.length) || record.location.length === 0
          ? 'size, location.offset and location.length must be natural numbers (length > 0)'
          : !Number.isFinite(record.lastAccessMs)
            ? 'lastAccessMs must be a finite number'
            : null;
  if (problem !== null) throw new RangeError(`index record ${JSON.stringify(file)}: ${problem}`);
}

/** A meta field that must be a natural number (a length). */
export function naturalField(fields: Record<string, unknown>, name: string): number {
  const value = fields[name];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw corrupt(`${name} is not a natural number`);
  return value;
}

/**
 * What every path Strata writes looks like: relative, `/`-separated, no empty, `.` or `..` segment,
 * no NUL. An index holding anything else was not written by Strata: the whole index is corrupt.
 * A few `indexOf`s per path: the restart path pays this for every record.
 */
export function isRootRelativePath(file: string): boolean {
  if (file === '' || file.charCodeAt(0) === 47 /* / */ || file.indexOf('\0') >= 0 || file.indexOf('//') >= 0 || file.endsWith('/')) return false;
  if (file.indexOf('.') < 0) return true;
  return !(file === '.' || file === '..' || file.startsWith('./') || file.startsWith('../') || file.endsWith('/.') || file.endsWith('/..') || file.indexOf('/./') >= 0 || file.indexOf('/../') >= 0);
}

/**
 * Checks every record without allocating anything per record: lengths add up, content hashes are
 * lowercase hex digits, pack ids are in range, numbers are natural (and the length positive).
 */
export function validateColumns(columns: Columns, count: number): void {
  const { paths, keys, hashes, pathLengths, keyLengths, keyStarts, numbers, packOf, packs } = columns;
  if (!HEX_DIGITS.test(hashes)) throw corrupt('a content hash is not lowercase hex');
  let pathsLength = 0;
  let keyAt = 0;
  for (let i = 0; i < count; i++) {
    pathsLength += pathLengths[i] as number;
    keyStarts[i] = keyAt;
    keyAt += keyLengths[i] as number;
    if ((packOf[i] as number) >= packs.length) throw corrupt(`record ${i}: pack id out of range`);
    const n = i * NUMBER_COLUMNS;
    const size = numbers[n + NUMBER_SIZE] as number;
    const offset = numbers[n + NUMBER_OFFSET] as number;
    const length = numbers[n + NUMBER_LENGTH] as number;
    if (!Number.isSafeInteger(size) || size < 0 || !Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length <= 0 || !Number.isFinite(numbers[n + NUMBER_LAST_ACCESS] as number)) {
      throw corrupt(`record ${i}: numbers out of range`);
    }
  }
  if (pathsLength !== paths.length) throw corrupt('path lengths do not add up');
  if (keyAt !== keys.length) throw corrupt('key lengths do not add up');
}
