/**
 * The queue executor: shards run as BullMQ jobs on Redis, taken by `parafor worker` processes on
 * any number of machines.
 *
 * The life of a shard here:
 * 1. `open()` (this file) loads BullMQ and the rest of this folder on the first call;
 *    open-session.ts names the method for other machines (its module relative to the working
 *    folder, its class, key and fingerprint) and packs the call's constant part once.
 * 2. session.ts gathers the shards into batches (sized as for `'worker'`), each batch one job,
 *    and hears back through client.ts, which holds the executor's connections.
 * 3. `parafor worker` (../../cli/) takes the job and runs its batch in its own worker threads
 *    (the `'worker'` pool), so a CPU-bound shard never blocks the renewal of the job's lock.
 * 4. Each shard's result or error comes back on its own, in the job's return value (jobs.ts).
 * @module
 */
import { isInsideWorker } from '../../worker/inside.js';
import type { Executor, ExecutorSession, FanOutCall } from '../executor.js';
import { threadExecutor } from '../thread.js';
import type { QueueClient } from './client.js';
import { loadBullMQ } from './load.js';
import { resolveQueueOptions, type QueueExecutorOptions } from './options.js';

/**
 * An executor that runs shards as BullMQ jobs on Redis, on every machine that runs
 * `parafor worker` with the same code, `--connection` and `--queue`. bullmq and ioredis must be
 * installed beside parafor. Delivery is at least once (a job whose worker died runs again), so
 * shards should be idempotent.
 *
 * @param options - where Redis is and which queue to use; see {@link QueueExecutorOptions}
 * @throws TypeError naming an option that is wrong
 *
 * @example
 * ```ts
 * import { distribute } from 'parafor';
 * import { queueExecutor } from 'parafor/queue';
 *
 * export const cluster = queueExecutor({ connection: 'redis://127.0.0.1:6379', queue: 'reports' });
 *
 * export class Report {
 *   @distribute({ executor: cluster, concurrency: 64 })
 *   async analyze(id: string) { … }
 * }
 * ```
 */
export function queueExecutor(options: QueueExecutorOptions): Executor {
  const resolved = resolveQueueOptions(options);
  let client: Promise<QueueClient> | undefined;
  const who = `queueExecutor({ queue: '${resolved.queue}' })`;
  return {
    name: 'queue',
    defaultConcurrency: () => resolved.concurrency,
    async open(call: FanOutCall): Promise<ExecutorSession> {
      // Already in a worker: run here, in-process, rather than send jobs from inside a job.
      if (isInsideWorker()) return threadExecutor.open(call);
      client ??= (async () => {
        const [bull, { QueueClient }] = await Promise.all([loadBullMQ(who), import('./client.js')]);
        return new QueueClient(resolved, bull);
      })();
      client.catch(() => (client = undefined));
      const [opened, { openQueueSession }] = await Promise.all([client, import('./open-session.js')]);
      return openQueueSession(opened, resolved, call);
    },
    async shutdown(): Promise<void> {
      const current = client;
      if (current === undefined) return;
      await (await current.catch(() => undefined))?.close();
    },
  };
}
