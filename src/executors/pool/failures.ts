/**
 * What a pool's failure means for the shards it held: a worker that died, a worker that was already
 * dead when the task reached it, a pool shut down, or a task parafor cancelled itself.
 * @module
 */

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
 * if (failure instanceof Error && failure.name === 'WorkerExitError') console.log(failure.exitCode);
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
    super(`the ${worker} running ${details.method} died (${how(details)}) ${held}`, {
      cause: details.reason,
    });
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
  if (reason instanceof Error) return `uncaught ${reason.name}: ${reason.message}`;
  return exitCode === null ? 'no exit code' : `exit code ${exitCode}`;
}

/** What a rejected pool task means. */
export type PoolFailure =
  /** The worker died while it held the task. */
  | {
      readonly kind: 'died';
      readonly exitCode: number | null;
      readonly signal: string | null;
      readonly reason: unknown;
    }
  /** The task went to a worker that had already died while idle: it never ran, so it may be sent again. */
  | { readonly kind: 'unreached' }
  /** The pool was terminated (`shutdown()`). */
  | { readonly kind: 'shutdown' }
  /** Cancelled by parafor (timeout, abort, a failure elsewhere). */
  | { readonly kind: 'cancelled' }
  /** Anything else: passed on as it is. */
  | { readonly kind: 'other'; readonly error: unknown };

/**
 * Reads a workerpool rejection. workerpool reports these cases only through its messages, so they
 * are matched here, in one place (checked against workerpool 10 by the crash tests).
 */
export function classifyPoolFailure(error: unknown): PoolFailure {
  const name = (error as { name?: unknown } | undefined)?.name;
  if (name === 'CancellationError' || name === 'TimeoutError') return { kind: 'cancelled' };
  const message = error instanceof Error ? error.message : '';
  if (message.startsWith('Workerpool Worker terminated Unexpectedly')) {
    return {
      kind: 'died',
      exitCode: numberIn(/exitCode: `(-?\d+)`/.exec(message)?.[1]),
      signal: /signalCode: `([A-Z0-9]+)`/.exec(message)?.[1] ?? null,
      reason: undefined,
    };
  }
  if (message.startsWith('Workerpool Worker error:')) {
    return { kind: 'died', exitCode: null, signal: null, reason: (error as Error).cause };
  }
  if (message === 'Worker is terminated') return { kind: 'unreached' };
  if (message === 'Worker terminated' || message === 'Pool terminated') return { kind: 'shutdown' };
  return { kind: 'other', error };
}

function numberIn(text: string | undefined): number | null {
  return text === undefined ? null : Number(text);
}
