/**
 * What `@distribute` and `@distributeOver` share: telling the two decorator conventions apart,
 * rejecting what is not a method, and replacing the method with its distributed twin.
 * @module
 */
import { describe, invalid } from '../errors.js';
import { runCall } from '../engine/call.js';
import { isShards } from '../engine/shards.js';
import type { ItemFunction } from '../executors/executor.js';
import { recordDistribution, type DistributionRecord } from '../metadata.js';
import { validateOptions } from '../options.js';
import type { DistributeOptions, ShardSource, Shards } from '../types.js';
import { callerModule } from './caller.js';

/** What a decorator was asked to make. */
export interface DistributionRequest {
  readonly kind: DistributionRecord['kind'];
  /** Unchecked options from the user. */
  readonly options: unknown;
  /** `@distributeOver`'s shard source (checked). */
  readonly shards?: ShardSource<unknown>;
}

/** Standard decorators call `(value, context)`; legacy ones `(target, key, descriptor)`. */
export function isStandardCall(args: readonly unknown[]): args is [unknown, DecoratorContext] {
  const context = args[1] as Partial<DecoratorContext> | undefined;
  return (
    args.length === 2 &&
    typeof context === 'object' &&
    context !== null &&
    typeof context.kind === 'string' &&
    'name' in context
  );
}

/** A legacy (`experimentalDecorators`) member decorator call. */
export function isLegacyCall(
  args: readonly unknown[],
): args is [object, string | symbol, PropertyDescriptor | undefined] {
  return (
    (args.length === 3 || args.length === 2) &&
    (typeof args[0] === 'object' || typeof args[0] === 'function') &&
    args[0] !== null &&
    (typeof args[1] === 'string' || typeof args[1] === 'symbol')
  );
}

/** Applies a decorator in whichever convention called it, returning what that convention expects. */
export function decorate(args: readonly unknown[], request: DistributionRequest): unknown {
  const decorator = `@${request.kind}`;
  if (isStandardCall(args)) {
    const [value, context] = args;
    if (context.kind !== 'method' || typeof value !== 'function') {
      throw new TypeError(
        `${decorator} can only decorate a method, but \`${String(context.name)}\` is ${context.kind === 'accessor' ? 'an' : 'a'} ${context.kind}`,
      );
    }
    const options = validateOptions(request.options, `${decorator} on \`${String(context.name)}\``);
    return makeDistributed(value as ItemFunction, {
      ...base(request, options, value as ItemFunction),
      decorators: 'standard',
      key: context.name,
      isStatic: context.static,
    });
  }
  if (isLegacyCall(args)) {
    const [target, key, descriptor] = args;
    const isStatic = typeof target === 'function';
    const owner = isStatic ? (target as { name: string }).name : target.constructor.name;
    const where = `${decorator} on \`${owner}.${String(key)}\``;
    if (descriptor === undefined || typeof descriptor.value !== 'function') {
      const what =
        descriptor === undefined
          ? 'a field'
          : descriptor.get !== undefined || descriptor.set !== undefined
            ? 'an accessor'
            : 'not a function';
      throw new TypeError(`${decorator} can only decorate a method, but \`${owner}.${String(key)}\` is ${what}`);
    }
    const options = validateOptions(request.options, where);
    const original = descriptor.value as ItemFunction;
    const record: DistributionRecord = { ...base(request, options, original), decorators: 'legacy', key, isStatic };
    return { ...descriptor, value: makeDistributed(original, record, { target, key }) };
  }
  throw invalid(decorator, 'to decorate a class method, or (as a function) a function', args[0]);
}

/** The function form: `distribute(fn, options)`, `distributeOver(shards, options)(fn)`. */
export function distributeFunction(fn: unknown, request: DistributionRequest): ItemFunction {
  if (typeof fn !== 'function') throw invalid(`${request.kind}()`, 'a function to distribute', fn);
  const options = validateOptions(
    request.options,
    `${request.kind}(${fn.name === '' ? '<anonymous function>' : fn.name})`,
  );
  return makeDistributed(fn as ItemFunction, {
    ...base(request, options, fn as ItemFunction),
    decorators: undefined,
    key: fn.name,
    isStatic: undefined,
    form: 'function',
  });
}

/** Throws a `TypeError` unless `@distributeOver`'s shards are shards or a function returning them. */
export function checkShardSource(shards: unknown): ShardSource<unknown> {
  if (typeof shards === 'function' || (typeof shards !== 'string' && isShards(shards)))
    return shards as ShardSource<unknown>;
  throw invalid(
    '@distributeOver',
    'the shards to be an array, an Iterable, an AsyncIterable or a function returning one',
    shards,
  );
}

function base(request: DistributionRequest, options: DistributeOptions, original: ItemFunction) {
  return {
    kind: request.kind,
    form: 'method' as const,
    original,
    options,
    shards: request.shards,
    module: callerModule(),
  };
}

const fixedSources = new WeakMap<DistributionRecord, (thisArg: unknown, method: string) => unknown>();

/** Builds the function that replaces the original: it takes the shards, or uses the fixed ones. */
function makeDistributed(
  original: ItemFunction,
  record: DistributionRecord,
  member?: { target: object; key: string | symbol },
): ItemFunction {
  if (record.kind === 'distributeOver') fixedSources.set(record, fixedShards(record));
  const distributed = function (this: unknown, ...args: unknown[]) {
    return invoke(record, this, args);
  };
  Object.defineProperty(distributed, 'name', { value: original.name });
  recordDistribution(distributed, record, member);
  return distributed;
}

/**
 * Calls a distributed method. Called directly, `@distribute` takes the shards first and
 * `@distributeOver` passes every argument on. Through `parallel()` (with `overrides`) the shards
 * always come first; a `@distributeOver` method given none uses its own.
 */
export function invoke(
  record: DistributionRecord,
  thisArg: unknown,
  args: readonly unknown[],
  overrides?: DistributeOptions,
): unknown {
  const fixed = fixedSources.get(record);
  if (fixed !== undefined && (overrides === undefined || args[0] === undefined)) {
    const rest = overrides === undefined ? args : args.slice(1);
    return runCall({ record, thisArg, shards: (method) => fixed(thisArg, method), args: rest, overrides });
  }
  return runCall({ record, thisArg, shards: () => args[0], args: args.slice(1), overrides });
}

/**
 * The shards of one `@distributeOver` call: a function is called with the call's `this`; a one-shot
 * iterator (a generator object) serves one call only, and a second call says so rather than
 * silently fanning out over nothing.
 */
function fixedShards(record: DistributionRecord): (thisArg: unknown, method: string) => unknown {
  const source = record.shards;
  if (typeof source === 'function') return (thisArg) => (source as (this: unknown) => Shards<unknown>).call(thisArg);
  let used = false;
  const oneShot = isOneShot(source);
  return (_thisArg, method) => {
    if (oneShot && used) {
      throw new TypeError(
        `${method}: the @distributeOver shards are an iterator that an earlier call used up (${describe(source)}); pass an array, or a function returning fresh shards`,
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
