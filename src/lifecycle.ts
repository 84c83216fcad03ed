/**
 * Ending parafor's shared resources.
 * @module
 */
import type { Executor } from './executors/executor.js';

/** Executors that opened a call and have something to shut down. */
const opened = new Set<Executor>();

/**
 * Remembers an executor that is opening a call, so {@link shutdown} can release what it starts.
 * Only executors with a `shutdown()` are kept: a custom one made per call must not leak.
 */
export function rememberOpened(executor: Executor): void {
  if (executor.shutdown !== undefined) opened.add(executor);
}

/**
 * Terminates every pool parafor started. Not needed for a program to exit: idle pools never keep
 * it alive. Safe to call twice; a later call starts new pools as needed.
 *
 * @example
 * ```ts
 * process.on('SIGTERM', () => void shutdown());
 * ```
 */
export async function shutdown(): Promise<void> {
  await Promise.all([...opened].map(async (executor) => executor.shutdown?.()));
}
