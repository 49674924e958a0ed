/**
 * The connection to Redis (node-redis, loaded only when a remote is configured and first needed:
 * node-redis-load.ts), with a connect timeout, a deadline on every operation and a breaker: after
 * {@link FAILURES_TO_TRIP} failures in a row the remote is off for the rest of the run, and every
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
  set(key: string, value: Buffer, nx: boolean): Promise<boolean>;
  ping(): Promise<unknown>;
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
      this.#fail(error);
      return undefined;
    }
  }

  #fail(error: unknown): void {
    this.#errors++;
    this.#lastError = (error as Error)?.message ?? String(error);
    if (++this.#failuresInARow >= FAILURES_TO_TRIP && this.#state !== 'off') {
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

/** Rejects with a timeout error when `promise` has not settled within `ms`. */
export function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

function openCommands(settings: RemoteClientSettings, onError: (error: Error) => void): Commands {
  const redis = loadNodeRedis();
  const socket = { connectTimeout: settings.connectTimeoutMs, reconnectStrategy: false as const };
  const asBuffers = { [redis.RESP_TYPES.BLOB_STRING]: Buffer };
  // Deadlines are this module's (withDeadline): no per-command timer of node-redis's own (its default
  // is a 5 s AbortSignal.timeout for every command), and no maintenance-notification handshake.
  const lean = { commandOptions: { timeout: 0 }, maintNotifications: 'disabled' as const };
  let client: RedisClientType | RedisClusterType;
  if (settings.urls.length > 1) {
    client = redis.createCluster({ rootNodes: settings.urls.map((url) => ({ url })), defaults: { socket, ...lean } }) as unknown as RedisClusterType;
  } else {
    client = redis.createClient({ url: settings.urls[0] as string, socket, disableOfflineQueue: true, ...lean }) as unknown as RedisClientType;
  }
  client.on('error', onError);
  const buffers = client.withTypeMapping(asBuffers);
  const connected = client.connect();
  connected.catch(() => undefined); // reported through the first command's deadline
  const ready = async (): Promise<void> => void (await connected);
  return {
    get: async (key) => {
      await ready();
      return (await buffers.get(key)) as Buffer | null;
    },
    set: async (key, value, nx) => {
      await ready();
      return (await buffers.set(key, value, nx ? { NX: true } : {})) === 'OK';
    },
    ping: async () => {
      await ready();
      // A cluster has no single node to ping: reading any key answers only once the slots are known.
      return settings.urls.length > 1 ? client.get('strata:ping') : (client as RedisClientType).ping();
    },
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
