import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const SOURCE_EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs'];

/**
 * Every source file of at most `maxBytes` under `dir` (symlinks not followed), sorted so runs are
 * reproducible; when they add up to more than `maxTotalBytes`, every k-th of them.
 */
export function sourceFilesUnder(dir: string, maxBytes: number, maxTotalBytes: number): string[] {
  const found: string[] = [];
  let total = 0;
  const pending = [dir];
  while (pending.length > 0) {
    const current = pending.pop()!;
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = join(current, entry.name);
      if (entry.isDirectory()) pending.push(full);
      else if (entry.isFile() && SOURCE_EXTENSIONS.some((ext) => entry.name.endsWith(ext))) {
        const size = statSync(full).size;
        if (size > maxBytes) continue;
        found.push(full);
        total += size;
      }
    }
  }
  found.sort();
  const stride = Math.ceil(total / maxTotalBytes);
  return stride <= 1 ? found : found.filter((_file, i) => i % stride === 0);
}
