/**
 * The restart receipt's check: every path it names lstat'ed and compared in one native pass over a
 * few threads (native-bindings/stat-compare.ts; in JS, a batch lstat then one loop), no strings, no
 * index, no records. It answers only when every path shows the stamp the receipt expects, by the same rules as
 * the unchanged-tree check (discovery/unchanged-tree.ts) and the index's own test
 * (`persistence.unchanged`):
 * - each directory: a directory whose mtime, ctime, inode and device equal the stored stamp exactly;
 * - each file: a regular file with one link, within `maxFileSize`, whose size, inode and device equal
 *   its record's and whose mtime and ctime match it to {@link STAT_TIME_TOLERANCE_MS};
 * - each stored `.gitignore`: the same text;
 * - the walk key (root, pruning options, the ignore rules from outside the root) unchanged.
 * At the first difference it says what differs, and the caller takes the full path.
 */
import { STAT_TIME_TOLERANCE_MS } from '../content/fingerprint.js';
import { readIgnoreFile } from '../discovery/ignore-rules.js';
import type { WalkSetup } from '../discovery/walk-setup.js';
import { firstSnapshotDifference } from '../../native-bindings/stat-compare.js';
import type { RestartReceipt } from './receipt-file.js';

export type ReceiptVerdict =
  | { readonly unchanged: true; readonly files: number; readonly bytes: number }
  | { readonly unchanged: false; readonly changed: string };

const changed = (what: string): ReceiptVerdict => ({ unchanged: false, changed: what });

/**
 * @param setup the walk's setup for the root and options asked for now (its key must be the receipt's)
 * @param maxFileSize the option asked for now
 */
export function checkReceipt(receipt: RestartReceipt, setup: Pick<WalkSetup, 'rootReal' | 'walkKey'>, maxFileSize: number): ReceiptVerdict {
  if (receipt.walkKey !== setup.walkKey) return changed('another walk key');
  if (receipt.maxFileSize !== maxFileSize) return changed('another maxFileSize');
  let difference: number;
  try {
    difference = firstSnapshotDifference(setup.rootReal, receipt.spec, receipt.rows, receipt.expected, maxFileSize, STAT_TIME_TOLERANCE_MS);
  } catch {
    return changed('the receipt does not hold its rows and paths');
  }
  if (difference === receipt.paths) return changed('the receipt does not hold its rows');
  if (difference !== -1) return changed(`path ${difference} of the receipt changed`);
  for (const [rel, text] of receipt.gitignores) {
    const read = readIgnoreFile(rel === '' ? `${setup.rootReal}/.gitignore` : `${setup.rootReal}/${rel}/.gitignore`);
    if (read.error !== undefined || read.text !== text) return changed(`${rel || '.'}/.gitignore changed`);
  }
  return { unchanged: true, files: receipt.paths - receipt.rows, bytes: receipt.bytes };
}
