/**
 * The `'thread'` executor: shards run in this process, at most `concurrency` at once. The analogue
 * of Python's ThreadPoolExecutor: concurrency for I/O-bound async work.
 *
 * One limiter per path. Shards with a timeout, retries or a rate limit come one task each, and the
 * engine hands over no more than `concurrency` (the session's `capacity`), so the session runs each
 * at once. Every other call's shards come in chunks (`runChunk`), and there the session is the
 * limiter: the engine may hand over a reserve of as many again, which waits here and starts the
 * moment a running shard settles, in the same microtask. Waiting for the engine instead would start
 * it only when the turn's results are reported, after the event loop's poll: a shard that awaits a
 * timer would then have it anchored that much later than its slot came free, every wave.
 *
 * The session reports in stretches: the results of shards that return a value are reported
 * together, and those of async shards are gathered until the event loop's turn ends, so that a wave
 * of shards finishing together costs the engine (and the consumer) one wake-up instead of one per
 * shard. A failure is reported at once.
 * @module
 */
import { callShard } from '../context.js';
import { abortable } from '../util/abortable.js';
import { Fifo } from '../util/fifo.js';
import type { Executor, ExecutorSession, FanOutCall, ShardChunk, ShardTask } from './executor.js';

/** The article's `threads=5`. */
const DEFAULT_CONCURRENCY = 5;

/** Runs shards in this process. A session per call, so nested calls never wait on their parent's slots. */
export const threadExecutor: Executor = {
  name: 'thread',
  defaultConcurrency: () => DEFAULT_CONCURRENCY,
  open: (call: FanOutCall): ExecutorSession => new ThreadSession(call),
};

class ThreadSession implements ExecutorSession {
  readonly #call: FanOutCall;
  readonly #done: Finished;
  #threw = false;
  /** Async shards of chunks that started and have not settled. */
  #running = 0;
  /** What chunks handed over beyond what runs: each waits from its `next` position on. */
  readonly #waiting = new Fifo<WaitingStretch>();
  #draining = false;
  #drainScheduled = false;

  /** The reserve (see the module's comment): as many shards again as run at once. */
  get reserve(): number {
    return this.#call.concurrency;
  }

  constructor(call: FanOutCall) {
    this.#call = call;
    this.#done = new Finished(call.signal);
  }

  /** One shard with a timeout (the engine sends those one task each, timed from `started()`). */
  run(task: ShardTask): Promise<unknown> {
    const { signal, method, options } = this.#call;
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    // A shard threw synchronously just now, and the engine sees its rejection only in a microtask:
    // the next shard waits for that, so that fail-fast starts none after it.
    if (this.#threw) return new Promise((resolve) => queueMicrotask(() => resolve(this.run(task))));
    task.started();
    let work: Promise<unknown>;
    try {
      const result = callShard(method, task);
      work = promised(result) ?? Promise.resolve(result);
    } catch (error) {
      this.#threw = true;
      queueMicrotask(() => (this.#threw = false));
      return Promise.reject(error);
    }
    // A shard that ignores its timeout cannot be killed in-process; letting go of it frees its slot,
    // so a hung shard never blocks the others. Reading `task.signal` makes an AbortController: only
    // a timeout aborts one shard alone, so without one this path never touches it.
    if (options.timeout !== Infinity) work = abortable(work, task.signal);
    // Like a chunk's, results wait for the end of the turn and failures go at once: a failure among
    // shards that finish together is seen before their slots are handed out again.
    return new Promise((resolve, reject) => {
      work.then((value) => this.#done.soon(() => resolve(value)), reject);
    });
  }

  runChunk(chunk: ShardChunk): void {
    this.#waiting.push({ chunk, next: 0 });
    this.#drain();
  }

  /**
   * Starts waiting shards while fewer than `concurrency` run. Re-entered when a report makes the
   * engine hand over another chunk at once: that chunk only joins the queue, behind the others.
   */
  #drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    try {
      let stretch: WaitingStretch | undefined;
      while (this.#running < this.#call.concurrency && (stretch = this.#waiting.peek()) !== undefined) {
        if (this.#startFrom(stretch)) this.#waiting.shift();
      }
    } finally {
      this.#draining = false;
    }
  }

  /**
   * Starts waiting shards once the promise jobs now queued have all run: a tick queued from a
   * promise job runs only when the job queue is empty. A shard that fails anywhere down the chains
   * that settled this one (however many hops its rejection takes) is then reported first, and
   * fail-fast starts nothing in its place. Still within the same callback of the event loop, so the
   * next shard starts as soon as its slot comes free, not a phase later.
   */
  #drainSoon(): void {
    if (this.#drainScheduled) return;
    this.#drainScheduled = true;
    process.nextTick(() => {
      this.#drainScheduled = false;
      this.#drain();
    });
  }

  /**
   * Starts `stretch`'s shards until a slot is lacking; returns whether none of them waits any more.
   * Shards that return a value take no slot, and their results go to the chunk together.
   */
  #startFrom(stretch: WaitingStretch): boolean {
    const { method, concurrency } = this.#call;
    const { chunk } = stretch;
    const { shards, signal } = chunk;
    let from = stretch.next;
    let values: unknown[] = [];
    const report = (): void => {
      if (values.length === 0) return;
      const settled = values;
      values = [];
      guarded(chunk, from, settled.length, () => chunk.settle(from, settled));
    };
    for (let i = stretch.next; i < shards.length; i++) {
      // A failure stops the call before the next shard starts (fail-fast starts none after it).
      // Every stretch of the call shares the signal, so the rest of the queue is dropped with it.
      if (signal.aborted) return true;
      if (this.#running >= concurrency) {
        report();
        stretch.next = i;
        return false;
      }
      chunk.started(i, 1);
      let result: unknown;
      let later: Promise<unknown> | undefined;
      try {
        result = callShard(method, new ChunkShard(chunk, i));
        later = promised(result);
      } catch (error) {
        report();
        from = i + 1;
        this.#done.failNow(chunk, i, error);
        continue;
      }
      if (later === undefined) {
        values.push(result);
        continue;
      }
      report();
      from = i + 1;
      this.#running++;
      later.then(
        (value) => {
          this.#running--;
          this.#done.add(chunk, i, value);
          this.#drainSoon();
        },
        (error: unknown) => {
          this.#running--;
          this.#done.failNow(chunk, i, error);
          this.#drainSoon();
        },
      );
    }
    report();
    return true;
  }

  close(): void {
    this.#done.drop();
    this.#waiting.drain();
  }
}

/** A chunk's shards from `next` on, handed over and not started yet. */
interface WaitingStretch {
  readonly chunk: ShardChunk;
  next: number;
}

/** What a chunk's shard shows {@link currentShard}; its signal is the call's (a chunk's shards have no timeout). */
class ChunkShard implements ShardTask {
  readonly #chunk: ShardChunk;
  readonly #position: number;

  constructor(chunk: ShardChunk, position: number) {
    this.#chunk = chunk;
    this.#position = position;
  }

  get index(): number {
    return this.#chunk.start + this.#position;
  }

  get shard(): unknown {
    return this.#chunk.shards[this.#position];
  }

  get args(): readonly unknown[] {
    return this.#chunk.args;
  }

  get signal(): AbortSignal {
    return this.#chunk.signal;
  }

  started(): void {
    // The session marks each of a chunk's shards started as it starts it.
  }

  ranOn(): void {
    // In this process: there is no worker to name.
  }
}

/**
 * A promise for what a shard returned when it is one (or a thenable, adopted like `await` would),
 * else `undefined`: a plain value needs no promise. A `then` getter that throws is the shard's error.
 */
function promised(result: unknown): Promise<unknown> | undefined {
  if (result instanceof Promise) return result;
  if (result === null || (typeof result !== 'object' && typeof result !== 'function')) return undefined;
  const then: unknown = (result as { then?: unknown }).then;
  if (typeof then !== 'function') return undefined;
  return new Promise((resolve, reject) => {
    (then as (this: unknown, ...handlers: ((value: unknown) => void)[]) => unknown).call(result, resolve, reject);
  });
}

/**
 * Async shards that finished, waiting to be reported: gathered during one turn of the event loop and
 * reported at its end (`setImmediate`), consecutive shards of a chunk in one stretch.
 */
class Finished {
  readonly #signal: AbortSignal;
  #chunks: ShardChunk[] = [];
  #positions: number[] = [];
  #values: unknown[] = [];
  /** Results of shards run one task each: their promises' resolve calls. */
  #thunks: (() => void)[] = [];
  #scheduled = false;

  constructor(signal: AbortSignal) {
    this.#signal = signal;
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.flush();
    });
  }

  add(chunk: ShardChunk, position: number, value: unknown): void {
    this.#chunks.push(chunk);
    this.#positions.push(position);
    this.#values.push(value);
    this.#schedule();
  }

  /** Runs `report` at the end of this turn of the event loop, with the other shards that finish in it. */
  soon(report: () => void): void {
    this.#thunks.push(report);
    this.#schedule();
  }

  /**
   * A failure goes at once, before what finished earlier in this turn: reporting those first would
   * free their slots, and fail-fast would see the failure only after the engine had started more.
   */
  failNow(chunk: ShardChunk, position: number, error: unknown): void {
    guarded(chunk, position, 1, () => chunk.fail(position, 1, error));
    this.flush();
  }

  flush(): void {
    const chunks = this.#chunks;
    const positions = this.#positions;
    const values = this.#values;
    const thunks = this.#thunks;
    if (chunks.length === 0 && thunks.length === 0) return;
    this.drop();
    for (const report of thunks) report();
    // The call stopped: the engine ignores answers now.
    if (this.#signal.aborted) return;
    for (let k = 0; k < chunks.length;) {
      const chunk = chunks[k] as ShardChunk;
      const from = positions[k] as number;
      let end = k + 1;
      while (end < chunks.length && chunks[end] === chunk && positions[end] === from + (end - k)) end++;
      const stretch = values.slice(k, end);
      guarded(chunk, from, stretch.length, () => chunk.settle(from, stretch));
      k = end;
    }
  }

  drop(): void {
    this.#thunks = [];
    this.#chunks = [];
    this.#positions = [];
    this.#values = [];
  }
}

/**
 * Reports to a chunk outside of its `runChunk` (from a promise or a timer), where nothing would catch
 * a throw: an answer the chunk refuses fails those shards instead, so none is lost and the program
 * never sees an unhandled rejection.
 */
function guarded(chunk: ShardChunk, offset: number, count: number, report: () => void): void {
  try {
    report();
  } catch (error) {
    try {
      chunk.fail(offset, count, error);
    } catch {
      // Already settled: the engine has their outcome.
    }
  }
}
