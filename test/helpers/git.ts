/** Git in a test's temporary tree. */
import { spawnSync } from 'node:child_process';

/** A `git ARGS` runner for `root` (with a commit identity set); throws git's stderr when it fails. */
export function gitIn(root: string): (...args: string[]) => void {
  return (...args) => {
    const result = spawnSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd: root, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(result.stderr);
  };
}
