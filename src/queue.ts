/**
 * `parafor/queue`: the queue executor, which runs shards as BullMQ jobs on Redis. Needs bullmq and
 * ioredis installed beside parafor: importing this module without them fails with an error that
 * says what to install. `parafor` itself never loads them.
 * @module
 */
import { loadBullMQ } from './executors/queue/load.js';

await loadBullMQ('parafor/queue');

export { queueExecutor } from './executors/queue/executor.js';
export type { QueueExecutorOptions, RedisConnectionOptions } from './executors/queue/options.js';
