/**
 * The fan-out engine: reads shards lazily, hands them to an executor, and gives back each shard's
 * outcome in completion or input order. Executor-agnostic; it owns read-ahead, timeouts,
 * stopping, and progress.
 *
 * Shards reach the executor one task each ({@link RunningShard}) or, when its session has
 * `runChunk` and the call no timeout, in chunks of consecutive shards ({@link RunningChunk}): one
 * object per stretch of the input instead of one per shard, read straight from an array by index.
 * Either way they settle into runs of outcomes ({@link SettledRun}), which the consumer takes whole
 * (`as: 'array'`) or shard by shard (the streams); every rule below (the bounds, fail-fast,
 * stopping, progress) counts shards, whatever they travelled in.
 * @module
 */
import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import { consumerStopped, ShardError, ShardSourceError } from '../errors.js';
import { holdShardContext } from '../context.js';
import type { DistributedMethod, ExecutorSession } from '../executors/executor.js';
import { rememberOpened } from '../lifecycle.js';
import { warn } from '../messages.js';
import type { ResolvedOptions } from '../options.js';
import type { Shards } from '../types.js';
import { Outcomes, type Settled, type SettledRun } from './outcomes.js';
import { RunningChunk, type ChunkOwner } from './running-chunk.js';
import { RunningShard, type ShardOwner } from './running-shard.js';
import { arrayShards, countShards, openShards, type ShardIterator } from './shards.js';
import { Fifo } from '../util/fifo.js';

export type { Settled, SettledRun };

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

/** One fan-out. Use once: {@link FanOut.outcomes} or {@link FanOut.batches} runs it. */
export class FanOut {
  readonly #spec: FanOutSpec;
  readonly #controller = new AbortController();
  /** Shards handed over one task each and not yet settled: told to stop one by one when the call stops. */
  readonly #running = new Set<RunningShard>();
  readonly #owner: ShardOwner;
  readonly #chunkOwner: ChunkOwner;
  /** Outcomes not yet handed to the consumer. */
  readonly #outcomes: Outcomes;
  /** The input, when it is an array read by index (see arrayShards); otherwise `#iterator` is read. */
  #array: readonly unknown[] | undefined;
  #iterator: ShardIterator | undefined;
  #session: ExecutorSession | undefined;
  /** Whether shards go to the session in chunks (`runChunk`) rather than one task each. */
  #chunked = false;
  /** Shards read from the iterator but not yet handed over, oldest first. */
  readonly #waiting = new Fifo<unknown>();
  /** Shards read so far: the index of the next one. */
  #read = 0;
  /** Shards handed to the session and not yet settled. */
  #inFlight = 0;
  /** Shards read and not yet handed to the consumer: the quantity the read-ahead bound limits. */
  #held = 0;
  #reading = false;
  #dispatching = false;
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
   * Shards submitted to the session at once (it runs or queues them); the rest wait. Read live: a
   * session may change it during the call (a batching executor grows it with its batches).
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
      settle: (shard, outcome) => this.#settleShard(shard, outcome),
    };
    this.#chunkOwner = {
      timesShards: spec.options.onProgress !== undefined,
      settle: (chunk, offset, count, values, failures, error) =>
        this.#settleChunk(chunk, offset, count, values, failures, error),
    };
    this.#outcomes = new Outcomes(spec.order);
    setMaxListeners(Infinity, this.#controller.signal);
  }

  /** How many shards were read from the input (so far, or in all once the call is over). */
  get read(): number {
    return this.#read;
  }

  /** Runs the fan-out, yielding outcomes; throws what ended it early. Returning early stops everything. */
  outcomes(): AsyncGenerator<Settled, void, undefined> {
    return this.#run(() => {
      const outcome = this.#outcomes.takeOne();
      if (outcome !== undefined) this.#held--;
      return outcome;
    });
  }

  /**
   * Like {@link FanOut.outcomes}, but yields every run of outcomes ready at once as one array: a
   * consumer that only gathers them (`as: 'array'`) wakes once per batch instead of once per shard,
   * and touches no object per shard. Only for consumers that use each batch at once: outcomes taken
   * here no longer count against the read-ahead bound.
   */
  batches(): AsyncGenerator<SettledRun[], void, undefined> {
    return this.#run(() => {
      let run = this.#outcomes.takeRun();
      if (run === undefined) return undefined;
      const batch: SettledRun[] = [];
      do {
        this.#held -= run.count;
        batch.push(run);
      } while ((run = this.#outcomes.takeRun()) !== undefined);
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
    const session = await executor.open({
      method,
      concurrency: options.concurrency,
      signal: this.#controller.signal,
      args: this.#spec.args,
      options: { timeout, batchSize, transfer, module },
    });
    this.#session = session;
    // Stopped while the executor was opening (an abort): nothing else will close this session.
    if (this.#stopped) {
      this.#closeSession();
      return;
    }
    // A timeout is kept per shard, from its own task's start: such calls travel one task per shard.
    this.#chunked = typeof session.runChunk === 'function' && timeout === Infinity;
    this.#array = arrayShards(shards);
    if (this.#array === undefined) this.#iterator = openShards(shards);
  }

  /**
   * Reads shards while the bound allows, then hands over what the session has room for. Sync
   * iterators are read in a loop, async ones one `next()` at a time; an array is read only as its
   * shards are handed over (reading it ahead would gain nothing).
   */
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
        break;
      }
      this.#accept(result);
    }
    this.#dispatch();
  }

  #accept(result: IteratorResult<unknown>): void {
    if (this.#stopped) return;
    if (result.done === true) {
      this.#sourceDone = true;
      return;
    }
    this.#held++;
    this.#read++;
    this.#waiting.push(result.value);
  }

  /**
   * Hands shards to the session while it has room: shards wait here, not in the executor, so a
   * failure is seen before the next shard is handed over and fail-fast never starts one more. A
   * chunk takes all the room there is; a session that settles shards at once (inline) re-enters
   * here, and the loop below picks up the room it freed instead.
   */
  #dispatch(): void {
    if (this.#dispatching || this.#session === undefined) return;
    this.#dispatching = true;
    try {
      while (!this.#stopped) {
        const room = this.#capacity - this.#inFlight;
        if (room <= 0) return;
        if (this.#array !== undefined) {
          if (!this.#handOverFromArray(this.#array, room)) return;
          continue;
        }
        const count = Math.min(room, this.#waiting.size);
        if (count <= 0) return;
        const start = this.#read - this.#waiting.size;
        if (this.#chunked) {
          const shards = new Array<unknown>(count);
          for (let i = 0; i < count; i++) shards[i] = this.#waiting.shift();
          this.#handOver(start, shards);
        } else {
          this.#submit(new RunningShard(this.#owner, start, this.#waiting.shift(), this.#spec.args));
        }
      }
    } finally {
      this.#dispatching = false;
    }
  }

  /** Reads up to `room` shards of the array (within the read-ahead bound) and hands them over; false when none. */
  #handOverFromArray(array: readonly unknown[], room: number): boolean {
    const left = array.length - this.#read;
    if (left <= 0) {
      this.#sourceDone = true;
      return false;
    }
    const count = Math.min(this.#chunked ? room : 1, left, this.#bound - this.#held);
    if (count <= 0) return false;
    const start = this.#read;
    // Read by index, as the array's own iterator would (holes read as `undefined`; a getter may
    // throw), and not with slice(), which would build the chunk with a subclass's constructor.
    const shards = new Array<unknown>(count);
    try {
      for (; this.#read < start + count; this.#read++) shards[this.#read - start] = array[this.#read];
    } catch (error) {
      this.#sourceFailed(error);
      return false;
    }
    this.#held += count;
    if (this.#chunked) this.#handOver(start, shards);
    else this.#submit(new RunningShard(this.#owner, start, shards[0], this.#spec.args));
    return true;
  }

  #submit(task: RunningShard): void {
    this.#running.add(task);
    this.#inFlight++;
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

  #handOver(start: number, shards: readonly unknown[]): void {
    this.#inFlight += shards.length;
    const chunk = new RunningChunk(this.#chunkOwner, start, shards, this.#spec.args, this.#controller.signal);
    try {
      (this.#session as Required<ExecutorSession>).runChunk(chunk);
    } catch (error) {
      chunk.failRest(error);
    }
  }

  /** A shard handed over alone settled (once: a shard told to stop is settled then; its work's answer is ignored). */
  #settleShard(running: RunningShard, outcome: Settled): void {
    this.#running.delete(running);
    this.#inFlight--;
    if (this.#stopped) return;
    const run: SettledRun = outcome.ok
      ? {
          start: outcome.index,
          count: 1,
          shards: [outcome.shard],
          offset: 0,
          values: [outcome.value],
          errors: undefined,
        }
      : {
          start: outcome.index,
          count: 1,
          shards: [outcome.shard],
          offset: 0,
          values: [],
          errors: new Map([[0, outcome.error]]),
        };
    this.#settleRun(run, running.startedAt);
  }

  /** Shards of a chunk settled (see ChunkOwner.settle). */
  #settleChunk(
    chunk: RunningChunk,
    offset: number,
    count: number,
    values: readonly unknown[],
    failures: readonly (readonly [number, unknown])[] | undefined,
    error: { readonly cause: unknown } | undefined,
  ): void {
    this.#inFlight -= count;
    if (this.#stopped) return;
    let causes: Map<number, unknown> | undefined;
    if (error !== undefined) {
      causes = new Map();
      for (let i = 0; i < count; i++) causes.set(i, error.cause);
    } else if (failures !== undefined) {
      causes = new Map(failures);
    }
    const start = chunk.start + offset;
    const run: SettledRun = {
      start,
      count,
      shards: chunk.shards,
      offset,
      values,
      errors: causes === undefined ? undefined : this.#shardErrors(start, chunk.shards, offset, causes),
    };
    this.#settleRun(run, (i) => chunk.startedAt(offset + i));
  }

  /** Each cause as its ShardError. When the first failure ends the call, only that one is made. */
  #shardErrors(
    start: number,
    shards: readonly unknown[],
    offset: number,
    causes: ReadonlyMap<number, unknown>,
  ): Map<number, ShardError> {
    const method = this.#spec.method.name;
    const errors = new Map<number, ShardError>();
    const positions = [...causes.keys()].sort((a, b) => a - b);
    for (const i of this.#spec.stopOnFailure ? positions.slice(0, 1) : positions) {
      errors.set(i, new ShardError({ method, index: start + i, shard: shards[offset + i], cause: causes.get(i) }));
    }
    return errors;
  }

  /**
   * Outcomes reach the consumer, in position order within the run: each shard counts and is
   * reported; with fail-fast the first failure ends the call, and the shards after it in the run
   * are not reported, like shards that finish after a call stopped.
   */
  #settleRun(run: SettledRun, startedAt: number | ((i: number) => number)): void {
    const { errors } = run;
    let firstFailure = -1;
    if (errors !== undefined && this.#spec.stopOnFailure) {
      for (const position of errors.keys()) if (firstFailure < 0 || position < firstFailure) firstFailure = position;
    }
    if (this.#spec.options.onProgress === undefined) {
      this.#done += firstFailure >= 0 ? firstFailure + 1 : run.count;
      this.#failed += firstFailure >= 0 ? 1 : (errors?.size ?? 0);
    } else {
      const last = firstFailure >= 0 ? firstFailure : run.count - 1;
      for (let i = 0; i <= last; i++) {
        this.#done++;
        if (errors?.has(i) === true) this.#failed++;
        this.#report(run.start + i, typeof startedAt === 'number' ? startedAt : startedAt(i));
        // onProgress may have stopped the call (by aborting its signal).
        if (this.#stopped) return;
      }
    }
    if (firstFailure >= 0) {
      this.#fail(errors?.get(firstFailure));
      return;
    }
    this.#outcomes.push(run);
    this.#dispatch();
    this.#notify();
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
        pending: this.#inFlight + this.#waiting.size,
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
    this.#fail(new ShardSourceError(this.#spec.method.name, this.#read, error));
  }

  /** Ends the call with `error`: the consumer gets it on its next read. */
  #fail(error: unknown): void {
    if (this.#stopped) return;
    this.#fatal = { error };
    this.#stop(error);
    this.#notify();
  }

  /**
   * Stops reading, tells every running shard to stop (chunks through the call's signal), closes the
   * source and the session. Idempotent.
   */
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
