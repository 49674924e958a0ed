/**
 * Model-based test harness (issue 8): a seeded random sequence of file-system operations, engine
 * restarts and cache corruptions on a real temporary tree, interleaved with reads through the engine.
 * Every answer is compared with a fresh computation from the disk (fs + parseSource + xxh64Hex).
 * Reproducible from its seed: `runModel(seed, ops)` throws an Error naming the seed, the operation
 * index and the last operations on the first mismatch.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createEngine, type Engine } from '../../engine/engine.js';
import { xxh64Hex } from '../../native-bindings/hash.js';
import { parseSource, type ParsedSource } from '../../workers/parse-source.js';
import { fileFailureCodeOf, isStrataError } from '../../shared/errors.js';
import { prng } from '../../bench/seeded-random.js';
import { makeTree, type TempTree } from './temp-tree.js';

const ISOLATED = { env: {}, readConfigFile: false } as const;
const ANALYZER = { id: 'model', version: 1 } as const;
const DIRS = ['src', 'src/lib', 'src/util', 'src/feature/a', 'src/feature/b'];
const INITIAL_FILES = 15;
const LOG_TAIL = 20;

/** Whole-second "now" (mtimes are always whole seconds so they can be restored exactly). */
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

export interface ModelOptions {
  /** Logs every operation to stderr (debugging a failing seed). */
  readonly verbose?: boolean;
  /** Wraps each engine the model opens (the harness's own self-test injects stale answers). */
  readonly wrapEngine?: (engine: Engine) => Engine;
}

export interface ModelStats {
  readonly ops: number;
  readonly reads: number;
  readonly mutations: number;
  readonly restarts: number;
  readonly corruptions: number;
  readonly symlinksSkipped: boolean;
}

type Expected = { type: 'ok'; bytes: Buffer; text: string; parsed: ParsedSource } | { type: 'error'; code: string };

class Model {
  readonly rand: () => number;
  readonly tree: TempTree;
  readonly root: string;
  engine: Engine;
  readonly log: string[] = [];
  /** Every root-relative file path that has existed (live or not). */
  readonly known = new Set<string>();
  opIndex = -1;
  nameCounter = 0;
  reads = 0;
  mutations = 0;
  restarts = 0;
  corruptions = 0;
  symlinksSupported = true;
  readonly cacheDir: string;

  constructor(
    readonly seed: number,
    readonly options: ModelOptions,
  ) {
    this.rand = prng(seed);
    this.tree = makeTree({}, `strata-model-${seed}-`);
    this.root = this.tree.root;
    this.cacheDir = path.join(this.root, 'node_modules', '.cache', 'strata');
    for (let i = 0; i < INITIAL_FILES; i++) {
      const rel = `${this.pick(DIRS)}/m${i}.ts`;
      this.known.add(rel);
    }
    for (const rel of this.known) this.writeFile(rel, this.source(rel), this.randomMtime());
    this.engine = this.open();
  }

  open(): Engine {
    const engine = createEngine({ root: this.root, executor: 'in-thread' }, ISOLATED);
    return this.options.wrapEngine ? this.options.wrapEngine(engine) : engine;
  }

  // ---- randomness ----
  int(n: number): number {
    return Math.floor(this.rand() * n);
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from empty list');
    return items[this.int(items.length)] as T;
  }
  chance(p: number): boolean {
    return this.rand() < p;
  }
  /** A whole-second mtime: mostly in the past (not racy), sometimes "now" (racy). */
  randomMtime(): number {
    return this.chance(0.3) ? nowSeconds() : nowSeconds() - 10 - this.int(5000);
  }

  // ---- the tree ----
  abs(rel: string): string {
    return path.join(this.root, rel);
  }
  /** Live files and symlinks (root-relative), sorted; node_modules excluded. */
  liveFiles(): string[] {
    const out: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of fs.readdirSync(this.abs(dir), { withFileTypes: true })) {
        const rel = dir === '' ? entry.name : `${dir}/${entry.name}`;
        if (entry.isDirectory()) {
          if (rel !== 'node_modules') walk(rel);
        } else if (entry.isFile() || entry.isSymbolicLink()) out.push(rel);
      }
    };
    walk('');
    for (const rel of out) this.known.add(rel);
    return out.sort();
  }
  liveDirs(): string[] {
    const out: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of fs.readdirSync(this.abs(dir), { withFileTypes: true })) {
        if (!entry.isDirectory()) continue;
        const rel = dir === '' ? entry.name : `${dir}/${entry.name}`;
        if (rel === 'node_modules') continue;
        out.push(rel);
        walk(rel);
      }
    };
    walk('');
    return out.sort();
  }
  regularFiles(): string[] {
    return this.liveFiles().filter((rel) => fs.lstatSync(this.abs(rel)).isFile());
  }
  deadFiles(live: readonly string[]): string[] {
    const liveSet = new Set(live);
    return [...this.known].filter((rel) => !liveSet.has(rel)).sort();
  }

  specifierFor(from: string, to: string): string {
    let spec = path.posix.relative(path.posix.dirname(from), to).replace(/\.ts$/, '');
    if (!spec.startsWith('.')) spec = `./${spec}`;
    return spec;
  }

  /** Random TypeScript source for `rel`, importing some of the other files in several ways. */
  source(rel: string): string {
    const others = [...this.known].filter((other) => other !== rel).sort();
    const lines: string[] = [];
    const importCount = this.int(4);
    for (let i = 0; i < importCount && others.length > 0; i++) {
      const spec = this.specifierFor(rel, this.pick(others));
      switch (this.int(6)) {
        case 0:
          lines.push(`import { v${i} } from '${spec}';`);
          break;
        case 1:
          lines.push(`export * from '${spec}';`);
          break;
        case 2:
          lines.push(`import type { T${i} } from '${spec}';`);
          break;
        case 3:
          lines.push(`const d${i} = import('${spec}');`);
          break;
        case 4:
          lines.push(`const r${i} = require('${spec}');`);
          break;
        default:
          lines.push(`import * as ns${i} from '${spec}';`);
      }
    }
    if (this.chance(0.2)) lines.push(`import { readFileSync } from 'node:fs';`);
    const exports = 1 + this.int(4);
    for (let i = 0; i < exports; i++) {
      const n = this.int(1000);
      switch (this.int(4)) {
        case 0:
          lines.push(`export const x${i} = ${n};`);
          break;
        case 1:
          lines.push(`export function f${i}(a: number): number {\n  return a * ${n};\n}`);
          break;
        case 2:
          lines.push(`const local${i} = '${'abcdefghij'.slice(0, 1 + this.int(10))}';`);
          break;
        default:
          lines.push(`export interface I${i} { k${n}: string }`);
      }
    }
    if (this.chance(0.05)) lines.push('const broken = (;'); // a syntax error: still an answer
    lines.push(`// ${this.int(1e9)}`);
    return `${lines.join('\n')}\n`;
  }

  writeFile(rel: string, content: string, mtime: number): void {
    fs.mkdirSync(path.dirname(this.abs(rel)), { recursive: true });
    fs.writeFileSync(this.abs(rel), content);
    fs.utimesSync(this.abs(rel), mtime, mtime);
    this.known.add(rel);
  }

  // ---- the oracle ----
  expected(rel: string): Expected {
    const file = this.abs(rel);
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch (error) {
      // The documented mapping of fs errors to StrataError codes: ENOENT/ENOTDIR → ENOENT,
      // EACCES/EPERM → EACCES, EISDIR → EISDIR, anything else (a symlink loop's ELOOP) → EIO.
      return { type: 'error', code: fileFailureCodeOf(error) };
    }
    const text = bytes.toString('utf8');
    return { type: 'ok', bytes, text, parsed: parseSource(file, text) };
  }

  fail(what: string, detail: string): never {
    const tail = this.log.slice(-LOG_TAIL).join('\n  ');
    throw new Error(`model-based test: seed ${this.seed}, op #${this.opIndex}: ${what}\n${detail}\nlast operations:\n  ${tail}`);
  }

  /** Runs an engine read; compares an error with the expected one. Returns the value when expected ok. */
  async engineCall<T>(what: string, rel: string, expected: Expected, call: () => Promise<T>): Promise<T | undefined> {
    let value: T;
    try {
      value = await call();
    } catch (error) {
      const code = isStrataError(error) ? error.code : `non-StrataError ${(error as Error)?.name}`;
      if (expected.type === 'error') {
        if (isStrataError(error) && code === expected.code) return undefined;
        this.fail(`${what}(${rel}) threw ${code} (${(error as Error).message}); expected StrataError ${expected.code}`, '');
      }
      this.fail(`${what}(${rel}) threw ${code}: ${(error as Error)?.message}; expected an answer`, `disk content: ${JSON.stringify(expected.type === 'ok' ? expected.text : '')}`);
    }
    if (expected.type === 'error') this.fail(`${what}(${rel}) answered; expected StrataError ${expected.code} (the file is gone or unreadable)`, `answer: ${describe(value)}`);
    return value;
  }

  // ---- reads ----
  async readContent(rel: string): Promise<void> {
    const expected = this.expected(rel);
    const got = await this.engineCall('content', rel, expected, () => this.engine.content(rel));
    if (got === undefined || expected.type !== 'ok') return;
    if (!got.equals(expected.bytes)) this.fail(`content(${rel}) is stale or wrong`, `expected ${JSON.stringify(expected.text)}\nactual   ${JSON.stringify(got.toString('utf8'))}`);
  }

  async readAst(rel: string): Promise<void> {
    const expected = this.expected(rel);
    const got = await this.engineCall('ast', rel, expected, () => this.engine.ast(rel));
    if (got === undefined || expected.type !== 'ok') return;
    const p = expected.parsed;
    const mismatch = (field: string, want: unknown, have: unknown): never =>
      this.fail(`ast(${rel}).${field} is stale or wrong`, `expected ${describe(want)}\nactual   ${describe(have)}\ndisk text: ${JSON.stringify(expected.text)}\nengine text: ${JSON.stringify(got.text)}`);
    if (got.text !== expected.text) mismatch('text', expected.text, got.text);
    const hash = xxh64Hex(expected.bytes);
    if (got.contentHash !== hash) mismatch('contentHash', hash, got.contentHash);
    if (JSON.stringify(got.imports) !== JSON.stringify(p.imports)) mismatch('imports', p.imports, got.imports);
    if (got.diagnostics !== p.diagnostics) mismatch('diagnostics', p.diagnostics, got.diagnostics);
    if (got.signature !== p.signature) mismatch('signature', p.signature, got.signature);
    if (!Buffer.from(got.ast.bytes).equals(Buffer.from(p.ast))) mismatch('ast bytes', `${p.ast.length} bytes`, `${got.ast.bytes.length} bytes`);
  }

  async readDeps(rel: string): Promise<void> {
    const expected = this.expected(rel);
    const got = await this.engineCall('deps', rel, expected, () => this.engine.deps(rel));
    if (got === undefined || expected.type !== 'ok') return;
    const want = [...new Set(expected.parsed.imports.map((i) => `${i.kind} ${i.specifier}`))].sort();
    const have = [...new Set(got.dependencies.map((d) => `${d.kind} ${d.specifier}`))].sort();
    if (JSON.stringify(want) !== JSON.stringify(have)) this.fail(`deps(${rel}) is stale or wrong`, `expected ${JSON.stringify(want)}\nactual   ${JSON.stringify(have)}\ndisk text: ${JSON.stringify(expected.text)}`);
  }

  async readResult(rel: string): Promise<void> {
    const expected = this.expected(rel);
    const results = this.engine.results<string>(ANALYZER);
    const got = await this.engineCall('results.compute', rel, expected, () =>
      results.compute(rel, ({ ast }) => `${ast.imports.map((i) => `${i.kind}:${i.specifier}`).join(',')}|${ast.ast.nodeCount}|${ast.diagnostics}`),
    );
    if (got === undefined || expected.type !== 'ok') return;
    const p = expected.parsed;
    const want = `${p.imports.map((i) => `${i.kind}:${i.specifier}`).join(',')}|${p.nodeCount}|${p.diagnostics}`;
    if (got !== want) this.fail(`results.compute(${rel}) is stale or wrong`, `expected ${JSON.stringify(want)}\nactual   ${JSON.stringify(got)}\ndisk text: ${JSON.stringify(expected.text)}`);
  }

  readOne(rel: string, which: number): Promise<void> {
    if (which === 0) return this.readContent(rel);
    if (which === 1) return this.readAst(rel);
    if (which === 2) return this.readDeps(rel);
    return this.readResult(rel);
  }

  // ---- one step ----
  async step(): Promise<void> {
    const live = this.liveFiles();
    const dead = this.deadFiles(live);
    const r = this.rand();
    if (r < 0.55) {
      this.reads++;
      const choose = (): string => (dead.length > 0 && this.chance(0.15) ? this.pick(dead) : live.length > 0 ? this.pick(live) : this.pick(dead));
      if (this.chance(0.1)) {
        // Concurrent reads (same file or not): every one of them must still equal the disk.
        const batch = Array.from({ length: 2 + this.int(5) }, () => ({ rel: this.chance(0.4) && live.length > 0 ? (live[0] as string) : choose(), which: this.int(4) }));
        this.record(`concurrent reads ${batch.map(({ rel, which }) => `${['content', 'ast', 'deps', 'results'][which]} ${rel}`).join('; ')}`);
        await Promise.all(batch.map(({ rel, which }) => this.readOne(rel, which)));
        return;
      }
      const rel = choose();
      const which = this.int(4);
      const name = ['content', 'ast', 'deps', 'results'][which] as string;
      this.record(`read ${name} ${rel}`);
      await this.readOne(rel, which);
      return;
    }
    this.mutations++;
    await this.mutate(live, dead);
  }

  record(line: string): void {
    const entry = `#${this.opIndex} ${line}`;
    this.log.push(entry);
    if (this.log.length > LOG_TAIL * 4) this.log.splice(0, this.log.length - LOG_TAIL);
    if (this.options.verbose) process.stderr.write(`[seed ${this.seed}] ${entry}\n`);
  }

  async mutate(live: string[], dead: string[]): Promise<void> {
    const regular = live.filter((rel) => fs.lstatSync(this.abs(rel)).isFile());
    const kind = this.int(100);
    if (regular.length === 0 || kind < 4) {
      // re-create (or create) a file
      const rel = dead.length > 0 && this.chance(0.8) ? this.pick(dead) : `${this.pick(DIRS)}/n${this.nameCounter++}.ts`;
      if (fs.existsSync(this.abs(rel)) || isSymlink(this.abs(rel))) return this.record(`noop (create over ${rel})`);
      const mtime = this.randomMtime();
      this.writeFile(rel, this.source(rel), mtime);
      return this.record(`create ${rel} mtime=${mtime}`);
    }
    if (kind < 24) {
      const rel = this.pick(regular);
      const mtime = this.randomMtime();
      this.writeFile(rel, this.source(rel), mtime);
      return this.record(`edit ${rel} mtime=${mtime}`);
    }
    if (kind < 40) {
      // edit keeping size and mtime
      const rel = this.pick(regular);
      const before = fs.statSync(this.abs(rel));
      const text = fs.readFileSync(this.abs(rel), 'utf8');
      if (text.length === 0) return this.record(`noop (same-size edit of empty ${rel})`);
      const chars = text.split('');
      const positions = chars.map((c, i) => (/[a-z0-9]/.test(c) ? i : -1)).filter((i) => i >= 0);
      if (positions.length === 0) return this.record(`noop (same-size edit of ${rel})`);
      const count = 1 + this.int(3);
      for (let i = 0; i < count; i++) {
        const at = this.pick(positions);
        const old = chars[at] as string;
        const alphabet = /[0-9]/.test(old) ? '0123456789' : 'abcdefghijklmnopqrstuvwxyz';
        let next = old;
        while (next === old) next = alphabet[this.int(alphabet.length)] as string;
        chars[at] = next;
      }
      const mtime = Math.round(before.mtimeMs / 1000);
      fs.writeFileSync(this.abs(rel), chars.join(''));
      fs.utimesSync(this.abs(rel), mtime, mtime);
      const after = fs.statSync(this.abs(rel));
      if (after.size !== before.size || after.mtimeMs !== before.mtimeMs) throw new Error(`harness: could not keep size/mtime of ${rel}`);
      return this.record(`edit-same-size-mtime ${rel} mtime=${mtime}`);
    }
    if (kind < 46) {
      const rel = this.pick(regular);
      fs.appendFileSync(this.abs(rel), `export const appended${this.int(1000)} = ${this.int(1000)};\n`);
      const mtime = this.randomMtime();
      fs.utimesSync(this.abs(rel), mtime, mtime);
      return this.record(`append ${rel} mtime=${mtime}`);
    }
    if (kind < 51) {
      const rel = this.pick(regular);
      const size = fs.statSync(this.abs(rel)).size;
      const to = this.chance(0.2) ? 0 : this.int(size);
      fs.truncateSync(this.abs(rel), to);
      const mtime = this.randomMtime();
      fs.utimesSync(this.abs(rel), mtime, mtime);
      return this.record(`truncate ${rel} to ${to} mtime=${mtime}`);
    }
    if (kind < 57) {
      const rel = this.pick(live);
      fs.unlinkSync(this.abs(rel));
      return this.record(`delete ${rel}`);
    }
    if (kind < 61) {
      // re-create a deleted file with the same size and mtime as a live one (inode reuse bait)
      const rel = this.pick(regular);
      const before = fs.statSync(this.abs(rel));
      const text = fs.readFileSync(this.abs(rel), 'utf8');
      fs.unlinkSync(this.abs(rel));
      const replacement = text.replace(/[0-9]/, (d) => String((Number(d) + 1) % 10));
      const mtime = Math.round(before.mtimeMs / 1000);
      this.writeFile(rel, replacement, mtime);
      return this.record(`delete+recreate-same-size-mtime ${rel} mtime=${mtime}`);
    }
    if (kind < 67) {
      const from = this.pick(live);
      const to = dead.length > 0 && this.chance(0.4) ? this.pick(dead) : this.chance(0.3) ? this.pick(live) : `${this.pick(this.liveDirs())}/r${this.nameCounter++}.ts`;
      if (to === from) return this.record(`noop (rename ${from} onto itself)`);
      fs.mkdirSync(path.dirname(this.abs(to)), { recursive: true });
      fs.renameSync(this.abs(from), this.abs(to));
      this.known.add(to);
      return this.record(`rename ${from} -> ${to}`);
    }
    if (kind < 71) {
      const dirs = this.liveDirs().filter((dir) => dir !== 'src');
      if (dirs.length === 0) return this.record('noop (no directory to rename)');
      const from = this.pick(dirs);
      const to = `${path.posix.dirname(from)}/d${this.nameCounter++}`;
      if (to.startsWith(`${from}/`)) return this.record('noop (directory into itself)');
      fs.renameSync(this.abs(from), this.abs(to));
      return this.record(`rename-dir ${from} -> ${to}`);
    }
    if (kind < 78) {
      // replace a file by a symlink to another regular file, or retarget a symlink
      if (!this.symlinksSupported) return this.record('noop (symlinks unsupported)');
      const target = this.pick(regular);
      const candidates = live.filter((rel) => rel !== target);
      if (candidates.length === 0) return this.record('noop (no symlink candidate)');
      const links = candidates.filter((rel) => isSymlink(this.abs(rel)));
      const rel = links.length > 0 && this.chance(0.5) ? this.pick(links) : this.pick(candidates);
      const wasLink = isSymlink(this.abs(rel));
      const tmp = `${this.abs(rel)}.tmp-link`;
      try {
        fs.symlinkSync(this.abs(target), tmp);
      } catch (error) {
        this.symlinksSupported = false;
        return this.record(`noop (symlink unsupported: ${(error as NodeJS.ErrnoException).code})`);
      }
      fs.renameSync(tmp, this.abs(rel));
      return this.record(`${wasLink ? 'retarget-symlink' : 'file->symlink'} ${rel} -> ${target}`);
    }
    if (kind < 84) {
      await this.engine.close();
      this.engine = this.open();
      this.restarts++;
      return this.record('restart engine');
    }
    if (kind < 90) return this.corrupt();
    if (kind < 94) {
      const files = live.filter(() => this.chance(0.3));
      const extra = dead.length > 0 && this.chance(0.3) ? [this.pick(dead)] : [];
      this.engine.invalidate([...files, ...extra]);
      return this.record(`invalidate [${[...files, ...extra].join(', ')}]`);
    }
    if (kind < 98) {
      const report = await this.engine.warm();
      return this.record(`warm (files=${report.files} parsed=${report.parsed} fromCache=${report.fromCache} failed=${report.failed.length})`);
    }
    const report = this.engine.validate({ repair: true });
    return this.record(`validate repair (findings=${report.findings.length})`);
  }

  corrupt(): void {
    const files = listAll(this.cacheDir);
    const packs = files.filter((file) => file.includes(`${path.sep}packs${path.sep}`));
    const indexes = files.filter((file) => file.includes(`${path.sep}indexes${path.sep}`));
    const results = files.filter((file) => file.includes(`${path.sep}results${path.sep}`));
    const which = this.int(3);
    const relName = (file: string): string => path.relative(this.cacheDir, file);
    this.corruptions++;
    if (which === 0) {
      if (packs.length === 0) return this.record('noop (corrupt: no pack)');
      const file = this.pick(packs);
      const bytes = fs.readFileSync(file);
      if (bytes.length === 0) return this.record(`noop (corrupt: empty pack ${relName(file)})`);
      const flips = 1 + this.int(8);
      const where: number[] = [];
      for (let i = 0; i < flips; i++) {
        const at = this.int(bytes.length);
        bytes[at] = (bytes[at] as number) ^ (1 + this.int(255));
        where.push(at);
      }
      fs.writeFileSync(file, bytes);
      return this.record(`corrupt flip bytes ${where.join(',')} of ${relName(file)} (${bytes.length} bytes)`);
    }
    if (which === 1) {
      if (indexes.length === 0) return this.record('noop (corrupt: no index)');
      const file = this.pick(indexes);
      const size = fs.statSync(file).size;
      const to = this.int(size);
      fs.truncateSync(file, to);
      return this.record(`corrupt truncate ${relName(file)} ${size} -> ${to}`);
    }
    if (results.length === 0) return this.record('noop (corrupt: no results file)');
    const file = this.pick(results);
    const garbage = Buffer.alloc(1 + this.int(200));
    for (let i = 0; i < garbage.length; i++) garbage[i] = this.int(256);
    fs.writeFileSync(file, garbage);
    return this.record(`corrupt garbage (${garbage.length} bytes) into ${relName(file)}`);
  }
}

function isSymlink(file: string): boolean {
  try {
    return fs.lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

function listAll(dir: string): string[] {
  const out: string[] = [];
  const walk = (current: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(current, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) out.push(full);
    }
  };
  walk(dir);
  return out.sort();
}

function describe(value: unknown): string {
  if (Buffer.isBuffer(value)) return JSON.stringify(value.toString('utf8'));
  try {
    const text = JSON.stringify(value, (_key, v: unknown) => (v instanceof Uint8Array ? `<${v.length} bytes>` : v));
    return text === undefined ? String(value) : text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
  } catch {
    return String(value);
  }
}

/** Runs `ops` operations from `seed`; throws on the first stale, wrong or unexpected answer. */
export async function runModel(seed: number, ops: number, options: ModelOptions = {}): Promise<ModelStats> {
  const model = new Model(seed, options);
  try {
    for (let i = 0; i < ops; i++) {
      model.opIndex = i;
      await model.step();
    }
    // Finally every live file is read once more through every API.
    model.opIndex = ops;
    model.record('final sweep');
    for (const rel of model.liveFiles()) {
      await model.readContent(rel);
      await model.readAst(rel);
      await model.readDeps(rel);
      await model.readResult(rel);
    }
    return { ops, reads: model.reads, mutations: model.mutations, restarts: model.restarts, corruptions: model.corruptions, symlinksSkipped: !model.symlinksSupported };
  } finally {
    try {
      await model.engine.close();
    } finally {
      model.tree.remove();
    }
  }
}
