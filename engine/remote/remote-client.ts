/**
 * The connection to Redis (node-redis, loaded only when a remote is configured and first needed:
 * node-redis-load.ts), with a connect timeout, a deadline on every operation and a breaker: after
 * {@link FAILURES_TO_TRIP} failures in a row (or at once when the connection is lost: it is never reopened) the remote is off for the rest of the run, and every
 * later call answers at once (a miss, or nothing written). Never throws to its callers: a failure
 * is counted and answered as `undefined`.
 */
import type { RedisClientType, RedisClusterType } from 'redis';
import { loadNodeRedis } from './node-redis-load.js';

export const FAILURES_TO_TRIP = 3;

/** `connecting` until the first connect settles; `off` once tripped or unreachable. */
export type RemoteState = 'connecting' | 'on' | 'off';

export interface RemoteClientSettings {
  readonly urls: readonly string[];
  readonly connectTimeoutMs: number;
  readonly operationTimeoutMs: number;
}

/** The few commands the tier uses, over a single server or a cluster. */
interface Commands {
  get(key: string): Promise<Buffer | null>;
  /** Several keys in one round trip (one MGET on a single server; GETs pipelined on a cluster). */
  getMany(keys: readonly string[]): Promise<(Buffer | null)[]>;
  set(key: string, value: Buffer, nx: boolean): Promise<boolean>;
  ping(): Promise<unknown>;
  /** False once the connection is gone for good (a single server's socket: no reconnecting). */
  alive(): boolean;
  close(): Promise<void>;
  destroy(): void;
}

export class RemoteClient {
  readonly #settings: RemoteClientSettings;
  #commands: Commands | null = null;
  #connecting: Promise<Commands | null> | null = null;
  #state: RemoteState = 'connecting';
  #failuresInARow = 0;
  #errors = 0;
  #lastError: string | null = null;

  constructor(settings: RemoteClientSettings) {
    this.#settings = settings;
  }

  get state(): RemoteState {
    return this.#state;
  }

  get errors(): number {
    return this.#errors;
  }

  get lastError(): string | null {
    return this.#lastError;
  }

  async get(key: string): Promise<Buffer | null | undefined> {
    return this.#run((c) => c.get(key));
  }

  /** Values of several keys, in order (null: absent); undefined on failure (one failure, counted). */
  async getMany(keys: readonly string[]): Promise<(Buffer | null)[] | undefined> {
    if (keys.length === 0) return [];
    return this.#run((c) => c.getMany(keys));
  }

  /** SET (NX when asked); true when written, false when NX found the key, undefined on failure. */
  async set(key: string, value: Buffer, nx: boolean): Promise<boolean | undefined> {
    return this.#run((c) => c.set(key, value, nx));
  }

  /** Round-trip time of a PING on the open connection (connecting first), in ms; undefined when unreachable. */
  async ping(): Promise<number | undefined> {
    if ((await this.#run((c) => c.ping())) === undefined) return undefined;
    const started = performance.now();
    const answered = await this.#run((c) => c.ping());
    return answered === undefined ? undefined : performance.now() - started;
  }

  /** Closes the connection; waits at most the operation deadline for replies in flight. */
  async close(): Promise<void> {
    const commands = this.#commands ?? (this.#connecting ? await this.#connecting : null);
    this.#state = 'off';
    if (commands === null) return;
    this.#commands = null;
    const closed = await withDeadline(commands.close(), this.#settings.operationTimeoutMs).catch(() => undefined);
    if (closed === undefined) commands.destroy();
  }

  /** Opens the connection (once); resolves when it is open or known unreachable. Never throws. */
  async connect(): Promise<void> {
    if (this.#state !== 'off' && this.#commands === null) await (this.#connecting ??= this.#connect());
  }

  async #run<T>(operation: (commands: Commands) => Promise<T>): Promise<T | undefined> {
    if (this.#state === 'off') return undefined;
    const commands = this.#commands ?? (await (this.#connecting ??= this.#connect()));
    if (commands === null || (this.#state as RemoteState) === 'off') return undefined;
    try {
      const value = await withDeadline(operation(commands), this.#settings.operationTimeoutMs);
      this.#failuresInARow = 0;
      return value;
    } catch (error) {
      this.#fail(error, commands);
      return undefined;
    }
  }

  #fail(error: unknown, commands: Commands): void {
    this.#errors++;
    this.#lastError = (error as Error)?.message ?? String(error);
    // A lost connection is not retried (no reconnecting: a run never waits on a flapping server).
    if ((++this.#failuresInARow >= FAILURES_TO_TRIP || !commands.alive()) && this.#state !== 'off') {
      this.#state = 'off';
      const commands = this.#commands;
      this.#commands = null;
      commands?.destroy();
    }
  }

  async #connect(): Promise<Commands | null> {
    let commands: Commands | null = null;
    try {
      commands = openCommands(this.#settings, (error) => {
        this.#lastError = error.message;
      });
      await withDeadline(commands.ping(), this.#settings.connectTimeoutMs);
      this.#commands = commands;
      this.#state = 'on';
      return commands;
    } catch (error) {
      // Unreachable at start: off at once (a connect that timed out would time out again).
      this.#errors++;
      this.#lastError = `cannot reach ${this.#settings.urls.join(', ')}: ${(error as Error)?.message ?? String(error)}`;
      this.#state = 'off';
      commands?.destroy();
      return null;
    }
  }
}

/**
 * Rejects with a timeout error when `promise` has not settled within `ms`. The rejection waits one
 * more turn of the event loop (setImmediate, after the I/O phase): a reply that arrived while this
 * thread was busy (decoding the last group) is read before its timer is believed, so a loaded
 * machine's own slowness is not counted against the server.
 */
export function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => setImmediate(() => reject(new Error(`no answer within ${ms} ms`))).unref(), ms);
    timer.unref();
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/**
 * The commands over node-redis's plain client classes and `sendCommand` (its documented way to send
 * any command): `createClient()` first builds a client class with a method for each of Redis's
 * ~500 commands (and again for MULTI), measured at 180-250 ms of a 2-core machine under load, more
 * than loading node-redis itself; `new RedisClient(…)` takes ~2 ms. A cluster's node clients are
 * still built by node-redis's own factory.
 */
function openCommands(settings: RemoteClientSettings, onError: (error: Error) => void): Commands {
  const redis = loadNodeRedis();
  const socket = { connectTimeout: settings.connectTimeoutMs, reconnectStrategy: false as const };
  const asBuffers = { typeMapping: { [redis.RESP_TYPES.BLOB_STRING]: Buffer } };
  // Deadlines are this module's (withDeadline): no per-command timer of node-redis's own (its default
  // is a 5 s AbortSignal.timeout for every command), and no maintenance-notification handshake.
  const lean = { commandOptions: { timeout: 0 }, maintNotifications: 'disabled' as const };
  type Send = (key: string, args: (string | Buffer)[], readonly: boolean) => Promise<unknown>;
  let client: RedisClientType | RedisClusterType;
  let send: Send;
  if (settings.urls.length > 1) {
    const cluster = new redis.RedisCluster({ rootNodes: settings.urls.map((url) => ({ url })), defaults: { socket, ...lean } }) as unknown as RedisClusterType;
    send = (key, args, readonly) => cluster.sendCommand(key, readonly, args, asBuffers);
    client = cluster;
  } else {
    const single = new redis.RedisClient({ url: settings.urls[0] as string, socket, disableOfflineQueue: true, ...lean }) as unknown as RedisClientType;
    send = (_key, args) => single.sendCommand(args, asBuffers);
    client = single;
  }
  client.on('error', onError);
  const connected = client.connect();
  connected.catch(() => undefined); // reported through the first command's deadline
  const ready = async (): Promise<void> => void (await connected);
  return {
    get: async (key) => {
      await ready();
      return (await send(key, ['GET', key], true)) as Buffer | null;
    },
    getMany: async (keys) => {
      await ready();
      if (settings.urls.length > 1) return Promise.all(keys.map((key) => send(key, ['GET', key], true) as Promise<Buffer | null>));
      return (await send(keys[0] as string, ['MGET', ...keys], true)) as (Buffer | null)[];
    },
    set: async (key, value, nx) => {
      await ready();
      return String(await send(key, nx ? ['SET', key, value, 'NX'] : ['SET', key, value], false)) === 'OK';
    },
    ping: async () => {
      await ready();
      // A cluster has no single node to ping: reading any key answers only once the slots are known.
      return settings.urls.length > 1 ? send('strata:ping', ['GET', 'strata:ping'], true) : send('', ['PING'], true);
    },
    alive: () => settings.urls.length > 1 || (client as RedisClientType).isReady,
    close: async () => {
      await client.close();
    },
    destroy: () => {
      try {
        client.destroy();
      } catch {
        // already closed
      }
    },
  };
}
