/**
 * A bounded per-subscriber queue of watch events (L4 streams).
 *
 * - Events for the same path coalesce into one pending event: the newest revision is kept, the
 *   `invalidated` lists are merged, and the kinds combine so that what the subscriber finally sees
 *   matches the file system (`unlink` then `add` is a `change`; `add` then `change` stays an `add`;
 *   anything then `unlink` is an `unlink`). A coalesced event keeps its first place in the queue.
 * - Past `bound` distinct pending paths, the queue drops what it holds and the subscriber gets one
 *   `resync` event instead (it must re-read everything). Events that arrive while that resync is
 *   pending are folded into it (the re-read, which happens after the subscriber takes the resync,
 *   sees them): memory never grows without bound and no change is ever silently lost.
 * - Pull with `next()` (a promise, the async-iterator protocol) or `poll()` (synchronous, undefined
 *   when empty); iterate with `for await`. `close()` ends every pending and later `next()`.
 */

export type WatchEventKind = 'add' | 'change' | 'unlink' | 'resync';

export interface WatchEvent {
  readonly event: WatchEventKind;
  /** Root-relative, `/` separators; `.` for a resync. */
  readonly path: string;
  /** Root-relative paths invalidated because of this event. */
  readonly invalidated: readonly string[];
  /** The engine's revision after the invalidation. */
  readonly revision: number;
  /** `performance.now()` when the watcher saw the change (for latency measurements; not part of the JSON contract). */
  readonly detectedAt: number;
}

export interface EventQueueOptions {
  /** Most distinct paths held before the queue collapses into one `resync` (default 1,000). */
  readonly bound?: number;
}

export const DEFAULT_QUEUE_BOUND = 1_000;

export interface EventQueueStats {
  /** Distinct paths pending (a pending resync counts as one). */
  readonly pending: number;
  /** Events pushed. */
  readonly pushed: number;
  /** Events merged into a pending one (same path) or folded into a pending resync. */
  readonly coalesced: number;
  /** Times the bound was passed. */
  readonly resyncs: number;
  /** Events delivered. */
  readonly delivered: number;
}

type Waiter = (result: IteratorResult<WatchEvent, undefined>) => void;

export class EventQueue implements AsyncIterableIterator<WatchEvent> {
  readonly bound: number;
  readonly #pending = new Map<string, WatchEvent>();
  #resync: WatchEvent | null = null;
  readonly #waiters: Waiter[] = [];
  #closed = false;
  #pushed = 0;
  #coalesced = 0;
  #resyncs = 0;
  #delivered = 0;

  constructor(options: EventQueueOptions = {}) {
    const bound = options.bound ?? DEFAULT_QUEUE_BOUND;
    if (!Number.isSafeInteger(bound) || bound < 1) throw new RangeError(`EventQueue bound must be a positive integer, got ${bound}`);
    this.bound = bound;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Pending events (a pending resync counts as one). */
  get size(): number {
    return this.#resync ? 1 : this.#pending.size;
  }

  stats(): EventQueueStats {
    return { pending: this.size, pushed: this.#pushed, coalesced: this.#coalesced, resyncs: this.#resyncs, delivered: this.#delivered };
  }

  /** Adds an event; hands it straight to a waiting `next()` when there is one. Ignored once closed. */
  push(event: WatchEvent): void {
    if (this.#closed) return;
    this.#pushed++;
    const waiter = this.size === 0 ? this.#waiters.shift() : undefined;
    if (waiter) {
      this.#delivered++;
      waiter({ value: event, done: false });
      return;
    }
    if (this.#resync) {
      this.#coalesced++;
      this.#resync = foldIntoResync(this.#resync, event);
      return;
    }
    if (event.event === 'resync') {
      this.#overflow(event);
      return;
    }
    const previous = this.#pending.get(event.path);
    if (previous) {
      this.#coalesced++;
      this.#pending.set(event.path, coalesce(previous, event));
      return;
    }
    if (this.#pending.size >= this.bound) {
      this.#overflow(event);
      return;
    }
    this.#pending.set(event.path, event);
  }

  /** The next event, synchronously; undefined when none is pending. */
  poll(): WatchEvent | undefined {
    if (this.#resync) {
      const event = this.#resync;
      this.#resync = null;
      this.#delivered++;
      return event;
    }
    const first = this.#pending.entries().next();
    if (first.done) return undefined;
    const [path, event] = first.value;
    this.#pending.delete(path);
    this.#delivered++;
    return event;
  }

  next(): Promise<IteratorResult<WatchEvent, undefined>> {
    const event = this.poll();
    if (event) return Promise.resolve({ value: event, done: false });
    if (this.#closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  return(): Promise<IteratorResult<WatchEvent, undefined>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Drops what is pending and ends every waiting and later `next()`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending.clear();
    this.#resync = null;
    for (const waiter of this.#waiters.splice(0)) waiter({ value: undefined, done: true });
  }

  #overflow(event: WatchEvent): void {
    this.#resyncs++;
    let revision = event.revision;
    let detectedAt = event.detectedAt;
    for (const pending of this.#pending.values()) {
      revision = Math.max(revision, pending.revision);
      detectedAt = Math.min(detectedAt, pending.detectedAt);
    }
    this.#coalesced += this.#pending.size;
    this.#pending.clear();
    this.#resync = { event: 'resync', path: '.', invalidated: [], revision, detectedAt };
  }
}

function foldIntoResync(resync: WatchEvent, event: WatchEvent): WatchEvent {
  return event.revision > resync.revision ? { ...resync, revision: event.revision } : resync;
}

/** One pending event for a path, from the pending one and a newer one. */
export function coalesce(older: WatchEvent, newer: WatchEvent): WatchEvent {
  const kind = combineKinds(older.event, newer.event);
  const invalidated = older.invalidated.length === 0 ? newer.invalidated : newer.invalidated.length === 0 ? older.invalidated : [...new Set([...older.invalidated, ...newer.invalidated])];
  return {
    event: kind,
    path: newer.path,
    invalidated,
    revision: Math.max(older.revision, newer.revision),
    detectedAt: Math.min(older.detectedAt, newer.detectedAt),
  };
}

function combineKinds(older: WatchEventKind, newer: WatchEventKind): WatchEventKind {
  if (newer === 'unlink') return 'unlink'; // whatever happened before, the file is gone now
  if (older === 'unlink') return 'change'; // gone, then back: the subscriber must re-read it
  if (older === 'add') return 'add'; // new to the subscriber, whatever was written since
  return newer === 'add' ? 'change' : newer;
}
