/**
 * From a call of a distributed method to a run of the engine: which arguments are the shards, and
 * where a `@distributeOver` method's own shards come from.
 * @module
 */
import type { DistributionRecord } from '../metadata.js';
import { describe, refused } from '../messages.js';
import type { DistributeOptions, Shards } from '../types.js';
import { runCall } from './call.js';

/**
 * Calls a distributed method. Called directly, `@distribute` takes the shards first and
 * `@distributeOver` passes every argument on. Through `parallel()` (with `overrides`) the shards
 * always come first; a `@distributeOver` method given none uses its own.
 *
 * @param record - what the decorator recorded
 * @param thisArg - the call's `this`: the instance, the class (static), or `undefined`
 * @param args - the call's arguments, as the caller passed them
 * @param overrides - the options of a call made through `parallel()`
 */
export function invoke(
  record: DistributionRecord,
  thisArg: unknown,
  args: readonly unknown[],
  overrides?: DistributeOptions,
): unknown {
  const viaView = overrides !== undefined;
  if (record.kind === 'distributeOver' && (!viaView || args[0] === undefined)) {
    const own = ownShards(record);
    return runCall({
      record,
      thisArg,
      shards: (method) => own(thisArg, method),
      args: viaView ? args.slice(1) : args,
      overrides,
    });
  }
  if (viaView && args.length === 0) {
    return runCall({
      record,
      thisArg,
      shards: (method) => {
        throw noShards(method);
      },
      args,
      overrides,
    });
  }
  return runCall({ record, thisArg, shards: () => args[0], args: args.slice(1), overrides });
}

/** A `@distribute` method called through a view with no arguments: the view's `()` form is only for `@distributeOver`. */
function noShards(method: string): TypeError {
  return refused(
    method,
    'no shards were given. A @distribute method takes its shards as the first argument; only @distributeOver methods have shards of their own',
  );
}

type OwnShards = (thisArg: unknown, method: string) => unknown;

const sources = new WeakMap<DistributionRecord, OwnShards>();

function ownShards(record: DistributionRecord): OwnShards {
  let source = sources.get(record);
  if (source === undefined) sources.set(record, (source = fixedShards(record)));
  return source;
}

/**
 * The shards of one `@distributeOver` call: a function is called with the call's `this`; a one-shot
 * iterator (a generator object) serves one call only, and a second call says so rather than
 * silently fanning out over nothing.
 */
function fixedShards(record: DistributionRecord): OwnShards {
  const source = record.shards;
  if (typeof source === 'function') return (thisArg) => (source as (this: unknown) => Shards<unknown>).call(thisArg);
  let used = false;
  const oneShot = isOneShot(source);
  return (_thisArg, method) => {
    if (oneShot && used) {
      throw refused(
        method,
        `the @distributeOver shards are an iterator that an earlier call used up (${describe(source)}); pass an array, or a function returning fresh shards`,
      );
    }
    used = true;
    return source;
  };
}

function isOneShot(source: unknown): boolean {
  const iterable = source as Partial<Iterable<unknown> & AsyncIterable<unknown>>;
  const open: ((this: unknown) => unknown) | undefined = iterable[Symbol.asyncIterator] ?? iterable[Symbol.iterator];
  return open !== undefined && open.call(source) === source;
}
