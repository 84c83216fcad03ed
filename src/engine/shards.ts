/**
 * Turning the shards a user gives into one iterator the engine reads lazily.
 * @module
 */
import { invalid } from '../messages.js';
import type { ShardSource, Shards } from '../types.js';

/** A sync or async iterator: the engine reads both the same way. */
export type ShardIterator = Iterator<unknown> | AsyncIterator<unknown>;

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

/** Throws a `TypeError` naming the method unless `value` is an `Iterable` or `AsyncIterable`. */
export function assertShards(value: unknown, method: string): asserts value is Shards<unknown> {
  // A string is iterable, but fanning out over its characters is never what was meant.
  if (typeof value === 'string' || !isShards(value)) {
    throw invalid(method, 'the shards (first argument) to be an array, an Iterable or an AsyncIterable', value);
  }
}

/** Opens the iterator, preferring the async protocol when both exist. */
export function openShards(shards: Shards<unknown>): ShardIterator {
  const openAsync = (shards as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator];
  return openAsync !== undefined ? openAsync.call(shards) : (shards as Iterable<unknown>)[Symbol.iterator]();
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
