/**
 * Opening a call on a worker pool: everything that can be known to fail is checked here, before any
 * shard runs; then the session takes over.
 * @module
 */
import { availableParallelism } from 'node:os';
import { assertBatchFitsTimeout } from '../../options.js';
import { autoBatches, fixedBatches, type BatchSizer } from './batching.js';
import { clonable, pack, unclonableError } from '../../wire/clone.js';
import type { ExecutorSession, FanOutCall } from '../executor.js';
import { methodRef } from './method-ref.js';
import { sharedPool, type PoolKind, type SharedPool } from './pool.js';
import type { CallContext, LoadingEvent, MethodRef, ProbeAnswer } from '../../wire/protocol.js';
import { decodeThrown } from '../../wire/remote-error.js';
import { PoolSession } from './session.js';
import { WorkerExitError } from '../../errors.js';
import { say } from '../../messages.js';
import { classifyPoolFailure, loadingTimedOut, MAX_UNREACHED } from './failures.js';

/**
 * Starts a call on the shared pool of `kind`. Everything that can be known to fail fails here, before
 * any shard runs, with a `TypeError` saying what to do: a method that cannot be found by reference,
 * the entry script, fields or arguments that cannot be cloned, options that do not fit together.
 */
export async function openPoolSession(kind: PoolKind, call: FanOutCall): Promise<ExecutorSession> {
  const { method, options } = call;
  assertBatchFitsTimeout(options.batchSize, options.timeout, method.name);
  const ref = methodRef(method, options.module, kind);
  const context = packContext(ref, method.thisArg, call.args);
  const pool = sharedPool(kind);
  // The pool the call starts on: a shutdown() from here on, even during the probe, fails its shards.
  const generation = pool.generation;
  // `Infinity` would mean one worker per shard: for workers it means one per core.
  const slots = Number.isFinite(call.concurrency) ? call.concurrency : availableParallelism();
  pool.reserve(slots);
  await probe(pool, ref, context, slots, call.signal, options.timeout);
  let sizer: BatchSizer;
  if (options.batchSize !== 'auto') sizer = fixedBatches(options.batchSize);
  // A timeout counts per shard and stops the shard's worker: shards then travel alone.
  else sizer = options.timeout === Infinity ? autoBatches() : fixedBatches(1);
  return new PoolSession({
    pool,
    generation,
    kind,
    name: method.name,
    context,
    slots,
    sizer,
    transfer: options.transfer && kind === 'worker',
    watchTasks: options.exactStarts,
    signal: call.signal,
    loadTimeout: options.timeout,
  });
}

/**
 * The session of a call that `shutdown()` overtook while it was starting: its shards fail, each
 * saying so, and no pool starts (as for a shutdown() during the call).
 */
export function shutDownWhileOpening(kind: PoolKind, call: FanOutCall): ExecutorSession {
  const fail = (index: number): Error =>
    new Error(say(call.method.name, `the '${kind}' pool was shut down (shutdown()) before shard ${index} finished`));
  return {
    capacity: Infinity,
    run: (task) => Promise.reject(fail(task.index)),
    runChunk: (chunk) => {
      for (let j = 0; j < chunk.shards.length; j++) chunk.fail(j, 1, fail(chunk.start + j));
    },
    close: () => undefined,
  };
}

/** The call's constant part, serialized once: the method's reference, `this`'s fields, the arguments. */
export function packContext(ref: MethodRef, thisArg: unknown, args: readonly unknown[]): Uint8Array {
  const fields =
    ref.form === 'method' && !ref.isStatic && typeof thisArg === 'object' && thisArg !== null
      ? { ...thisArg }
      : undefined;
  const context: CallContext = { ref, fields, args };
  try {
    return pack(context);
  } catch (error) {
    if (!clonable(fields)) throw unclonableError(ref.name, "the instance's fields", fields, 'this', error);
    args.forEach((arg, i) => {
      if (!clonable(arg))
        throw unclonableError(ref.name, `argument ${i + 2} (after the shards)`, arg, `arguments[${i + 1}]`, error);
    });
    throw error;
  }
}

const probed = new Set<string>();

/**
 * Loads the method once per method, so that a method that cannot be found, or a module that fails
 * to import in a worker, fails the call at once rather than every shard. It is loaded in `slots`
 * workers together: the call waits only for the first to answer, and the others warm up meanwhile,
 * so that a first call with a single shard leaves the pool ready for the next.
 */
async function probe(
  pool: SharedPool,
  ref: MethodRef,
  context: Uint8Array,
  slots: number,
  signal: AbortSignal,
  timeout: number,
): Promise<void> {
  const key = JSON.stringify([pool.kind, ref.module, ref.key, ref.fingerprint, ref.owner]);
  if (probed.has(key)) return;
  signal.throwIfAborted();
  const generation = pool.generation;
  // Loading the method counts against the call's timeout: a module that never finishes loading (a
  // top-level await on nothing) would otherwise hang the call. It counts from when the worker starts
  // loading, not from when the probe was sent: starting a worker (a process, on a busy machine) is
  // not the method's. At the timeout, every probe's worker is stopped.
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timedOut = false;
  const stopAll = (): void => jobs.forEach((each) => each.cancel());
  const onEvent = (event: unknown): void => {
    if (timer !== undefined || timeout === Infinity || (event as Partial<LoadingEvent>)?.loading !== true) return;
    timer = setTimeout(() => {
      timedOut = true;
      stopAll();
    }, timeout);
  };
  let job = pool.exec<ProbeAnswer>('probe', [context], { on: onEvent });
  const jobs = [job];
  // The warm-ups' answers are the first's: nobody reads them, and they never keep the program alive.
  for (let i = 1; i < Math.min(slots, pool.size); i++) {
    const warmUp = pool.exec<ProbeAnswer>('probe', [context], { background: true });
    warmUp.result.catch(() => undefined);
    jobs.push(warmUp);
  }
  const onAbort = (): void => job.cancel();
  signal.addEventListener('abort', onAbort, { once: true });
  let answer: ProbeAnswer | undefined;
  try {
    for (let unreached = 0; answer === undefined;) {
      try {
        answer = await job.result;
      } catch (error) {
        signal.throwIfAborted();
        if (timedOut) throw loadingTimedOut(ref.name, timeout, error);
        // shutdown() ended the probe: the session fails the shards as for a shutdown() that comes later
        // (rather than the call rejecting with workerpool's error); the next call probes again.
        if (pool.generation !== generation) return;
        const failure = classifyPoolFailure(error);
        // The probe went to a worker that had died while idle: it never ran, so it goes again (the
        // pool has dropped that worker).
        if (failure.kind === 'unreached' && ++unreached <= MAX_UNREACHED) {
          job = pool.exec<ProbeAnswer>('probe', [context], { on: onEvent });
          jobs.push(job);
          continue;
        }
        if (failure.kind !== 'died') throw error;
        throw new WorkerExitError({ ...failure, executor: pool.kind, method: ref.name, shards: [] });
      }
    }
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
  if (answer.failure !== undefined) throw decodeThrown(answer.failure);
  probed.add(key);
}
