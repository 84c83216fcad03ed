/**
 * Checking the options a user gives, and filling in the defaults for one call.
 * @module
 */
import { isAbsolute } from 'node:path';
import { invalid } from './errors.js';
import type { Executor } from './executors/executor.js';
import { moduleUrl } from './executors/pool/method-ref.js';
import { resolveExecutor } from './executors/registry.js';
import type { DistributeOptions, Progress, ResultOrder, ResultShape } from './types.js';

/** The options of one call, checked and complete. */
export interface ResolvedOptions {
  readonly executor: Executor;
  readonly concurrency: number;
  readonly bufferSize: number;
  readonly as: ResultOrder;
  readonly results: ResultShape;
  readonly stopOnError: boolean;
  readonly signal: AbortSignal | undefined;
  readonly timeout: number;
  readonly onProgress: ((progress: Progress) => void) | undefined;
  readonly batchSize: number | 'auto';
  readonly transfer: boolean;
  /** The `module` option as a file URL. */
  readonly module: string | undefined;
}

const ORDERS: readonly ResultOrder[] = ['array', 'completed', 'ordered'];
const SHAPES: readonly ResultShape[] = ['values', 'entries', 'settled'];
const EXECUTOR_NAMES = ['thread', 'worker', 'process'];
const KNOWN = new Set([
  'executor',
  'concurrency',
  'bufferSize',
  'as',
  'results',
  'stopOnError',
  'signal',
  'timeout',
  'onProgress',
  'batchSize',
  'transfer',
  'module',
]);
const MAX_DEFAULT_BUFFER = 1000;

/**
 * Throws a `TypeError` naming `where` and the option if `options` is not a valid
 * {@link DistributeOptions}. Unknown keys are errors too: a misspelt option must not pass silently.
 */
export function validateOptions(options: unknown, where: string): DistributeOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalid(where, 'the options to be an object', options);
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) {
      throw new TypeError(
        `${where}: Unknown option \`${key}\`; the options are ${[...KNOWN].map((k) => `\`${k}\``).join(', ')}`,
      );
    }
  }
  const o = options as { readonly [K in keyof DistributeOptions]?: unknown };
  check(o.concurrency, isCount(1), where, '`concurrency` to be an integer from 1 and up, or Infinity');
  check(o.bufferSize, isCount(0), where, '`bufferSize` to be an integer from 0 and up, or Infinity');
  check(
    o.timeout,
    // Timers take at most 2^31 - 1 ms; past that Node fires them after 1 ms.
    (v) => typeof v === 'number' && v > 0 && (v <= 2_147_483_647 || v === Infinity),
    where,
    '`timeout` to be a number of milliseconds from above 0 to 2147483647 (about 24.8 days), or Infinity',
  );
  check(o.as, (v) => ORDERS.includes(v as ResultOrder), where, `\`as\` to be one of ${quoteAll(ORDERS)}`);
  check(o.results, (v) => SHAPES.includes(v as ResultShape), where, `\`results\` to be one of ${quoteAll(SHAPES)}`);
  check(o.stopOnError, (v) => typeof v === 'boolean', where, '`stopOnError` to be a boolean');
  check(o.signal, (v) => v instanceof AbortSignal, where, '`signal` to be an AbortSignal');
  check(o.onProgress, (v) => typeof v === 'function', where, '`onProgress` to be a function');
  check(
    o.batchSize,
    (v) => v === 'auto' || (Number.isSafeInteger(v) && (v as number) >= 1),
    where,
    "`batchSize` to be 'auto' or an integer from 1 and up",
  );
  check(o.transfer, (v) => typeof v === 'boolean', where, '`transfer` to be a boolean');
  check(o.module, isModule, where, '`module` to be a file URL (`import.meta.url`), a file: `URL`, or an absolute path');
  check(
    o.executor,
    (v) => EXECUTOR_NAMES.includes(v as string) || isExecutor(v),
    where,
    `\`executor\` to be one of ${quoteAll(EXECUTOR_NAMES)} or an object with \`name\`, \`defaultConcurrency()\` and \`open()\``,
  );
  // Given together for a worker executor, they can never work: say so where the class is defined.
  if (o.executor === 'worker' || o.executor === 'process') assertBatchFitsTimeout(o.batchSize, o.timeout, where);
  return options;
}

/**
 * Throws a `TypeError` for a fixed `batchSize` above 1 with a finite `timeout`: a timeout stops the
 * shard's worker, and with it every shard of its batch. Checked where the options are given when one
 * object has both, and again by the worker executors when a call combines them through `parallel()`.
 */
export function assertBatchFitsTimeout(batchSize: unknown, timeout: unknown, where: string): void {
  if (typeof batchSize !== 'number' || batchSize <= 1 || typeof timeout !== 'number' || timeout === Infinity) return;
  throw new TypeError(
    `${where}: \`batchSize: ${batchSize}\` cannot be combined with \`timeout\`: a timeout stops the worker of the shard, ` +
      "and with it every shard of its batch. Leave `batchSize` at 'auto', which sends shards one by one when there is a timeout.",
  );
}

/** Merges the decorator's options with a call's own (the call's win) and fills in the defaults. */
export function resolveOptions(base: DistributeOptions, call: DistributeOptions = {}): ResolvedOptions {
  const merged = { ...base, ...definedOnly(call) };
  const executor = resolveExecutor(merged.executor ?? 'thread');
  const concurrency = merged.concurrency ?? executor.defaultConcurrency();
  return {
    executor,
    concurrency,
    bufferSize: merged.bufferSize ?? Math.min(concurrency, MAX_DEFAULT_BUFFER),
    as: merged.as ?? 'array',
    results: merged.results ?? 'values',
    stopOnError: merged.stopOnError ?? true,
    signal: merged.signal,
    timeout: merged.timeout ?? Infinity,
    onProgress: merged.onProgress,
    batchSize: merged.batchSize ?? 'auto',
    transfer: merged.transfer ?? false,
    module: merged.module === undefined ? undefined : moduleUrl(merged.module),
  };
}

function isModule(value: unknown): boolean {
  if (value instanceof URL) return value.protocol === 'file:';
  return typeof value === 'string' && (value.startsWith('file:') || isAbsolute(value));
}

function isCount(min: number): (value: unknown) => boolean {
  return (v) => v === Infinity || (Number.isSafeInteger(v) && (v as number) >= min);
}

function isExecutor(value: unknown): value is Executor {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<Executor>;
  return (
    typeof candidate.name === 'string' &&
    typeof candidate.open === 'function' &&
    typeof candidate.defaultConcurrency === 'function'
  );
}

function check(value: unknown, ok: (value: unknown) => boolean, where: string, expected: string): void {
  if (value !== undefined && !ok(value)) throw invalid(where, expected, value);
}

function quoteAll(values: readonly string[]): string {
  return values.map((v) => `'${v}'`).join(', ');
}

function definedOnly(options: DistributeOptions): DistributeOptions {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
}
