/**
 * Files a git checkout reports as changed: modified or staged against HEAD, and untracked files git
 * does not ignore. Used by `strata warm --changed` so CI warms what a change touched first.
 * Returns null when the root is not inside a git work tree or git is unavailable (not an error).
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

export function gitChangedFiles(root: string): string[] | null {
  const git = (args: string[]): string | null => {
    try {
      return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 * 1024 * 1024 });
    } catch {
      return null; // not a checkout, no git, or no commit yet
    }
  };
  const top = git(['rev-parse', '--show-toplevel'])?.trim();
  if (!top) return null;
  const changed = git(['diff', '--name-only', '-z', 'HEAD', '--', '.']) ?? git(['diff', '--name-only', '-z', '--cached', '--', '.']) ?? '';
  const untracked = git(['ls-files', '--others', '--exclude-standard', '-z', '--', '.']) ?? '';
  const files = new Set<string>();
  // diff names are relative to the top of the work tree; ls-files names to the cwd (the root).
  for (const name of changed.split('\0')) if (name) files.add(path.join(top, name));
  for (const name of untracked.split('\0')) if (name) files.add(path.join(root, name));
  return [...files].filter((file) => file === root || file.startsWith(root + path.sep)).sort();
}
