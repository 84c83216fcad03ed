/**
 * `retries`: whether a failed attempt of a shard runs again, and after how long. The engine owns
 * the loop itself (fan-out.ts), because an attempt is a new task for the executor, with its own
 * timeout and signal, whose wait holds the shard's slot and ends when the call stops. What is
 * here is only the policy. (p-retry wraps a promise-returning function instead; besides, its
 * versions for Node 20 turn a thrown non-Error into a TypeError and never retry a TypeError, and a
 * shard's failure must stay what the shard threw.)
 * @module
 */
import { ShardTimeoutError, WorkerExitError } from '../errors.js';
import { invalid, warn } from '../messages.js';
import type { FailedAttempt, RetryOptions } from '../types.js';

/** The `retries` option, checked and with its defaults filled in. */
export interface RetryPolicy extends Required<Omit<RetryOptions, 'retryIf'>> {
  readonly retryIf: RetryOptions['retryIf'] | undefined;
}

/** What `retries` leaves out means. */
const RETRY_DEFAULTS = {
  minDelay: 100,
  maxDelay: 10_000,
  factor: 2,
  jitter: true,
  timeouts: true,
  crashes: true,
} as const satisfies Partial<RetryOptions>;

/** Timers take at most 2^31 - 1 ms. */
const MAX_DELAY = 2_147_483_647;

const isDelay = (v: unknown): boolean => typeof v === 'number' && v >= 0 && v <= MAX_DELAY;
const isRetryCount = (v: unknown): boolean => v === Infinity || (Number.isSafeInteger(v) && (v as number) >= 0);

/** What a valid `retries` option is, completing "Expected …". */
export const RETRIES_EXPECTED =
  '`retries` to be an integer from 0 and up, Infinity, or { limit, minDelay?, maxDelay?, factor?, jitter?, timeouts?, crashes?, retryIf? } ' +
  `(delays in milliseconds from 0 to ${MAX_DELAY}, a factor of at least 1, booleans, a function)`;

const RETRY_KEYS: readonly (keyof RetryOptions)[] = [
  'limit',
  'minDelay',
  'maxDelay',
  'factor',
  'jitter',
  'timeouts',
  'crashes',
  'retryIf',
];

/** Whether `value` is a valid `retries` option. Unknown keys are refused: a misspelt one must not pass. */
export function isRetries(value: unknown): boolean {
  if (typeof value === 'number') return isRetryCount(value);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const given = value as { readonly [K in keyof RetryOptions]?: unknown };
  const optionalBoolean = (v: unknown): boolean => v === undefined || typeof v === 'boolean';
  return (
    Object.keys(value).every((key) => (RETRY_KEYS as readonly string[]).includes(key)) &&
    isRetryCount(given.limit) &&
    (given.minDelay === undefined || isDelay(given.minDelay)) &&
    (given.maxDelay === undefined || isDelay(given.maxDelay)) &&
    (given.factor === undefined ||
      (typeof given.factor === 'number' && given.factor >= 1 && given.factor < Infinity)) &&
    optionalBoolean(given.jitter) &&
    optionalBoolean(given.timeouts) &&
    optionalBoolean(given.crashes) &&
    (given.retryIf === undefined || typeof given.retryIf === 'function')
  );
}

/** The policy of a checked `retries` option, or `undefined` when nothing is retried. */
export function retryPolicy(option: number | RetryOptions | undefined): RetryPolicy | undefined {
  if (option === undefined) return undefined;
  const given: RetryOptions = typeof option === 'number' ? { limit: option } : option;
  if (given.limit === 0) return undefined;
  return {
    limit: given.limit,
    minDelay: given.minDelay ?? RETRY_DEFAULTS.minDelay,
    maxDelay: given.maxDelay ?? RETRY_DEFAULTS.maxDelay,
    factor: given.factor ?? RETRY_DEFAULTS.factor,
    jitter: given.jitter ?? RETRY_DEFAULTS.jitter,
    timeouts: given.timeouts ?? RETRY_DEFAULTS.timeouts,
    crashes: given.crashes ?? RETRY_DEFAULTS.crashes,
    retryIf: given.retryIf,
  };
}

/**
 * Whether the attempt that failed with `failure.error` runs again. `failure.attempt` counts from 1.
 * A `retryIf` that throws means no, with a warning: the shard's own error is what the caller gets.
 */
export function shouldRetry(policy: RetryPolicy, failure: FailedAttempt, method: string): boolean {
  if (failure.attempt > policy.limit) return false;
  const { error } = failure;
  if (error instanceof ShardTimeoutError && !policy.timeouts) return false;
  if (error instanceof WorkerExitError && !policy.crashes) return false;
  if (policy.retryIf === undefined) return true;
  let answer: unknown;
  try {
    answer = policy.retryIf(failure);
  } catch (thrown) {
    warn(
      'PARAFOR_RETRY_IF_FAILED',
      `parafor: retryIf of ${method} threw, so shard ${failure.index} was not retried`,
      thrown,
    );
    return false;
  }
  // A promise would always look like yes: say so instead of retrying forever.
  if (typeof answer === 'boolean') return answer;
  warn(
    'PARAFOR_RETRY_IF_FAILED',
    `parafor: retryIf of ${method} did not answer with a boolean, so shard ${failure.index} was not retried`,
    invalid('retryIf', 'a boolean (true to retry)', answer),
  );
  return false;
}

/** Milliseconds to wait before retry `retry` (1 for the first). */
export function retryDelay(policy: RetryPolicy, retry: number): number {
  const full = Math.min(policy.maxDelay, policy.minDelay * policy.factor ** (retry - 1));
  return policy.jitter ? full / 2 + (Math.random() * full) / 2 : full;
}
