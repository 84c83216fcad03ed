/**
 * What a running shard can learn about itself, wherever it runs.
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { DistributedMethod, ShardTask } from './executors/executor.js';
import type { WarningCode } from './messages.js';

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
 * Whether shards run inside the storage from their first line. On Node 20 and 22 the storage rests
 * on V8's promise hooks, and turning them on even once slows every promise of the program for good
 * (about 1.2x on promise-heavy code, after they are turned off again: V8 does not restore its fast
 * paths). So there, on the main thread, a shard runs with its context in a plain variable while its
 * synchronous part runs, and the storage starts only once some shard needs more: a method whose code
 * names `currentShard`, or a shard that calls it (then it enters the storage from there on, so what
 * it awaits keeps its context). From then on every shard runs in it. parafor's workers (see
 * keepShardContextForGood) and Node 24 and later (no promise hooks behind the storage) start eager.
 */
let eager = !storageUsesPromiseHooks();

/** The shard whose synchronous part runs now, while the storage is not in use. */
let syncContext: ShardContext | undefined;
/** The shard that entered the storage during its synchronous part: left again when that part ends. */
let entered: ShardContext | undefined;
/** Whether the late-context warning was given. */
let warnedLate = false;

/** Whether this Node's AsyncLocalStorage turns on promise hooks: Node 20 and 22, unless told otherwise. */
function storageUsesPromiseHooks(): boolean {
  const flags = [...process.execArgv, ...(process.env['NODE_OPTIONS'] ?? '').split(/\s+/)];
  const major = Number(process.versions.node.split('.')[0]);
  return major < 24
    ? !flags.includes('--experimental-async-context-frame')
    : flags.includes('--no-async-context-frame');
}

/** Methods whose code names `currentShard`: they need the storage from their first shard. */
const namesContext = new WeakMap<object, boolean>();

function needsStorage(method: DistributedMethod): boolean {
  if (eager) return true;
  const fn = method.fn as object;
  let names = namesContext.get(fn);
  if (names === undefined) {
    names = Function.prototype.toString.call(fn).includes('currentShard');
    namesContext.set(fn, names);
  }
  if (names) eager = true;
  return names;
}

/**
 * For a worker (a thread or a child process): every shard runs in the storage from its first line,
 * and it stays enabled for the worker's life. The worker tells by it which shard left an error
 * behind, and its promise hooks tax no program of the user's. A call nested in a shard lets go of
 * its own hold when it ends; this one is never let go, so the outer shard keeps its context.
 */
export function keepShardContextForGood(): void {
  eager = true;
  holders++;
}

/**
 * Keeps {@link currentShard} working while a call runs; the returned function lets go, once. When
 * no call holds it any more the storage is disabled: on Node 20 and 22 an enabled
 * `AsyncLocalStorage` keeps V8's promise hooks on for the whole process. The next call's first shard
 * that needs it enables it again.
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
 * On Node 20 and 22 the context is kept across a shard's awaits once some shard needs it: its
 * method's code names `currentShard`, or a shard calls it before its first `await` (keeping it
 * costs every promise of the program, for good, on those versions). A shard that first reads it
 * after an `await`, in code its method does not name, before any shard read it, gets `undefined`
 * and a `PARAFOR_CONTEXT_LATE` warning; shards started after it have it.
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
  const store = storage.getStore();
  if (store !== undefined) return store;
  if (syncContext !== undefined) {
    // The first shard that asks, in its synchronous part: the rest of it, and what it awaits, runs
    // in the storage, and so does every shard after it.
    eager = true;
    storage.enterWith(syncContext);
    entered = syncContext;
    return syncContext;
  }
  if (!eager && holders > 0) warnLateContext();
  return undefined;
}

/**
 * Asked for after an `await`, by code the shard's method does not name, before any shard asked in
 * its synchronous part: the context was not kept, so this shard gets `undefined`. Later shards get it.
 */
function warnLateContext(): void {
  eager = true;
  if (warnedLate) return;
  warnedLate = true;
  process.emitWarning(
    'parafor: currentShard() returned undefined while a call was running: it was called outside any shard, or ' +
      'after an await in a shard whose method does not mention currentShard (on Node 20 and 22 parafor keeps ' +
      "a shard's context across awaits only once some shard needs it, since that slows every promise of the " +
      'program). Shards started from now on have it; to have it in every shard, call currentShard() before ' +
      "the method's first await",
    { code: 'PARAFOR_CONTEXT_LATE' satisfies WarningCode },
  );
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
  return inContext(callOne, method, task);
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
  return inContext(callRaw, method, task);
}

/**
 * Calls `call` for a shard with {@link currentShard} set: in the storage, or, while no shard has
 * needed it yet, in {@link syncContext} for its synchronous part.
 */
function inContext<T>(
  call: (method: DistributedMethod, task: ShardTask) => T,
  method: DistributedMethod,
  task: ShardTask,
): T {
  const context = new LazyContext(method.name, task);
  if (needsStorage(method)) return storage.run(context, call, method, task);
  const outer = syncContext;
  syncContext = context;
  try {
    return call(method, task);
  } finally {
    syncContext = outer;
    // The shard entered the storage (it asked for its context): what runs after it here belongs to
    // whoever called it (no shard, or the shard whose synchronous part started this one).
    if (entered === context) {
      entered = undefined;
      storage.enterWith(outer as ShardContext);
    }
  }
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
