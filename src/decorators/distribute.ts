/**
 * `@distribute`: a method written for one item takes the shards at call time (the article's
 * dynamic `distribute`). Also the function form, `distribute(fn, options)`.
 * @module
 */
import type { DistributeOptions, DistributedFunction } from '../types.js';
import { invalid } from '../messages.js';
import { decorate, distributeFunction, isDecoratorCall } from './decorate.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- a decorator accepts any method; the item type is what matters */

/** A method decorator usable in both conventions: standard (TS 5+) and legacy (`experimentalDecorators`). */
export interface DistributeDecorator {
  /** Standard decorators. */
  <This, F extends (this: This, item: any, ...rest: any[]) => unknown>(
    value: F,
    context: ClassMethodDecoratorContext<This, F>,
  ): F;
  /** Legacy `experimentalDecorators`. */
  <F extends (item: any, ...rest: any[]) => unknown>(
    target: object,
    key: string | symbol,
    descriptor: TypedPropertyDescriptor<F>,
  ): TypedPropertyDescriptor<F>;
}

/**
 * Decorates a method written for ONE item so that it runs over many: called with the shards
 * (an array, an `Iterable` or an `AsyncIterable`) and any further arguments, it runs the method once
 * per shard, at most `concurrency` at once, and returns the results in input order (or streams them,
 * see `as`). Works as `@distribute`, `@distribute()` and `@distribute(options)`, with standard and
 * legacy decorators alike. For typed call sites use {@link parallel}.
 *
 * As a function, `distribute(fn, options?)` returns the distributed function, typed honestly.
 *
 * @param options - see {@link DistributeOptions}
 * @throws TypeError if an option is invalid, or if it decorates something that is not a method
 *
 * @example
 * ```ts
 * class Report {
 *   @distribute({ concurrency: 5 })
 *   async getCube(i: number) {
 *     await sleep(1000);
 *     return i ** 3;
 *   }
 * }
 * await parallel(new Report()).getCube(range(10)); // [0, 1, 8, …, 729] in ~2 s
 *
 * const getCubes = distribute(async (i: number) => i ** 3, { concurrency: 5 });
 * await getCubes(range(10));
 * ```
 */
export function distribute<This, F extends (this: This, item: any, ...rest: any[]) => unknown>(
  value: F,
  context: ClassMethodDecoratorContext<This, F>,
): F;
export function distribute<F extends (item: any, ...rest: any[]) => unknown>(
  target: object,
  key: string | symbol,
  descriptor: TypedPropertyDescriptor<F>,
): TypedPropertyDescriptor<F>;
export function distribute<S, P extends unknown[], R, const O extends DistributeOptions = {}>(
  fn: (item: S, ...rest: P) => R,
  options?: O & DistributeOptions,
): DistributedFunction<S, P, R, O>;
export function distribute(options?: DistributeOptions): DistributeDecorator;
export function distribute(...args: unknown[]): unknown {
  if (isDecoratorCall(args)) return decorate(args, { kind: 'distribute', options: undefined });
  if (typeof args[0] === 'function') return distributeFunction(args[0], { kind: 'distribute', options: args[1] });
  // `distribute(fn, options)` with something else than a function: caught here, not at the first call.
  if (args.length > 1) throw invalid('distribute()', 'a function to distribute (then its options)', args[0]);
  const options = args[0];
  return (...decoratorArgs: unknown[]) => decorate(decoratorArgs, { kind: 'distribute', options });
}
