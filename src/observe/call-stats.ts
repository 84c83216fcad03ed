/**
 * The figures `onStats` receives when a call ends. No runtime code lives here.
 * @module
 */

/** How a call ended, as {@link CallStats.outcome} says. */
export type CallOutcome = 'completed' | 'failed' | 'aborted' | 'stopped';

/**
 * A distribution of durations in milliseconds, from a histogram of three significant digits (each
 * figure within about 0.1%). All 0 when nothing was measured.
 */
export interface Quantiles {
  /** The shortest. */
  readonly min: number;
  /** Half were this long or shorter. */
  readonly median: number;
  /** 95% were this long or shorter: the slow tail, which the mean hides. */
  readonly p95: number;
  /** The longest. */
  readonly max: number;
  /** The average. */
  readonly mean: number;
}

/**
 * Shards that ran one after another in groups: batches on `'worker'`, `'process'` and the queue
 * executor, runs of synchronous shards on `'thread'`.
 */
export interface BatchStats {
  /** Groups that came back. */
  readonly count: number;
  /** Shards in the smallest group. */
  readonly min: number;
  /** Shards per group on average. */
  readonly mean: number;
  /** Shards in the largest group. */
  readonly max: number;
}

/**
 * What one worker did for a call: the shards it ran and for how long, as {@link CallStats.workers}
 * lists them.
 */
export interface WorkerStats {
  /**
   * The worker's name, as its executor gives it (`ShardTask.ranOn`): the same for the worker's
   * whole life. `'thread 3'` (a worker thread's `threadId`) on `'worker'`, `'pid 4821'` (a child
   * process's `pid`) on `'process'`, `'host-a pid 4821 thread 3'` (the host, the `parafor worker`
   * process and its thread) on the queue executor.
   */
  readonly worker: string;
  /** Shards it ran that were reported, failed ones included. */
  readonly shards: number;
  /** Milliseconds its shards ran for, summed as in {@link CallStats.busyMs} (failed attempts that ran again included). */
  readonly busyMs: number;
}

/**
 * What one call did, given to {@link DistributeOptions.onStats} once when it ends (also when it
 * failed, was aborted, or its consumer stopped reading). The figures to tune `concurrency` and
 * `batchSize` by: `speedup` near `concurrency` means the shards kept every slot busy; a low
 * `utilization` with a high `waitMs` means shards queued in the executor; a high `utilization`
 * with a small `speedup` means there were few slots.
 *
 * Shards that travel in batches are timed by batch: each shard of a batch counts the batch's time
 * divided by its size, so `shardMs` is then an average per batch, not a single shard's own time.
 */
export interface CallStats {
  /** Qualified name of the method, e.g. `Report.getCubes`. */
  readonly method: string;
  /** Name of the executor that ran the shards: `'thread'`, `'worker'`, `'process'` or a custom one's. */
  readonly executor: string;
  /** The call's `concurrency`. */
  readonly concurrency: number;
  /** How the call ended: every shard ran, one failed it, its signal aborted it, or its consumer stopped. */
  readonly outcome: CallOutcome;
  /**
   * Shards that finished and were reported, failed ones included. After a fail-fast failure, the
   * shards that finished with it but after it (later in its batch) or were still running are not.
   */
  readonly shards: number;
  /** Shards among them that failed. */
  readonly failed: number;
  /** Retries started (see `retries`). */
  readonly retries: number;
  /** Milliseconds from the call's start to its end. */
  readonly wallMs: number;
  /** Milliseconds the shards ran for, summed: the time a plain loop would have needed. */
  readonly busyMs: number;
  /** `busyMs / wallMs`: how many times faster than running the shards one after another. */
  readonly speedup: number;
  /**
   * The share of the executor's slot-time that shards used, from 0 to 1: their run time, at most
   * `slots` at once, over `wallMs × slots`. The slots are `concurrency` or, when it is `Infinity`,
   * the most shards that were handed to the executor at once. It is `busyMs / (wallMs × slots)`
   * except where the run times reported overlap by more than the slots (a shard's end is seen when
   * it is reported, which may be after the next shard started in its slot): the excess is not counted.
   * The overlap is judged over short stretches of the call (1/128 to 1/64 of it).
   */
  readonly utilization: number;
  /** How long the shards ran, from their start (as the executor reported it) to their result. */
  readonly shardMs: Quantiles;
  /** How long the shards waited in the executor, from being handed over to their start. */
  readonly waitMs: Quantiles;
  /** How shards ran in groups, when some did (see {@link BatchStats}); `undefined` otherwise. */
  readonly batches: BatchStats | undefined;
  /**
   * The shards each worker ran and their time, one entry per worker in the order they first
   * reported, so an uneven spread shows (a worker that took far more `busyMs` than the others held
   * the call's end back). As long as the number of workers, not of shards; past 1,000 workers the
   * rest are summed in an entry named `'(more)'`. A worker that replaced one that died is a new
   * entry. Shards that never reached a worker (they failed to be sent, their worker died, the call
   * stopped them) are in none. Empty on `'thread'`, which has no workers, and on executors that
   * never say which worker ran a shard (`ShardTask.ranOn`, `ShardChunk.ranOn`).
   */
  readonly workers: readonly WorkerStats[];
}
