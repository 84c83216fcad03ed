/**
 * `rateLimit`: at most `limit` shard starts in any window of `interval` milliseconds. A sliding
 * log of start times rather than a token bucket: a bucket that refills `limit` tokens per interval
 * lets through up to twice `limit` in some windows (a full bucket, then its refill), which is what
 * a service's quota counts.
 * @module
 */
import { performance } from 'node:perf_hooks';
import { invalid } from '../messages.js';
import type { RateLimit } from '../types.js';
import { Fifo } from '../util/fifo.js';

/** The largest `limit`: the log keeps one number per start in the window. */
export const MAX_RATE_LIMIT = 1_000_000;

/** Timers take at most 2^31 - 1 ms. */
const MAX_INTERVAL = 2_147_483_647;

/**
 * A quota of shard starts that several calls share: pass the same object as the `rateLimit` of
 * every call (of any method, on any executor) that counts against one service's quota. A plain
 * `{ limit, interval }` object is a quota for its call alone.
 *
 * @example
 * ```ts
 * const api = new RateLimiter({ limit: 100, interval: 60_000 }); // 100 requests a minute
 * await parallel(client, { rateLimit: api }).fetchUser(ids);
 * await parallel(client, { rateLimit: api }).fetchOrder(orderIds); // counts against the same 100
 * ```
 */
export class RateLimiter implements RateLimit {
  /** Starts allowed per `interval`. */
  readonly limit: number;
  /** The window, in milliseconds. */
  readonly interval: number;
  /** The starts that still count, in the order they were taken. */
  readonly #slots = new Fifo<StartSlot>();
  /** Calls waiting for a slot taken but not started yet: they wait for that start, not for a time. */
  readonly #waiting = new Set<() => void>();

  /** @throws TypeError if `limit` or `interval` is not valid. */
  constructor({ limit, interval }: RateLimit) {
    assertRateLimit({ limit, interval }, 'RateLimiter');
    this.limit = limit;
    this.interval = interval;
  }

  /**
   * Takes a place for one start, if the quota has one now. The start counts from when
   * {@link RateLimiter.started} says it happened, and until then it counts as happening: a shard
   * handed over and still waiting for its worker must not let others past it.
   */
  take(now = performance.now()): StartSlot | undefined {
    this.#forget(now);
    if (this.#slots.size >= this.limit) return undefined;
    const slot: StartSlot = { at: Infinity };
    this.#slots.push(slot);
    return slot;
  }

  /** The start `slot` was taken for happened now (or, for one that never started, its shard is done). */
  started(slot: StartSlot, now = performance.now()): void {
    if (slot.at !== Infinity) return;
    slot.at = now;
    // The calls waiting on it can now count the time to wait.
    for (const wake of [...this.#waiting]) wake();
  }

  /**
   * Milliseconds until the quota may have a place (0: now), or `Infinity` while it waits on starts
   * not yet made: then {@link RateLimiter.onStarted} tells when to ask again.
   */
  wait(now = performance.now()): number {
    this.#forget(now);
    if (this.#slots.size < this.limit) return 0;
    return (this.#slots.peek() as StartSlot).at + this.interval - now;
  }

  /** Calls `wake` at the next start made (see {@link RateLimiter.wait}); returns the function that stops it. */
  onStarted(wake: () => void): () => void {
    const once = (): void => {
      this.#waiting.delete(once);
      wake();
    };
    this.#waiting.add(once);
    return () => this.#waiting.delete(once);
  }

  // Only from the front: a later start that is older stays counted until those before it leave,
  // which can only delay a start, never let one through early.
  #forget(now: number): void {
    let oldest: StartSlot | undefined;
    while ((oldest = this.#slots.peek()) !== undefined && oldest.at <= now - this.interval) this.#slots.shift();
  }
}

/** A place in a {@link RateLimiter}'s window, taken for one start. */
export interface StartSlot {
  /** When the start happened (`performance.now()`), or `Infinity` until it does. */
  at: number;
}

/** Whether `value` is a valid `{ limit, interval }` (a {@link RateLimiter} is one). */
export function isRateLimit(value: unknown): value is RateLimit {
  if (typeof value !== 'object' || value === null) return false;
  const { limit, interval } = value as Partial<Record<keyof RateLimit, unknown>>;
  return (
    Number.isSafeInteger(limit) &&
    (limit as number) >= 1 &&
    (limit as number) <= MAX_RATE_LIMIT &&
    typeof interval === 'number' &&
    interval > 0 &&
    interval <= MAX_INTERVAL
  );
}

// Grouped by hand: toLocaleString would load ICU's number formatting (about 20 ms) as parafor is imported.
const MAX_RATE_LIMIT_TEXT = String(MAX_RATE_LIMIT).replace(/\B(?=(\d{3})+$)/g, ',');

const RULES =
  `{ limit, interval }, with limit an integer from 1 to ${MAX_RATE_LIMIT_TEXT} ` +
  `and interval a number of milliseconds above 0, at most ${MAX_INTERVAL}`;

/** What a valid `rateLimit` option is, completing "Expected …". */
export const RATE_LIMIT_EXPECTED = `\`rateLimit\` to be a RateLimiter or ${RULES}`;

function assertRateLimit(value: unknown, who: string): void {
  if (!isRateLimit(value)) throw invalid(who, RULES, value);
}

/** The limiter of one call: the shared one it was given, or its own for a plain `{ limit, interval }`. */
export function limiterOf(option: RateLimit | RateLimiter): RateLimiter {
  return option instanceof RateLimiter ? option : new RateLimiter(option);
}
