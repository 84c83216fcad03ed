/**
 * The connections of one queue executor, shared by its calls: a BullMQ `Queue` (to add and remove
 * jobs, and to publish cancellations), and one `QueueEvents` that streams the queue's job events to
 * the calls they belong to. Opened by the first call, closed `idleTimeout` after the last one ends
 * (or at `shutdown()`), so that they never keep a finished program alive.
 * @module
 */
import type { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { reasonOf, say } from '../../messages.js';
import { callOfJob, cancelChannel, logKey, type CancelMessage } from './jobs.js';
import type { BullMQ } from './load.js';
import type { ResolvedQueueOptions } from './options.js';

/** What a call hears of its jobs: only that something happened; it reads what from the job itself. */
export interface JobListener {
  active(jobId: string): void;
  completed(jobId: string): void;
  failed(jobId: string, reason: string): void;
}

/** What a call reads of one of its jobs (see {@link Connected.read}). */
export interface JobState {
  /** When a worker took it (the worker's clock), if one did. */
  readonly processedOn: string | null;
  /** When it ended, if it did. */
  readonly finishedOn: string | null;
  /** Why it failed as a whole, if it did. */
  readonly failedReason: string | null;
  /** The last line of its log: its outcome, once it completed (see jobs.ts). */
  readonly outcome: string | null;
}

/** The open connections, as a call uses them. */
export interface Connected {
  readonly queue: Queue;
  /** Tells every worker to stop jobs (a Redis pub/sub message). */
  cancel(message: CancelMessage): Promise<void>;
  /** The state of jobs, in one round trip: `undefined` where the job is gone. */
  read(ids: readonly string[]): Promise<(JobState | undefined)[]>;
}

/** How long closing may take before the sockets are simply dropped (BullMQ's close() can wait forever). */
const CLOSE_WAIT_MS = 2000;

/**
 * The most events the queue's stream keeps (BullMQ trims it to about this many, 10,000 by default).
 * Its entries carry job ids and event names, never shards or results (see jobs.ts); a call misses
 * nothing when events it has not read yet are trimmed, since it reads its jobs' state too.
 */
const EVENTS_MAX_LEN = 1000;

/** The shared connections of one executor. */
export class QueueClient {
  readonly #o: ResolvedQueueOptions;
  readonly #bull: BullMQ;
  #opening: Promise<Opened> | undefined;
  readonly #listeners = new Map<string, JobListener>();
  #users = 0;
  #idle: NodeJS.Timeout | undefined;

  constructor(options: ResolvedQueueOptions, bull: BullMQ) {
    this.#o = options;
    this.#bull = bull;
  }

  /** Where Redis is, for messages (without a password). */
  get where(): string {
    const { connection } = this.#o;
    if (typeof connection === 'string') return connection.replace(/\/\/[^@/]*@/, '//');
    const { host = '127.0.0.1', port = 6379 } = connection as { host?: unknown; port?: unknown };
    return `${String(host)}:${String(port)}`;
  }

  /**
   * Opens the connections if needed, and routes the events of `call`'s jobs to `listener` until
   * {@link release}. Fails within `connectTimeout` when Redis cannot be reached.
   */
  async acquire(who: string, call: string, listener: JobListener): Promise<Connected> {
    this.#users++;
    clearTimeout(this.#idle);
    this.#listeners.set(call, listener);
    try {
      const opening = (this.#opening ??= this.#open(who));
      const opened = await opening;
      return opened.connected;
    } catch (error) {
      this.release(call);
      throw error;
    }
  }

  /** `call` is over: its events are no longer routed; the connections close once no call is left. */
  release(call: string): void {
    if (!this.#listeners.delete(call)) return;
    this.#users--;
    if (this.#users > 0) return;
    clearTimeout(this.#idle);
    this.#idle = setTimeout(() => void this.close(), this.#o.idleTimeout);
    // The sockets hold the program while they are open; this timer alone must not.
    this.#idle.unref();
  }

  /** Closes the connections (bounded); the next call opens them again. Never rejects. */
  async close(): Promise<void> {
    clearTimeout(this.#idle);
    const opening = this.#opening;
    this.#opening = undefined;
    if (opening === undefined) return;
    const opened = await opening.catch(() => undefined);
    if (opened !== undefined) await closeAll(opened);
  }

  async #open(who: string): Promise<Opened> {
    const { Queue, QueueEvents } = this.#bull;
    const { queue: name, prefix, connectTimeout } = this.#o;
    const base = typeof this.#o.connection === 'string' ? { url: this.#o.connection } : { ...this.#o.connection };
    // Commands fail at once while Redis is unreachable, instead of waiting in ioredis's queue
    // forever; ioredis keeps reconnecting meanwhile, and the call decides how long to wait.
    // Once closed, never again: a client still connecting when closed (Redis unreachable) would
    // otherwise go on trying, and its timers keep the program alive.
    const state = { closed: false };
    const retryStrategy = (times: number): number | null => (state.closed ? null : Math.min(100 * times, 1000));
    const queue = new Queue(name, {
      prefix,
      streams: { events: { maxLen: EVENTS_MAX_LEN } },
      connection: { connectTimeout, ...base, enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy },
    });
    const events = new QueueEvents(name, {
      prefix,
      connection: { connectTimeout, ...base, maxRetriesPerRequest: null, retryStrategy },
    });
    let lastError: unknown;
    // Unheard, an 'error' event would crash the program: errors reach the calls through their commands.
    const onError = (error: unknown): void => {
      lastError = error;
    };
    queue.on('error', onError);
    events.on('error', onError);
    for (const owner of [queue, events]) keepQuietAfterClose(owner);
    // A plain client of our own: for pub/sub and for reading many jobs' fields in one round trip.
    const own = { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy, lazyConnect: true };
    const { connection } = this.#o;
    const redis =
      typeof connection === 'string'
        ? new this.#bull.Redis(connection, { connectTimeout, ...own })
        : new this.#bull.Redis({ connectTimeout, ...connection, ...own });
    redis.on('error', onError);
    const opened: Opened = { queue, events, redis, state, connected: this.#connected(queue, redis) };
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.all([queue.waitUntilReady(), events.waitUntilReady(), redis.connect()]),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject((lastError as Error | undefined) ?? new Error('no answer')), connectTimeout);
        }),
      ]);
    } catch (error) {
      void closeAll(opened);
      this.#opening = undefined;
      throw new Error(
        say(
          who,
          `could not reach Redis at ${this.where} within ${connectTimeout} ms (${reasonOf(lastError ?? error)})`,
        ),
        { cause: error },
      );
    } finally {
      clearTimeout(timer);
    }
    events.on('active', ({ jobId }) => this.#route(jobId)?.active(jobId));
    events.on('completed', ({ jobId }) => this.#route(jobId)?.completed(jobId));
    events.on('failed', ({ jobId, failedReason }) => this.#route(jobId)?.failed(jobId, failedReason));
    return opened;
  }

  #route(jobId: string): JobListener | undefined {
    const call = callOfJob(jobId);
    return call === undefined ? undefined : this.#listeners.get(call);
  }

  #connected(queue: Queue, redis: Redis): Connected {
    const channel = cancelChannel(this.#o.prefix, this.#o.queue);
    return {
      queue,
      async cancel(message) {
        await redis.publish(channel, JSON.stringify(message));
      },
      async read(ids) {
        const pipeline = redis.pipeline();
        for (const id of ids) {
          const key = queue.toKey(id);
          pipeline.hmget(key, 'name', 'processedOn', 'finishedOn', 'failedReason');
          pipeline.lindex(logKey(key), -1);
        }
        const values = ((await pipeline.exec()) ?? []).map(([error, value]) => {
          if (error !== null) throw error;
          return value as (string | null)[] | string | null;
        });
        return ids.map((_, i) => {
          const [name, processedOn, finishedOn, failedReason] = (values[2 * i] ?? []) as (string | null)[];
          if (name === null || name === undefined) return undefined;
          const outcome = (values[2 * i + 1] ?? null) as string | null;
          return {
            processedOn: processedOn ?? null,
            finishedOn: finishedOn ?? null,
            failedReason: failedReason ?? null,
            outcome,
          };
        });
      },
    };
  }
}

interface Opened {
  readonly queue: Queue;
  readonly events: QueueEvents;
  readonly redis: Redis;
  readonly state: { closed: boolean };
  readonly connected: Connected;
}

const ignore = (): void => undefined;

/**
 * BullMQ stops listening to a client's errors when it closes it, and a client closed while Redis is
 * down may still be finishing a reconnection attempt: ioredis would print that attempt's error on
 * the program's stderr ("Unhandled error event"). A listener of our own on the raw clients stays.
 */
function keepQuietAfterClose(owner: Queue | QueueEvents): void {
  type Client = Promise<{ on(event: 'error', listener: () => void): unknown }> | undefined;
  const backend = (owner as unknown as { backend?: { client?: Client; blockingClient?: Client } }).backend;
  for (const client of [backend?.client, backend?.blockingClient]) {
    client?.then((raw) => raw.on('error', ignore), ignore);
  }
}

async function closeAll({ queue, events, redis, state }: Opened): Promise<void> {
  state.closed = true;
  let timer: NodeJS.Timeout | undefined;
  const closing = Promise.allSettled([queue.close(), events.close(), redis.quit()]);
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, CLOSE_WAIT_MS);
  });
  await Promise.race([closing, late]);
  clearTimeout(timer);
  // Redis unreachable: close() may never end, so the sockets are dropped.
  await Promise.allSettled([queue.disconnect(), events.disconnect()]);
  redis.disconnect();
}
