/**
 * A `'process'` worker must not outlive the program that started it. When that program dies (a
 * SIGKILL, a Ctrl-C), the child's IPC channel closes, but a child busy in a CPU-bound shard never
 * gets to its event loop to notice. A small thread in the child watches its parent instead, and ends
 * the child when the parent is gone, whatever the child's main thread is doing.
 * @module
 */
import { Worker } from 'node:worker_threads';

/** How often the watch looks at the parent, in milliseconds. */
const INTERVAL_MS = 250;

// Plain CommonJS for `eval`: the thread needs nothing of parafor's. When the parent dies the child is
// adopted by another process, so its parent's pid changes.
const WATCH = `
const { workerData } = require('node:worker_threads');
setInterval(() => {
  if (process.ppid !== workerData.parent) process.kill(workerData.self, 'SIGKILL');
}, workerData.interval);
`;

/** Starts the watch in this child process. It never keeps the child alive by itself. */
export function endWithParent(): void {
  const watch = new Worker(WATCH, {
    eval: true,
    workerData: { parent: process.ppid, self: process.pid, interval: INTERVAL_MS },
    // The watch needs none of the child's flags or module hooks.
    execArgv: [],
  });
  watch.unref();
  // A watch that cannot run leaves the child as it was before: it still ends when idle and orphaned.
  watch.on('error', () => undefined);
}
