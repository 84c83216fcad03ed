/**
 * The fan-out engine: reads shards lazily, hands them to an executor, and gives back each shard's
 * outcome in completion or input order. Executor-agnostic; it owns read-ahead, timeouts,
 * stopping, and progress.
 * @module
 */
import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import { consumerStopped, ShardSourceError } from '../errors.js';
import { holdShardContext } from '../context.js';
import type { DistributedMethod, ExecutorSession } from '../executors/executor.js';
import { rememberOpened } from '../lifecycle.js';
import { warn } from '../messages.js';
import type { ResolvedOptions } from '../options.js';
import type { Shards } from '../types.js';
import { RunningShard, type Settled, type ShardOwner } from './running-shard.js';
import { countShards, openShards, type ShardIterator } from './shards.js';
import { Fifo } from '../util/fifo.js';

export type { Settled };

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

/** One fan-out. Use once: {@link FanOut.outcomes} runs it. */
export class FanOut {
  readonly #spec: FanOutSpec;
  readonly #controller = new AbortController();
  readonly #running = new Set<RunningShard>();
  readonly #owner: ShardOwner;
  /** `order: 'ordered'`: outcomes not yet handed to the consumer, by index. */
  readonly #ready = new Map<number, Settled>();
  /** `order: 'completed'`: outcomes not yet handed to the consumer, in completion order. */
  readonly #completed = new Fifo<Settled>();
  #iterator: ShardIterator | undefined;
  #session: ExecutorSession | undefined;
  /** Shards read but not yet submitted, oldest first. */
  readonly #waiting = new Fifo<RunningShard>();
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
  /** Lets go of the shard context when the call is over (see holdShardContext). */
  #releaseContext: (() => void) | undefined;

  /**
   * Shards submitted to the session at once (it runs or queues them); the rest wait here. Read live:
   * a session may change it during the call (a batching executor grows it with its batches).
   */
  get #capacity(): number {
    return this.#session?.capacity ?? this.#spec.options.concurrency;
  }

  /** Read-ahead bound: `capacity + bufferSize`. */
  get #bound(): number {
    return this.#capacity + this.#spec.options.bufferSize;
  }

  constructor(spec: FanOutSpec) {
    this.#spec = spec;
    this.#owner = {
      method: spec.method.name,
      timeout: spec.options.timeout,
      settle: (shard, outcome) => this.#settle(shard, outcome),
    };
    setMaxListeners(Infinity, this.#controller.signal);
  }

  /** Runs the fan-out, yielding outcomes; throws what ended it early. Returning early stops everything. */
  outcomes(): AsyncGenerator<Settled, void, undefined> {
    return this.#run(() => this.#take());
  }

  /**
   * Like {@link FanOut.outcomes}, but yields every outcome ready at once as one array: a consumer that
   * only gathers them (`as: 'array'`) wakes once per batch instead of once per shard. Only for consumers
   * that use each batch at once: outcomes taken here no longer count against the read-ahead bound.
   */
  batches(): AsyncGenerator<Settled[], void, undefined> {
    return this.#run(() => {
      let outcome = this.#take();
      if (outcome === undefined) return undefined;
      const batch = [outcome];
      while ((outcome = this.#take()) !== undefined) batch.push(outcome);
      return batch;
    });
  }

  async *#run<T>(take: () => T | undefined): AsyncGenerator<T, void, undefined> {
    const { signal } = this.#spec.options;
    const onAbort = (): void => this.#fail(signal?.reason);
    try {
      signal?.throwIfAborted();
      signal?.addEventListener('abort', onAbort, { once: true });
      await this.#open();
      for (;;) {
        this.#pump();
        if (this.#fatal !== undefined) throw this.#fatal.error;
        const next = take();
        if (next !== undefined) {
          // Taking it freed a place in the read-ahead bound: refill it now, not when the consumer
          // comes back for more, so the shards run while the consumer works on this one.
          this.#pump();
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
    const { executor, timeout, batchSize, transfer, module } = options;
    this.#startedAt = performance.now();
    this.#releaseContext = holdShardContext();
    rememberOpened(executor);
    this.#session = await executor.open({
      method,
      concurrency: options.concurrency,
      signal: this.#controller.signal,
      args: this.#spec.args,
      options: { timeout, batchSize, transfer, module },
    });
    // Stopped while the executor was opening (an abort): nothing else will close this session.
    if (this.#stopped) {
      this.#closeSession();
      return;
    }
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
    this.#waiting.push(new RunningShard(this.#owner, this.#nextIndex++, result.value, this.#spec.args));
    this.#dispatch();
  }

  /**
   * Submits waiting shards while the session has room. Shards wait here, not in the executor, so a
   * failure is seen before the next shard is handed over: fail-fast never starts one more.
   */
  #dispatch(): void {
    while (!this.#stopped && this.#running.size < this.#capacity && this.#waiting.size > 0) {
      const next = this.#waiting.shift() as RunningShard;
      this.#submit(next);
    }
  }

  #submit(task: RunningShard): void {
    this.#running.add(task);
    let work: Promise<unknown>;
    try {
      work = (this.#session as ExecutorSession).run(task);
    } catch (error) {
      work = Promise.reject(error);
    }
    work.then(
      (value) => task.succeed(value),
      (error: unknown) => task.fail(error),
    );
  }

  /** Each shard's outcome, once (a shard told to stop is settled then; its work's answer is ignored). */
  #settle(running: RunningShard, outcome: Settled): void {
    this.#running.delete(running);
    if (this.#stopped) return;
    this.#done++;
    if (!outcome.ok) this.#failed++;
    this.#report(outcome.index, running.startedAt);
    if (!outcome.ok && this.#spec.stopOnFailure) {
      this.#fail(outcome.error);
      return;
    }
    if (this.#spec.order === 'ordered') this.#ready.set(outcome.index, outcome);
    else this.#completed.push(outcome);
    this.#dispatch();
    this.#notify();
  }

  #take(): Settled | undefined {
    let outcome: Settled | undefined;
    if (this.#spec.order === 'ordered') {
      outcome = this.#ready.get(this.#emitIndex);
      if (outcome === undefined) return undefined;
      this.#ready.delete(this.#emitIndex++);
    } else {
      outcome = this.#completed.shift();
      if (outcome === undefined) return undefined;
    }
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
        pending: this.#running.size + this.#waiting.size,
        total: countShards(this.#spec.shards),
        durationMs: startedAt === 0 ? 0 : now - startedAt,
        elapsedMs: now - this.#startedAt,
      });
    } catch (error) {
      // A broken progress callback must not lose shards' results.
      warn('PARAFOR_ON_PROGRESS_THREW', `parafor: onProgress of ${this.#spec.method.name} threw`, error);
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
    for (const running of [...this.#running]) running.stop(reason);
    this.#releaseContext?.();
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
  warn('PARAFOR_CLEANUP_FAILED', `parafor: ${what} failed`, error);
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as Partial<PromiseLike<T>>).then === 'function';
}
