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

/** One call of a distributed method, as the engine hands it to {@link Executor.open}. */
export interface FanOutCall {
  readonly method: DistributedMethod;
  /** Shards the executor should run at once. */
  readonly concurrency: number;
  /** Aborted when the whole call stops (failure, abort, a consumer that stopped reading). */
  readonly signal: AbortSignal;
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
}

/** What {@link Executor.open} returns: runs the shards of one call. */
export interface ExecutorSession {
  /**
   * How many submitted shards keep this session busy. The engine reads at most this many plus
   * `bufferSize` shards ahead of the consumer. Defaults to the call's `concurrency`.
   */
  readonly capacity?: number;
  /** Runs one shard and settles with its result or its error. May queue it until a slot is free. */
  run(task: ShardTask): Promise<unknown>;
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
 *     run: async (task) => {
 *       task.started();
 *       return method.fn.call(method.thisArg, task.shard, ...task.args);
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
