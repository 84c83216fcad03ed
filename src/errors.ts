/**
 * The errors parafor throws for a shard, a source, or a worker. Their messages follow the one
 * template of messages.ts: `Report.getCube: Shard 3 … failed: TypeError: …`.
 * @module
 */
import { describe, reasonOf, say } from './messages.js';

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
  /** How many times the shard ran (more than 1 with `retries`). */
  readonly attempts?: number;
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
  /** The original error: what the last attempt threw. */
  declare readonly cause: unknown;
  /** How many times the shard ran: 1, or more when it was retried (`retries`). */
  readonly attempts: number;

  constructor({ method, index, shard, cause, attempts = 1 }: ShardErrorDetails) {
    const after = attempts === 1 ? '' : ` after ${attempts} attempts`;
    super(say(method, `shard ${index} ${describe(shard)} failed${after}: ${reasonOf(cause)}`), { cause });
    this.method = method;
    this.index = index;
    this.shard = shard;
    this.attempts = attempts;
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
    super(say(method, `shard ${index} timed out after ${timeout} ms`));
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
    super(say(method, `reading shard ${index} from the shards failed: ${reasonOf(cause)}`), { cause });
    this.method = method;
    this.index = index;
  }
}

/** What {@link WorkerExitError} is built from. */
export interface WorkerExitDetails {
  /** `'worker'` (a worker thread) or `'process'` (a child process). */
  readonly executor: 'worker' | 'process';
  /** Qualified name of the method, e.g. `Report.crunch`. */
  readonly method: string;
  /** Indices of the shards the worker held when it died. */
  readonly shards: readonly number[];
  /** The worker's exit code, when it exited. */
  readonly exitCode: number | null;
  /** The signal that killed it (a child process), e.g. `'SIGKILL'`. */
  readonly signal: string | null;
  /** Why, when the worker reported it: an uncaught error, `ERR_WORKER_OUT_OF_MEMORY`… */
  readonly reason: unknown;
}

/**
 * A worker died while it held shards: it exited (`process.exit`), threw outside any shard, or ran
 * out of memory. Only the shards it held fail; the pool replaces it and the other shards go on.
 *
 * @example
 * ```ts
 * const failure = error instanceof ShardError ? error.cause : error;
 * if (failure instanceof WorkerExitError) console.log(failure.exitCode, failure.signal);
 * ```
 */
export class WorkerExitError extends Error {
  override readonly name = 'WorkerExitError';
  /** `'worker'` (a worker thread) or `'process'` (a child process). */
  readonly executor: 'worker' | 'process';
  /** The worker's exit code, when it exited. */
  readonly exitCode: number | null;
  /** The signal that killed it (a child process), e.g. `'SIGKILL'`. */
  readonly signal: string | null;
  /** Indices of the shards the worker held. */
  readonly shards: readonly number[];

  constructor(details: WorkerExitDetails) {
    const worker = details.executor === 'worker' ? 'worker thread' : 'worker process';
    const held =
      details.shards.length === 0
        ? 'while loading the method'
        : details.shards.length === 1
          ? `while it held shard ${details.shards[0]}`
          : `while it held shards ${details.shards.join(', ')}`;
    super(say(details.method, `the ${worker} died (${how(details)}) ${held}`), { cause: details.reason });
    this.executor = details.executor;
    this.exitCode = details.exitCode;
    this.signal = details.signal;
    this.shards = details.shards;
  }
}

function how({ exitCode, signal, reason }: WorkerExitDetails): string {
  if (signal !== null) return `killed by ${signal}`;
  const code = (reason as { code?: unknown } | undefined)?.code;
  if (code === 'ERR_WORKER_OUT_OF_MEMORY') return 'out of memory';
  if (reason instanceof Error) return `uncaught ${reasonOf(reason)}`;
  return exitCode === null ? 'no exit code' : `exit code ${exitCode}`;
}

/** Why a consumer's early `break` (or `return()`) stopped the fan-out, as running shards see it. */
export function consumerStopped(method: string): DOMException {
  return new DOMException(say(method, 'the consumer stopped reading results'), 'AbortError');
}

/** Why the shards of a call that ended were not run: they were still waiting when it stopped. */
export function callOver(method: string): Error {
  return new Error(say(method, 'the call is over'));
}
