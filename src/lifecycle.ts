/**
 * Ending parafor's shared resources.
 * @module
 */
import { usedExecutors } from './executors/registry.js';

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
  await Promise.all(usedExecutors().map(async (executor) => executor.shutdown?.()));
}
