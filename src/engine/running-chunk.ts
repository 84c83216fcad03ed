/**
 * Consecutive shards handed to an executor at once (`ExecutorSession.runChunk`): one object for a
 * stretch of the input rather than one per shard, which is what lets tiny shards cost the main thread
 * almost nothing. It checks what the executor reports (each shard once) and passes it to the engine.
 * @module
 */
import { performance } from 'node:perf_hooks';
import type { ShardChunk } from '../executors/executor.js';
import type { WorkerRuns } from '../observe/stats.js';

/** What a chunk reports to: its fan-out. */
export interface ChunkOwner {
  /** Whether shards' start times are wanted (for `onProgress` durations). */
  readonly timesShards: boolean;
  /** Whether the workers that ran the shards are wanted (for `onStats`). */
  readonly countsWorkers: boolean;
  /**
   * Shards `offset` to `offset + count - 1` of `chunk` settled: `values[i]` is the result of shard
   * `offset + i` unless `failures` lists `i`; or, with `error`, all of them failed with it.
   */
  settle(
    chunk: RunningChunk,
    offset: number,
    count: number,
    values: readonly unknown[],
    failures: readonly (readonly [number, unknown])[] | undefined,
    error?: { readonly cause: unknown },
  ): void;
}

/** A chunk handed to an executor. */
export class RunningChunk implements ShardChunk {
  readonly start: number;
  readonly shards: readonly unknown[];
  readonly args: readonly unknown[];
  readonly signal: AbortSignal;
  readonly #owner: ChunkOwner;
  /** 1 where a shard has settled. */
  readonly #settled: Uint8Array;
  #unsettled: number;
  #startedAt: Float64Array | undefined;
  /** The worker that ran each shard, where the executor said (`ranOn`). */
  #workers: (string | undefined)[] | undefined;

  constructor(
    owner: ChunkOwner,
    start: number,
    shards: readonly unknown[],
    args: readonly unknown[],
    signal: AbortSignal,
  ) {
    this.#owner = owner;
    this.start = start;
    this.shards = shards;
    this.args = args;
    this.signal = signal;
    this.#settled = new Uint8Array(shards.length);
    this.#unsettled = shards.length;
  }

  started(offset: number, count: number): void {
    if (!this.#owner.timesShards) return;
    this.#check(offset, count);
    this.#startedAt ??= new Float64Array(this.shards.length);
    this.#startedAt.fill(performance.now(), offset, offset + count);
  }

  /** When shard `position` of the chunk started (`performance.now()`), or 0 if it was never said. */
  startedAt(position: number): number {
    return this.#startedAt?.[position] ?? 0;
  }

  /**
   * Shards `offset` to `offset + count - 1` ran on `worker`. Said before they settle: they are
   * counted for their worker when they are reported.
   */
  ranOn(worker: string, offset: number, count: number): void {
    if (!this.#owner.countsWorkers) return;
    this.#check(offset, count);
    this.#workers ??= new Array<string | undefined>(this.shards.length);
    this.#workers.fill(String(worker), offset, offset + count);
  }

  /** The workers that ran shards `offset` to `offset + count - 1`, in stretches; `undefined` if none was said. */
  workersOf(offset: number, count: number): WorkerRuns | undefined {
    const workers = this.#workers;
    if (workers === undefined) return undefined;
    const runs: [string, number][] = [];
    let last: [string, number] | undefined;
    for (let i = offset; i < offset + count; i++) {
      const worker = workers[i];
      if (worker === undefined) last = undefined;
      else if (last !== undefined && last[0] === worker) last[1]++;
      else runs.push((last = [worker, 1]));
    }
    return runs.length > 0 ? runs : undefined;
  }

  settle(offset: number, values: readonly unknown[], failures?: readonly (readonly [number, unknown])[]): void {
    const count = values.length;
    if (count === 0) return;
    if (failures !== undefined) {
      for (const [position] of failures) {
        if (!(Number.isInteger(position) && position >= 0 && position < count)) {
          throw new RangeError(`A failure at position ${position} is outside the ${count} shards settled`);
        }
      }
    }
    this.#mark(offset, count);
    this.#owner.settle(
      this,
      offset,
      count,
      values,
      failures !== undefined && failures.length > 0 ? failures : undefined,
    );
  }

  fail(offset: number, count: number, error: unknown): void {
    if (count === 0) return;
    this.#mark(offset, count);
    this.#owner.settle(this, offset, count, [], undefined, { cause: error });
  }

  /** Fails every shard not yet settled (the executor threw). */
  failRest(error: unknown): void {
    let from = 0;
    while (this.#unsettled > 0 && from < this.shards.length) {
      while (this.#settled[from] === 1) from++;
      let to = from;
      while (to < this.shards.length && this.#settled[to] === 0) to++;
      this.fail(from, to - from, error);
      from = to;
    }
  }

  #mark(offset: number, count: number): void {
    this.#check(offset, count);
    const settled = this.#settled;
    for (let i = offset; i < offset + count; i++) {
      if (settled[i] === 1) throw new RangeError(`Shard ${this.start + i} was already settled`);
    }
    settled.fill(1, offset, offset + count);
    this.#unsettled -= count;
  }

  #check(offset: number, count: number): void {
    if (!(Number.isInteger(offset) && Number.isInteger(count) && offset >= 0 && count >= 0)) {
      throw new RangeError(`Expected a position and a count of shards, got ${offset} and ${count}`);
    }
    if (offset + count > this.shards.length) {
      throw new RangeError(
        `Shards ${offset} to ${offset + count - 1} are outside the chunk of ${this.shards.length} shards`,
      );
    }
  }
}
