/** Real temporary directory trees for tests. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export type TreeSpec = Record<string, string | Uint8Array>;

export interface TempTree {
  readonly root: string;
  write(relative: string, content: string | Uint8Array): string;
  remove(): void;
}

export function makeTree(spec: TreeSpec = {}, prefix = 'strata-test-'): TempTree {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  const write = (relative: string, content: string | Uint8Array): string => {
    const file = path.join(root, relative);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
    return file;
  };
  for (const [relative, content] of Object.entries(spec)) write(relative, content);
  return { root, write, remove: () => fs.rmSync(root, { recursive: true, force: true }) };
}

/** Sets a file's mtime into the past so it is not "racy" (cached within 2 s of its last change). */
export function ageFile(file: string, seconds = 10): void {
  const when = new Date(Date.now() - seconds * 1000);
  fs.utimesSync(file, when, when);
}

export const CLI = path.join(__dirname, '..', '..', 'engine', 'cli', 'main.js');
