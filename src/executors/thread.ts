/**
 * The `'thread'` executor: shards run in this process, at most `concurrency` at once. The analogue
 * of Python's ThreadPoolExecutor: concurrency for I/O-bound async work.
 *
 * One limiter: the engine hands the session no more shards than `concurrency` (its `capacity`) and
 * hands over the next ones as shards settle, so the session runs whatever it is given at once. A
 * second limiter in here (p-limit) only added promises per shard and a queue that never filled.
 * Shards come in chunks (`runChunk`), and the session reports them in stretches: the results of
 * shards that return a value are reported together, and those of async shards are gathered until
 * the event loop's turn ends, so that a wave of shards finishing together costs the engine (and the
 * consumer) one wake-up instead of one per shard. A failure is reported at once.
 * @module
 */
import { callShard } from '../context.js';
import { abortable } from '../util/abortable.js';
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
    const { method } = this.#call;
    const { shards, signal } = chunk;
    chunk.started(0, shards.length);
    // Values returned synchronously, from position `from`: reported together when the stretch ends.
    let from = 0;
    let values: unknown[] = [];
    const report = (): void => {
      if (values.length > 0) chunk.settle(from, values);
      values = [];
    };
    for (let i = 0; i < shards.length; i++) {
      // A failure stops the call before the next shard starts (fail-fast starts none after it).
      if (signal.aborted) return;
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
      later.then(
        (value) => this.#done.add(chunk, i, value),
        (error: unknown) => this.#done.failNow(chunk, i, error),
      );
    }
    report();
  }

  close(): void {
    this.#done.drop();
  }
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
    // The chunk's shards were all marked started when it arrived.
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
