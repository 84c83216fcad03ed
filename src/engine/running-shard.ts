/**
 * A shard between the engine and the executor: the task the executor runs, and the engine's record
 * of it. One object per shard, because a call may have millions: its `AbortController` is made only
 * if someone reads `signal`, and everything shared lives in its fan-out's {@link ShardOwner}.
 * @module
 */
import { performance } from 'node:perf_hooks';
import { ShardError, ShardTimeoutError } from '../errors.js';
import type { ShardTask } from '../executors/executor.js';
import type { Settled } from './outcomes.js';
import type { RateLimiter, StartSlot } from './rate-limit.js';

/** What the shards of one fan-out share. */
export interface ShardOwner {
  /** Qualified name of the method, for errors. */
  readonly method: string;
  /** Milliseconds a shard may run from its start, or `Infinity`. */
  readonly timeout: number;
  /** Receives each shard's outcome, exactly once. */
  settle(shard: RunningShard, outcome: Settled): void;
  /**
   * Whether the failed attempt runs again (`retries`): if so, the engine starts a new attempt
   * later and this one settles no outcome.
   */
  retries(shard: RunningShard, cause: unknown): boolean;
}

/**
 * One attempt of a shard, handed to an executor. Settles once: by its result, its error, or being
 * told to stop; a failure that is retried settles nothing, and the next attempt is a new object.
 */
export class RunningShard implements ShardTask {
  readonly index: number;
  readonly shard: unknown;
  readonly args: readonly unknown[];
  /** Which run of the shard this is, from 1. */
  readonly attempt: number;
  /** When the executor said it started (`performance.now()`), or 0. */
  startedAt = 0;
  /** The worker that ran it, when the executor said (`ranOn`). */
  worker: string | undefined;
  /** Its place in the call's rate limit, which counts from its start. */
  rateSlot: { readonly limiter: RateLimiter; readonly slot: StartSlot } | undefined;
  readonly #owner: ShardOwner;
  #controller: AbortController | undefined;
  #stopped: { readonly reason: unknown } | undefined;
  #settled = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(owner: ShardOwner, index: number, shard: unknown, args: readonly unknown[], attempt = 1) {
    this.#owner = owner;
    this.index = index;
    this.shard = shard;
    this.args = args;
    this.attempt = attempt;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#stopped !== undefined) this.#controller.abort(this.#stopped.reason);
    }
    return this.#controller.signal;
  }

  started(): void {
    this.startedAt = performance.now();
    this.rateSlot?.limiter.started(this.rateSlot.slot, this.startedAt);
    const { timeout, method } = this.#owner;
    if (timeout !== Infinity && this.#timer === undefined && !this.#settled) {
      this.#timer = setTimeout(() => this.stop(new ShardTimeoutError(method, this.index, timeout)), timeout);
    }
  }

  ranOn(worker: string): void {
    this.worker = String(worker);
  }

  /**
   * Tells the shard to stop (its signal aborts with `reason`) and settles it at once as failed: the
   * engine never waits for the executor, so no executor can make a call hang.
   */
  stop(reason: unknown): void {
    if (this.#stopped !== undefined) return;
    this.#stopped = { reason };
    this.#controller?.abort(reason);
    this.fail(reason);
  }

  /** The executor's result. */
  succeed(value: unknown): void {
    this.#settle({ index: this.index, shard: this.shard, ok: true, value });
  }

  /** The executor's error, or why the shard was stopped. */
  fail(cause: unknown): void {
    if (this.#settled) return;
    if (this.#owner.retries(this, cause)) {
      this.#finish();
      return;
    }
    const { index, shard, attempt } = this;
    this.#settle({
      index,
      shard,
      ok: false,
      error: new ShardError({ method: this.#owner.method, index, shard, cause, attempts: attempt }),
    });
  }

  #settle(outcome: Settled): void {
    if (this.#settled) return;
    this.#finish();
    this.#owner.settle(this, outcome);
  }

  #finish(): void {
    this.#settled = true;
    clearTimeout(this.#timer);
    // A shard done without a start said (it failed before running) counts as started now.
    this.rateSlot?.limiter.started(this.rateSlot.slot);
  }
}
