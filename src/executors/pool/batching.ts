/**
 * How many shards travel to a worker in one message. One message per shard costs more than a tiny
 * shard's work, so tiny shards go in batches; slow shards go alone, so every core stays busy.
 * @module
 */

/** Decides the size of each batch and learns from how long batches take. */
export interface BatchSizer {
  /** The batch size in use now: the executor holds about this many shards per worker slot. */
  readonly size: number;
  /**
   * How many of the `queued` shards the next batch takes, when `slots` batches may run at once.
   * Always at least 1 and at most `queued`.
   */
  next(queued: number, slots: number): number;
  /**
   * A batch of `size` shards took `durationMs`, from its start in the worker to its results; its
   * heavier message (the shards or the results) weighed `bytes`, when known.
   */
  completed(size: number, durationMs: number, bytes?: number): void;
}

/**
 * Batches of exactly `size` shards (the last one may be smaller): the `batchSize` option.
 *
 * @example
 * ```ts
 * fixedBatches(100).next(250, 2); // 100
 * ```
 */
export function fixedBatches(size: number): BatchSizer {
  return new FixedBatches(size);
}

class FixedBatches implements BatchSizer {
  readonly size: number;

  constructor(size: number) {
    this.size = size;
  }

  next(queued: number): number {
    return Math.max(1, Math.min(this.size, queued));
  }

  completed(): void {}
}

/**
 * Batches shorter than this grow. joblib uses 0.2 s, because a Python process pool pays milliseconds
 * per task; a Node worker pays tens of microseconds (about 1% of 10 ms), and shorter batches keep the
 * cores evenly busy to the end: a shard of 10 ms or more travels alone.
 */
export const MIN_IDEAL_BATCH_MS = 10;
/** Batches longer than this shrink (joblib: 2 s, scaled like {@link MIN_IDEAL_BATCH_MS}). */
export const MAX_IDEAL_BATCH_MS = 100;
/**
 * The most shards in a batch. A message costs the main thread tens of microseconds whatever it
 * carries, and the main thread feeds every worker: for shards of a microsecond that cost is what
 * caps the speed-up (bench/main-thread.ts, 2 cores: 200,000 `x * x` cost the main thread 0.35 us
 * per shard at 256, 0.18 at 1024, 0.15 at 4096; 1,000,000 shards of ~1 us took 0.99, 0.82 and 0.70
 * times the plain loop).
 */
export const MAX_BATCH = 4096;
/**
 * The most a batch may weigh (its shards or its results, serialized): what the executor holds,
 * about three batches per worker, stays bounded in bytes whatever the size of a shard.
 */
export const MAX_BATCH_BYTES = 2 ** 20;
/** At the tail, what is left is cut into this many batches per worker, so no worker straggles. */
const TAIL_SPLIT = 4;

/**
 * `batchSize: 'auto'`, after joblib's `batch_size='auto'`: starts at 1; while batches take under
 * {@link MIN_IDEAL_BATCH_MS} (smoothed: 0.8 old + 0.2 new) the size grows towards twice the ideal,
 * at most doubling per step; over {@link MAX_IDEAL_BATCH_MS} it shrinks at once. A batch never holds
 * more than {@link MAX_BATCH} shards nor, as far as the last one tells, weighs more than
 * {@link MAX_BATCH_BYTES}. When fewer shards wait than one full batch per worker (the tail, or a
 * source slower than the workers), they are split finely.
 *
 * @example
 * ```ts
 * const sizer = autoBatches();
 * sizer.completed(1, 0.01);  // a tiny shard: the next batches may be twice as large
 * sizer.next(1000, 2);       // 2
 * ```
 */
export function autoBatches(): BatchSizer {
  return new AutoBatches();
}

class AutoBatches implements BatchSizer {
  size = 1;
  // Only batches of the current size are measured; a new size starts a new estimate.
  #smoothed: number | undefined;

  next(queued: number, slots: number): number {
    if (queued >= this.size * slots) return this.size;
    return Math.max(1, Math.min(this.size, Math.ceil(queued / (TAIL_SPLIT * slots))));
  }

  completed(batch: number, durationMs: number, bytes = 0): void {
    if (batch !== this.size) return;
    const smoothed = this.#smoothed === undefined ? durationMs : 0.8 * this.#smoothed + 0.2 * durationMs;
    // As many shards as weigh MAX_BATCH_BYTES, judged from this batch's weight per shard.
    const fits = bytes > 0 ? Math.max(1, Math.floor((batch * MAX_BATCH_BYTES) / bytes)) : MAX_BATCH;
    const next = Math.min(resize(this.size, smoothed), fits);
    this.#smoothed = next === this.size ? smoothed : undefined;
    this.size = next;
  }
}

/** joblib's rule: aim at twice the ideal size, grow at most twofold, shrink at once. */
function resize(size: number, durationMs: number): number {
  const ideal = durationMs > 0 ? Math.floor((size * MIN_IDEAL_BATCH_MS) / durationMs) : Infinity;
  if (durationMs < MIN_IDEAL_BATCH_MS) return Math.min(2 * size, Math.max(1, 2 * ideal), MAX_BATCH);
  if (durationMs > MAX_IDEAL_BATCH_MS && size >= 2) return Math.max(1, 2 * ideal);
  return size;
}
