/**
 * What a worker does with a batch: rebuild the call (method, `this`, arguments), run each shard in
 * turn through the user's own method, and send back every shard's result or error, each on its own.
 * @module
 */
import { performance } from 'node:perf_hooks';
import { isMainThread, threadId } from 'node:worker_threads';
import workerpool from 'workerpool';
import { callShard } from '../context.js';
import { buffersToMove, packLenient, takeMovable, unpack, unpackList, type LenientPack } from '../wire/clone.js';
import type { DistributedMethod } from '../executors/executor.js';
import type {
  BatchRequest,
  BatchResponse,
  CallContext,
  LoadingEvent,
  ProbeAnswer,
  StartedEvent,
} from '../wire/protocol.js';
import { encodeThrown, type EncodedThrown } from '../wire/remote-error.js';
import { BatchWatch, takeLeftovers, WatchedTask } from './leftovers.js';
import { resolveMethod, type ResolvedMethod } from './resolve-method.js';
import { isThenable } from '../util/thenable.js';

type Transfer = InstanceType<typeof workerpool.Transfer>;

// A shard in a worker is stopped by terminating the worker, so its own signal never aborts.
const never = new AbortController().signal;
const noop = (): void => undefined;

/** This worker's name in every reply, for `onStats`: a thread's id, or a child process's pid. */
const WORKER = isMainThread ? `pid ${process.pid}` : `thread ${threadId}`;

/** Loads the method of a call, to fail the call at once when it cannot be loaded. */
export async function probe(context: Uint8Array): Promise<ProbeAnswer> {
  // The call's timeout bounds the loading from here: the worker's own start is not the method's.
  workerpool.workerEmit({ loading: true } satisfies LoadingEvent);
  try {
    await resolveMethod((unpack(context) as CallContext).ref);
    return {};
  } catch (error) {
    return { failure: encodeThrown(error) };
  }
}

interface LoadedCall {
  readonly method: DistributedMethod;
  readonly args: readonly unknown[];
}

/**
 * The calls this worker ran batches for lately, decoded: a call's context (its `this` and arguments,
 * possibly large) is decoded once per worker, not once per batch. A few calls at once is the most a
 * worker serves, so a handful are kept.
 */
const recentCalls = new Map<number, Promise<LoadedCall>>();
const RECENT_CALLS = 8;
/** The calls of `recentCalls` whose method this worker has loaded. */
const loadedCalls = new Set<number>();

function loadCall(request: BatchRequest): Promise<LoadedCall> {
  let loaded = recentCalls.get(request.call);
  if (loaded === undefined) {
    loaded = (async () => {
      const context = unpack(request.context) as CallContext;
      const found = await resolveMethod(context.ref);
      const method = {
        name: context.ref.name,
        fn: found.record.original,
        thisArg: rebuildThis(found, context),
        record: found.record,
      };
      loadedCalls.add(request.call);
      return { method, args: context.args };
    })();
    recentCalls.set(request.call, loaded);
    // A call that failed to load is not kept: the next batch tries again and reports its own error.
    loaded.catch(() => recentCalls.delete(request.call));
    if (recentCalls.size > RECENT_CALLS) {
      const oldest = recentCalls.keys().next().value as number;
      recentCalls.delete(oldest);
      loadedCalls.delete(oldest);
    }
  }
  return loaded;
}

/** Runs a batch. Never rejects: every failure is reported per shard, or for the whole batch. */
export async function runBatch(request: BatchRequest): Promise<Transfer> {
  let method: DistributedMethod;
  let args: readonly unknown[];
  // A worker new to the call loads its method first (a replacement, a pool that grew): a timeout
  // bounds that loading, and the shards' time counts only from their start below.
  if (request.notifyStart && !loadedCalls.has(request.call)) {
    workerpool.workerEmit({ loading: true } satisfies LoadingEvent);
  }
  try {
    ({ method, args } = await loadCall(request));
  } catch (error) {
    return reply('', [], [], request, 0, encodeThrown(error));
  }
  const shards = unpackList(request.shards);
  for (const [position, value] of request.moved) shards[position] = value;
  if (request.notifyStart) workerpool.workerEmit({ started: true } satisfies StartedEvent);
  const startedAt = performance.now();
  const watch = new BatchWatch(method.name, shards.length);
  const base = { args, signal: never, started: noop };
  for (let i = 0; i < shards.length; i++) {
    // From here on, an error left by an earlier shard fails that shard, not the worker.
    watch.running = i;
    const task = new WatchedTask(watch, i, request.indices[i] ?? i, shards[i], base);
    try {
      // Only a promise (or thenable) is awaited: a batch of sync shards runs in one go.
      const result = callShard(method, task);
      watch.gave(i, isThenable(result) ? await result : result);
    } catch (error) {
      watch.fail(i, error);
    }
  }
  watch.running = shards.length;
  // The reply is built now: an error left by one of these shards is a warning from here on.
  const { values, failures } = watch.finish();
  return reply(method.name, values, failures, request, performance.now() - startedAt);
}

/**
 * `this` in the worker: for an instance method, a new object with the class's prototype and the
 * instance's fields (no constructor runs, as with pickle); the class for a static method.
 */
function rebuildThis({ owner }: ResolvedMethod, { ref, fields }: CallContext): unknown {
  if (ref.form === 'function' || owner === undefined) return undefined;
  if (ref.isStatic) return owner;
  const self = Object.create(owner.prototype as object) as Record<string, unknown>;
  // Defined, not assigned, like class fields: a setter on the prototype must not run.
  for (const [key, value] of Object.entries(fields ?? {})) {
    Object.defineProperty(self, key, { value, writable: true, enumerable: true, configurable: true });
  }
  return self;
}

function reply(
  name: string,
  values: unknown[],
  failures: [number, EncodedThrown][],
  request: BatchRequest,
  durationMs: number,
  batchFailure?: EncodedThrown,
): Transfer {
  const moved = request.transfer ? takeMovable(values) : [];
  let lenient: LenientPack;
  try {
    lenient = packLenient(values, name, (i) => `the result of shard ${request.indices[i] ?? i}`, 'result');
  } catch (error) {
    // The results pack one by one but not together: none can be blamed, so every shard fails.
    return reply(name, [], [], request, durationMs, encodeThrown(error));
  }
  // A result that cannot be cloned fails its shard, naming what; the others' results go back.
  for (const [position, error] of lenient.unclonable) failures.push([position, encodeThrown(error)]);
  const leftovers = takeLeftovers();
  const response: BatchResponse = {
    values: lenient.packed,
    failures,
    durationMs,
    moved,
    worker: WORKER,
    ...(batchFailure === undefined ? {} : { batchFailure }),
    ...(leftovers === undefined ? {} : { leftovers }),
  };
  return new workerpool.Transfer(response, buffersToMove(lenient.packed, moved));
}
