/**
 * Records what one call does, shard by shard, and sums it up as its {@link CallStats}. Memory stays
 * the same whatever the number of shards: durations go into `perf_hooks` histograms (HDR
 * histograms, three significant digits), and everything else is a counter.
 * @module
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import type { BatchStats, CallOutcome, CallStats, Quantiles } from './call-stats.js';

/** Histograms take integers: durations are recorded in nanoseconds, so sub-microsecond shards still count. */
const NS_PER_MS = 1e6;

/**
 * Pieces of one batch settle in one go (the same turn of the event loop, having started together):
 * two pieces whose starts and ends are this close are taken for one batch, whose time counts once.
 */
const SAME_BATCH_MS = 0.5;

/** The figures of one call, as it runs. */
export class CallStatsRecorder {
  readonly #method: string;
  readonly #executor: string;
  readonly #concurrency: number;
  readonly #startedAt: number;
  readonly #run: RecordableHistogram = createHistogram();
  readonly #wait: RecordableHistogram = createHistogram();
  #shards = 0;
  #failed = 0;
  #retries = 0;
  #busyMs = 0;
  // The batch being settled (pieces of it may still come) and the batches before it.
  #batchStart = NaN;
  #batchEnd = NaN;
  #batchSize = 0;
  #batches = 0;
  #batchMin = Infinity;
  #batchMax = 0;
  #batchShards = 0;

  /**
   * @param method - qualified name of the method
   * @param executor - name of the executor
   * @param concurrency - the call's `concurrency`
   * @param startedAt - when the call began (`performance.now()`)
   */
  constructor(method: string, executor: string, concurrency: number, startedAt: number) {
    this.#method = method;
    this.#executor = executor;
    this.#concurrency = concurrency;
    this.#startedAt = startedAt;
  }

  /** When the call began (`performance.now()`). */
  get startedAt(): number {
    return this.#startedAt;
  }

  /** Shards finished so far, failed ones included. */
  get shards(): number {
    return this.#shards;
  }

  /** Shards failed so far. */
  get failed(): number {
    return this.#failed;
  }

  /**
   * `count` shards handed over alone (one task each) or as a stretch settled together finished at
   * `endedAt`, `failed` of them failing. They were handed to the executor at `handedAt` and started
   * at `startedAt` (0 when the executor never said; they are then taken to have started when handed
   * over). With `batched`, they are (part of) a batch, whose time counts once for all its shards.
   */
  ran(handedAt: number, startedAt: number, endedAt: number, count: number, failed: number, batched: boolean): void {
    if (count <= 0) return;
    const start = startedAt === 0 ? handedAt : startedAt;
    const runMs = Math.max(0, endedAt - start);
    const waitMs = Math.max(0, start - handedAt);
    this.#shards += count;
    this.#failed += failed;
    if (batched) this.#batch(start, endedAt, count);
    else this.#busyMs += runMs;
    // Each shard of a batch counts its share of the batch's time.
    const perShard = toNs(runMs / count);
    const waited = toNs(waitMs);
    for (let i = 0; i < count; i++) {
      this.#run.record(perShard);
      this.#wait.record(waited);
    }
  }

  /** A retry of a shard started. */
  retried(): void {
    this.#retries++;
  }

  /** The call ended at `endedAt` (`performance.now()`) with `outcome`: its figures. */
  finish(outcome: CallOutcome, endedAt: number): CallStats {
    this.#closeBatch();
    const wallMs = Math.max(0, endedAt - this.#startedAt);
    const busyMs = this.#busyMs;
    const speedup = wallMs > 0 ? busyMs / wallMs : 0;
    const slots = this.#concurrency === Infinity ? Math.max(1, this.#shards) : this.#concurrency;
    const batches: BatchStats | undefined =
      this.#batches === 0
        ? undefined
        : {
            count: this.#batches,
            min: this.#batchMin,
            mean: this.#batchShards / this.#batches,
            max: this.#batchMax,
          };
    return {
      method: this.#method,
      executor: this.#executor,
      concurrency: this.#concurrency,
      outcome,
      shards: this.#shards,
      failed: this.#failed,
      retries: this.#retries,
      wallMs,
      busyMs,
      speedup,
      utilization: speedup / slots,
      shardMs: quantiles(this.#run),
      waitMs: quantiles(this.#wait),
      batches,
    };
  }

  #batch(start: number, end: number, count: number): void {
    const same =
      this.#batchSize > 0 &&
      Math.abs(start - this.#batchStart) <= SAME_BATCH_MS &&
      Math.abs(end - this.#batchEnd) <= SAME_BATCH_MS;
    if (same) {
      this.#batchSize += count;
      return;
    }
    this.#closeBatch();
    this.#batchStart = start;
    this.#batchEnd = end;
    this.#batchSize = count;
    this.#busyMs += Math.max(0, end - start);
  }

  #closeBatch(): void {
    const size = this.#batchSize;
    if (size === 0) return;
    this.#batches++;
    this.#batchShards += size;
    if (size < this.#batchMin) this.#batchMin = size;
    if (size > this.#batchMax) this.#batchMax = size;
    this.#batchSize = 0;
  }
}

function toNs(ms: number): number {
  // A histogram refuses 0: the shortest it takes is 1 ns.
  return Math.max(1, Math.round(ms * NS_PER_MS));
}

function quantiles(histogram: RecordableHistogram): Quantiles {
  if (histogram.count === 0) return { min: 0, median: 0, p95: 0, max: 0, mean: 0 };
  const { min, max } = histogram;
  // A percentile is the top of its bucket: kept within the extremes, which are recorded exactly.
  const at = (percentile: number): number => Math.min(max, Math.max(min, histogram.percentile(percentile)));
  return {
    min: min / NS_PER_MS,
    median: at(50) / NS_PER_MS,
    p95: at(95) / NS_PER_MS,
    max: max / NS_PER_MS,
    mean: histogram.mean / NS_PER_MS,
  };
}
