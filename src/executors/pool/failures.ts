/**
 * What a pool's failure means for the shards it held: a worker that died, a worker that was already
 * dead when the task reached it, a pool shut down, or a task parafor cancelled itself.
 * @module
 */
import { say } from '../../messages.js';

/** How often a task may be sent again after reaching a worker that had already died, before it fails. */
export const MAX_UNREACHED = 3;

/** Why a call's shards failed when a worker took longer than the call's timeout to load its method. */
export function loadingTimedOut(method: string, timeout: number, cause?: unknown): Error {
  return new Error(
    say(method, `loading the method in a worker took longer than the timeout (${timeout} ms), so it was stopped`),
    { cause },
  );
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
