/** Damaging the pack files of a tree's default cache directory (node_modules/.cache/strata). */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Flips every bit of the middle byte of each pack file under `root`'s default cache directory (one corrupt entry per pack). */
export function flipPackBytes(root: string): void {
  const packs = path.join(root, 'node_modules/.cache/strata/packs');
  for (const name of fs.readdirSync(packs)) {
    const file = path.join(packs, name);
    const bytes = fs.readFileSync(file);
    const middle = bytes.length >> 1;
    bytes[middle] = bytes[middle]! ^ 0xff;
    fs.writeFileSync(file, bytes);
  }
}
