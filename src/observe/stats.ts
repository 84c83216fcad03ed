/**
 * Records what one call does, shard by shard, and sums it up as its {@link CallStats}. Memory stays
 * the same whatever the number of shards: durations go into `perf_hooks` histograms (HDR
 * histograms, three significant digits), and everything else is a counter.
 * @module
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import type { BatchStats, CallOutcome, CallStats, Quantiles } from './call-stats.js';
import { SlotTime } from './slot-time.js';

/** Histograms take integers: durations are recorded in nanoseconds, so sub-microsecond shards still count. */
const NS_PER_MS = 1e6;

/**
 * The pieces of one batch (stretches of different chunks that travelled together) settle one after
 * another in the same synchronous run, having started together: pieces settled before any microtask
 * ran, whose starts are this close, are taken for one batch, whose time counts once. Batches of two
 * workers come back in two messages, with microtasks between them, however close in time.
 */
const SAME_BATCH_MS = 0.5;

/** The most workers named in {@link CallStats.workers}; the shards of any more are summed under {@link MORE_WORKERS}. */
export const MAX_WORKERS = 1000;
/** The name of the entry that sums the workers past {@link MAX_WORKERS}. */
export const MORE_WORKERS = '(more)';

/**
 * Which workers ran shards reported together: consecutive stretches of them, each a worker's name
 * and how many shards it ran. Shards of no stretch ran on no worker that was named.
 */
export type WorkerRuns = readonly (readonly [worker: string, count: number])[];

/** What one worker did so far. */
interface WorkerFigures {
  shards: number;
  busyMs: number;
}

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
  /** Busy time laid over the call's time, for `utilization`. */
  readonly #slotTime: SlotTime;
  /** Shards handed over and not yet finished, and the most there were: the slots of a call without a `concurrency`. */
  #inFlight = 0;
  #mostInFlight = 0;
  readonly #workers = new Map<string, WorkerFigures>();
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
    this.#slotTime = new SlotTime(startedAt, concurrency);
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

  /** `count` shards are handed to the executor. */
  handedOver(count: number): void {
    this.#inFlight += count;
    if (this.#inFlight > this.#mostInFlight) this.#mostInFlight = this.#inFlight;
  }

  /**
   * `count` shards finished at `endedAt`, `failed` of them failing, having been handed to the
   * executor at `handedAt` and started at `startedAt` (0 when the executor never said; they are then
   * taken to have started when handed over). Without `inTurn` they ran at once, each for the whole
   * time (shards in-process); with it they are (part of) a batch whose shards ran one after another
   * (on a worker), so the batch's time counts once, shared among its shards. `workers` says who ran
   * them. With `inTurn`, `share` is the part of the time that these shards took, when more ran than
   * are counted (fail-fast reports a batch only up to its first failure).
   */
  ran(
    handedAt: number,
    startedAt: number,
    endedAt: number,
    count: number,
    failed: number,
    inTurn: boolean,
    workers?: WorkerRuns,
    share = 1,
  ): void {
    if (count <= 0) return;
    // An executor cannot start a shard before it has it.
    const start = Math.max(handedAt, startedAt === 0 ? handedAt : startedAt);
    const runMs = Math.max(0, endedAt - start);
    const waitMs = Math.max(0, start - handedAt);
    this.#inFlight -= count;
    this.#shards += count;
    this.#failed += failed;
    if (workers !== undefined) for (const [worker, n] of workers) this.#worker(worker).shards += n;
    if (inTurn) {
      this.#batch(start, endedAt, waitMs, count, workers, share);
      return;
    }
    this.#busy(start, endedAt, count, runMs * count, workers, count);
    this.#record(runMs, waitMs, count);
  }

  /**
   * An attempt of a shard, handed over at `handedAt` and started at `startedAt` (0 if unknown),
   * failed at `endedAt` on `worker` (if named) and will run again: its time counts as busy, the shard
   * not yet.
   */
  retried(handedAt: number, startedAt: number, endedAt: number, worker?: string): void {
    this.#retries++;
    this.#inFlight--;
    const start = Math.max(handedAt, startedAt === 0 ? handedAt : startedAt);
    const runMs = Math.max(0, endedAt - start);
    this.#busy(start, endedAt, 1, runMs, worker === undefined ? undefined : [[worker, 1]], 1);
  }

  /** The call ended at `endedAt` (`performance.now()`) with `outcome`: its figures. */
  finish(outcome: CallOutcome, endedAt: number): CallStats {
    this.#closeBatch();
    const wallMs = Math.max(0, endedAt - this.#startedAt);
    const busyMs = this.#busyMs;
    const speedup = wallMs > 0 ? busyMs / wallMs : 0;
    // Without a concurrency, the slots are what the call took: the most shards it had in flight.
    const slots = this.#concurrency === Infinity ? Math.max(1, this.#mostInFlight) : this.#concurrency;
    // At most 1 by construction; the `min` only absorbs rounding in the sums.
    const utilization = wallMs > 0 ? Math.min(1, this.#slotTime.used(endedAt, slots) / (wallMs * slots)) : 0;
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
      utilization,
      shardMs: quantiles(this.#run),
      waitMs: quantiles(this.#wait),
      batches,
      workers: [...this.#workers].map(([worker, { shards, busyMs }]) => ({ worker, shards, busyMs })),
    };
  }

  #batch(
    start: number,
    end: number,
    waitMs: number,
    count: number,
    workers: WorkerRuns | undefined,
    share: number,
  ): void {
    const same = this.#sameRun && this.#batchSize > 0 && Math.abs(start - this.#batchStart) <= SAME_BATCH_MS;
    if (!this.#sameRun) {
      this.#sameRun = true;
      queueMicrotask(() => (this.#sameRun = false));
    }
    if (same) {
      // Pieces of one run that started together are timed from that start: a later piece's own
      // time is what it adds past the one before it.
      const from = this.#batchEnd;
      const added = Math.max(0, end - from) * share;
      this.#busy(from, from + added, 1, added, workers, count);
      this.#batchRunMs += added;
      this.#batchEnd = Math.max(end, this.#batchEnd);
      this.#batchSize += count;
      return;
    }
    this.#closeBatch();
    this.#batchStart = start;
    this.#batchEnd = end;
    this.#batchSize = count;
    this.#batchRunMs = Math.max(0, end - start) * share;
    this.#batchWaitMs = waitMs;
    this.#busy(start, start + this.#batchRunMs, 1, this.#batchRunMs, workers, count);
  }

  /**
   * `ms` of busy time, `weight` slots from `start` to `end`: the call's, and each worker's share of
   * it by the shards it ran among the `count` reported.
   */
  #busy(start: number, end: number, weight: number, ms: number, workers: WorkerRuns | undefined, count: number): void {
    this.#busyMs += ms;
    this.#slotTime.add(start, end, weight);
    if (workers === undefined) return;
    for (const [worker, n] of workers) this.#worker(worker).busyMs += (ms * n) / count;
  }

  /** The figures of a worker, made at its first shard; past {@link MAX_WORKERS}, those of all the others. */
  #worker(name: string): WorkerFigures {
    let figures = this.#workers.get(name);
    if (figures !== undefined) return figures;
    const key = this.#workers.size < MAX_WORKERS ? name : MORE_WORKERS;
    figures = this.#workers.get(key);
    if (figures === undefined) this.#workers.set(key, (figures = { shards: 0, busyMs: 0 }));
    return figures;
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
