/**
 * The main thread's own CPU time, for benchmarks that put a figure on what parafor costs the thread
 * that calls it (workers, GC helpers and loader threads excluded).
 * @module
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** A clock of the calling thread's CPU time. */
export interface CpuClock {
  /** Where it is read from, for the notes under a table. */
  readonly source: string;
  /** The thread's CPU time so far, in ms. */
  readonly now: () => number;
}

/**
 * The main thread's own CPU time so far, in ms, and where it was read: `process.threadCpuUsage()`
 * (Node 23.9 and later), else Linux's per-thread scheduler statistics, else event-loop utilization
 * (wall time not spent waiting, which also counts time the thread was ready but had no core).
 */
export const cpuClock: CpuClock = (() => {
  const threadCpuUsage = (process as { threadCpuUsage?: () => { user: number; system: number } }).threadCpuUsage;
  if (typeof threadCpuUsage === 'function') {
    return {
      source: 'process.threadCpuUsage()',
      now: () => {
        const { user, system } = threadCpuUsage.call(process);
        return (user + system) / 1000;
      },
    };
  }
  try {
    const read = (): number => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
    if (Number.isFinite(read())) return { source: '/proc/thread-self/schedstat', now: read };
  } catch {
    // Not Linux: fall back on the event loop.
  }
  return { source: 'performance.eventLoopUtilization()', now: () => performance.eventLoopUtilization().active };
})();
