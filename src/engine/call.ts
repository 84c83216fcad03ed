/**
 * One call of a distributed method: checks its input, runs the fan-out, and shapes the outcomes
 * into what the options ask for (an array or a stream; values, entries or settled outcomes).
 * @module
 */
import type { ShardError } from '../errors.js';
import type { DistributedMethod } from '../executors/executor.js';
import { say } from '../messages.js';
import type { DistributionRecord } from '../metadata.js';
import { methodName } from '../naming.js';
import { resolveOptions, resultOrder, type ResolvedOptions } from '../options.js';
import type { DistributeOptions, Shards } from '../types.js';
import { FanOut } from './fan-out.js';
import { outcomeAt, type Settled, type SettledRun } from './outcomes.js';
import { assertShards } from './shards.js';

/** A call to run: the method's record, its `this`, the shards and what every shard also gets. */
export interface CallRequest {
  readonly record: DistributionRecord;
  readonly thisArg: unknown;
  /** Gives the shards, unchecked: whatever the caller passed, or the `@distributeOver` source. Called once, inside the call's error handling. */
  readonly shards: (method: string) => unknown;
  readonly args: readonly unknown[];
  /** Options given at the call (by `parallel()`); they win over the decorator's. */
  readonly overrides?: DistributeOptions | undefined;
}

/**
 * Runs a call. A bad input rejects the promise (`as: 'array'`) or throws at once (a stream), before
 * any shard runs, with a `TypeError` that names the method.
 */
export function runCall(request: CallRequest): Promise<unknown[]> | AsyncGenerator<unknown, void, undefined> {
  // Known before anything can fail, so even an unavailable executor is reported the way the shape promises.
  const as = resultOrder(request.record.options, request.overrides);
  try {
    const options = resolveOptions(request.record.options, request.overrides);
    const method = methodOf(request);
    const shards = request.shards(method.name);
    assertShards(shards, method.name);
    return shape(method, shards, request.args, options);
  } catch (error) {
    if (as === 'array') return Promise.reject(error);
    throw error;
  }
}

function methodOf({ record, thisArg }: CallRequest): DistributedMethod {
  return { name: methodName(record, thisArg), fn: record.original, thisArg, record };
}

function shape(method: DistributedMethod, shards: Shards<unknown>, args: readonly unknown[], options: ResolvedOptions) {
  const settled = options.results === 'settled';
  const fanOut = new FanOut({
    method,
    shards,
    args,
    options,
    stopOnFailure: !settled && options.stopOnError,
    order: options.as === 'ordered' ? 'ordered' : 'completed',
  });
  const item = itemMaker(options);
  return options.as === 'array'
    ? collect(method.name, fanOut, item, settled)
    : stream(method.name, fanOut, item, settled);
}

/** Turns an outcome into what the caller receives. Without `results: 'settled'` only successes get here. */
type ItemMaker = (outcome: Settled) => unknown;

const valueItem: ItemMaker = (outcome) => (outcome.ok ? outcome.value : outcome.error);

function itemMaker(options: ResolvedOptions): ItemMaker {
  switch (options.results) {
    case 'values':
      return valueItem;
    case 'entries':
      return (outcome) => ({
        index: outcome.index,
        shard: outcome.shard,
        value: outcome.ok ? outcome.value : outcome.error,
      });
    case 'settled':
      return (outcome) =>
        outcome.ok
          ? { status: 'fulfilled', index: outcome.index, shard: outcome.shard, value: outcome.value }
          : { status: 'rejected', index: outcome.index, shard: outcome.shard, reason: outcome.error };
  }
}

/**
 * Gathers every outcome into an array in input order. Runs are appended in input order (one that
 * settles early waits for those before it), so the array stays packed whatever the order of
 * completion: out-of-order stores into a growing array would turn it into a slow dictionary. The
 * values of a run without a failure are copied as they are: a shard costs one push here. With
 * `stopOnError: false` failures reach here too; they are gathered into an AggregateError.
 */
async function collect(name: string, fanOut: FanOut, item: ItemMaker, settled: boolean): Promise<unknown[]> {
  const results: unknown[] = [];
  const errors: ShardError[] = [];
  const early = new Map<number, SettledRun>();
  const append = (run: SettledRun): void => {
    if (run.errors === undefined && item === valueItem) {
      const { count, values } = run;
      for (let i = 0; i < count; i++) results.push(values[i]);
      return;
    }
    for (let i = 0; i < run.count; i++) {
      const outcome = outcomeAt(run, i);
      if (!outcome.ok && !settled) {
        errors.push(outcome.error);
        results.push(undefined); // the call rejects: only the position matters
      } else {
        results.push(item(outcome));
      }
    }
  };
  for await (const batch of fanOut.batches()) {
    for (const run of batch) {
      if (run.start !== results.length) {
        early.set(run.start, run);
        continue;
      }
      append(run);
      let next: SettledRun | undefined;
      while ((next = early.get(results.length)) !== undefined) {
        early.delete(next.start);
        append(next);
      }
    }
  }
  if (errors.length > 0) throw aggregate(name, errors);
  return results;
}

async function* stream(
  name: string,
  fanOut: FanOut,
  item: ItemMaker,
  settled: boolean,
): AsyncGenerator<unknown, void, undefined> {
  const errors: ShardError[] = [];
  for await (const outcome of fanOut.outcomes()) {
    if (!outcome.ok && !settled) errors.push(outcome.error);
    else yield item(outcome);
  }
  if (errors.length > 0) throw aggregate(name, errors);
}

function aggregate(name: string, errors: ShardError[]): AggregateError {
  errors.sort((a, b) => a.index - b.index);
  const indices = errors.map((error) => error.index).join(', ');
  return new AggregateError(
    errors,
    say(name, `${errors.length} shard${errors.length === 1 ? '' : 's'} failed (${indices})`),
  );
}
