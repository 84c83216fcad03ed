/**
 * `parallel(target)`: a typed view of an object's distributed methods. TypeScript cannot change
 * the type of a decorated method, so `report.getCube` stays typed for one item; through the view it
 * is typed as what it really is, a function of the shards.
 * @module
 */
import { invoke } from './engine/dispatch.js';
import { invalid, refused } from './messages.js';
import { getDistribution } from './metadata.js';
import { keyName, ownerName } from './naming.js';
import { DEFAULTS, validateOptions } from './options.js';
import type { DistributeOptions, Distributed, Shards } from './types.js';

/** A distributed method seen through {@link parallel}. */
export interface ParallelMethod<S, P extends readonly unknown[], R, O> {
  /** Runs the method over `shards`; the rest go to every shard. */
  (shards: Shards<S>, ...rest: P): Distributed<S, Awaited<R>, O>;
  /** Runs a `@distributeOver` method over its own shards. */
  (): Distributed<S, Awaited<R>, O>;
}

/** The methods of `T`, each typed as a function of the shards. */
export type Parallel<T, O = object> = {
  readonly [K in keyof T as T[K] extends (...args: never[]) => unknown ? K : never]: T[K] extends (
    item: infer S,
    ...rest: infer P
  ) => infer R
    ? ParallelMethod<S, P, R, O>
    : never;
};

/** Options of a call made through {@link parallel}; `executor`, `concurrency` and the rest override the decorator's. */
export type CallOptions = DistributeOptions;

/**
 * A typed view of `target`'s distributed methods, with options for the calls made through it.
 * `as` and `results` (default `'array'` and `'values'`) decide the shape of each call's result, so its
 * type always holds; every other option falls back to the decorator's. A method of the view that
 * was not decorated throws a `TypeError` naming it.
 *
 * @param target - an instance (for instance methods) or a class (for static methods)
 * @param options - options for every call made through this view, e.g. a `signal`
 *
 * @example
 * ```ts
 * const r = new Report();
 * const cubes: number[] = await parallel(r).getCube(range(10));
 * for await (const cube of parallel(r, { as: 'completed', signal }).getCube(ids)) { … }
 * const squares = await parallel(r).getSquare(); // a @distributeOver method: its own shards
 * ```
 */
export function parallel<T extends object, const O extends CallOptions = {}>(
  target: T,
  options?: O & CallOptions,
): Parallel<T, O> {
  if ((typeof target !== 'object' && typeof target !== 'function') || target === null) {
    throw invalid('parallel()', 'an object or a class whose methods are distributed', target);
  }
  const checked = validateOptions(options, 'parallel()');
  // The view's type promises these shapes whatever the decorator says, so they are always set here.
  const overrides: DistributeOptions = { as: DEFAULTS.as, results: DEFAULTS.results, ...checked };
  return new Proxy(target, {
    get(object, key) {
      // `await view`, `return view` from an async function and inspection probe these: the view is no thenable.
      if (typeof key === 'symbol' || key === 'then') return undefined;
      const record = getDistribution(object, key);
      if (record === undefined) throw notDistributed(object, key);
      return (...args: unknown[]) => invoke(record, object, args, overrides);
    },
  }) as unknown as Parallel<T, O>;
}

function notDistributed(target: object, key: string): TypeError {
  const isClass = typeof target === 'function';
  const owner = ownerName(target, isClass) ?? (isClass ? 'the class' : 'object');
  const member = `\`${owner}.${keyName(key)}\``;
  const prototype: unknown = isClass ? (target as { prototype?: unknown }).prototype : undefined;
  if (typeof prototype === 'object' && prototype !== null && getDistribution(prototype, key) !== undefined) {
    return refused(
      'parallel()',
      `${member} is an instance method, but a class was given: pass an instance, \`parallel(new ${owner}(…))\`. A class gives its static methods`,
    );
  }
  return refused('parallel()', `${member} is not a method decorated with @distribute or @distributeOver`);
}
