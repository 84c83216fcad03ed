/**
 * The contract between the fan-out engine and whatever runs the shards. No runtime code lives here.
 * @module
 */
import type { DistributionRecord } from '../metadata.js';

/**
 * A method or function written for one item. Its parameters are whatever the user wrote, so
 * executors can only call it with the shard and arguments they were given.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any function of the user's is accepted
export type ItemFunction = (this: unknown, ...args: any[]) => unknown;

/** The method a fan-out runs, as an executor sees it. */
export interface DistributedMethod {
  /** Qualified name for messages, e.g. `Report.getCubes`. */
  readonly name: string;
  /** The function written for one item: the user's original method. */
  readonly fn: ItemFunction;
  /** `this` for each call: the instance, the class for a static method, or `undefined`. */
  readonly thisArg: unknown;
  /** What the decorator recorded, for executors that load the method by reference elsewhere. */
  readonly record: DistributionRecord;
}

/** The options of a call that an executor may act on, checked and with their defaults filled in. */
export interface ExecutorCallOptions {
  /**
   * Milliseconds one shard may run, from its start; `Infinity` when there is no limit. The engine
   * enforces it; an executor that groups shards should not group them when it is finite.
   */
  readonly timeout: number;
  /** The `batchSize` option: shards per message to a worker, or `'auto'`. */
  readonly batchSize: number | 'auto';
  /** The `transfer` option: move `ArrayBuffer`s and typed arrays to and from workers. */
  readonly transfer: boolean;
  /** The `module` option as a file URL: where workers load the method from, when given. */
  readonly module: string | undefined;
  /**
   * Whether the engine needs each shard's true start (a `timeout` or a `rateLimit` counts from
   * it): call {@link ShardTask.started} when the shard really begins to run, not when it is sent
   * or queued.
   */
  readonly exactStarts: boolean;
}

/** One call of a distributed method, as the engine hands it to {@link Executor.open}. */
export interface FanOutCall {
  readonly method: DistributedMethod;
  /** Shards the executor should run at once. */
  readonly concurrency: number;
  /** Aborted when the whole call stops (failure, abort, a consumer that stopped reading). */
  readonly signal: AbortSignal;
  /** The arguments after the shards, the same for every shard (each {@link ShardTask} has them too). */
  readonly args: readonly unknown[];
  /** The call's options that executors act on. */
  readonly options: ExecutorCallOptions;
}

/** One shard to run. */
export interface ShardTask {
  /** Position of the shard in the input, from 0. */
  readonly index: number;
  /** The shard, passed as the method's first argument. */
  readonly shard: unknown;
  /** The arguments after the shards, passed to every call. */
  readonly args: readonly unknown[];
  /**
   * Aborted when this shard must stop: its timeout passed or the call stopped. The executor stops
   * the work (a worker is terminated, an in-process shard is abandoned) and settles promptly.
   */
  readonly signal: AbortSignal;
  /** The executor calls this when the shard actually starts running; its timeout counts from here. */
  started(): void;
  /**
   * Says which worker ran the shard: a name that stays the same for that worker's life and tells it
   * apart from the call's other workers (a thread's or a process's id, a host and pid). `onStats`
   * counts shards per worker from it. Call it before settling the shard: it counts for shards not
   * yet settled. Optional to call (executors without workers never do), and optional on a task an
   * executor makes itself for `runShard()`.
   */
  ranOn?(worker: string): void;
}

/**
 * Consecutive shards handed to {@link ExecutorSession.runChunk} at once: shard `start + i` of the
 * input is `shards[i]`. The session reports their outcomes as they come, in pieces of any size and
 * any order, each shard exactly once: {@link ShardChunk.settle} for results (failures included),
 * {@link ShardChunk.fail} for shards that failed together.
 *
 * @example
 * ```ts
 * runChunk(chunk) {
 *   chunk.started(0, chunk.shards.length);
 *   const values = [];
 *   const failures = [];
 *   chunk.shards.forEach((shard, i) => {
 *     try {
 *       values[i] = work(shard);
 *     } catch (error) {
 *       failures.push([i, error]);
 *     }
 *   });
 *   chunk.settle(0, values, failures);
 * }
 * ```
 */
export interface ShardChunk {
  /** Position in the input of the first shard, from 0. */
  readonly start: number;
  /** The shards, in input order. */
  readonly shards: readonly unknown[];
  /** The arguments after the shards, passed to every call. */
  readonly args: readonly unknown[];
  /**
   * Aborted when the call stops (a failure, an abort, a consumer that stopped reading): the session
   * stops the chunk's work. Answers after that are ignored, so none is needed.
   */
  readonly signal: AbortSignal;
  /** Shards `offset` to `offset + count - 1` start running now: their progress durations count from here. */
  started(offset: number, count: number): void;
  /**
   * Shards `offset` to `offset + values.length - 1` are done: `values[i]` is the result of shard
   * `offset + i`, except for the positions `i` listed in `failures`, with what they threw.
   * @throws RangeError if a shard is outside the chunk or was already settled
   */
  settle(offset: number, values: readonly unknown[], failures?: readonly (readonly [number, unknown])[]): void;
  /**
   * Shards `offset` to `offset + count - 1` failed with `error`.
   * @throws RangeError if a shard is outside the chunk or was already settled
   */
  fail(offset: number, count: number, error: unknown): void;
  /** Says which worker ran shards `offset` to `offset + count - 1`, before settling them (see {@link ShardTask.ranOn}). */
  ranOn?(worker: string, offset: number, count: number): void;
}

/** What {@link Executor.open} returns: runs the shards of one call. */
export interface ExecutorSession {
  /**
   * How many submitted shards keep this session busy. The engine reads at most this many plus
   * `bufferSize` shards ahead of the consumer. Defaults to the call's `concurrency`. Read each time
   * the engine hands over a shard, so it may change during the call (a getter): an executor that
   * batches shards grows it with its batches.
   */
  readonly capacity?: number;
  /** Runs one shard and settles with its result or its error. May queue it until a slot is free. */
  run(task: ShardTask): Promise<unknown>;
  /**
   * Optional, for executors whose per-shard cost matters (the worker executors): runs consecutive
   * shards handed over at once, and reports through the chunk. When a session has it, the engine
   * hands it chunks instead of one {@link ShardTask} per shard, for every call without a finite
   * `timeout` (a timeout is kept per shard, through its task); chunks count shard by shard against
   * `capacity`. An exception it throws fails the whole chunk.
   */
  runChunk?(chunk: ShardChunk): void;
  /**
   * Whether the shards of a chunk, once started, run one after another (in batches on a worker)
   * rather than all at once (in-process): `progress` and `onStats` then share a batch's time among
   * its shards instead of counting it for each. Default `false`.
   */
  readonly runsInTurn?: boolean;
  /** The call is over: release what the session holds. Shared pools stay up. */
  close(): void | Promise<void>;
}

/**
 * A backend that runs shards: `'thread'`, `'worker'` and `'process'` are built on it, and a custom
 * object passed as the `executor` option plugs in the same way. The fan-out engine owns ordering,
 * read-ahead, timeouts, errors and progress; an executor only runs shards.
 *
 * @example
 * ```ts
 * const inline: Executor = {
 *   name: 'inline',
 *   defaultConcurrency: () => 1,
 *   open: ({ method }) => ({
 *     run: (task) => {
 *       task.started();
 *       return runShard(method, task); // the user's method, with currentShard() set
 *     },
 *     close() {},
 *   }),
 * };
 * ```
 */
export interface Executor {
  /** Used in messages. */
  readonly name: string;
  /** Concurrency when the caller sets none. */
  defaultConcurrency(): number;
  /** Starts one call. Called once per call, before its first shard. */
  open(call: FanOutCall): ExecutorSession | Promise<ExecutorSession>;
  /** Releases every shared resource (pools). Called by `shutdown()`; must be safe to call twice. */
  shutdown?(): Promise<void>;
}
