/**
 * Turning the shards a user gives into one iterator the engine reads lazily.
 * @module
 */
import { ShardSourceError } from '../errors.js';
import { invalid, unexpected } from '../messages.js';
import type { ShardSource, Shards } from '../types.js';

/**
 * An opened iterator, as `for…of` and `for await…of` hold one: the iterator, its `next` read once,
 * and which protocol it follows (an async one's results are awaited).
 */
export interface ShardIterator {
  readonly iterator: Iterator<unknown> | AsyncIterator<unknown>;
  readonly next: (this: unknown) => unknown;
  readonly async: boolean;
}

/** Whether a value can be fanned out over. */
export function isShards(value: unknown): value is Shards<unknown> {
  if (value === null || value === undefined) return false;
  const candidate = value as Partial<Record<symbol, unknown>>;
  return typeof candidate[Symbol.asyncIterator] === 'function' || typeof candidate[Symbol.iterator] === 'function';
}

/** Whether a value can be `@distributeOver`'s shards: shards (not a string), or a function returning them. */
export function isShardSource(value: unknown): value is ShardSource<unknown> {
  return typeof value === 'function' || (typeof value !== 'string' && isShards(value));
}

/**
 * Throws a `TypeError` naming the method unless `value` is an `Iterable` or `AsyncIterable`, and a
 * {@link ShardSourceError} when merely looking at it throws (a `[Symbol.iterator]` getter that
 * throws, a revoked `Proxy`).
 */
export function assertShards(value: unknown, method: string): asserts value is Shards<unknown> {
  let iterable: boolean;
  try {
    // A string is iterable, but fanning out over its characters is never what was meant.
    iterable = typeof value !== 'string' && isShards(value);
  } catch (error) {
    throw new ShardSourceError(method, 0, error);
  }
  if (!iterable) {
    throw invalid(method, 'the shards (first argument) to be an array, an Iterable or an AsyncIterable', value);
  }
}

/**
 * Opens the iterator, preferring the async protocol when both exist. Throws what the iterable's method
 * throws, and a `TypeError` (with no speaker: the error that carries it names the call) where
 * `for…of` would: when the method gives no object, or an iterator whose `next` is no function.
 */
export function openShards(shards: Shards<unknown>): ShardIterator {
  const openAsync = (shards as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator];
  const async = openAsync !== undefined && openAsync !== null;
  if (async && typeof openAsync !== 'function') {
    throw unexpected("the shards' [Symbol.asyncIterator] to be a function", openAsync);
  }
  const iterator: unknown = async ? openAsync.call(shards) : (shards as Iterable<unknown>)[Symbol.iterator]();
  if (!isObject(iterator)) {
    const method = async ? '[Symbol.asyncIterator]()' : '[Symbol.iterator]()';
    throw unexpected(`the shards' ${method} to return an iterator object`, iterator);
  }
  const next = (iterator as Partial<Iterator<unknown>>).next;
  if (typeof next !== 'function') throw unexpected(`the ${iteratorKind(async)}'s \`next\` to be a function`, next);
  return { iterator: iterator as ShardIterator['iterator'], next: next as ShardIterator['next'], async };
}

/**
 * Checks what an iterator's `next()` or `return()` gave (an async one's, once settled) as the
 * language does: a result must be an object, or it is a `TypeError`.
 */
export function checkResult(
  result: unknown,
  opened: ShardIterator,
  method: 'next' | 'return',
): IteratorResult<unknown> {
  if (isObject(result)) return result as IteratorResult<unknown>;
  const gave = opened.async ? 'resolve to' : 'return';
  throw unexpected(`the ${iteratorKind(opened.async)}'s ${method}() to ${gave} an object`, result);
}

/**
 * Closes an iterator that was not read to its end, as `break` out of `for…of` does: calls its
 * `return()` if it has one. Throws what that throws, and a `TypeError` where the language would (a
 * `return` that is no function, a result that is no object); an async iterator's result is awaited,
 * and the promise returned rejects instead.
 */
export function closeShards(opened: ShardIterator): Promise<unknown> | undefined {
  const { iterator, async } = opened;
  const close: unknown = (iterator as { readonly return?: unknown }).return;
  if (close === undefined || close === null) return undefined;
  if (typeof close !== 'function') throw unexpected(`the ${iteratorKind(async)}'s \`return\` to be a function`, close);
  const result: unknown = close.call(iterator);
  if (!async) {
    checkResult(result, opened, 'return');
    return undefined;
  }
  return Promise.resolve(result).then((settled) => checkResult(settled, opened, 'return'));
}

function iteratorKind(async: boolean): string {
  return async ? 'async iterator' : 'iterator';
}

function isObject(value: unknown): value is object {
  return (typeof value === 'object' && value !== null) || typeof value === 'function';
}

/** The number of shards, when the input knows it without being read. */
export function countShards(shards: Shards<unknown>): number | undefined {
  if (Array.isArray(shards) || ArrayBuffer.isView(shards)) return (shards as ArrayLike<unknown>).length;
  if (shards instanceof Set || shards instanceof Map) return shards.size;
  return undefined;
}

const arrayValues = Array.prototype[Symbol.iterator];

/**
 * The shards as an array the engine may index directly, when reading it that way is what its
 * iterator would do: a plain array (or subclass) whose iterator is the built-in one. Otherwise
 * `undefined`, and the shards are read through their iterator.
 */
export function arrayShards(shards: Shards<unknown>): readonly unknown[] | undefined {
  if (!Array.isArray(shards)) return undefined;
  const candidate = shards as unknown[] & Partial<AsyncIterable<unknown>>;
  return candidate[Symbol.asyncIterator] === undefined && candidate[Symbol.iterator] === arrayValues
    ? candidate
    : undefined;
}
