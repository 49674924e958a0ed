/**
 * L2's read path: a file's AST for its current content, from memory, else from the disk level,
 * else (with a remote tier) a verified remote entry, else parsed now in the pool (concurrent
 * callers of the same content share one lookup and parse). A parse that started before its file
 * was invalidated is answered but never cached; a parse is uploaded to the remote behind the caller.
 *
 * A file L1 does not hold whose stat still matches its index record (the restart rule of
 * DESIGN.md) is answered without reading it: one stat, then its AST by the record's key. Its text
 * is read on first use, and checked against the content hash the answer carries.
 */
import * as fs from 'node:fs';
import type { ImportRecord } from '../../shared/imports.js';
import { hashHex } from '../../native-bindings/hash.js';
import { StrataError } from '../../shared/errors.js';
import { scriptKindName } from '../../shared/script-kind.js';
import { decodeSourceText } from '../../shared/source-text.js';
import type { ContentAccess } from '../content/content-access.js';
import type { ContentBytes, ContentCache, ContentEntry } from '../content/content-cache.js';
import { toRootPath } from '../paths.js';
import type { ParsePool } from '../pool/parse-pool.js';
import type { RevisionClock } from '../revision-clock.js';
import { decodeRemoteAstEntry, remoteAstKey } from '../remote/remote-ast.js';
import type { RemoteTier } from '../remote/remote-tier.js';
import type { AstCache, AstRecord } from './ast-cache.js';
import { ENTRY_CODEC, type AstPersistence } from './ast-persistence.js';
import { EncodedAst } from './encoded-ast.js';
import { astKey, type AstKey } from './keys.js';

/** A file's parsed form from L2. Positions refer to `text`. */
export interface AstResult {
  readonly path: string;
  /**
   * The file's text. An answer from disk by the file's stat reads it on first use (from L1, else
   * the file) and checks it against `contentHash`: a file changed since the answer throws ESTALE.
   */
  readonly text: string;
  /** The content's length in bytes. */
  readonly size: number;
  readonly ast: EncodedAst;
  readonly imports: readonly ImportRecord[];
  readonly diagnostics: number;
  /** Hash of what the file exports: equal before and after an edit → importers are unaffected. */
  readonly signature: string;
  /** xxh64 of the file's bytes, 16 hex characters. */
  readonly contentHash: string;
}

/** Which level answered: L2 memory, L2 disk, the remote tier, or a parse now. */
export type AstOrigin = 'memory' | 'disk' | 'remote' | 'parsed';

export interface AstReaderParts {
  readonly root: string;
  readonly access: ContentAccess;
  /** L1, to pin a file's bytes while a worker reads them. */
  readonly content: ContentCache;
  readonly asts: AstCache;
  readonly pool: ParsePool;
  readonly clock: RevisionClock;
  readonly keyPrefix: string;
  /** Files larger than this are not source (ENOTCACHED), as L1 reads them. */
  readonly maxFileSize: number;
  /** The disk level, opened on first need; null when persistence is off or unusable. */
  persistence(): AstPersistence | null;
  /** The shared remote tier; null when off. */
  readonly remote: RemoteTier | null;
}

export class AstReader {
  readonly #parts: AstReaderParts;
  /** Remote lookups and parses in flight by key. */
  readonly #parsing = new Map<AstKey, Promise<{ record: AstRecord; from: 'remote' | 'parsed' }>>();

  constructor(parts: AstReaderParts) {
    this.#parts = parts;
  }

  async read(file: string): Promise<{ result: AstResult; from: AstOrigin }> {
    const { root, access, keyPrefix } = this.#parts;
    const persistence = this.#parts.persistence();
    const where = toRootPath(root, file);
    if (persistence !== null) {
      const stored = this.#byStat(where.relative, where.absolute, persistence);
      if (stored !== undefined) return stored;
    }
    const { relative, bytes, read } = access.read(where.absolute);
    const text = decodeSourceText(bytes.buffer, bytes.offset, bytes.length);
    const key = astKey(keyPrefix, scriptKindName(relative), bytes.hash);
    let { record, from } = this.#stored(key, persistence);
    if (record === undefined) {
      let parsing = this.#parsing.get(key);
      if (parsing === undefined) {
        parsing = this.#loadOne(relative, key, bytes, read.type === 'cached' ? read.entry : null).finally(() => this.#parsing.delete(key));
        this.#parsing.set(key, parsing);
      }
      ({ record, from } = await parsing);
    }
    const result = { path: where.absolute, text, size: bytes.length, ast: EncodedAst.decode(record.ast), imports: record.imports, diagnostics: record.diagnostics, signature: record.signature, contentHash: hashHex(bytes.hash) };
    return { result, from };
  }

  /** The key's record from L2 memory, else from the disk level (then kept in memory). */
  #stored(key: AstKey, persistence: AstPersistence | null): { record: AstRecord | undefined; from: AstOrigin } {
    const inMemory = this.#parts.asts.get(key);
    if (inMemory !== undefined || persistence === null) return { record: inMemory, from: 'memory' };
    const record = persistence.load(key) ?? undefined;
    if (record !== undefined) this.#parts.asts.set(key, record);
    return { record, from: 'disk' };
  }

  /**
   * The answer for a file L1 does not hold, when its stat equals its index record's and the
   * record's entry loads: no read, no hash. Undefined otherwise (the caller reads the file).
   */
  #byStat(relative: string, absolute: string, persistence: AstPersistence): { result: AstResult; from: AstOrigin } | undefined {
    const { access, content, maxFileSize } = this.#parts;
    if (content.peek(relative) !== undefined) return undefined; // L1's own check answers, with its bytes
    let stats: fs.Stats | undefined;
    try {
      stats = fs.statSync(absolute, { throwIfNoEntry: false });
    } catch {
      return undefined; // the read says why
    }
    if (stats === undefined || !stats.isFile() || stats.size > maxFileSize) return undefined;
    const stored = persistence.unchangedRecord(relative, stats);
    if (stored === undefined) return undefined;
    const { record, from } = this.#stored(stored.key as AstKey, persistence);
    if (record === undefined) return undefined; // missing or corrupt: counted, forgotten; the read parses
    const contentHash = stored.contentHash;
    let text: string | undefined;
    const result: AstResult = {
      path: absolute,
      get text(): string {
        return (text ??= textOf(access, relative, absolute, contentHash));
      },
      size: stored.size,
      ast: EncodedAst.decode(record.ast),
      imports: record.imports,
      diagnostics: record.diagnostics,
      signature: record.signature,
      contentHash,
    };
    return { result, from };
  }

  /**
   * The file's AST is in L2 memory for its cached content, or (L1 not holding it) for the content
   * its index record names, which an answer by stat loads; counts nothing, touches no LRU order.
   */
  inMemory(relative: string): boolean {
    const entry = this.#parts.content.peek(relative);
    if (entry !== undefined) return this.#parts.asts.has(astKey(this.#parts.keyPrefix, scriptKindName(relative), entry.hash));
    const key = this.#parts.persistence()?.recordedKey(relative);
    return key !== undefined && this.#parts.asts.has(key as AstKey);
  }

  /** A local miss: the remote's verified entry, else a parse now (uploaded behind the caller). */
  async #loadOne(relative: string, key: AstKey, bytes: ContentBytes, pinned: ContentEntry | null): Promise<{ record: AstRecord; from: 'remote' | 'parsed' }> {
    const { content, pool, clock, asts, remote } = this.#parts;
    const persistence = this.#parts.persistence();
    const revision = clock.now;
    if (pinned) content.pin(pinned);
    try {
      const hit = remote !== null && remote.state !== 'off' ? await remote.fetch(remoteAstKey(key), decodeRemoteAstEntry) : undefined;
      if (hit !== undefined) {
        if (clock.isCurrent(relative, revision)) {
          asts.set(key, hit.record);
          persistence?.remember(relative, bytes.fingerprint, bytes.hash, key, persistence.has(key) ? null : hit.bytes);
        }
        return { record: hit.record, from: 'remote' };
      }
      const [outcome] = await pool.parse([{ id: 0, path: relative, buffer: bytes.buffer, offset: bytes.offset, length: bytes.length, key }], persistence || remote ? ENTRY_CODEC : null);
      if (outcome === undefined || outcome.type === 'failed') {
        throw new StrataError(outcome?.code ?? 'EWORKER', outcome?.message ?? 'no outcome', relative);
      }
      const record: AstRecord = { ast: outcome.ast, imports: outcome.imports, diagnostics: outcome.diagnostics, nodeCount: outcome.nodeCount, signature: outcome.signature };
      if (clock.isCurrent(relative, revision)) {
        asts.set(key, record);
        persistence?.remember(relative, bytes.fingerprint, bytes.hash, key, outcome.entry);
        if (outcome.entry !== null) remote?.upload(remoteAstKey(key), outcome.entry, ENTRY_CODEC);
      }
      return { record, from: 'parsed' };
    } finally {
      if (pinned) content.unpin(pinned);
    }
  }
}

/** The file's text now, when its content is still the one hashed `contentHash`; else ESTALE. */
function textOf(access: ContentAccess, relative: string, absolute: string, contentHash: string): string {
  const { bytes } = access.read(absolute);
  if (hashHex(bytes.hash) !== contentHash) {
    throw new StrataError('ESTALE', `${relative} changed after its AST was answered: ask for the AST again`, relative);
  }
  return decodeSourceText(bytes.buffer, bytes.offset, bytes.length);
}
