/**
 * Everything parafor records about a distributed method, and the only place that touches
 * reflect-metadata, so the key lives here alone.
 * @module
 */
import 'reflect-metadata';
import type { ItemFunction } from './executors/executor.js';
import type { DistributeOptions, ShardSource } from './types.js';

/** The reflect-metadata key under which each distributed method's {@link DistributionRecord} lives. */
export const DISTRIBUTION_KEY = 'parafor:distribution';

/** What `@distribute`, `@distributeOver` and the function form record about a method. */
export interface DistributionRecord {
  /** Which decorator made it. */
  readonly kind: 'distribute' | 'distributeOver';
  /** A method of a class, or a plain function (the function form). */
  readonly form: 'method' | 'function';
  /** Which decorator calling convention applied it (`undefined` for the function form). */
  readonly decorators: 'standard' | 'legacy' | undefined;
  /** The method's property key, or the function's name. */
  readonly key: string | symbol;
  /** Whether it is a static method (`undefined` for the function form). */
  readonly isStatic: boolean | undefined;
  /** The function written for one item. */
  readonly original: ItemFunction;
  /** The options given to the decorator. */
  readonly options: DistributeOptions;
  /** The fixed shards of `@distributeOver`. */
  readonly shards: ShardSource<unknown> | undefined;
  /** URL of the module that applied the decorator, when it could be found. */
  readonly module: string | undefined;
}

/** Attaches a record to the distributed function that replaced the original, and to its class member. */
export function recordDistribution(
  distributed: ItemFunction,
  record: DistributionRecord,
  member?: { readonly target: object; readonly key: string | symbol },
): void {
  Reflect.defineMetadata(DISTRIBUTION_KEY, record, distributed);
  if (member !== undefined) Reflect.defineMetadata(DISTRIBUTION_KEY, record, member.target, member.key);
}

/**
 * Reads what the decorators recorded about a distributed method or function: its options, its
 * original one-item function, its fixed shards. The same in both decorator modes.
 *
 * @param target - a distributed function, or an object (an instance, a prototype, a class) holding one
 * @param key - the method's name, when `target` is an object
 * @returns the record, or `undefined` if it is not distributed
 *
 * @example
 * ```ts
 * const record = getDistribution(Report.prototype, 'getCubes');
 * record?.options.concurrency;          // 5
 * await record?.original.call(report, 3); // one item, not distributed: 27
 * ```
 */
export function getDistribution(target: object, key?: string | symbol): DistributionRecord | undefined {
  if (key === undefined) return Reflect.getMetadata(DISTRIBUTION_KEY, target) as DistributionRecord | undefined;
  const member: unknown = Reflect.get(target, key);
  // The member itself decides: an undecorated override in a subclass is not distributed, though
  // reflect-metadata would find its parent's record on (prototype, key) up the prototype chain.
  if (typeof member === 'function')
    return Reflect.getMetadata(DISTRIBUTION_KEY, member) as DistributionRecord | undefined;
  return Reflect.getMetadata(DISTRIBUTION_KEY, target, key) as DistributionRecord | undefined;
}
