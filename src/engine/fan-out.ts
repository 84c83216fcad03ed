/**
 * The fan-out engine: reads shards lazily, hands them to an executor, and gives back each shard's
 * outcome in completion or input order. Executor-agnostic; it owns read-ahead, timeouts,
 * stopping, retries, the rate limit, and progress.
 *
 * Shards reach the executor one task each ({@link RunningShard}) or, when its session has
 * `runChunk` and the call no timeout, retries or rate limit (which all work per shard), in chunks
 * of consecutive shards ({@link RunningChunk}): one
 * object per stretch of the input instead of one per shard, read straight from an array by index.
 * Either way they settle into runs of outcomes ({@link SettledRun}), which the consumer takes whole
 * (`as: 'array'`) or shard by shard (the streams); every rule below (the bounds, fail-fast,
 * stopping, progress) counts shards, whatever they travelled in.
 * @module
 */
import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import { consumerStopped, ShardSourceError } from '../errors.js';
import { onAbort } from '../util/abort-listeners.js';
import { abortable } from '../util/abortable.js';
import { holdShardContext } from '../context.js';
import type { DistributedMethod, ExecutorSession } from '../executors/executor.js';
import { rememberOpened } from '../lifecycle.js';
import { warn } from '../messages.js';
import { assertBatchFitsRateLimit, type ResolvedOptions } from '../options.js';
import { Fifo } from '../util/fifo.js';
import type { Shards } from '../types.js';
import { chunkRun, Outcomes, runOfOne, type Settled, type SettledRun } from './outcomes.js';
import type { CallObserver } from '../observe/call-observer.js';
import { observeCall, outcomeOf, ProgressReporter } from './progress.js';
import { RunningChunk, type ChunkOwner } from './running-chunk.js';
import { RunningShard, type ShardOwner } from './running-shard.js';
import { ShardReader } from './reader.js';
import { retryDelay, shouldRetry } from './retry.js';

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
  #reader: ShardReader | undefined;
  #session: ExecutorSession | undefined;
  /** Whether shards go to the session in chunks (`runChunk`) rather than one task each. */
  #chunked = false;
  /** Shards handed to the session and not yet settled. */
  #inFlight = 0;
  /** Shards read and not yet handed to the consumer: the quantity the read-ahead bound limits. */
  #held = 0;
  #dispatching = false;
  #dispatchScheduled = false;
  #stopped = false;
  #sessionClosed = false;
  #fatal: { readonly error: unknown } | undefined;
  #wake: (() => void) | undefined;
  /** Set when the call has an `onProgress`. */
  #progress: ProgressReporter | undefined;
  /** Set when the call has `progress` or `onStats`. */
  #observer: CallObserver | undefined;
  /**
   * While a session's `runChunk` runs: shards settled meanwhile ran on this thread, one after
   * another (synchronous shards on 'thread', an inline executor), which `onStats` times as a batch.
   */
  #inRunChunk = false;
  /** Lets go of the shard context when the call is over (see holdShardContext). */
  #releaseContext: (() => void) | undefined;
  /** Retries waiting out their delay; each holds its shard's place in `#inFlight`. */
  readonly #retryTimers = new Set<NodeJS.Timeout>();
  /** Retries whose delay is over, to be handed over before any new shard (they hold their place already). */
  readonly #retriesDue = new Fifo<RunningShard>();
  /** Retries started so far. */
  #retried = 0;
  /** Set while handing over waits for the rate limit to have room again, after a time… */
  #rateTimer: NodeJS.Timeout | undefined;
  /** …or after a start it waits on (this stops watching for it). */
  #rateWatch: (() => void) | undefined;
  /** The attempt that waits for the rate limit, next to start (it holds its place in `#inFlight`). */
  #rateHeld: RunningShard | undefined;

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
      retries: (shard, cause) => this.#retryLater(shard, cause),
    };
    this.#chunkOwner = {
      timesShards: spec.options.onProgress !== undefined || spec.options.progress || spec.options.onStats !== undefined,
      countsWorkers: spec.options.onStats !== undefined,
      settle: (chunk, offset, count, values, failures, error) =>
        this.#settleChunk(chunk, offset, count, values, failures, error),
    };
    this.#outcomes = new Outcomes(spec.order);
    setMaxListeners(Infinity, this.#controller.signal);
  }

  /** How many shards were read from the input (so far, or in all once the call is over). */
  get read(): number {
    return this.#reader?.read ?? 0;
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
    let stopListening: (() => void) | undefined;
    // How the call ended, for `progress` and `onStats`: left unset when the consumer stopped reading.
    let ended: 'completed' | 'threw' | undefined;
    this.#observer = observeCall(this.#spec.method.name, this.#spec.options, this.#spec.shards);
    try {
      signal?.throwIfAborted();
      // One listener per signal however many calls share it (see onAbort).
      if (signal !== undefined) stopListening = onAbort(signal, () => this.#fail(signal.reason));
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
        if (this.#reader?.done === true && this.#held === 0) {
          ended = 'completed';
          return;
        }
        await new Promise<void>((resolve) => (this.#wake = resolve));
      }
    } catch (error) {
      ended = 'threw';
      throw error;
    } finally {
      stopListening?.();
      this.#stop(consumerStopped(this.#spec.method.name));
      this.#observer?.end(outcomeOf(ended, this.#spec.options, this.#observer.failed));
    }
  }

  async #open(): Promise<void> {
    const { method, options, shards } = this.#spec;
    const { executor, timeout, transfer, module, rateLimit } = options;
    if (executor.name !== 'thread') assertBatchFitsRateLimit(options.batchSize, rateLimit, method.name);
    // A rate limit counts a shard as started when it is handed over: no shard may wait in a batch.
    const batchSize = rateLimit === undefined ? options.batchSize : 1;
    if (options.onProgress !== undefined) {
      this.#progress = new ProgressReporter(method.name, options.onProgress, shards);
    }
    this.#releaseContext = holdShardContext();
    rememberOpened(executor);
    const signal = this.#controller.signal;
    let opening: Promise<ExecutorSession>;
    try {
      opening = Promise.resolve(
        executor.open({
          method,
          concurrency: options.concurrency,
          signal,
          args: this.#spec.args,
          // Both a timeout and a rate limit count from a shard's true start.
          options: {
            timeout,
            batchSize,
            transfer,
            module,
            exactStarts: timeout !== Infinity || rateLimit !== undefined,
          },
        }),
      );
    } catch (error) {
      opening = Promise.reject(error);
    }
    let session: ExecutorSession;
    try {
      // An executor that never finishes opening must not hold the call: an abort ends the wait.
      session = await abortable(opening, signal);
    } catch (error) {
      // A session that arrives after the call stopped waiting for it is closed at once.
      opening.then(
        (late) => closeLate(late, method.name, executor.name),
        () => undefined,
      );
      throw error;
    }
    this.#session = session;
    // Stopped while the executor was opening (an abort): nothing else will close this session.
    if (this.#stopped) {
      this.#closeSession();
      return;
    }
    // A timeout, retries and a rate limit all work shard by shard, through each shard's own task.
    this.#chunked =
      typeof session.runChunk === 'function' &&
      timeout === Infinity &&
      options.retries === undefined &&
      rateLimit === undefined;
    this.#reader = new ShardReader(shards, {
      resumed: (read) => {
        this.#held += read;
        this.#pump();
        // A shard read is nothing the consumer waits for; the end of the input may be.
        if (read === 0) this.#notify();
      },
      failed: (error, index) => this.#fail(new ShardSourceError(this.#spec.method.name, index, error)),
    });
  }

  /** Reads shards ahead while the bound allows (iterators only), then hands over what the session has room for. */
  #pump(): void {
    const reader = this.#reader;
    if (reader === undefined || this.#stopped) return;
    this.#held += reader.readAhead(this.#bound - this.#held);
    // While an async source is being read, chunks wait for the reading to pause (the bound, or the
    // source waiting on something), so that shards read one promise at a time still travel together.
    if (this.#chunked && reader.reading) this.#dispatchSoon();
    else this.#dispatch();
  }

  #dispatchSoon(): void {
    if (this.#dispatchScheduled) return;
    this.#dispatchScheduled = true;
    setImmediate(() => {
      this.#dispatchScheduled = false;
      this.#dispatch();
    });
  }

  /**
   * Hands shards to the session while it has room: shards wait here, not in the executor, so a
   * failure is seen before the next shard is handed over and fail-fast never starts one more. A
   * chunk takes all the room there is; a session that settles shards at once (inline) re-enters
   * here, and the loop below picks up the room it freed instead.
   */
  #dispatch(): void {
    const reader = this.#reader;
    if (this.#dispatching || reader === undefined) return;
    this.#dispatching = true;
    try {
      while (!this.#stopped) {
        let task = this.#rateHeld ?? this.#retriesDue.shift();
        this.#rateHeld = undefined;
        if (task === undefined) {
          // An array is read as it is handed over: within the read-ahead bound too.
          const room = Math.min(this.#capacity - this.#inFlight, reader.byIndex ? this.#bound - this.#held : Infinity);
          if (room <= 0) return;
          const taken = reader.take(this.#chunked ? room : 1);
          if (taken === undefined) return;
          const { start, shards } = taken;
          if (reader.byIndex) this.#held += shards.length;
          if (this.#chunked) {
            this.#handOver(start, shards);
            continue;
          }
          this.#inFlight++;
          task = new RunningShard(this.#owner, start, shards[0], this.#spec.args);
        }
        if (!this.#rateAllows(task)) {
          this.#rateHeld = task;
          return;
        }
        this.#start(task);
      }
    } finally {
      this.#dispatching = false;
    }
  }

  /**
   * Whether the rate limit lets `task` start now, taking its place in the limit if so. If not,
   * handing over resumes when it may: after a time, or when a start the limit waits on is made.
   */
  #rateAllows(task: RunningShard): boolean {
    const limiter = this.#spec.options.rateLimit;
    if (limiter === undefined) return true;
    const slot = limiter.take();
    if (slot !== undefined) {
      task.rateSlot = { limiter, slot };
      return true;
    }
    if (this.#rateTimer !== undefined || this.#rateWatch !== undefined) return false;
    const resume = (): void => {
      this.#rateTimer = undefined;
      this.#rateWatch = undefined;
      this.#dispatch();
    };
    const wait = limiter.wait();
    // A timer kept referenced: the call is waiting for it, and with nothing else to do the program would exit.
    if (wait === Infinity) this.#rateWatch = limiter.onStarted(resume);
    else this.#rateTimer = setTimeout(resume, Math.max(1, Math.ceil(wait)));
    return false;
  }

  /** Hands one attempt of a shard to the session; its place in `#inFlight` is already counted. */
  #start(task: RunningShard): void {
    this.#running.add(task);
    this.#observer?.handedOver(task, 1);
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
    this.#observer?.handedOver(chunk, shards.length);
    this.#inRunChunk = true;
    try {
      (this.#session as Required<ExecutorSession>).runChunk(chunk);
    } catch (error) {
      chunk.failRest(error);
    } finally {
      this.#inRunChunk = false;
    }
  }

  /**
   * A failed attempt runs again after its delay, if `retries` allows: its shard keeps its place
   * in `#inFlight` meanwhile, so a failing service is not hit harder by the shards behind it.
   */
  #retryLater(failed: RunningShard, cause: unknown): boolean {
    const policy = this.#spec.options.retries;
    if (policy === undefined || this.#stopped) return false;
    const { index, shard, attempt } = failed;
    const failure = { error: cause, index, shard, attempt, retriesLeft: policy.limit - attempt };
    // retryIf is the user's code: it may have stopped the call (by aborting its signal).
    if (!shouldRetry(policy, failure, this.#spec.method.name) || this.#stopped) return false;
    this.#running.delete(failed);
    this.#retried++;
    this.#observer?.retried(failed, failed.startedAt, failed.worker);
    const timer = setTimeout(
      () => {
        this.#retryTimers.delete(timer);
        this.#retriesDue.push(new RunningShard(this.#owner, index, shard, this.#spec.args, attempt + 1));
        this.#dispatch();
      },
      retryDelay(policy, attempt),
    );
    this.#retryTimers.add(timer);
    return true;
  }

  /** A shard handed over alone settled (once: a shard told to stop is settled then; its work's answer is ignored). */
  #settleShard(running: RunningShard, outcome: Settled): void {
    this.#running.delete(running);
    this.#inFlight--;
    if (this.#stopped) return;
    const observer = this.#observer;
    const observe =
      observer &&
      ((reported: number, endedAt: number): void => {
        const { worker } = running;
        const workers = worker === undefined ? undefined : ([[worker, reported]] as const);
        observer.ran(running, running.startedAt, reported, outcome.ok ? 0 : reported, false, endedAt, workers);
      });
    this.#settleRun(runOfOne(outcome), running.startedAt, observe);
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
    const { method, stopOnFailure } = this.#spec;
    const start = chunk.start + offset;
    const run = chunkRun(method.name, start, chunk.shards, offset, values, count, causes, stopOnFailure);
    const inTurn = this.#inRunChunk || this.#session?.runsInTurn === true;
    const observer = this.#observer;
    // Only the shards reported count (fail-fast reports none past the first failure); in a batch,
    // they took their share of its time.
    const observe =
      observer &&
      ((reported: number, endedAt: number): void => {
        let failed = 0;
        if (causes !== undefined) for (const position of causes.keys()) if (position < reported) failed++;
        const workers = chunk.workersOf(offset, reported);
        observer.ran(chunk, chunk.startedAt(offset), reported, failed, inTurn, endedAt, workers, reported / count);
      });
    this.#settleRun(run, (i) => chunk.startedAt(offset + i), observe);
  }

  /**
   * Outcomes reach the consumer. Within the run, in position order, each shard is reported; with
   * fail-fast the first failure ends the call, and the shards after it in the run are not reported,
   * like shards that finish after a call stopped. `observe` is told how many of the run's first
   * shards were reported, and when they ended (for `progress` and `onStats`).
   */
  #settleRun(
    run: SettledRun,
    startedAt: number | ((i: number) => number),
    observe?: (reported: number, endedAt: number) => void,
  ): void {
    const endedAt = observe === undefined ? 0 : performance.now();
    const { errors } = run;
    let firstFailure = -1;
    if (errors !== undefined && this.#spec.stopOnFailure) {
      for (const position of errors.keys()) if (firstFailure < 0 || position < firstFailure) firstFailure = position;
    }
    const last = firstFailure >= 0 ? firstFailure : run.count - 1;
    let reported = last + 1;
    if (this.#progress !== undefined) {
      const pending = this.#inFlight + (this.#reader?.waiting ?? 0);
      for (let i = 0; i <= last; i++) {
        const began = typeof startedAt === 'number' ? startedAt : startedAt(i);
        this.#progress.finished(run.start + i, errors?.has(i) === true, began, pending + last - i, this.#retried);
        // onProgress may have stopped the call (by aborting its signal): the shards after are not reported.
        if (this.#stopped) {
          reported = i + 1;
          break;
        }
      }
    }
    observe?.(reported, endedAt);
    if (this.#stopped) return;
    if (firstFailure >= 0) {
      this.#fail(errors?.get(firstFailure));
      return;
    }
    this.#outcomes.push(run);
    this.#dispatch();
    this.#notify();
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
    for (const timer of this.#retryTimers) clearTimeout(timer);
    this.#retryTimers.clear();
    this.#retriesDue.drain();
    clearTimeout(this.#rateTimer);
    this.#rateWatch?.();
    for (const running of [...this.#running]) running.stop(reason);
    this.#releaseContext?.();
    try {
      // Not awaited: an async source blocked in `next()` would make the consumer's `break` hang.
      const closing = this.#reader?.close();
      if (closing instanceof Promise)
        closing.catch((error: unknown) => reportCleanupError(`closing the shards of ${method.name}`, error));
    } catch (error) {
      reportCleanupError(`closing the shards of ${method.name}`, error);
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

/** A session that arrived after its call stopped waiting for it. */
function closeLate(session: ExecutorSession, method: string, executor: string): void {
  Promise.resolve()
    .then(() => session.close())
    .catch((error: unknown) => reportCleanupError(`closing the ${executor} executor after ${method}`, error));
}

/** Cleanup runs after the caller has its answer, so its failures can only be reported. */
function reportCleanupError(what: string, error: unknown): void {
  warn('PARAFOR_CLEANUP_FAILED', `parafor: ${what} failed`, error);
}
