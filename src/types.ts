/**
 * Public types of parafor. No runtime code lives here.
 * @module
 */
import type { RateLimiter } from './engine/rate-limit.js';
import type { Executor } from './executors/executor.js';
import type { CallStats } from './observe/call-stats.js';
import type { ExecutorName } from './executors/registry.js';

/** Anything parafor can fan out over: an array, any `Iterable`, or any `AsyncIterable` (read lazily). */
export type Shards<T> = Iterable<T> | AsyncIterable<T>;

/**
 * Shards for `@distributeOver`: a `Shards<T>`, or a function returning one, called at every call
 * (so the shards need not be known when the class is defined).
 */
export type ShardSource<T> = Shards<T> | (() => Shards<T>);

/** How results come back: see {@link DistributeOptions.as}. */
export type ResultOrder = 'array' | 'completed' | 'ordered';

/** What each result is: see {@link DistributeOptions.results}. */
export type ResultShape = 'values' | 'entries' | 'settled';

/** Which executor runs the shards: see {@link DistributeOptions.executor}. */
export type ExecutorOption = ExecutorName | Executor;

/** A shard's result together with where it came from (`results: 'entries'`). */
export interface ShardEntry<S, R> {
  /** Position of the shard in the input, from 0. */
  readonly index: number;
  /** The shard itself. */
  readonly shard: S;
  /** What the method returned for it. */
  readonly value: R;
}

/** A shard that succeeded, as reported with `results: 'settled'`. */
export interface ShardFulfilled<S, R> extends ShardEntry<S, R> {
  readonly status: 'fulfilled';
}

/** A shard that failed, as reported with `results: 'settled'`. */
export interface ShardRejected<S> {
  readonly status: 'rejected';
  /** Position of the shard in the input, from 0. */
  readonly index: number;
  /** The shard itself. */
  readonly shard: S;
  /** Why it failed: a `ShardError` whose `cause` is the original error. */
  readonly reason: import('./errors.js').ShardError;
}

/** Every shard's outcome, as reported with `results: 'settled'`. */
export type ShardOutcome<S, R> = ShardFulfilled<S, R> | ShardRejected<S>;

/** Passed to {@link DistributeOptions.onProgress} each time a shard finishes. */
export interface Progress {
  /** Qualified name of the method, e.g. `Report.getCubes`. */
  readonly method: string;
  /** Index of the shard that just finished. */
  readonly index: number;
  /** Shards finished so far, failed ones included. */
  readonly done: number;
  /** Shards that failed so far. */
  readonly failed: number;
  /** Shards running or waiting for a slot right now. */
  readonly pending: number;
  /** Number of shards, when the input knows its size (an array, a `Set`, a `Map`…). */
  readonly total: number | undefined;
  /** Milliseconds the shard that just finished ran for, from its start. */
  readonly durationMs: number;
  /** Milliseconds since the call began. */
  readonly elapsedMs: number;
  /** Retries started so far (see `retries`). */
  readonly retries: number;
}

/** A failed attempt of a shard, as {@link RetryOptions.retryIf} sees it. */
export interface FailedAttempt {
  /** What the attempt threw: the method's own error, a `ShardTimeoutError`, a `WorkerExitError`… */
  readonly error: unknown;
  /** Position of the shard in the input, from 0. */
  readonly index: number;
  /** The shard. */
  readonly shard: unknown;
  /** Which attempt failed: 1 for the first run, 2 for the first retry… */
  readonly attempt: number;
  /** How many retries are left if this one is allowed. */
  readonly retriesLeft: number;
}

/**
 * How a failing shard is run again: see {@link DistributeOptions.retries}. The wait before retry
 * `n` is `minDelay × factor^(n-1)`, at most `maxDelay`, and with `jitter` a random part of it.
 * @example
 * ```ts
 * // Up to 4 more attempts, waiting about 0.5 s, 1 s, 2 s, 4 s; never for a 4xx answer.
 * @distribute({ retries: { limit: 4, minDelay: 500, retryIf: ({ error }) => !isClientError(error) } })
 * ```
 */
export interface RetryOptions {
  /** How many times a failing shard runs again before it counts as failed. An integer from 0 up, or `Infinity`. */
  readonly limit: number;
  /**
   * Milliseconds to wait before the first retry.
   * @default 100
   */
  readonly minDelay?: number;
  /**
   * The longest wait between two attempts, in milliseconds.
   * @default 10000
   */
  readonly maxDelay?: number;
  /**
   * What each wait is multiplied by: 2 doubles it, 1 keeps it constant.
   * @default 2
   */
  readonly factor?: number;
  /**
   * Wait a random time between half the delay and the whole of it, so that shards that failed
   * together (a service that went down) do not all come back at the same moment.
   * @default true
   */
  readonly jitter?: boolean;
  /**
   * Whether a shard that ran past its `timeout` is retried.
   * @default true
   */
  readonly timeouts?: boolean;
  /**
   * Whether a shard whose worker died (a `WorkerExitError`) is retried.
   * @default true
   */
  readonly crashes?: boolean;
  /**
   * Decides, for each failed attempt with retries left, whether to retry it: return `false` for
   * errors that will not go away (bad input, a 404). Called after `timeouts` and `crashes` have
   * had their say. If it throws or answers anything but a boolean, the shard is not retried and
   * that is reported as a process warning with the code `PARAFOR_RETRY_IF_FAILED`.
   * @default every error is retried
   */
  readonly retryIf?: (failure: FailedAttempt) => boolean;
}

/**
 * At most `limit` shards start in any `interval` milliseconds: see {@link DistributeOptions.rateLimit}.
 */
export interface RateLimit {
  /** Shard starts allowed per `interval`: an integer from 1 up to 1,000,000. */
  readonly limit: number;
  /** The length of the window, in milliseconds, above 0. */
  readonly interval: number;
}

/**
 * Options of `@distribute`, `@distributeOver`, the function form and {@link parallel}.
 * All are optional.
 */
export interface DistributeOptions {
  /**
   * Which executor runs the shards.
   * - `'thread'`: in this process, at most `concurrency` shards at once. For I/O-bound async work
   *   (queries, requests); like Python threads it gives concurrency, not CPU parallelism.
   * - `'worker'`: worker threads, for CPU-bound work on all cores. Each worker imports the module
   *   that defines the method and runs it there, with `this` rebuilt from the instance's own fields
   *   (structured clone, class prototype restored). See `batchSize`, `transfer`, `module`.
   * - `'process'`: child processes, for CPU-bound work with full isolation; otherwise like `'worker'`.
   * - an {@link Executor} object, to plug in another backend.
   * @default 'thread'
   */
  readonly executor?: ExecutorOption;

  /**
   * How many shards run at once. An integer from 1 up, or `Infinity`.
   * @default 5 for `'thread'` (the article's `threads=5`); the number of available cores for `'worker'` and `'process'`
   */
  readonly concurrency?: number;

  /**
   * How many shards may be read from the input beyond those running, so the next can start at once.
   * The fan-out never holds more than `concurrency + bufferSize` shards that are read but not yet
   * handed back, so an endless input runs in constant memory and a slow consumer slows the reading.
   * @default the same as `concurrency` (capped at 1,000)
   */
  readonly bufferSize?: number;

  /**
   * The shape of the call's result.
   * - `'array'`: a `Promise` of all results, in input order.
   * - `'completed'`: an async generator yielding results as they finish.
   * - `'ordered'`: an async generator yielding results in input order, each as soon as it and all before it are ready.
   * @default 'array'
   */
  readonly as?: ResultOrder;

  /**
   * What each result is.
   * - `'values'`: what the method returned.
   * - `'entries'`: `{ index, shard, value }`, to tell which shard a streamed result came from.
   * - `'settled'`: `{ status, index, shard, value | reason }` for every shard; failures do not stop
   *   the fan-out and the call does not reject because of them.
   * @default 'values'
   */
  readonly results?: ResultShape;

  /**
   * With `true` (the default) the first failing shard rejects the call with a `ShardError`, no new
   * shard starts and running ones are told to stop. With `false` every shard runs; if any failed, the
   * call rejects at the end (an array) or throws after the last result (a stream) with an
   * `AggregateError` of `ShardError`s in input order.
   * @default true
   */
  readonly stopOnError?: boolean;

  /**
   * Aborting it stops the whole fan-out: no new shard starts, running ones are told to stop
   * (see `currentShard().signal`), and the call rejects with the signal's reason.
   */
  readonly signal?: AbortSignal;

  /**
   * Milliseconds one shard may run, counted from its start (not from when it was queued). Past it,
   * that shard fails with a `ShardTimeoutError` and its signal is aborted.
   * @default Infinity
   */
  readonly timeout?: number;

  /**
   * `'worker'` and `'process'` only: how many shards travel to a worker in one message. A message
   * costs far more than a tiny shard's work, so with `'auto'` tiny shards travel in batches sized to
   * take some tens of milliseconds (after joblib's `batch_size='auto'`: from 1, doubling while
   * batches take under 10 ms, shrinking over 100 ms, the tail split finely so no worker straggles;
   * joblib's 0.2 s and 2 s are scaled to a worker message's far smaller cost), and slow
   * shards travel alone. A number fixes the size. Results and errors stay per shard: a shard that
   * throws fails alone, and a worker that dies fails only the shard that killed it (the rest of its
   * batch runs again, one by one). With a `timeout`, shards travel alone, and a fixed size above 1
   * is a `TypeError` (a timeout stops the shard's worker, and with it the whole batch). Ignored by
   * `'thread'`, which never batches.
   * @default 'auto'
   * @example
   * ```ts
   * @distribute({ executor: 'worker', batchSize: 1000 })
   * square(x: number) { return x * x; }
   * ```
   */
  readonly batchSize?: number | 'auto';

  /**
   * `'worker'` only: move `ArrayBuffer` and typed-array shards to the worker, and such results back,
   * instead of copying them. A moved buffer is no longer usable where it came from (it is detached),
   * so shards must not share a buffer. Child processes (`'process'`) always copy.
   * @default false
   * @example
   * ```ts
   * @distribute({ executor: 'worker', transfer: true })
   * checksum(chunk: Uint8Array) { … }
   * ```
   */
  readonly transfer?: boolean;

  /**
   * `'worker'` and `'process'` only: the module that defines the distributed method, which each
   * worker imports to run it (as Python's pickle sends a function by reference). Found from the
   * call stack when the method is decorated, so it is rarely needed: pass `import.meta.url` when it
   * cannot be found, or to say that importing the entry script in a worker is safe (it runs its
   * program only when it is the entry). A file URL, a `URL`, or an absolute path.
   * @default the module where the decorator (or the function form) was applied
   * @example
   * ```ts
   * @distribute({ executor: 'worker', module: import.meta.url })
   * ```
   */
  readonly module?: string | URL;

  /**
   * Runs a failing shard again, up to this many more times, before it counts as failed: a number,
   * or {@link RetryOptions} for the waits between attempts (exponential backoff with jitter) and
   * which errors to retry. Timeouts and crashed workers are retried too, unless the options say
   * otherwise. Each attempt is a new run of the shard, with its own `timeout` and signal; a retry
   * waiting for its delay keeps the shard's slot,
   * so that a failing service is not hit harder by the shards behind it. A shard that still fails
   * gets a `ShardError` whose `attempts` says how many runs it had. Retries stop when the call
   * stops.
   * @default 0
   * @example
   * ```ts
   * @distribute({ retries: 3 }) // waits about 100 ms, 200 ms, 400 ms
   * async fetchPage(url: string) { … }
   * ```
   */
  readonly retries?: number | RetryOptions;

  /**
   * At most `limit` shard starts in any `interval` milliseconds, across the whole call, on top of
   * `concurrency`: for services with a request quota. A shard starts when the engine hands it to
   * the executor; with a rate limit, shards travel to workers one per message, so none waits
   * behind another in a worker. Pass a plain `{ limit, interval }` for a quota of this call alone,
   * or one {@link RateLimiter} to every call (of any method) that shares a service's quota.
   * @example
   * ```ts
   * const github = new RateLimiter({ limit: 10, interval: 1000 }); // shared by both methods
   * class Repos {
   *   @distribute({ rateLimit: github }) async issues(repo: string) { … }
   *   @distribute({ rateLimit: github }) async pulls(repo: string) { … }
   * }
   * ```
   */
  readonly rateLimit?: RateLimit | RateLimiter;

  /**
   * Called each time a shard finishes, with counts and timings to tune `concurrency` by.
   * An exception it throws does not affect the fan-out: it is reported as a process warning with the
   * code `PARAFOR_ON_PROGRESS_THREW` (`process.on('warning', …)`).
   */
  readonly onProgress?: (progress: Progress) => void;

  /**
   * Draws a live line on stderr while the call runs: shards done / total and percent when the total
   * is known (a count otherwise), rate, time elapsed, ETA and failures. It ends as a one-line summary:
   * the shards, the wall time, and the speed-up over the summed shard time (also when the call fails,
   * is aborted or its consumer stops reading). Calls running at once each keep their own line. Where
   * stderr is not a terminal, or `CI` is set, no escape code is written: a plain status line about
   * every 3 seconds, then the summary. Nothing is written to stdout.
   * @default false
   * @example
   * ```ts
   * @distribute({ concurrency: 5, progress: true })
   * async fetchPage(url: string) { … }
   * // Crawler.fetchPage: [########------------] 41/100 41%  8.20/s  5.00 s  ETA 7.20 s
   * ```
   */
  readonly progress?: boolean;

  /**
   * Called once when the call ends (also when it failed, was aborted, or its consumer stopped
   * reading) with its {@link CallStats}: shards, failures, wall and busy time, speed-up,
   * utilization, and the distributions of the shards' run and wait times, to tune `concurrency` and
   * `batchSize` by. An exception it throws does not affect the call: it is reported as a process
   * warning with the code `PARAFOR_ON_STATS_THREW`.
   * @example
   * ```ts
   * await parallel(crawler, {
   *   onStats: ({ speedup, utilization, shardMs }) =>
   *     console.log(`${speedup.toFixed(1)}x, ${(utilization * 100).toFixed(0)}% busy, p95 ${shardMs.p95} ms`),
   * }).fetchPage(urls);
   * ```
   */
  readonly onStats?: (stats: CallStats) => void;
}

export type { BatchStats, CallOutcome, CallStats, Quantiles, WorkerStats } from './observe/call-stats.js';

/** The item a call yields or collects, given the method's shard and result types and the options. */
export type ResultItem<S, R, O> = O extends { readonly results: 'settled' }
  ? ShardOutcome<S, R>
  : O extends { readonly results: 'entries' }
    ? ShardEntry<S, R>
    : R;

/** What a distributed call returns: a `Promise` of an array, or an async generator (`as`). */
export type Distributed<S, R, O> = O extends { readonly as: 'completed' | 'ordered' }
  ? AsyncGenerator<ResultItem<S, R, O>, void, undefined>
  : Promise<ResultItem<S, R, O>[]>;

/** The function form of `distribute(fn, options)`: the shards first, then what each call gets. */
export type DistributedFunction<S, P extends readonly unknown[], R, O> = (
  shards: Shards<S>,
  ...rest: P
) => Distributed<S, Awaited<R>, O>;

/** The function form of `distributeOver(shards, options)(fn)`: fixed shards, then what each call gets. */
export type DistributedOverFunction<S, P extends readonly unknown[], R, O> = (
  ...rest: P
) => Distributed<S, Awaited<R>, O>;
