/**
 * What the fan-out tells about a call when it has `progress` or `onStats`: shards handed over, shards
 * finished, the end. It keeps the figures ({@link CallStatsRecorder}), draws the call's line on the
 * shared board, and gives the figures to `onStats` once.
 * @module
 */
import { performance } from 'node:perf_hooks';
import type { CallOutcome, CallStats } from './call-stats.js';
import { statusLine, summaryLine } from './progress-line.js';
import { CallStatsRecorder, type WorkerRuns } from './stats.js';
import type { BoardLine, LineBoard } from './terminal.js';

/** What an observer is made with. */
export interface ObserverSpec {
  readonly method: string;
  readonly executor: string;
  readonly concurrency: number;
  /** Number of shards, when the input knows it. */
  readonly total: number | undefined;
  /** The board to draw the call's line on, with `progress: true`. */
  readonly board: LineBoard | undefined;
  readonly onStats: ((stats: CallStats) => void) | undefined;
  /** Reports an exception thrown by `onStats` (it must not affect the call). */
  readonly onStatsThrew: (error: unknown) => void;
}

/** Watches one call. */
export class CallObserver {
  readonly #spec: ObserverSpec;
  readonly #recorder: CallStatsRecorder;
  readonly #line: BoardLine | undefined;
  /** When each shard (a task) or chunk in flight was handed over; gone with it. */
  readonly #handed = new WeakMap<object, number>();
  #ended = false;

  constructor(spec: ObserverSpec) {
    this.#spec = spec;
    this.#recorder = new CallStatsRecorder(spec.method, spec.executor, spec.concurrency, performance.now());
    this.#line = spec.board?.add(() => this.#status(spec.board?.tty === true));
  }

  /** Shards failed so far. */
  get failed(): number {
    return this.#recorder.failed;
  }

  /** `unit` (a shard's task, or a chunk of `count` shards) is handed to the executor now. */
  handedOver(unit: object, count: number): void {
    this.#handed.set(unit, performance.now());
    this.#recorder.handedOver(count);
  }

  /**
   * `count` shards of `unit` finished at `endedAt` (`performance.now()`) and are reported, `failed`
   * of them failing, having started at `startedAt` (0 if the executor never said); `batched` when
   * they ran one after another in a batch. `workers` says who ran them, when the executor said;
   * `share` is the part of the batch's time these shards took, when fewer are reported than ran.
   */
  ran(
    unit: object,
    startedAt: number,
    count: number,
    failed: number,
    batched: boolean,
    endedAt: number,
    workers?: WorkerRuns,
    share?: number,
  ): void {
    this.#recorder.ran(this.#handed.get(unit) ?? endedAt, startedAt, endedAt, count, failed, batched, workers, share);
  }

  /**
   * An attempt of a shard, its task `unit` started at `startedAt`, failed now on `worker` (when the
   * executor said) and will run again.
   */
  retried(unit: object, startedAt: number, worker?: string): void {
    const now = performance.now();
    this.#recorder.retried(this.#handed.get(unit) ?? now, startedAt, now, worker);
  }

  /** The call ended: the line becomes its summary, and `onStats` has the figures. Once only. */
  end(outcome: CallOutcome): void {
    if (this.#ended) return;
    this.#ended = true;
    const stats = this.#recorder.finish(outcome, performance.now());
    this.#line?.finish(summaryLine(stats, this.#spec.total));
    const { onStats } = this.#spec;
    if (onStats === undefined) return;
    try {
      onStats(stats);
    } catch (error) {
      this.#spec.onStatsThrew(error);
    }
  }

  #status(tty: boolean): string {
    const recorder = this.#recorder;
    return statusLine(
      {
        method: this.#spec.method,
        done: recorder.shards,
        failed: recorder.failed,
        total: this.#spec.total,
        elapsedMs: performance.now() - recorder.startedAt,
      },
      tty,
    );
  }
}
