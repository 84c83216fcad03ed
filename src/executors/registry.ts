/**
 * Turns the `executor` option into an executor, and remembers every executor used so
 * `shutdown()` can release them.
 * @module
 */
import type { Executor } from './executor.js';
import { threadExecutor } from './thread.js';
import { processExecutor, workerExecutor } from './pool/executor.js';

const named = new Map<string, Executor>([
  ['thread', threadExecutor],
  ['worker', workerExecutor],
  ['process', processExecutor],
]);
const used = new Set<Executor>();

/** The executor for an `executor` option value (already validated). */
export function resolveExecutor(option: string | Executor): Executor {
  const executor = typeof option === 'string' ? named.get(option) : option;
  if (executor === undefined) throw new TypeError(`The '${option as string}' executor is not available`);
  // Only executors with something to shut down are remembered: a custom one made per call must not leak.
  if (executor.shutdown !== undefined) used.add(executor);
  return executor;
}

/** Every executor a call has used so far. */
export function usedExecutors(): readonly Executor[] {
  return [...used];
}
