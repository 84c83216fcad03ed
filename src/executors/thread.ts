/**
 * The `'thread'` executor: shards run in this process, at most `concurrency` at once, limited by
 * p-limit. The analogue of Python's ThreadPoolExecutor: concurrency for I/O-bound async work.
 * @module
 */
import pLimit from 'p-limit';
import { runShard } from '../context.js';
import { abortable } from '../util/abortable.js';
import type { Executor, ExecutorSession, FanOutCall, ShardTask } from './executor.js';

/** The article's `threads=5`. */
const DEFAULT_CONCURRENCY = 5;

/** Runs shards in this process. A new limiter per call, so nested calls never wait on their parent's slots. */
export const threadExecutor: Executor = {
  name: 'thread',
  defaultConcurrency: () => DEFAULT_CONCURRENCY,
  open(call: FanOutCall): ExecutorSession {
    const limit = pLimit(call.concurrency);
    // Reading `task.signal` makes the shard's AbortController; only a timeout aborts one shard alone,
    // so without one the hot path never touches it (a stopped call is seen on `call.signal`).
    const timed = call.options.timeout !== Infinity;
    const run = (task: ShardTask): Promise<unknown> => {
      // A shard still queued when the call stops must settle without running.
      if (call.signal.aborted) return Promise.reject(call.signal.reason);
      task.started();
      const work = runShard(call.method, task);
      // A shard that ignores its timeout cannot be killed in-process; letting go of it frees its slot,
      // so a hung shard never blocks the others. The engine settles it either way.
      return timed ? abortable(work, task.signal) : work;
    };
    return {
      run: (task) => limit(run, task),
      close: () => limit.clearQueue(),
    };
  },
};
