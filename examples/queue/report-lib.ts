/**
 * The work of examples/queue/main.ts, in a module of its own: the caller and every `parafor worker`
 * import it. The method is the same one you would run on `'worker'`; only its executor changed.
 */
import { createHash } from 'node:crypto';
import { distribute } from '../../src/index.js';
import { queueExecutor } from '../../src/queue.js';

/** The cluster: a Redis every machine can reach, and a queue name the workers are started with. */
export const cluster = queueExecutor({
  connection: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
  queue: 'reports',
});

export class Report {
  constructor(readonly salt = 'parafor') {}

  // Written for ONE id. Was `{ executor: 'worker' }`: moving it to the queue changed nothing else.
  @distribute({ executor: cluster, concurrency: 32 })
  analyze(id: number): { id: number; digest: string; pid: number } {
    // CPU-bound on purpose: 5,000 rounds of SHA-256.
    let digest = `${this.salt}/${id}`;
    for (let i = 0; i < 5_000; i++) digest = createHash('sha256').update(digest).digest('hex');
    return { id, digest: digest.slice(0, 12), pid: process.pid };
  }
}
