/**
 * The `'worker'` (worker threads) and `'process'` (child processes) executors: the workerpool client.
 *
 * The life of a shard here:
 * 1. `open()` (this file) loads the rest of this folder on the first call, then open-session.ts
 *    checks what can be known to fail (the method's reference, the entry script, what cannot be
 *    cloned), packs the call's constant part once, and probes the method in a worker.
 * 2. The engine hands shards to session.ts, which gathers them into batches (batching.ts sizes
 *    them) and sends one batch per worker slot through pool.ts, the one file that talks to workerpool.
 * 3. In the worker, ../../worker/entry.ts runs each shard through the user's own method, found by
 *    reference (method-ref.ts names it; ../../wire/ carries it, the values and the errors).
 * 4. Each shard's result or error comes back on its own; a pool failure is read by failures.ts
 *    (a worker died, a worker was already dead, a shutdown) to fail only the shards it concerns.
 *
 * This file is light on purpose: importing parafor must not load workerpool or start anything, so
 * it imports the rest of the folder with `import()` at the first call (a lint rule holds that).
 * @module
 */
import { availableParallelism } from 'node:os';
import { isInsideWorker } from '../../worker/inside.js';
import type { Executor, ExecutorSession, FanOutCall } from '../executor.js';
import type { PoolKind } from './pool.js';
import { threadExecutor } from '../thread.js';

function poolExecutor(kind: PoolKind): Executor {
  let started = false;
  /** Counts shutdown() calls: one made while a call loads the pool client wins over that call. */
  let shutdowns = 0;
  return {
    name: kind,
    defaultConcurrency: () => availableParallelism(),
    async open(call: FanOutCall): Promise<ExecutorSession> {
      // Already in a worker: run here, in-process, rather than start a pool inside the pool (joblib's rule).
      if (isInsideWorker()) return threadExecutor.open(call);
      started = true;
      const before = shutdowns;
      const { openPoolSession, shutDownWhileOpening } = await import('./open-session.js');
      // shutdown() came while the client loaded: the call must not start a pool after it.
      if (shutdowns !== before) return shutDownWhileOpening(kind, call);
      return openPoolSession(kind, call);
    },
    async shutdown(): Promise<void> {
      shutdowns++;
      if (!started) return;
      const { shutdownPool } = await import('./pool.js');
      await shutdownPool(kind);
    },
  };
}

/** Runs shards in worker threads, on a pool shared by every call: CPU-bound work on all cores. */
export const workerExecutor: Executor = poolExecutor('worker');

/** Runs shards in child processes, on a pool shared by every call: CPU-bound work, fully isolated. */
export const processExecutor: Executor = poolExecutor('process');
