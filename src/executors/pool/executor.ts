/**
 * The `'worker'` (worker threads) and `'process'` (child processes) executors. Light on purpose:
 * importing parafor must not load workerpool or start anything, so the pool and the session are
 * loaded by the first call.
 * @module
 */
import { availableParallelism } from 'node:os';
import { isInsideWorker } from '../../worker/inside.js';
import type { Executor, ExecutorSession, FanOutCall } from '../executor.js';
import type { PoolKind } from './pool.js';
import { threadExecutor } from '../thread.js';

function poolExecutor(kind: PoolKind): Executor {
  let started = false;
  return {
    name: kind,
    defaultConcurrency: () => availableParallelism(),
    async open(call: FanOutCall): Promise<ExecutorSession> {
      // Already in a worker: run here, in-process, rather than start a pool inside the pool (joblib's rule).
      if (isInsideWorker()) return threadExecutor.open(call);
      started = true;
      const { openPoolSession } = await import('./open-session.js');
      return openPoolSession(kind, call);
    },
    async shutdown(): Promise<void> {
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
