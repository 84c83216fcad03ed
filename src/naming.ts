/**
 * What a distributed method is called in messages, and which class holds it: the one place that
 * turns a record and a `this` into `Report.getCube`.
 * @module
 */
import type { DistributionRecord } from './metadata.js';

/** A property key for messages: `getCube`, or `[id]` for a symbol. */
export function keyName(key: string | symbol): string {
  return typeof key === 'symbol' ? `[${key.description ?? ''}]` : key;
}

/**
 * The name of the class a call runs on: `this` itself for a static method, the class of `this`
 * for an instance method. `undefined` when it has none (an object without a constructor, an
 * anonymous class); reading it never throws.
 */
export function ownerName(thisArg: unknown, isStatic: boolean): string | undefined {
  try {
    const owner: unknown = isStatic
      ? (thisArg as { name?: unknown } | undefined)?.name
      : (thisArg as { constructor?: { name?: unknown } } | undefined)?.constructor?.name;
    return typeof owner === 'string' && owner !== '' ? owner : undefined;
  } catch {
    return undefined;
  }
}

/** Qualified name of a distributed method for messages: `Report.getCube`, or the function's name. */
export function methodName(record: DistributionRecord, thisArg: unknown): string {
  const key = keyName(record.key);
  if (record.form === 'function') return key === '' ? '<anonymous function>' : key;
  const owner = ownerName(thisArg, record.isStatic === true);
  return owner === undefined ? key : `${owner}.${key}`;
}
