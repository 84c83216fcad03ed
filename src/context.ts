/**
 * What a running shard can learn about itself, wherever it runs.
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { DistributedMethod, ShardTask } from './executors/executor.js';

/** What {@link currentShard} returns inside a running shard. */
export interface ShardContext {
  /** Qualified name of the method, e.g. `Report.getCubes`. */
  readonly method: string;
  /** Position of the shard in the input, from 0. */
  readonly index: number;
  /** The shard. */
  readonly shard: unknown;
  /**
   * Aborted when this shard should stop: its `timeout` passed, the call's `signal` was aborted,
   * another shard failed, or the consumer stopped reading. Pass it to `fetch`, timers, streams…
   */
  readonly signal: AbortSignal;
}

const storage = new AsyncLocalStorage<ShardContext>();

/** Calls that may run shards in this thread now. */
let holders = 0;

/**
 * Keeps {@link currentShard} working while a call runs; the returned function lets go, once. When
 * no call holds it any more the storage is disabled: on Node 20 and 22 an enabled
 * `AsyncLocalStorage` keeps V8's promise hooks on for the whole process, and every promise of the
 * program around parafor would pay for them long after its calls ended. The next call's first shard
 * enables it again.
 */
export function holdShardContext(): () => void {
  holders++;
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    if (--holders === 0) storage.disable();
  };
}

/**
 * Inside a distributed method: which shard is running, and the `AbortSignal` that says when to stop.
 * Outside one: `undefined`.
 *
 * @example
 * ```ts
 * @distribute({ timeout: 5000 })
 * async fetchOne(url: string) {
 *   const response = await fetch(url, { signal: currentShard()?.signal });
 *   return response.json();
 * }
 * ```
 */
export function currentShard(): ShardContext | undefined {
  return storage.getStore();
}

/**
 * Calls the user's one-item function for a task, with {@link currentShard} set for its duration.
 * For custom executors that run shards in this process.
 *
 * @param method - the call's method, as the executor's `open(call)` received it in `call.method`
 * @param task - the shard to run
 * @returns what the function returned (a sync throw becomes a rejection)
 */
export function runShard(method: DistributedMethod, task: ShardTask): Promise<unknown> {
  return storage.run(new LazyContext(method.name, task), callOne, method, task);
}

/**
 * Like {@link runShard}, for a caller that awaits only what needs awaiting (the worker, running a
 * batch): gives back what the function returned as it is, a value or a promise, and lets a sync
 * throw through. A sync shard then costs no promise and no turn of the microtask queue.
 *
 * @param method - the call's method
 * @param task - the shard to run
 * @returns what the function returned, unawaited
 */
export function callShard(method: DistributedMethod, task: ShardTask): unknown {
  return storage.run(new LazyContext(method.name, task), callRaw, method, task);
}

/**
 * The task of the shard whose code runs now, as {@link callShard} or {@link runShard} received it:
 * the worker tells by it which shard left a timer or a rejection that failed later. For parafor's
 * own use.
 */
export function runningTask(): ShardTask | undefined {
  return LazyContext.taskOf(storage.getStore());
}

function callRaw(method: DistributedMethod, task: ShardTask): unknown {
  return method.fn.call(method.thisArg, task.shard, ...task.args);
}

/** A {@link ShardContext} that reads the task's `signal` only when asked: no shard pays for an AbortController it never uses. */
class LazyContext implements ShardContext {
  readonly method: string;
  readonly #task: ShardTask;

  constructor(method: string, task: ShardTask) {
    this.method = method;
    this.#task = task;
  }

  /** The task behind a context, or `undefined` for none. */
  static taskOf(context: ShardContext | undefined): ShardTask | undefined {
    return context instanceof LazyContext ? context.#task : undefined;
  }

  get index(): number {
    return this.#task.index;
  }

  get shard(): unknown {
    return this.#task.shard;
  }

  get signal(): AbortSignal {
    return this.#task.signal;
  }
}

// A sync method that throws must become a rejection, like an async one, without an async wrapper
// that would cost a promise and a turn per shard.
function callOne(method: DistributedMethod, task: ShardTask): Promise<unknown> {
  try {
    const result = callRaw(method, task);
    return result instanceof Promise ? result : Promise.resolve(result);
  } catch (error) {
    return Promise.reject(error);
  }
}
