/**
 * The ignore rules that reach a root from outside it, as git applies them when the root is the top
 * of a repository or a directory inside one: git's `core.excludesFile` (lowest precedence), the
 * repository's `info/exclude`, then each `.gitignore` from the repository's top down to the root's
 * parent. The walk adds the root's own `.gitignore` files on top.
 *
 * The repository is the nearest directory at or above the root holding `.git`: a directory, or a
 * file (`gitdir: …`, a linked worktree or submodule), whose `commondir` names the shared git
 * directory that holds `info/exclude` and `config`. `core.excludesFile` is read from git's config
 * files with `ini` (no child process per walk): the repository's `config`, then `~/.gitconfig`, then
 * `$XDG_CONFIG_HOME/git/config` (git's order, the first one that sets it wins here as in git), one
 * level of `[include] path` each; unset, git's default `$XDG_CONFIG_HOME/git/ignore` (or
 * `~/.config/git/ignore`). `includeIf` and the system config are not read.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ini from 'ini';
import { Layer, readIgnoreFile } from './ignore-rules.js';

export interface OuterIgnores {
  /** Lowest precedence first; each matches root-relative paths (its prefix leads from its own directory to the root). */
  readonly layers: readonly Layer[];
  /** Ignore files that exist but could not be read, and a root its outer rules ignore. */
  readonly warnings: readonly { readonly path: string; readonly message: string }[];
}

interface Repository {
  /** The work tree's top (holds `.git`). */
  readonly top: string;
  /** The shared git directory (info/exclude, config). */
  readonly commonDir: string;
}

const NONE: OuterIgnores = { layers: [], warnings: [] };

/** The outer ignore layers of `root`; none outside a git repository. */
export function repositoryIgnores(root: string, env: NodeJS.ProcessEnv = process.env): OuterIgnores {
  const rootReal = realpathOr(root);
  const repository = findRepository(rootReal);
  if (repository === null) return NONE;
  const layers: Layer[] = [];
  const warnings: { path: string; message: string }[] = [];
  const fromTop = relativeWithSlash(repository.top, rootReal);
  const add = (file: string, prefix: string): void => {
    const { text, error } = readIgnoreFile(file);
    if (error !== undefined) warnings.push({ path: path.relative(rootReal, file).split(path.sep).join('/'), message: `cannot read: ${(error as Error).message}` });
    else if (text !== undefined && text.trim() !== '') layers.push(new Layer('', [text], prefix));
  };
  const excludesFile = configuredExcludesFile(repository, env);
  if (excludesFile !== null) add(excludesFile, fromTop);
  add(path.join(repository.commonDir, 'info', 'exclude'), fromTop);
  // Each directory from the top down to the root's parent (the walk reads the root's own).
  let dir = repository.top;
  for (const segment of fromTop === '' ? [] : fromTop.slice(0, -1).split('/')) {
    add(path.join(dir, '.gitignore'), relativeWithSlash(dir, rootReal));
    dir = path.join(dir, segment);
  }
  if (fromTop !== '' && rootIgnored(layers)) {
    // Git would track nothing here; the caller asked for this root, so its own rules alone apply.
    warnings.push({ path: '.', message: `the root is ignored by the ignore rules above it (in ${repository.top}); they are not applied` });
    return { layers: [], warnings };
  }
  return { layers, warnings };
}

/** Whether the outer layers ignore the root directory itself (or a directory above it). */
function rootIgnored(layers: readonly Layer[]): boolean {
  for (let index = layers.length - 1; index >= 0; index--) {
    const result = layers[index]!.test(''); // '' is the root: its prefix alone
    if (result.ignored) return true;
    if (result.unignored) return false;
  }
  return false;
}

function findRepository(rootReal: string): Repository | null {
  for (let dir = rootReal; ; ) {
    const dotGit = path.join(dir, '.git');
    const stats = statOrNull(dotGit);
    if (stats?.isDirectory()) return { top: dir, commonDir: dotGit };
    if (stats?.isFile()) {
      const gitDir = linkedGitDir(dotGit);
      if (gitDir !== null) return { top: dir, commonDir: commonDirOf(gitDir) };
    }
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

/** The git directory a `.git` file names (`gitdir: PATH`, relative to the file's directory). */
function linkedGitDir(dotGitFile: string): string | null {
  const match = /^gitdir:\s*(.+?)\s*$/m.exec(readText(dotGitFile) ?? '');
  return match === null ? null : path.resolve(path.dirname(dotGitFile), match[1]!);
}

/** A linked worktree's git directory names the shared one in its `commondir` file. */
function commonDirOf(gitDir: string): string {
  const common = readText(path.join(gitDir, 'commondir'))?.trim();
  return common ? path.resolve(gitDir, common) : gitDir;
}

/** `core.excludesFile` as git's config files set it, else git's default; null without a home. */
function configuredExcludesFile(repository: Repository, env: NodeJS.ProcessEnv): string | null {
  const home = env.HOME ?? os.homedir();
  const xdg = env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME !== '' ? env.XDG_CONFIG_HOME : home ? path.join(home, '.config') : null;
  const configs = [path.join(repository.commonDir, 'config'), ...(home ? [path.join(home, '.gitconfig')] : []), ...(xdg ? [path.join(xdg, 'git', 'config')] : [])];
  for (const config of configs) {
    const value = excludesFileIn(config, true);
    if (value !== null) return expandPath(value, repository.top, home);
  }
  return xdg === null ? null : path.join(xdg, 'git', 'ignore');
}

/** The `core.excludesFile` a config file (or the file it includes) sets, or null. */
function excludesFileIn(config: string, followInclude: boolean): string | null {
  const text = readText(config);
  if (text === null) return null;
  let parsed: Record<string, unknown>;
  try {
    parsed = ini.parse(text);
  } catch {
    return null; // git reports a malformed config itself; the default applies here
  }
  const own = valueOf(sectionOf(parsed, 'core'), 'excludesfile');
  if (own !== null) return own;
  const include = followInclude ? valueOf(sectionOf(parsed, 'include'), 'path') : null;
  return include === null ? null : excludesFileIn(path.resolve(path.dirname(config), include), false);
}

/** Git's section and key names are case-insensitive. */
function sectionOf(parsed: Record<string, unknown>, name: string): Record<string, unknown> | null {
  for (const [key, value] of Object.entries(parsed)) if (key.toLowerCase() === name && typeof value === 'object' && value !== null) return value as Record<string, unknown>;
  return null;
}

function valueOf(section: Record<string, unknown> | null, name: string): string | null {
  if (section === null) return null;
  let found: string | null = null;
  for (const [key, value] of Object.entries(section)) if (key.toLowerCase() === name && typeof value === 'string' && value !== '') found = value; // the last one wins
  return found;
}

/** Git's `--path` rule: a leading `~/` is the home directory; a relative path is relative to the work tree's top (where git runs). */
function expandPath(value: string, base: string, home: string): string {
  if (value === '~' || value.startsWith('~/')) return path.join(home, value.slice(1));
  return path.resolve(base, value);
}

/** `to` relative to `from` with `/` and a trailing `/` ('' when they are the same directory). */
function relativeWithSlash(from: string, to: string): string {
  const relative = path.relative(from, to).split(path.sep).join('/');
  return relative === '' ? '' : `${relative}/`;
}

function realpathOr(dir: string): string {
  try {
    return fs.realpathSync(dir);
  } catch {
    return path.resolve(dir);
  }
}

function statOrNull(file: string): fs.Stats | null {
  try {
    return fs.statSync(file);
  } catch {
    return null;
  }
}

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}
