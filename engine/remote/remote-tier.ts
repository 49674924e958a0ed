/**
 * The shared remote tier, below the disk store: read-through after a local miss (only verified
 * entries come back), write-behind on a bounded queue, flushed by close() within a deadline.
 *
 * Keys: blobs are content-addressed, `strata:cas:<sha256>` (SET NX); records are per namespace and
 * cache key, `strata:ac:<namespace>:<cache key>` (signed-record.ts). Blob before record, so a
 * record never points at a blob not yet written; a record whose blob is gone is a miss.
 *
 * Trust: a record is accepted only when its key id is one of the trusted keys (for `trusted`) or,
 * in the writer's own pull-request namespace, also its own signing key; then its signature over
 * namespace + key + digest + size + codec is checked, then the blob's digest and size, then the
 * caller's decoder runs with its own caps. Whatever fails is rejected, counted, and re-parsed.
 */
import * as os from 'node:os';
import type * as crypto from 'node:crypto';
import { RemoteClient, type RemoteState } from './remote-client.js';
import type { RemoteCounters } from './remote-counters.js';
import type { ResolvedRemote } from './remote-config.js';
import { loadPublicKey, loadSigningKey, type SigningKey } from './remote-keys.js';
import { parseRecord, sha256Hex, signRecord, verifyRecordAsync, type SignedRecord } from './signed-record.js';

export const KEY_PREFIX = 'strata:';
/** Uploads in flight at once (node-redis pipelines them on one connection). */
const UPLOAD_CONCURRENCY = 16;
/** Blobs asked for in one MGET at most (their declared sizes): a group of large entries is split. */
export const BLOB_BATCH_BYTES = 8 * 1024 * 1024;
/** close() waits at most this long for the write-behind queue. */
export const FLUSH_DEADLINE_MS = 2000;


export function blobKey(digest: string): string {
  return `${KEY_PREFIX}cas:${digest}`;
}

export function recordKey(namespace: string, cacheKey: string): string {
  return `${KEY_PREFIX}ac:${namespace}:${cacheKey}`;
}

/** A remote entry's checker: throws for bytes that are not a valid entry of `cacheKey`. */
export type EntryDecoder<T> = (bytes: Buffer, cacheKey: string) => T;

interface Upload {
  readonly cacheKey: string;
  readonly bytes: Uint8Array;
  readonly codec: string;
}

export class RemoteTier {
  readonly settings: ResolvedRemote;
  readonly #client: RemoteClient;
  readonly #signing: SigningKey | null;
  /** Key ids accepted per namespace read. */
  readonly #accepted = new Map<string, Map<string, crypto.KeyObject>>();
  readonly #readNamespaces: readonly string[];
  readonly #queue: Upload[] = [];
  readonly #uploading = new Set<Promise<void>>();
  readonly #producer: string;
  /** Problems with the settings (an unreadable key), reported with the next warm. */
  readonly warnings: string[] = [];
  #hits = 0;
  #misses = 0;
  #rejected = 0;
  #uploaded = 0;
  #skipped = 0;
  #bytesIn = 0;
  #bytesOut = 0;
  #lastRejection: string | null = null;

  constructor(settings: ResolvedRemote, producer = `strata@${os.hostname()}`) {
    this.settings = settings;
    this.#client = new RemoteClient(settings);
    this.#producer = producer;
    this.#signing = settings.mode === 'read-write' && settings.signingKey !== null ? this.#tryLoad(() => loadSigningKey(settings.signingKey as string)) : null;
    if (settings.mode === 'read-write' && settings.signingKey === null) this.warnings.push('remote mode read-write without a signing key: nothing is uploaded');
    const trusted = new Map<string, crypto.KeyObject>();
    for (const file of settings.trustedKeys) {
      const key = this.#tryLoad(() => loadPublicKey(file));
      if (key) trusted.set(key.id, key.publicKey);
    }
    const own = settings.namespace;
    this.#readNamespaces = own === 'trusted' ? ['trusted'] : [own, 'trusted'];
    this.#accepted.set('trusted', trusted);
    if (own !== 'trusted') {
      const ownKeys = new Map(trusted);
      if (this.#signing) ownKeys.set(this.#signing.id, this.#signing.publicKey);
      this.#accepted.set(own, ownKeys);
    }
  }

  get state(): RemoteState {
    return this.#client.state;
  }

  get signingKeyId(): string | null {
    return this.#signing?.id ?? null;
  }

  get trustedKeyIds(): string[] {
    return [...(this.#accepted.get('trusted')?.keys() ?? [])];
  }

  get lastProblem(): string | null {
    return this.#client.lastError ?? this.#lastRejection;
  }

  counters(): RemoteCounters {
    return {
      state: this.#client.state,
      hits: this.#hits,
      misses: this.#misses,
      rejected: this.#rejected,
      errors: this.#client.errors,
      uploaded: this.#uploaded,
      skipped: this.#skipped,
      bytesIn: this.#bytesIn,
      bytesOut: this.#bytesOut,
    };
  }

  /** Starts connecting (loading node-redis) now, so the first lookup finds the connection open. */
  connect(): void {
    void this.#client.connect();
  }

  /** Round-trip time of a PING in ms; undefined when unreachable. */
  ping(): Promise<number | undefined> {
    return this.#client.ping();
  }

  /**
   * Verified entries for these keys (absent: a miss, a rejection or a failure, each counted). Per
   * namespace read, one round trip for the records (one MGET on a single server; per-key GETs,
   * pipelined, on a cluster, whose keys live on several masters), signatures checked off the main
   * thread, then one for the blobs of the records that passed (in MGETs of at most
   * {@link BLOB_BATCH_BYTES} declared bytes), each checked against its digest and decoded.
   */
  async fetchMany<T>(cacheKeys: readonly string[], decode: EntryDecoder<T>): Promise<Map<string, T>> {
    const found = new Map<string, T>();
    const failed = new Set<string>();
    let open = [...new Set(cacheKeys)];
    if (this.#client.state === 'off') return found;
    for (const namespace of this.#readNamespaces) {
      if (open.length === 0) break;
      const records = await this.#client.getMany(open.map((cacheKey) => recordKey(namespace, cacheKey)));
      if (records === undefined) {
        for (const cacheKey of open) failed.add(cacheKey); // counted by the client
        break;
      }
      const checked = await Promise.all(open.map((cacheKey, i) => this.#checkRecord(namespace, cacheKey, records[i] ?? null)));
      const passed = checked.filter((entry): entry is { cacheKey: string; record: SignedRecord } => entry !== null);
      for (const chunk of bySize(passed, BLOB_BATCH_BYTES)) {
        const blobs = await this.#client.getMany(chunk.map((entry) => blobKey(entry.record.digest)));
        chunk.forEach(({ cacheKey, record }, i) => {
          if (blobs === undefined) failed.add(cacheKey);
          else {
            const value = this.#checkBlob(namespace, cacheKey, record, blobs[i] ?? null, decode);
            if (value !== null) found.set(cacheKey, value.value);
          }
        });
      }
      // Rejected or without its blob (evicted) here: the next namespace may still answer.
      open = open.filter((cacheKey) => !found.has(cacheKey) && !failed.has(cacheKey));
    }
    this.#hits += found.size;
    this.#misses += open.length;
    return found;
  }

  /** One verified entry, or undefined (a miss, a rejection or a failure: each counted). */
  async fetch<T>(cacheKey: string, decode: EntryDecoder<T>): Promise<T | undefined> {
    return (await this.fetchMany([cacheKey], decode)).get(cacheKey);
  }

  #reject(namespace: string, cacheKey: string, why: string): null {
    this.#rejected++;
    this.#lastRejection = `${recordKey(namespace, cacheKey)}: ${why}`;
    return null;
  }

  /** A stored record that is this key's, in this namespace, signed by a key trusted there, within the cap; else null (rejections counted). */
  async #checkRecord(namespace: string, cacheKey: string, bytes: Buffer | null): Promise<{ cacheKey: string; record: SignedRecord } | null> {
    if (bytes === null) return null;
    this.#bytesIn += bytes.length;
    let record: SignedRecord;
    try {
      record = parseRecord(bytes, recordKey(namespace, cacheKey));
    } catch (error) {
      return this.#reject(namespace, cacheKey, (error as Error).message);
    }
    if (record.namespace !== namespace || record.cacheKey !== cacheKey) return this.#reject(namespace, cacheKey, 'signed for another namespace or key');
    const publicKey = this.#accepted.get(namespace)?.get(record.keyId);
    if (publicKey === undefined) return this.#reject(namespace, cacheKey, `key id ${record.keyId} is not trusted for ${namespace}`);
    if (!(await verifyRecordAsync(record, publicKey))) return this.#reject(namespace, cacheKey, 'bad signature');
    if (record.size > this.settings.maxEntryBytes) return this.#reject(namespace, cacheKey, `size ${record.size} over the cap ${this.settings.maxEntryBytes}`);
    return { cacheKey, record };
  }

  /** The record's blob, checked against its digest and decoded; null when gone (evicted: a miss) or rejected (counted). */
  #checkBlob<T>(namespace: string, cacheKey: string, record: SignedRecord, blob: Buffer | null, decode: EntryDecoder<T>): { value: T } | null {
    if (blob === null) return null;
    this.#bytesIn += blob.length;
    if (blob.length !== record.size || sha256Hex(blob) !== record.digest) return this.#reject(namespace, cacheKey, 'blob does not match its digest');
    try {
      return { value: decode(blob, cacheKey) };
    } catch (error) {
      return this.#reject(namespace, cacheKey, `entry does not decode: ${(error as Error).message}`);
    }
  }

  /** Whether uploads go out now (read-write mode with a signing key, and the remote not off). */
  get writes(): boolean {
    return this.#signing !== null && this.#client.state !== 'off';
  }

  /** Counts an upload its caller left out (not encodable, over the caller's own cap). */
  skip(): void {
    if (this.writes) this.#skipped++;
  }

  /** Queues an upload (read-write mode only); skipped and counted when too large or the queue is full. */
  upload(cacheKey: string, bytes: Uint8Array, codec: string): void {
    if (!this.writes) return;
    if (bytes.byteLength > this.settings.maxEntryBytes || this.#queue.length >= this.settings.queueMaxEntries) {
      this.#skipped++;
      return;
    }
    this.#queue.push({ cacheKey, bytes, codec });
    this.#pump();
  }

  #pump(): void {
    while (this.#uploading.size < UPLOAD_CONCURRENCY && this.#queue.length > 0) {
      const next = this.#queue.shift() as Upload;
      const sending = this.#send(next).finally(() => {
        this.#uploading.delete(sending);
        this.#pump();
      });
      this.#uploading.add(sending);
    }
  }

  async #send(upload: Upload): Promise<void> {
    const signing = this.#signing as SigningKey;
    const blob = Buffer.from(upload.bytes.buffer, upload.bytes.byteOffset, upload.bytes.byteLength);
    const digest = sha256Hex(blob);
    const wroteBlob = await this.#client.set(blobKey(digest), blob, true);
    if (wroteBlob === undefined) return;
    if (wroteBlob) this.#bytesOut += blob.length;
    const namespace = this.settings.namespace;
    const record = signRecord({ namespace, cacheKey: upload.cacheKey, digest, size: blob.length, codec: upload.codec, producer: this.#producer }, signing);
    if ((await this.#client.set(recordKey(namespace, upload.cacheKey), record, false)) === undefined) return;
    this.#bytesOut += record.length;
    this.#uploaded++;
  }

  /** Waits for the write-behind queue, at most `deadlineMs`; what is left stays queued. */
  async flush(deadlineMs = FLUSH_DEADLINE_MS): Promise<void> {
    const until = performance.now() + deadlineMs;
    while ((this.#queue.length > 0 || this.#uploading.size > 0) && performance.now() < until && this.#client.state !== 'off') {
      await Promise.race([Promise.all(this.#uploading), sleep(Math.max(1, until - performance.now()))]);
    }
  }

  /** Flushes the queue (at most `deadlineMs`; what is left is skipped and counted) and disconnects. */
  async close(deadlineMs = FLUSH_DEADLINE_MS): Promise<void> {
    await this.flush(deadlineMs);
    this.#skipped += this.#queue.length;
    this.#queue.length = 0;
    await this.#client.close();
  }

  #tryLoad<T>(load: () => T): T | null {
    try {
      return load();
    } catch (error) {
      this.warnings.push((error as Error).message);
      return null;
    }
  }
}

/** `entries` in order, cut into runs of at most `maxBytes` declared bytes (a larger entry alone). */
function bySize<E extends { record: { size: number } }>(entries: readonly E[], maxBytes: number): E[][] {
  const chunks: E[][] = [];
  let chunk: E[] = [];
  let bytes = 0;
  for (const entry of entries) {
    if (chunk.length > 0 && bytes + entry.record.size > maxBytes) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(entry);
    bytes += entry.record.size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
