/**
 * The `'thread'` executor: shards run in this process, at most `concurrency` at once, limited by
 * p-limit. The analogue of Python's ThreadPoolExecutor: concurrency for I/O-bound async work.
 * @module
 */
import pLimit from 'p-limit';
import { runShard } from '../context.js';
import { abortable } from './abortable.js';
import type { Executor, ExecutorSession, FanOutCall, ShardTask } from './executor.js';

/** The article's `threads=5`. */
const DEFAULT_CONCURRENCY = 5;

/** Runs shards in this process. A new limiter per call, so nested calls never wait on their parent's slots. */
export const threadExecutor: Executor = {
  name: 'thread',
  defaultConcurrency: () => DEFAULT_CONCURRENCY,
  open(call: FanOutCall): ExecutorSession {
    const limit = pLimit(call.concurrency);
    const run = (task: ShardTask): Promise<unknown> => {
      // A shard still queued when the call stops must settle without running.
      if (task.signal.aborted) return Promise.reject(task.signal.reason as Error);
      task.started();
      // A shard that ignores its signal cannot be killed in-process; letting go of it frees its slot,
      // so a hung shard never blocks the others.
      return abortable(runShard(call.method, task), task.signal);
    };
    return {
      run: (task) => limit(run, task),
      close: () => limit.clearQueue(),
    };
  },
};
