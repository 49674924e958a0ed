import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { prepareCacheDir } from '../engine/store/cache-dir.js';
import { CLEARING_SUFFIX, clearCacheDir } from '../engine/store/clear.js';
import { MARKER_FILE } from '../engine/store/layout.js';
import { refusal } from './helpers/strata-errors.js';

describe('clearCacheDir', () => {
  let base: string;
  let root: string;
  let home: string;

  beforeEach(() => {
    base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'strata-clear-')));
    root = path.join(base, 'repo');
    home = path.join(base, 'home');
    fs.mkdirSync(root);
    fs.mkdirSync(home);
  });
  afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

  const mark = (dir: string): void => fs.writeFileSync(path.join(dir, MARKER_FILE), JSON.stringify({ tool: 'strata', formatVersion: 1 }));

  it('clears a directory carrying the marker, and reports what it removed', () => {
    const cache = path.join(root, 'node_modules', '.cache', 'strata');
    expect(prepareCacheDir(cache, false)).toBeNull();
    fs.writeFileSync(path.join(cache, 'packs', 'a.pack'), Buffer.alloc(100));
    const markerBytes = fs.statSync(path.join(cache, MARKER_FILE)).size;
    expect(clearCacheDir(cache, { root, home })).toEqual({ dir: cache, cleared: true, files: 2, bytes: 100 + markerBytes });
    expect(fs.existsSync(cache)).toBe(false);
    expect(fs.existsSync(root)).toBe(true);
  });

  it('removes trees earlier clears renamed aside and could not finish, but not a young one (another clear may be at work)', () => {
    const cache = path.join(root, 'node_modules', '.cache', 'strata');
    expect(prepareCacheDir(cache, false)).toBeNull();
    const leftover = `${cache}.old-1-abc${CLEARING_SUFFIX}`;
    fs.mkdirSync(path.join(leftover, 'packs'), { recursive: true });
    fs.writeFileSync(path.join(leftover, 'packs', 'a.pack'), Buffer.alloc(10));
    const unrelated = `${cache}-other${CLEARING_SUFFIX}`;
    fs.mkdirSync(unrelated);
    clearCacheDir(cache, { root, home });
    expect(fs.existsSync(leftover)).toBe(true); // just renamed: young
    expect(prepareCacheDir(cache, false)).toBeNull();
    clearCacheDir(cache, { root, home, leftoverAgeMs: 0 });
    expect(fs.existsSync(leftover)).toBe(false);
    expect(fs.existsSync(unrelated)).toBe(true); // another directory's name, never touched
    expect(fs.readdirSync(path.dirname(cache)).sort()).toEqual([path.basename(unrelated)]);
  });

  it('does nothing for a directory that does not exist', () => {
    expect(clearCacheDir(path.join(base, 'absent'), { root, home })).toEqual({ dir: path.join(base, 'absent'), cleared: false, files: 0, bytes: 0 });
  });

  it('refuses a directory without the marker and leaves it untouched', () => {
    const other = path.join(base, 'other');
    fs.mkdirSync(other);
    fs.writeFileSync(path.join(other, 'important.txt'), 'keep me');
    const error = refusal(() => clearCacheDir(other, { root, home }));
    expect(error.code).toBe('EINVALIDOPTION');
    expect(error.path).toBe('cacheDir');
    expect(error.message).toMatch(/marker/);
    expect(fs.readFileSync(path.join(other, 'important.txt'), 'utf8')).toBe('keep me');
  });

  it('refuses a marker that does not name Strata', () => {
    const other = path.join(base, 'other');
    fs.mkdirSync(other);
    fs.writeFileSync(path.join(other, MARKER_FILE), JSON.stringify({ tool: 'something-else' }));
    expect(refusal(() => clearCacheDir(other, { root, home })).code).toBe('EINVALIDOPTION');
    expect(fs.existsSync(other)).toBe(true);
  });

  it('refuses /, the home directory and the root, even when they carry a marker', () => {
    mark(home);
    mark(root);
    expect(refusal(() => clearCacheDir('/', { root, home })).message).toMatch(/file-system root/);
    expect(refusal(() => clearCacheDir(home, { root, home })).message).toMatch(/home directory/);
    expect(refusal(() => clearCacheDir(root, { root, home })).message).toMatch(/root itself/);
    expect(fs.existsSync(path.join(root, MARKER_FILE)) && fs.existsSync(path.join(home, MARKER_FILE))).toBe(true);
  });

  it('refuses a directory that contains the root or the home directory', () => {
    mark(base);
    expect(refusal(() => clearCacheDir(base, { root, home })).message).toMatch(/contains the root/);
    expect(refusal(() => clearCacheDir(base, { root: path.join(base, '..', 'elsewhere'), home })).message).toMatch(/contains the home directory/);
    expect(fs.existsSync(root)).toBe(true);
  });

  it('resolves symbolic links before checking, so a link to the root is refused', () => {
    mark(root);
    const link = path.join(base, 'link');
    fs.symlinkSync(root, link);
    expect(refusal(() => clearCacheDir(link, { root, home })).message).toMatch(/root itself/);
    expect(fs.existsSync(root)).toBe(true);
  });
});
