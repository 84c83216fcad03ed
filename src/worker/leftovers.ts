/**
 * Errors that come from code a shard left running: a timer that throws, a promise nobody handled.
 * They reach the worker as an uncaught exception or an unhandled rejection, which would kill it,
 * failing whichever shard it holds by then. The shard context that was current when that code was
 * scheduled is still readable in the worker's listeners, so the error goes to the shard it belongs to:
 * - the shard running now, or no shard (a module's top level): the worker dies, as it would have;
 * - an earlier shard of the batch running now: that shard fails with the error;
 * - a shard whose result was already sent: nothing fails, and the parent warns, with the next reply.
 * @module
 */
import { inspect } from 'node:util';
import { isMainThread } from 'node:worker_threads';
import { runningTask } from '../context.js';
import { describe } from '../messages.js';
import type { ShardTask } from '../executors/executor.js';
import type { LeftoverError, Leftovers } from '../wire/protocol.js';
import { encodeThrown, type EncodedThrown } from '../wire/remote-error.js';

/** The shards of one batch while the worker runs it, and what they failed with. */
export class BatchWatch {
  /** Qualified name of the batch's method. */
  readonly method: string;
  /** Position of the shard running now: an error of its own kills the worker, as before. */
  running = -1;
  /** Once the reply is built, no shard of the batch can fail any more. */
  #sent = false;
  /** What each shard gave; a blamed shard's value is dropped. */
  #values: unknown[];
  /** The shards that failed, by position, with what they threw or left behind. */
  #failures: [number, EncodedThrown][] = [];
  readonly #failed = new Set<number>();

  constructor(method: string, count: number) {
    this.method = method;
    this.#values = new Array<unknown>(count);
  }

  get sent(): boolean {
    return this.#sent;
  }

  /** Records what the shard at `position` gave. */
  gave(position: number, value: unknown): void {
    this.#values[position] = value;
  }

  /** Records that the shard at `position` failed with `thrown`; false if it had failed already, or the reply is built. */
  fail(position: number, thrown: unknown): boolean {
    if (this.#sent || this.#failed.has(position)) return false;
    this.#failed.add(position);
    this.#values[position] = undefined;
    this.#failures.push([position, encodeThrown(thrown)]);
    return true;
  }

  /**
   * The batch's values and failures, for its reply: from now on its shards' leftover errors are
   * warnings. The watch lets go of them, since a timer a shard left keeps the watch alive.
   */
  finish(): { readonly values: unknown[]; readonly failures: [number, EncodedThrown][] } {
    this.#sent = true;
    const finished = { values: this.#values, failures: this.#failures };
    this.#values = [];
    this.#failures = [];
    return finished;
  }
}

/** A shard as the worker hands it to the method: it knows its batch, so an error can be traced back. */
export class WatchedTask implements ShardTask {
  readonly index: number;
  readonly shard: unknown;
  readonly args: readonly unknown[];
  readonly signal: AbortSignal;
  readonly started: () => void;
  readonly batch: BatchWatch;
  readonly position: number;

  constructor(
    batch: BatchWatch,
    position: number,
    index: number,
    shard: unknown,
    base: Omit<ShardTask, 'index' | 'shard'>,
  ) {
    this.batch = batch;
    this.position = position;
    this.index = index;
    this.shard = shard;
    this.args = base.args;
    this.signal = base.signal;
    this.started = base.started;
  }
}

/** How many leftover errors wait for a reply at most; past this they are only counted. */
const MAX_WAITING = 64;

let waiting: LeftoverError[] = [];
let dropped = 0;

/** The leftover errors met since the last reply, to send with this one (and forget). */
export function takeLeftovers(): Leftovers | undefined {
  if (waiting.length === 0 && dropped === 0) return undefined;
  const leftovers = { errors: waiting, dropped };
  waiting = [];
  dropped = 0;
  return leftovers;
}

type Kind = LeftoverError['kind'];

const EVENTS = { uncaught: 'uncaughtException', unhandled: 'unhandledRejection' } as const;

const listeners: Record<Kind, (error: unknown) => void> = {
  uncaught: (error) => blame('uncaught', error),
  unhandled: (error) => blame('unhandled', error),
};

/** Called once by the worker entry, before any user module loads: its listeners come first. */
export function watchLeftovers(): void {
  process.on(EVENTS.uncaught, listeners.uncaught);
  process.on(EVENTS.unhandled, listeners.unhandled);
}

function blame(kind: Kind, error: unknown): void {
  const task = runningTask();
  // No shard's, or a shard of a call nested in one (run inline, so its outer shard is unknown).
  if (!(task instanceof WatchedTask)) return die(kind, error);
  const { batch, position, index } = task;
  if (!batch.sent) {
    if (position >= batch.running) return die(kind, error);
    if (batch.fail(position, error)) return;
  }
  // Its result went back (or it had failed already): say so, once the parent has that result.
  if (waiting.length < MAX_WAITING) waiting.push({ method: batch.method, index, kind, error: encodeThrown(error) });
  else dropped++;
}

/** Ends the worker as Node would have without these listeners, unless the user's own listen too. */
function die(kind: Kind, error: unknown): void {
  // A listener of the user's own (their module added it) kept the worker alive before: it still does.
  if (othersListen(kind)) return;
  if (kind === 'unhandled' && othersListen('uncaught')) {
    // Node hands an unhandled rejection nobody listens for to the uncaught exception listeners.
    for (const listener of process.listeners(EVENTS.uncaught)) {
      if (listener !== listeners.uncaught) listener.call(process, error as Error, EVENTS.unhandled);
    }
    return;
  }
  process.off(EVENTS.uncaught, listeners.uncaught);
  process.off(EVENTS.unhandled, listeners.unhandled);
  // A thread rethrows, so the parent's 'error' event gets the error as before. A child process would
  // exit with code 7 (a listener that threw): it says what it died of and exits with 1, as before.
  if (isMainThread) {
    process.stderr.write(`Uncaught ${show(error)}\n`);
    process.exit(1);
  }
  throw error;
}

function othersListen(kind: Kind): boolean {
  const all: readonly unknown[] =
    kind === 'uncaught' ? process.listeners(EVENTS.uncaught) : process.listeners(EVENTS.unhandled);
  return all.some((listener) => listener !== listeners[kind]);
}

function show(error: unknown): string {
  try {
    return inspect(error);
  } catch {
    return describe(error);
  }
}
