/**
 * `@distributeOver(shards)`: a method written for one item runs over shards fixed where it is
 * defined (the article's static `distribute_over`).
 * @module
 */
import type { DistributeOptions, DistributedOverFunction, ShardSource } from '../types.js';
import { checkShardSource, decorate, distributeFunction, isDecoratorCall } from './decorate.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- a decorator accepts any method; the item type is what matters */

/** What `distributeOver(shards, options)` returns: a decorator in both conventions, or the function form. */
export interface DistributeOverDecorator<S, O extends DistributeOptions> {
  /** Standard decorators: the method's first parameter must accept the shards. */
  <This, F extends (this: This, item: S, ...rest: any[]) => unknown>(
    value: F,
    context: ClassMethodDecoratorContext<This, F>,
  ): F;
  /** Legacy `experimentalDecorators`: the method's first parameter must accept the shards. */
  <F extends (item: S, ...rest: any[]) => unknown>(
    target: object,
    key: string | symbol,
    descriptor: TypedPropertyDescriptor<F>,
  ): TypedPropertyDescriptor<F>;
  /** The function form: a function over the fixed shards. */
  <P extends unknown[], R>(fn: (item: S, ...rest: P) => R): DistributedOverFunction<S, P, R, O>;
}

/**
 * Decorates a method written for ONE item so that calling it runs it over `shards`, fixed here:
 * `report.getSquares()` returns the results in input order (or streams them, see `as`). Arguments
 * of the call are passed to every shard. `shards` may be a function, called with the call's `this`
 * at every call, so they need not be known when the class is defined.
 *
 * @param shards - an array, an `Iterable`, an `AsyncIterable`, or a function returning one
 * @param options - see {@link DistributeOptions}
 * @throws TypeError if `shards` or an option is invalid, or if it decorates something that is not a method
 *
 * @example
 * ```ts
 * class Report {
 *   @distributeOver(range(10), { concurrency: 5 })
 *   async getSquare(i: number) {
 *     await sleep(1000);
 *     return i ** 2;
 *   }
 *
 *   @distributeOver(function (this: Report) { return this.ids; })
 *   async load(id: string) { … }
 * }
 * await parallel(new Report()).getSquare(); // [0, 1, 4, …, 81] in ~2 s
 * ```
 */
export function distributeOver<S, const O extends DistributeOptions = {}>(
  shards: ShardSource<S>,
  options?: O & DistributeOptions,
): DistributeOverDecorator<S, O> {
  const source = checkShardSource(shards);
  const request = { kind: 'distributeOver', options, shards: source } as const;
  return ((...args: unknown[]) =>
    isDecoratorCall(args) ? decorate(args, request) : distributeFunction(args[0], request)) as DistributeOverDecorator<
    S,
    O
  >;
}
