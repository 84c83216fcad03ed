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

/** What the shards of one fan-out share. */
export interface ShardOwner {
  /** Qualified name of the method, for errors. */
  readonly method: string;
  /** Milliseconds a shard may run from its start, or `Infinity`. */
  readonly timeout: number;
  /** Receives each shard's outcome, exactly once. */
  settle(shard: RunningShard, outcome: Settled): void;
}

/** A shard handed to an executor. Settles once: by its result, its error, or being told to stop. */
export class RunningShard implements ShardTask {
  readonly index: number;
  readonly shard: unknown;
  readonly args: readonly unknown[];
  /** When the executor said it started (`performance.now()`), or 0. */
  startedAt = 0;
  readonly #owner: ShardOwner;
  #controller: AbortController | undefined;
  #stopped: { readonly reason: unknown } | undefined;
  #settled = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(owner: ShardOwner, index: number, shard: unknown, args: readonly unknown[]) {
    this.#owner = owner;
    this.index = index;
    this.shard = shard;
    this.args = args;
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
    const { timeout, method } = this.#owner;
    if (timeout !== Infinity && this.#timer === undefined && !this.#settled) {
      this.#timer = setTimeout(() => this.stop(new ShardTimeoutError(method, this.index, timeout)), timeout);
    }
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
    const { index, shard } = this;
    this.#settle({
      index,
      shard,
      ok: false,
      error: new ShardError({ method: this.#owner.method, index, shard, cause }),
    });
  }

  #settle(outcome: Settled): void {
    if (this.#settled) return;
    this.#settled = true;
    clearTimeout(this.#timer);
    this.#owner.settle(this, outcome);
  }
}
