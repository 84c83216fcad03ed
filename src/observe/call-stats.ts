/**
 * The figures `onStats` receives when a call ends. No runtime code lives here.
 * @module
 */

/** How a call ended, as {@link CallStats.outcome} says. */
export type CallOutcome = 'completed' | 'failed' | 'aborted' | 'stopped';

/** A distribution of durations in milliseconds. All 0 when nothing was measured. */
export interface Quantiles {
  readonly min: number;
  readonly median: number;
  readonly p95: number;
  readonly max: number;
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
  /** Shards that finished and were reported, failed ones included. */
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
   * `busyMs / (wallMs × slots)`, from 0 to 1: the share of the executor's slots that were busy.
   * The slots are `concurrency`, or the number of shards when `concurrency` is `Infinity`.
   */
  readonly utilization: number;
  /** How long the shards ran, from their start (as the executor reported it) to their result. */
  readonly shardMs: Quantiles;
  /** How long the shards waited in the executor, from being handed over to their start. */
  readonly waitMs: Quantiles;
  /** How shards ran in groups, when some did (see {@link BatchStats}); `undefined` otherwise. */
  readonly batches: BatchStats | undefined;
}
