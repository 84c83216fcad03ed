/**
 * The queue benchmark's methods: the CPU and tiny work of bench/cpu-work.ts on a queue executor.
 * Both the bench process and its `parafor worker` processes import this module; Redis's address
 * and the queue's name come from the environment, which the workers inherit, so the bench loads it
 * only once its redis-server runs.
 * @module
 */
import { distribute } from '../src/index.js';
import { queueExecutor } from '../src/queue.js';
import { burn, square } from './cpu-work.js';

const queue = queueExecutor({
  connection: process.env['PARAFOR_BENCH_REDIS'] ?? 'redis://127.0.0.1:6379',
  queue: process.env['PARAFOR_BENCH_QUEUE'] ?? 'parafor-bench',
  connectTimeout: 5000,
});

/** `burn` and `square` on the queue executor, auto-batched unless a call says otherwise. */
export class QueueWork {
  @distribute({ executor: queue })
  burn(rounds: number): number {
    return burn(rounds);
  }

  @distribute({ executor: queue })
  square(x: number): number {
    return square(x);
  }
}
