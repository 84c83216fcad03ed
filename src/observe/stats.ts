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
 * The pieces of one batch (stretches of different chunks that travelled together) settle one after
 * another in the same synchronous run, having started together: pieces settled before any microtask
 * ran, whose starts are this close, are taken for one batch, whose time counts once. Batches of two
 * workers come back in two messages, with microtasks between them, however close in time.
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
  #batchRunMs = 0;
  #batchWaitMs = 0;
  /** Whether no microtask ran since the last piece of a batch was recorded. */
  #sameRun = false;
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
   * `count` shards finished at `endedAt`, `failed` of them failing, having been handed to the
   * executor at `handedAt` and started at `startedAt` (0 when the executor never said; they are then
   * taken to have started when handed over). Without `inTurn` they ran at once, each for the whole
   * time (shards in-process); with it they are (part of) a batch whose shards ran one after another
   * (on a worker), so the batch's time counts once, shared among its shards.
   */
  ran(handedAt: number, startedAt: number, endedAt: number, count: number, failed: number, inTurn: boolean): void {
    if (count <= 0) return;
    const start = startedAt === 0 ? handedAt : startedAt;
    const runMs = Math.max(0, endedAt - start);
    const waitMs = Math.max(0, start - handedAt);
    this.#shards += count;
    this.#failed += failed;
    if (inTurn) {
      this.#batch(start, endedAt, waitMs, count);
      return;
    }
    this.#busyMs += runMs * count;
    this.#record(runMs, waitMs, count);
  }

  /**
   * An attempt of a shard, handed over at `handedAt` and started at `startedAt` (0 if unknown),
   * failed at `endedAt` and will run again: its time counts as busy, the shard not yet.
   */
  retried(handedAt: number, startedAt: number, endedAt: number): void {
    this.#retries++;
    this.#busyMs += Math.max(0, endedAt - (startedAt === 0 ? handedAt : startedAt));
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

  #batch(start: number, end: number, waitMs: number, count: number): void {
    const same = this.#sameRun && this.#batchSize > 0 && Math.abs(start - this.#batchStart) <= SAME_BATCH_MS;
    if (!this.#sameRun) {
      this.#sameRun = true;
      queueMicrotask(() => (this.#sameRun = false));
    }
    if (same) {
      // Pieces of one run that started together are timed from that start: a later piece's own
      // time is what it adds past the one before it.
      const added = Math.max(0, end - this.#batchEnd);
      this.#busyMs += added;
      this.#batchRunMs += added;
      this.#batchEnd = Math.max(end, this.#batchEnd);
      this.#batchSize += count;
      return;
    }
    this.#closeBatch();
    this.#batchStart = start;
    this.#batchEnd = end;
    this.#batchSize = count;
    this.#batchRunMs = Math.max(0, end - start);
    this.#batchWaitMs = waitMs;
    this.#busyMs += this.#batchRunMs;
  }

  /** The batch is whole: each of its shards counts its share of the batch's time. */
  #closeBatch(): void {
    const size = this.#batchSize;
    if (size === 0) return;
    this.#batches++;
    this.#batchShards += size;
    if (size < this.#batchMin) this.#batchMin = size;
    if (size > this.#batchMax) this.#batchMax = size;
    this.#batchSize = 0;
    this.#record(this.#batchRunMs / size, this.#batchWaitMs, size);
  }

  #record(runMs: number, waitMs: number, count: number): void {
    const run = toNs(runMs);
    const wait = toNs(waitMs);
    for (let i = 0; i < count; i++) {
      this.#run.record(run);
      this.#wait.record(wait);
    }
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
