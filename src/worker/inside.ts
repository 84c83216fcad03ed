/**
 * Whether this thread or process is one of parafor's workers. A global, not a module variable: the
 * user's module may load parafor through another path (its `src/` with tsx, its `dist/`) than the
 * worker entry did, and both copies must agree.
 * @module
 */

const MARK = Symbol.for('parafor.insideWorker');

/** Called once by the worker entry, before it loads any user module. */
export function markInsideWorker(): void {
  (globalThis as Record<symbol, unknown>)[MARK] = true;
}

/**
 * Whether the code runs inside a parafor worker. A distributed call made there runs inline (like
 * the `'thread'` executor), never starting a pool inside the pool.
 */
export function isInsideWorker(): boolean {
  return (globalThis as Record<symbol, unknown>)[MARK] === true;
}
