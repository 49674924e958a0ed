import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveCacheDir, userCacheDirFor } from '../engine/store/cache-dir.js';
import { DiskStore } from '../engine/store/disk-store.js';
import { MARKER_FILE } from '../engine/store/layout.js';
import { FileLock } from '../engine/store/lock.js';
import { encodeEntry } from '../shared/entry-format.js';

const mode = (file: string): number => fs.statSync(file).mode & 0o777;

describe('cache directory', () => {
  let base: string;
  let root: string;

  beforeEach(() => {
    base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'strata-cachedir-')));
    root = path.join(base, 'repo');
    fs.mkdirSync(root);
  });
  afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

  it('defaults to node_modules/.cache/strata under the root, created with a marker', () => {
    const resolved = resolveCacheDir({ root, cacheDir: null, env: {} });
    expect(resolved).toEqual({ dir: path.join(root, 'node_modules', '.cache', 'strata'), source: 'default' });
    const marker = JSON.parse(fs.readFileSync(path.join(resolved.dir as string, MARKER_FILE), 'utf8')) as Record<string, unknown>;
    expect(marker).toEqual(expect.objectContaining({ tool: 'strata', formatVersion: 1 }));
    expect(fs.readdirSync(resolved.dir as string).sort()).toEqual([MARKER_FILE, 'indexes', 'packs']);
  });

  it('prefers the cacheDir option over STRATA_CACHE_DIR, and STRATA_CACHE_DIR over the default', () => {
    const fromOption = resolveCacheDir({ root, cacheDir: path.join(base, 'opt'), env: { STRATA_CACHE_DIR: path.join(base, 'env') } });
    expect(fromOption).toEqual({ dir: path.join(base, 'opt'), source: 'option' });
    const fromEnv = resolveCacheDir({ root, cacheDir: null, env: { STRATA_CACHE_DIR: 'relative/cache' } });
    expect(fromEnv).toEqual({ dir: path.join(root, 'relative', 'cache'), source: 'env' });
    expect(fs.existsSync(path.join(root, 'relative', 'cache', MARKER_FILE))).toBe(true);
  });

  it('falls back to the user cache directory when the default cannot be created', () => {
    fs.writeFileSync(path.join(root, 'node_modules'), 'a file where a directory should be');
    const env = { XDG_CACHE_HOME: path.join(base, 'xdg') };
    const resolved = resolveCacheDir({ root, cacheDir: null, env });
    expect(resolved.source).toBe('user-cache');
    expect(resolved.dir).toBe(userCacheDirFor(root, env));
    expect(path.dirname(resolved.dir as string)).toBe(path.join(base, 'xdg', 'strata'));
    expect(path.basename(resolved.dir as string)).toMatch(/^[0-9a-f]{16}$/);
    expect(fs.existsSync(path.join(resolved.dir as string, MARKER_FILE))).toBe(true);
    expect(userCacheDirFor(root, { HOME: path.join(base, 'home') })).toMatch(new RegExp(`^${path.join(base, 'home', '.cache', 'strata')}/[0-9a-f]{16}$`));
  });

  it('falls back to the user cache directory when the root is read-only', () => {
    if (process.getuid?.() === 0) return; // root writes anywhere; the case above covers the fallback
    fs.chmodSync(root, 0o555);
    try {
      expect(resolveCacheDir({ root, cacheDir: null, env: { XDG_CACHE_HOME: path.join(base, 'xdg') } }).source).toBe('user-cache');
    } finally {
      fs.chmodSync(root, 0o755);
    }
  });

  it('answers a warning, never an exception, when no directory is usable', () => {
    fs.writeFileSync(path.join(base, 'file'), '');
    const resolved = resolveCacheDir({ root, cacheDir: path.join(base, 'file', 'cache'), env: {} });
    expect(resolved.dir).toBeNull();
    expect(resolved.warning).toMatch(/cacheDir/);
    fs.writeFileSync(path.join(root, 'node_modules'), '');
    const nowhere = resolveCacheDir({ root, cacheDir: null, env: { XDG_CACHE_HOME: path.join(base, 'file') } });
    expect(nowhere.dir).toBeNull();
    expect(nowhere.warning).toMatch(/Running in memory/);
    const opened = DiskStore.open({ root, cacheDir: path.join(base, 'file', 'cache'), env: {}, keyPrefix: 'p', maxBytes: 1, maxAgeMs: 1 });
    expect(opened.store).toBeNull();
    expect(opened.warning).toMatch(/Persistence off/);
  });

  it('refuses to adopt a non-empty directory that is not a Strata cache, and leaves it untouched', () => {
    const foreign = path.join(base, 'photos');
    fs.mkdirSync(foreign, { mode: 0o755 });
    fs.chmodSync(foreign, 0o755);
    fs.writeFileSync(path.join(foreign, 'holiday.jpg'), 'jpeg');
    const resolved = resolveCacheDir({ root, cacheDir: foreign, env: {} });
    expect(resolved.dir).toBeNull();
    expect(resolved.warning).toMatch(/not a Strata cache directory/);
    expect(fs.readdirSync(foreign)).toEqual(['holiday.jpg']);
    expect(mode(foreign)).toBe(0o755);
    const empty = path.join(base, 'empty');
    fs.mkdirSync(empty);
    expect(resolveCacheDir({ root, cacheDir: empty, env: {} }).source).toBe('option');
  });

  it('creates every directory 0o700 and every file 0o600', () => {
    const opened = DiskStore.open({ root, cacheDir: null, env: {}, keyPrefix: 'p', maxBytes: 1 << 30, maxAgeMs: 86_400_000 });
    if (opened.store === null) throw new Error(opened.warning);
    const store = opened.store;
    store.append('p:ts:0', encodeEntry({ key: 'p:ts:0', codec: 'none', meta: new Uint8Array(0), payload: new Uint8Array(8), rawLength: 8 }));
    const location = store.flush().get('p:ts:0');
    if (location === undefined) throw new Error('not flushed');
    store.saveIndex(new Map([['a.ts', { size: 1, mtimeNs: 1n, ctimeNs: 1n, ino: 1n, dev: 1n, contentHash: '0123456789abcdef', key: 'p:ts:0', location, lastAccessMs: 1 }]]));
    const lock = new FileLock(store.dir, 'probe');
    expect(lock.tryAcquire()).toBe(true);
    const lockMode = mode(lock.file);
    lock.release();

    expect(mode(store.dir)).toBe(0o700);
    expect(mode(path.join(store.dir, 'packs'))).toBe(0o700);
    expect(mode(path.join(store.dir, 'indexes'))).toBe(0o700);
    expect(mode(path.join(store.dir, MARKER_FILE))).toBe(0o600);
    expect(mode(path.join(store.dir, 'packs', location.pack))).toBe(0o600);
    expect(mode(store.indexFile)).toBe(0o600);
    expect(lockMode).toBe(0o600);
    store.close();
  });

  it('tightens an existing cache directory that is looser than 0o700', () => {
    const dir = path.join(base, 'loose');
    expect(resolveCacheDir({ root, cacheDir: dir, env: {} }).source).toBe('option');
    fs.chmodSync(dir, 0o755);
    expect(resolveCacheDir({ root, cacheDir: dir, env: {} }).source).toBe('option');
    expect(mode(dir)).toBe(0o700);
  });
});
