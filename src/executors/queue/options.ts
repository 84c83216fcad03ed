/**
 * The options of {@link queueExecutor}: their types, one check each, and their defaults.
 * @module
 */
import { invalid } from '../../messages.js';

/** Options of a Redis connection, as ioredis takes them (`host`, `port`, `password`, `tls`, …). */
export type RedisConnectionOptions = Readonly<Record<string, unknown>>;

/** What {@link queueExecutor} takes. */
export interface QueueExecutorOptions {
  /**
   * The Redis server: a URL (`redis://user:password@host:6379/0`, `rediss://` for TLS) or an
   * ioredis options object. Workers connect to the same one (`parafor worker --connection`).
   * @example 'redis://127.0.0.1:6379'
   */
  readonly connection: string | RedisConnectionOptions;
  /** The BullMQ queue's name: workers started with the same `--queue` run its jobs. @example 'reports' */
  readonly queue: string;
  /**
   * The prefix of every Redis key of the queue (BullMQ's `prefix`); workers take it as `--prefix`.
   * @default 'bull'
   */
  readonly prefix?: string;
  /**
   * Jobs of one call in the queue or running at once, when the call sets no `concurrency`. Each
   * job is a batch of shards (see `batchSize`), so this is how far ahead of the workers the queue
   * is kept filled.
   * @default 16
   */
  readonly concurrency?: number;
  /**
   * Milliseconds to reach Redis, and how long Redis may stay unreachable during a call, before the
   * call fails with an error that says so (BullMQ alone would wait forever).
   * @default 5000
   */
  readonly connectTimeout?: number;
  /**
   * Milliseconds the connections stay open after the last call ends, for the next one; then they
   * close, so that a program whose calls are over exits by itself.
   * @default 1000
   */
  readonly idleTimeout?: number;
  /**
   * Seconds a finished job stays in Redis if its caller never removes it (the caller died): a
   * caller removes each job as it reads its result, so this is only a safety net.
   * @default 3600
   */
  readonly keepFinishedSeconds?: number;
}

/** {@link QueueExecutorOptions} with every default filled in. */
export interface ResolvedQueueOptions {
  readonly connection: string | RedisConnectionOptions;
  readonly queue: string;
  readonly prefix: string;
  readonly concurrency: number;
  readonly connectTimeout: number;
  readonly idleTimeout: number;
  readonly keepFinishedSeconds: number;
}

/** What an option left out means. */
export const QUEUE_DEFAULTS = {
  prefix: 'bull',
  concurrency: 16,
  connectTimeout: 5000,
  idleTimeout: 1000,
  keepFinishedSeconds: 3600,
} as const satisfies Partial<ResolvedQueueOptions>;

const WHO = 'queueExecutor()';

/** A queue name or prefix BullMQ accepts: no `:`, which separates the parts of its keys. */
const NAME = /^[^:\s]+$/;

const isCount = (value: unknown): boolean => Number.isInteger(value) && (value as number) >= 1;
const isMs = (value: unknown): boolean =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 2_147_483_647;

const CHECKS = {
  connection: {
    expected: 'a Redis URL (`redis://host:6379`) or an ioredis options object for `connection`',
    ok: (value: unknown) =>
      (typeof value === 'string' && /^rediss?:\/\//.test(value)) ||
      (typeof value === 'object' && value !== null && !Array.isArray(value)),
  },
  queue: { expected: 'a non-empty name without `:` or spaces for `queue`', ok: isName },
  prefix: { expected: 'a non-empty name without `:` or spaces for `prefix`', ok: isName },
  concurrency: { expected: 'an integer from 1 and up for `concurrency`', ok: isCount },
  connectTimeout: { expected: 'milliseconds from 0 to 2147483647 for `connectTimeout`', ok: isMs },
  idleTimeout: { expected: 'milliseconds from 0 to 2147483647 for `idleTimeout`', ok: isMs },
  keepFinishedSeconds: { expected: 'an integer from 1 and up for `keepFinishedSeconds`', ok: isCount },
} as const satisfies Record<keyof QueueExecutorOptions, { expected: string; ok: (value: unknown) => boolean }>;

function isName(value: unknown): boolean {
  return typeof value === 'string' && NAME.test(value);
}

/**
 * Checks the options and fills in the defaults.
 * @throws TypeError naming the first option that is wrong, and what it should be
 */
export function resolveQueueOptions(options: unknown): ResolvedQueueOptions {
  if (typeof options !== 'object' || options === null) {
    throw invalid(WHO, 'an options object with `connection` and `queue`', options);
  }
  const given = options as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!(key in CHECKS)) throw invalid(WHO, `one of the options ${Object.keys(CHECKS).join(', ')}`, key);
  }
  const resolved: Record<string, unknown> = { ...QUEUE_DEFAULTS };
  for (const [key, check] of Object.entries(CHECKS)) {
    const value = given[key];
    if (value === undefined && key in QUEUE_DEFAULTS) continue;
    if (!check.ok(value)) throw invalid(WHO, check.expected, value);
    resolved[key] = value;
  }
  return resolved as unknown as ResolvedQueueOptions;
}
