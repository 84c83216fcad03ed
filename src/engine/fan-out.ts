/**
 * The fan-out engine: reads shards lazily, hands them to an executor, and gives back each shard's
 * outcome in completion or input order. Executor-agnostic; it owns read-ahead, timeouts,
 * stopping, and progress.
 * @module
 */
import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import { consumerStopped, ShardError, ShardSourceError, ShardTimeoutError } from '../errors.js';
import { abortable } from '../executors/abortable.js';
import type { DistributedMethod, ExecutorSession, ShardTask } from '../executors/executor.js';
import type { ResolvedOptions } from '../options.js';
import type { Shards } from '../types.js';
import { countShards, openShards, type ShardIterator } from './shards.js';

/** One shard's outcome, as the engine reports it. */
export type Settled =
  | { readonly index: number; readonly shard: unknown; readonly ok: true; readonly value: unknown }
  | { readonly index: number; readonly shard: unknown; readonly ok: false; readonly error: ShardError };

/** Everything one call needs. */
export interface FanOutSpec {
  readonly method: DistributedMethod;
  readonly shards: Shards<unknown>;
  readonly args: readonly unknown[];
  readonly options: ResolvedOptions;
  /** Whether the first failure ends the call (otherwise failures are reported like results). */
  readonly stopOnFailure: boolean;
  /** `'completed'`: outcomes as they finish; `'ordered'`: in input order. */
  readonly order: 'completed' | 'ordered';
}

interface Running {
  readonly controller: AbortController;
  startedAt: number;
  timer: NodeJS.Timeout | undefined;
}

/** One fan-out. Use once: {@link FanOut.outcomes} runs it. */
export class FanOut {
  readonly #spec: FanOutSpec;
  readonly #controller = new AbortController();
  readonly #running = new Set<Running>();
  /** Outcomes not yet handed to the consumer, by index (insertion order = completion order). */
  readonly #ready = new Map<number, Settled>();
  #iterator: ShardIterator | undefined;
  #session: ExecutorSession | undefined;
  /** Shards submitted to the session at once (it runs or queues them); the rest wait here. */
  #capacity = 0;
  /** Read-ahead bound: `capacity + bufferSize`. */
  #bound = 0;
  /** Shards read but not yet submitted, oldest first; `#waitingHead` is the next to submit. */
  #waiting: ({ readonly index: number; readonly shard: unknown } | undefined)[] = [];
  #waitingHead = 0;
  #nextIndex = 0;
  #emitIndex = 0;
  /** Shards read and not yet handed to the consumer: the quantity the read-ahead bound limits. */
  #held = 0;
  #reading = false;
  #sourceDone = false;
  #stopped = false;
  #sessionClosed = false;
  #fatal: { readonly error: unknown } | undefined;
  #wake: (() => void) | undefined;
  #done = 0;
  #failed = 0;
  #startedAt = 0;

  constructor(spec: FanOutSpec) {
    this.#spec = spec;
    setMaxListeners(Infinity, this.#controller.signal);
  }

  /** Runs the fan-out, yielding outcomes; throws what ended it early. Returning early stops everything. */
  async *outcomes(): AsyncGenerator<Settled, void, undefined> {
    const { signal } = this.#spec.options;
    const onAbort = (): void => this.#fail(signal?.reason);
    try {
      signal?.throwIfAborted();
      signal?.addEventListener('abort', onAbort, { once: true });
      await this.#open();
      for (;;) {
        this.#pump();
        if (this.#fatal !== undefined) throw this.#fatal.error;
        const next = this.#take();
        if (next !== undefined) {
          yield next;
          continue;
        }
        if (this.#sourceDone && this.#held === 0) return;
        await new Promise<void>((resolve) => (this.#wake = resolve));
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.#stop(consumerStopped(this.#spec.method.name));
    }
  }

  async #open(): Promise<void> {
    const { method, options, shards } = this.#spec;
    this.#startedAt = performance.now();
    this.#session = await options.executor.open({
      method,
      concurrency: options.concurrency,
      signal: this.#controller.signal,
    });
    // Stopped while the executor was opening (an abort): nothing else will close this session.
    if (this.#stopped) this.#closeSession();
    this.#capacity = this.#session.capacity ?? options.concurrency;
    this.#bound = this.#capacity + options.bufferSize;
    this.#iterator = openShards(shards);
  }

  /** Reads shards while the bound allows. Sync iterators are read in a loop, async ones one `next()` at a time. */
  #pump(): void {
    const iterator = this.#iterator;
    while (
      iterator !== undefined &&
      !this.#reading &&
      !this.#sourceDone &&
      !this.#stopped &&
      this.#held < this.#bound
    ) {
      let result: IteratorResult<unknown> | Promise<IteratorResult<unknown>>;
      try {
        result = iterator.next();
      } catch (error) {
        this.#sourceFailed(error);
        return;
      }
      if (isThenable(result)) {
        this.#reading = true;
        Promise.resolve(result).then(
          (value) => {
            this.#reading = false;
            this.#accept(value);
            this.#pump();
            this.#notify();
          },
          (error: unknown) => {
            this.#reading = false;
            if (!this.#stopped) this.#sourceFailed(error);
          },
        );
        return;
      }
      this.#accept(result);
    }
  }

  #accept(result: IteratorResult<unknown>): void {
    if (this.#stopped) return;
    if (result.done === true) {
      this.#sourceDone = true;
      return;
    }
    this.#held++;
    this.#waiting.push({ index: this.#nextIndex++, shard: result.value });
    this.#dispatch();
  }

  /**
   * Submits waiting shards while the session has room. Shards wait here, not in the executor, so a
   * failure is seen before the next shard is handed over: fail-fast never starts one more.
   */
  #dispatch(): void {
    while (!this.#stopped && this.#running.size < this.#capacity && this.#waitingHead < this.#waiting.length) {
      const next = this.#waiting[this.#waitingHead] as { index: number; shard: unknown };
      this.#waiting[this.#waitingHead++] = undefined;
      this.#submit(next.index, next.shard);
    }
    if (this.#waitingHead > 1024 && this.#waitingHead * 2 > this.#waiting.length) {
      this.#waiting = this.#waiting.slice(this.#waitingHead);
      this.#waitingHead = 0;
    }
  }

  #submit(index: number, shard: unknown): void {
    const { method, args, options } = this.#spec;
    const session = this.#session as ExecutorSession;
    const running: Running = { controller: new AbortController(), startedAt: 0, timer: undefined };
    this.#running.add(running);
    const task: ShardTask = {
      index,
      shard,
      args,
      signal: running.controller.signal,
      started: () => {
        running.startedAt = performance.now();
        if (options.timeout !== Infinity && running.timer === undefined) {
          running.timer = setTimeout(
            () => running.controller.abort(new ShardTimeoutError(method.name, index, options.timeout)),
            options.timeout,
          );
        }
      },
    };
    let work: Promise<unknown>;
    try {
      work = session.run(task);
    } catch (error) {
      work = Promise.reject(error);
    }
    // The engine settles every shard itself when its signal aborts, so no executor can make a call hang.
    abortable(work, task.signal).then(
      (value) => this.#settle(running, { index, shard, ok: true, value }),
      (error: unknown) =>
        this.#settle(running, {
          index,
          shard,
          ok: false,
          error: new ShardError({ method: method.name, index, shard, cause: error }),
        }),
    );
  }

  #settle(running: Running, outcome: Settled): void {
    clearTimeout(running.timer);
    this.#running.delete(running);
    if (this.#stopped) return;
    this.#done++;
    if (!outcome.ok) this.#failed++;
    this.#report(outcome.index, running.startedAt);
    if (!outcome.ok && this.#spec.stopOnFailure) {
      this.#fail(outcome.error);
      return;
    }
    this.#ready.set(outcome.index, outcome);
    this.#dispatch();
    this.#notify();
  }

  #take(): Settled | undefined {
    let outcome: Settled | undefined;
    if (this.#spec.order === 'ordered') {
      outcome = this.#ready.get(this.#emitIndex);
      if (outcome !== undefined) this.#emitIndex++;
    } else {
      const first = this.#ready.values().next();
      outcome = first.done === true ? undefined : first.value;
    }
    if (outcome === undefined) return undefined;
    this.#ready.delete(outcome.index);
    this.#held--;
    return outcome;
  }

  #report(index: number, startedAt: number): void {
    const { onProgress } = this.#spec.options;
    if (onProgress === undefined) return;
    const now = performance.now();
    try {
      onProgress({
        method: this.#spec.method.name,
        index,
        done: this.#done,
        failed: this.#failed,
        pending: this.#running.size + this.#waiting.length - this.#waitingHead,
        total: countShards(this.#spec.shards),
        durationMs: startedAt === 0 ? 0 : now - startedAt,
        elapsedMs: now - this.#startedAt,
      });
    } catch (error) {
      // A broken progress callback must not lose shards' results.
      console.error(`parafor: onProgress of ${this.#spec.method.name} threw`, error);
    }
  }

  #sourceFailed(error: unknown): void {
    this.#fail(new ShardSourceError(this.#spec.method.name, this.#nextIndex, error));
  }

  /** Ends the call with `error`: the consumer gets it on its next read. */
  #fail(error: unknown): void {
    if (this.#stopped) return;
    this.#fatal = { error };
    this.#stop(error);
    this.#notify();
  }

  /** Stops reading, tells every running shard to stop, closes the source and the session. Idempotent. */
  #stop(reason: unknown): void {
    if (this.#stopped) return;
    this.#stopped = true;
    const { method } = this.#spec;
    this.#controller.abort(reason);
    for (const running of this.#running) running.controller.abort(reason);
    if (!this.#sourceDone) {
      try {
        // Not awaited: an async source blocked in `next()` would make the consumer's `break` hang.
        const closing = this.#iterator?.return?.();
        if (closing instanceof Promise)
          closing.catch((error: unknown) => reportCleanupError(`closing the shards of ${method.name}`, error));
      } catch (error) {
        reportCleanupError(`closing the shards of ${method.name}`, error);
      }
    }
    this.#closeSession();
  }

  #closeSession(): void {
    const session = this.#session;
    if (session === undefined || this.#sessionClosed) return;
    this.#sessionClosed = true;
    const { method, options } = this.#spec;
    Promise.resolve()
      .then(() => session.close())
      .catch((error: unknown) =>
        reportCleanupError(`closing the ${options.executor.name} executor after ${method.name}`, error),
      );
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

/** Cleanup runs after the caller has its answer, so its failures can only be reported. */
function reportCleanupError(what: string, error: unknown): void {
  console.error(`parafor: ${what} failed:`, error);
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as Partial<PromiseLike<T>>).then === 'function';
}
