/**
 * The executors that have a name: what the `executor` option's strings mean.
 * @module
 */
import type { Executor } from './executor.js';
import { processExecutor, workerExecutor } from './pool/executor.js';
import { threadExecutor } from './thread.js';

const NAMED = {
  thread: threadExecutor,
  worker: workerExecutor,
  process: processExecutor,
} as const satisfies Readonly<Record<string, Executor>>;

/** A name the `executor` option accepts. */
export type ExecutorName = keyof typeof NAMED;

const NAMES = Object.keys(NAMED) as readonly ExecutorName[];

/** Every name the `executor` option accepts, in the order the docs list them. */
export function executorNames(): readonly string[] {
  return NAMES;
}

/** The executor of a name (already validated). */
export function namedExecutor(name: ExecutorName): Executor {
  return NAMED[name];
}
