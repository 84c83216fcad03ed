/**
 * Seeing the work: `onProgress` (the shards of a call counted as they finish, the callback told of
 * each one), and the observer of a call with `progress` or `onStats` (see src/observe/).
 * @module
 */
import { performance } from 'node:perf_hooks';
import { warn } from '../messages.js';
import { CallObserver } from '../observe/call-observer.js';
import type { CallOutcome } from '../observe/call-stats.js';
import { stderrLines } from '../observe/terminal.js';
import type { ResolvedOptions } from '../options.js';
import type { Progress, Shards } from '../types.js';
import { countShards } from './shards.js';

/**
 * The observer of a call with `progress` or `onStats`; `undefined` without either, and the call
 * then pays nothing for them.
 */
export function observeCall(
  method: string,
  options: ResolvedOptions,
  shards: Shards<unknown>,
): CallObserver | undefined {
  const { progress, onStats } = options;
  if (!progress && onStats === undefined) return undefined;
  return new CallObserver({
    method,
    executor: options.executor.name,
    concurrency: options.concurrency,
    total: countShards(shards),
    board: progress ? stderrLines() : undefined,
    onStats,
    onStatsThrew: (error) => warn('PARAFOR_ON_STATS_THREW', `parafor: onStats of ${method} threw`, error),
  });
}

/**
 * How a call ended, from how its run of the engine did: `'completed'` (all read and handed back),
 * `'threw'`, or `undefined` (the consumer stopped reading). A call whose failures reject it only at
 * the end (`stopOnError: false`) failed too; with `results: 'settled'` failures are results.
 */
export function outcomeOf(
  ended: 'completed' | 'threw' | undefined,
  options: ResolvedOptions,
  failed: number,
): CallOutcome {
  if (ended === undefined) return 'stopped';
  if (ended === 'threw') return options.signal?.aborted === true ? 'aborted' : 'failed';
  return failed > 0 && options.results !== 'settled' ? 'failed' : 'completed';
}

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
