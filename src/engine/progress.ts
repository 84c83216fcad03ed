/**
 * `onProgress`: counts the shards of a call as they finish and tells the callback about each one.
 * @module
 */
import { performance } from 'node:perf_hooks';
import { warn } from '../messages.js';
import type { Progress, Shards } from '../types.js';
import { countShards } from './shards.js';

/** The progress of one call, for its `onProgress`. */
export class ProgressReporter {
  readonly #method: string;
  readonly #onProgress: (progress: Progress) => void;
  readonly #shards: Shards<unknown>;
  readonly #startedAt: number;
  #done = 0;
  #failed = 0;

  constructor(method: string, onProgress: (progress: Progress) => void, shards: Shards<unknown>) {
    this.#method = method;
    this.#onProgress = onProgress;
    this.#shards = shards;
    this.#startedAt = performance.now();
  }

  /**
   * Shard `index` finished (failed or not), having started at `startedAt` (`performance.now()`, or
   * 0 if unknown), with `pending` shards still running or waiting and `retries` retries started
   * so far. A callback that throws is reported as a warning: it must not lose shards' results.
   */
  finished(index: number, failed: boolean, startedAt: number, pending: number, retries: number): void {
    this.#done++;
    if (failed) this.#failed++;
    const now = performance.now();
    try {
      this.#onProgress({
        method: this.#method,
        index,
        done: this.#done,
        failed: this.#failed,
        pending,
        total: countShards(this.#shards),
        durationMs: startedAt === 0 ? 0 : now - startedAt,
        elapsedMs: now - this.#startedAt,
        retries,
      });
    } catch (error) {
      warn('PARAFOR_ON_PROGRESS_THREW', `parafor: onProgress of ${this.#method} threw`, error);
    }
  }
}
