/**
 * Telling a promise-like value from a plain one, as `await` does.
 * @module
 */

/**
 * Whether `value` has a `then` method, so that `await` would adopt it: an object or a function
 * (a function with a `then` is a thenable too). Reads `then` once; a getter that throws, throws.
 */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as Partial<PromiseLike<unknown>>).then === 'function'
  );
}
