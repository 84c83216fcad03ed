/**
 * The errors parafor throws, and the one place that formats values for messages.
 * @module
 */
import { inspect } from 'node:util';

/**
 * Describes a value for an error message: short, one line, with its type,
 * e.g. `0 (number)`, `'abc' (string)`, `{ a: 1 } (object)`.
 */
export function describe(value: unknown): string {
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  const shown = inspect(value, { depth: 1, breakLength: Infinity, maxArrayLength: 5, maxStringLength: 40 });
  const short = shown.length > 80 ? `${shown.slice(0, 77)}...` : shown;
  return `\`${short}\` (${type})`;
}

/** Builds the `TypeError` every bad input gets: what was expected, what came. */
export function invalid(where: string, expected: string, value: unknown): TypeError {
  return new TypeError(`${where}: Expected ${expected}, got ${describe(value)}`);
}

/** What a {@link ShardError} is built from. */
export interface ShardErrorDetails {
  /** Qualified name of the method, e.g. `Report.getCubes`. */
  readonly method: string;
  /** Position of the shard in the input, from 0. */
  readonly index: number;
  /** The shard. */
  readonly shard: unknown;
  /** The original error. */
  readonly cause: unknown;
}

/**
 * A shard failed. Says which method, which shard (its `index` and the `shard` itself) and why
 * (`cause`, the original error, with its class, stack and own properties).
 *
 * @example
 * ```ts
 * try {
 *   await report.getCubes(ids);
 * } catch (error) {
 *   if (error instanceof ShardError) console.error(error.index, error.shard, error.cause);
 * }
 * ```
 */
export class ShardError extends Error {
  override readonly name = 'ShardError';
  /** Qualified name of the method, e.g. `Report.getCubes`. */
  readonly method: string;
  /** Position of the shard in the input, from 0. */
  readonly index: number;
  /** The shard. */
  readonly shard: unknown;
  /** The original error. */
  declare readonly cause: unknown;

  constructor({ method, index, shard, cause }: ShardErrorDetails) {
    super(`${method} failed on shard ${index} ${describe(shard)}: ${reasonOf(cause)}`, { cause });
    this.method = method;
    this.index = index;
    this.shard = shard;
  }
}

/**
 * A shard ran longer than its `timeout`. It is the `cause` of the shard's {@link ShardError}, and
 * the reason of the shard's aborted signal.
 */
export class ShardTimeoutError extends Error {
  override readonly name = 'ShardTimeoutError';
  /** The timeout, in milliseconds. */
  readonly timeout: number;

  constructor(method: string, index: number, timeout: number) {
    super(`${method}: shard ${index} timed out after ${timeout} ms`);
    this.timeout = timeout;
  }
}

/** Reading the shards themselves failed (the iterable threw); no shard is to blame. */
export class ShardSourceError extends Error {
  override readonly name = 'ShardSourceError';
  /** Qualified name of the method. */
  readonly method: string;
  /** Index of the shard that was being read. */
  readonly index: number;

  constructor(method: string, index: number, cause: unknown) {
    super(`${method}: reading shard ${index} from the shards failed: ${reasonOf(cause)}`, { cause });
    this.method = method;
    this.index = index;
  }
}

/** Why a consumer's early `break` (or `return()`) stopped the fan-out, as running shards see it. */
export function consumerStopped(method: string): DOMException {
  return new DOMException(`${method}: the consumer stopped reading results`, 'AbortError');
}

function reasonOf(cause: unknown): string {
  if (cause instanceof Error) return cause.message === '' ? cause.name : `${cause.name}: ${cause.message}`;
  return `threw ${describe(cause)}`;
}
