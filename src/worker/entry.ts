/**
 * The script every `'worker'` and `'process'` worker runs: it registers parafor's two methods with
 * workerpool and waits. The user's module is imported by the first batch that needs it.
 * @module
 */
import { isMainThread } from 'node:worker_threads';
import workerpool from 'workerpool';
import { keepShardContextForGood } from '../context.js';
import { markInsideWorker } from './inside.js';
import { watchLeftovers } from './leftovers.js';
import { endWithParent } from './orphan-watch.js';
import { probe, runBatch } from './run-batch.js';

// Before any user module loads: a distributed call made in here must run inline, not start a pool.
markInsideWorker();
// Also before: an error a shard leaves behind goes to that shard (see leftovers.ts), not to whichever runs next.
watchLeftovers();
// Every shard in the storage, for the worker's life: what a shard leaves behind is blamed on it.
keepShardContextForGood();

// A child process (not a worker thread, which dies with its process anyway).
if (isMainThread && process.send !== undefined) {
  endWithParent();
  // A child started as its program ended has no one to report to: it ends quietly, not with a trace.
  process.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'ERR_IPC_CHANNEL_CLOSED') throw error;
    process.exit(0);
  });
}

workerpool.worker({ probe, run: runBatch });
