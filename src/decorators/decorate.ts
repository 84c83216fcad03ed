/**
 * What `@distribute` and `@distributeOver` share: telling the two decorator conventions apart,
 * refusing what is not a method, and putting the distributed twin in the method's place. Calling
 * the twin is the engine's business (engine/dispatch.ts).
 * @module
 */
import { invoke } from '../engine/dispatch.js';
import { isShardSource } from '../engine/shards.js';
import type { ItemFunction } from '../executors/executor.js';
import { invalid, refused } from '../messages.js';
import { recordDistribution, type DistributionRecord } from '../metadata.js';
import { keyName } from '../naming.js';
import { validateOptions } from '../options.js';
import type { ShardSource } from '../types.js';
import { callerSite, type CallerSite } from './caller.js';

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

/** Whether a decorator factory's result is being applied as a decorator, in either convention. */
export function isDecoratorCall(args: readonly unknown[]): boolean {
  return isStandardCall(args) || isLegacyCall(args);
}

/**
 * Applies a decorator in whichever convention called it, returning what that convention expects.
 * Messages name the member as both conventions can, by its key and where it is written: a standard
 * decorator is not told the class.
 */
export function decorate(args: readonly unknown[], request: DistributionRequest): unknown {
  const site = callerSite();
  if (isStandardCall(args)) {
    const [value, context] = args;
    const key = context.name ?? '<anonymous class>';
    const who = decoratorOn(request, key, site);
    if (context.kind !== 'method' || typeof value !== 'function') throw notAMethod(who, key, context.kind);
    const options = validateOptions(request.options, who);
    return makeDistributed(value as ItemFunction, {
      ...base(request, options, value as ItemFunction, site),
      decorators: 'standard',
      key,
      isStatic: context.static,
    });
  }
  if (isLegacyCall(args)) {
    const [target, key, descriptor] = args;
    const who = decoratorOn(request, key, site);
    if (descriptor === undefined || typeof descriptor.value !== 'function') {
      const kind =
        descriptor === undefined
          ? 'field'
          : descriptor.get !== undefined || descriptor.set !== undefined
            ? 'accessor'
            : 'value';
      throw notAMethod(who, key, kind);
    }
    const options = validateOptions(request.options, who);
    const original = descriptor.value as ItemFunction;
    const record: DistributionRecord = {
      ...base(request, options, original, site),
      decorators: 'legacy',
      key,
      isStatic: typeof target === 'function',
    };
    return { ...descriptor, value: makeDistributed(original, record, { target, key }) };
  }
  throw invalid(`@${request.kind}`, 'to decorate a class method, or (as a function) a function', args[0]);
}

/** The function form: `distribute(fn, options)`, `distributeOver(shards, options)(fn)`. */
export function distributeFunction(fn: unknown, request: DistributionRequest): ItemFunction {
  if (typeof fn !== 'function') throw invalid(`${request.kind}()`, 'a function to distribute', fn);
  const site = callerSite();
  const options = validateOptions(
    request.options,
    `${request.kind}(${fn.name === '' ? '<anonymous function>' : fn.name})`,
  );
  return makeDistributed(fn as ItemFunction, {
    ...base(request, options, fn as ItemFunction, site),
    decorators: undefined,
    key: fn.name,
    isStatic: undefined,
    form: 'function',
  });
}

/** Throws a `TypeError` unless `@distributeOver`'s shards are shards or a function returning them. */
export function checkShardSource(shards: unknown): ShardSource<unknown> {
  if (isShardSource(shards)) return shards;
  throw invalid(
    '@distributeOver',
    'the shards to be an array, an Iterable, an AsyncIterable or a function returning one',
    shards,
  );
}

/** `@distribute on \`getCube\` (report.ts:12)`: who speaks in a decorator's messages. */
function decoratorOn(request: DistributionRequest, key: string | symbol, site: CallerSite | undefined): string {
  const where = site === undefined ? '' : ` (${site.file}:${site.line})`;
  return `@${request.kind} on \`${keyName(key)}\`${where}`;
}

function notAMethod(who: string, key: string | symbol, kind: string): TypeError {
  const article = /^[aeiou]/.test(kind) ? 'an' : 'a';
  return refused(who, `only a method can be decorated, but \`${keyName(key)}\` is ${article} ${kind}`);
}

function base(
  request: DistributionRequest,
  options: DistributionRecord['options'],
  original: ItemFunction,
  site: CallerSite | undefined,
) {
  return {
    kind: request.kind,
    form: 'method' as const,
    original,
    options,
    shards: request.shards,
    module: site?.module,
  };
}

/** Builds the function that replaces the original: called, it hands the call to the engine. */
function makeDistributed(
  original: ItemFunction,
  record: DistributionRecord,
  member?: { target: object; key: string | symbol },
): ItemFunction {
  const distributed = function (this: unknown, ...args: unknown[]) {
    return invoke(record, this, args);
  };
  Object.defineProperty(distributed, 'name', { value: original.name });
  recordDistribution(distributed, record, member);
  return distributed;
}
