/**
 * The options a user gives: one check per option, in a table the compiler keeps complete, and one
 * object of defaults, filled in for each call.
 * @module
 */
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isRateLimit, limiterOf, RATE_LIMIT_EXPECTED, type RateLimiter } from './engine/rate-limit.js';
import { isRetries, RETRIES_EXPECTED, retryPolicy, type RetryPolicy } from './engine/retry.js';
import type { Executor } from './executors/executor.js';
import { executorNames, namedExecutor } from './executors/registry.js';
import { closest, invalid, quoteAll, refused } from './messages.js';
import type { CallStats } from './observe/call-stats.js';
import type { DistributeOptions, ExecutorOption, Progress, ResultOrder, ResultShape } from './types.js';

/** The options of one call, checked and complete. */
export interface ResolvedOptions {
  readonly executor: Executor;
  readonly concurrency: number;
  readonly bufferSize: number;
  readonly as: ResultOrder;
  readonly results: ResultShape;
  readonly stopOnError: boolean;
  readonly signal: AbortSignal | undefined;
  readonly timeout: number;
  readonly onProgress: ((progress: Progress) => void) | undefined;
  readonly progress: boolean;
  readonly onStats: ((stats: CallStats) => void) | undefined;
  /** `undefined` when failed shards are not retried. */
  readonly retries: RetryPolicy | undefined;
  /** The call's quota of starts: its own, or the shared `RateLimiter` it was given. */
  readonly rateLimit: RateLimiter | undefined;
  readonly batchSize: number | 'auto';
  readonly transfer: boolean;
  /** The `module` option as a file URL. */
  readonly module: string | undefined;
}

/** What an option left out means, where it does not depend on another option. */
export const DEFAULTS = {
  executor: 'thread',
  as: 'array',
  results: 'values',
  stopOnError: true,
  timeout: Infinity,
  batchSize: 'auto',
  transfer: false,
  progress: false,
} as const satisfies Partial<Record<keyof DistributeOptions, unknown>>;

/** `bufferSize` defaults to `concurrency`, up to this. */
const MAX_DEFAULT_BUFFER = 1000;

/** Timers take at most 2^31 - 1 ms; past that Node fires them after 1 ms. */
const MAX_TIMEOUT = 2_147_483_647;

interface Check {
  /** What a valid value is, completing "Expected …". */
  readonly expected: string;
  readonly ok: (value: unknown) => boolean;
}

const ORDERS: readonly ResultOrder[] = ['array', 'completed', 'ordered'];
const SHAPES: readonly ResultShape[] = ['values', 'entries', 'settled'];

/** Every option's check. Typed against the options, so an option without a check does not compile. */
const CHECKS: { readonly [K in keyof DistributeOptions]-?: Check } = {
  executor: {
    expected: `\`executor\` to be one of ${quoteAll(executorNames(), "'")} or an object with \`name\`, \`defaultConcurrency()\` and \`open()\``,
    ok: (v) => (typeof v === 'string' && executorNames().includes(v)) || isExecutor(v),
  },
  concurrency: { expected: '`concurrency` to be an integer from 1 and up, or Infinity', ok: isCount(1) },
  bufferSize: { expected: '`bufferSize` to be an integer from 0 and up, or Infinity', ok: isCount(0) },
  as: { expected: `\`as\` to be one of ${quoteAll(ORDERS, "'")}`, ok: (v) => ORDERS.includes(v as ResultOrder) },
  results: {
    expected: `\`results\` to be one of ${quoteAll(SHAPES, "'")}`,
    ok: (v) => SHAPES.includes(v as ResultShape),
  },
  stopOnError: { expected: '`stopOnError` to be a boolean', ok: (v) => typeof v === 'boolean' },
  signal: { expected: '`signal` to be an AbortSignal', ok: (v) => v instanceof AbortSignal },
  timeout: {
    expected: `\`timeout\` to be a number of milliseconds from above 0 to ${MAX_TIMEOUT} (about 24.8 days), or Infinity`,
    ok: (v) => typeof v === 'number' && v > 0 && (v <= MAX_TIMEOUT || v === Infinity),
  },
  onProgress: { expected: '`onProgress` to be a function', ok: (v) => typeof v === 'function' },
  progress: { expected: '`progress` to be a boolean', ok: (v) => typeof v === 'boolean' },
  onStats: { expected: '`onStats` to be a function', ok: (v) => typeof v === 'function' },
  retries: { expected: RETRIES_EXPECTED, ok: isRetries },
  rateLimit: { expected: RATE_LIMIT_EXPECTED, ok: isRateLimit },
  batchSize: {
    expected: "`batchSize` to be 'auto' or an integer from 1 and up",
    ok: (v) => v === 'auto' || (Number.isSafeInteger(v) && (v as number) >= 1),
  },
  transfer: { expected: '`transfer` to be a boolean', ok: (v) => typeof v === 'boolean' },
  module: {
    expected: '`module` to be a file URL (`import.meta.url`), a file: `URL`, or an absolute path',
    ok: isModule,
  },
};

const NAMES = Object.keys(CHECKS) as readonly (keyof DistributeOptions)[];

/**
 * Throws a `TypeError` naming `who` and the option if `options` is not a valid
 * {@link DistributeOptions}. Unknown keys are errors too: a misspelt option must not pass silently.
 */
export function validateOptions(options: unknown, who: string): DistributeOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalid(who, 'the options to be an object', options);
  }
  for (const key of Object.keys(options)) {
    if (Object.hasOwn(CHECKS, key)) continue;
    const guess = closest(key, NAMES);
    throw refused(
      who,
      `unknown option \`${key}\`${guess === undefined ? '.' : `; did you mean \`${guess}\`?`} The options are ${quoteAll(NAMES)}`,
    );
  }
  const given = options as { readonly [K in keyof DistributeOptions]?: unknown };
  for (const name of NAMES) {
    const value = given[name];
    if (value !== undefined && !CHECKS[name].ok(value)) throw invalid(who, CHECKS[name].expected, value);
  }
  // Given together for a worker executor, they can never work: say so where the class is defined.
  if (given.executor === 'worker' || given.executor === 'process') {
    assertBatchFitsTimeout(given.batchSize, given.timeout, who);
    assertBatchFitsRateLimit(given.batchSize, given.rateLimit, who);
  }
  return options;
}

/**
 * Throws a `TypeError` for a fixed `batchSize` above 1 with a finite `timeout`: a timeout stops the
 * shard's worker, and with it every shard of its batch. Checked where the options are given when one
 * object has both, and again by the worker executors when a call combines them through `parallel()`.
 */
export function assertBatchFitsTimeout(batchSize: unknown, timeout: unknown, who: string): void {
  if (typeof batchSize !== 'number' || batchSize <= 1 || typeof timeout !== 'number' || timeout === Infinity) return;
  throw refused(
    who,
    `\`batchSize: ${batchSize}\` cannot be combined with \`timeout\`: a timeout stops the worker of the shard, ` +
      "and with it every shard of its batch. Leave `batchSize` at 'auto', which sends shards one by one when there is a timeout.",
  );
}

/**
 * Throws a `TypeError` for a fixed `batchSize` above 1 with a `rateLimit`: the limit counts a shard
 * as started when it is handed over, which is true only when shards travel to workers one by one.
 * Checked where the options are given when one object has both, and by the engine for every call.
 */
export function assertBatchFitsRateLimit(batchSize: unknown, rateLimit: unknown, who: string): void {
  if (typeof batchSize !== 'number' || batchSize <= 1 || rateLimit === undefined) return;
  throw refused(
    who,
    `\`batchSize: ${batchSize}\` cannot be combined with \`rateLimit\`: shards waiting in a worker's batch would ` +
      "start later all at once, past the limit. Leave `batchSize` at 'auto', which sends shards one by one when there is a rate limit.",
  );
}

/**
 * The `as` a call will have, known before anything else is checked: it decides whether a bad input
 * rejects a promise or throws from a stream.
 */
export function resultOrder(base: DistributeOptions, call: DistributeOptions = {}): ResultOrder {
  return call.as ?? base.as ?? DEFAULTS.as;
}

/** Merges the decorator's options with a call's own (the call's win) and fills in the defaults. */
export function resolveOptions(base: DistributeOptions, call: DistributeOptions = {}): ResolvedOptions {
  const merged: DistributeOptions = { ...base, ...definedOnly(call) };
  const executor = toExecutor(merged.executor ?? DEFAULTS.executor);
  const concurrency = merged.concurrency ?? executor.defaultConcurrency();
  return {
    executor,
    concurrency,
    bufferSize: merged.bufferSize ?? Math.min(concurrency, MAX_DEFAULT_BUFFER),
    as: merged.as ?? DEFAULTS.as,
    results: merged.results ?? DEFAULTS.results,
    stopOnError: merged.stopOnError ?? DEFAULTS.stopOnError,
    signal: merged.signal,
    timeout: merged.timeout ?? DEFAULTS.timeout,
    onProgress: merged.onProgress,
    progress: merged.progress ?? DEFAULTS.progress,
    onStats: merged.onStats,
    retries: retryPolicy(merged.retries),
    rateLimit: merged.rateLimit === undefined ? undefined : limiterOf(merged.rateLimit),
    batchSize: merged.batchSize ?? DEFAULTS.batchSize,
    transfer: merged.transfer ?? DEFAULTS.transfer,
    module: merged.module === undefined ? undefined : moduleUrl(merged.module),
  };
}

/** The `module` option as a file URL: `import.meta.url`, a `URL`, or an absolute path. */
export function moduleUrl(value: string | URL): string {
  if (value instanceof URL) return value.href;
  return value.startsWith('file:') ? new URL(value).href : pathToFileURL(value).href;
}

function toExecutor(option: ExecutorOption): Executor {
  return typeof option === 'object' ? option : namedExecutor(option);
}

function isModule(value: unknown): boolean {
  if (value instanceof URL) return value.protocol === 'file:';
  return typeof value === 'string' && (value.startsWith('file:') || isAbsolute(value));
}

function isCount(min: number): (value: unknown) => boolean {
  return (v) => v === Infinity || (Number.isSafeInteger(v) && (v as number) >= min);
}

function isExecutor(value: unknown): value is Executor {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<Executor>;
  return (
    typeof candidate.name === 'string' &&
    typeof candidate.open === 'function' &&
    typeof candidate.defaultConcurrency === 'function'
  );
}

function definedOnly(options: DistributeOptions): DistributeOptions {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
}
