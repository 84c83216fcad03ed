/**
 * What a queue job carries, in both directions, and the Redis names a call uses: shared by the
 * caller (session.ts) and `parafor worker` (../../cli/). BullMQ stores a job's data as JSON, so the
 * structured-clone bytes the worker executors send travel here as base64 text: every value a
 * `'worker'` shard may take or return (a `Map`, a `Date`, a `BigInt`, `undefined`) survives.
 *
 * A job's outcome goes back in the job's log, not in its return value: BullMQ copies every return
 * value into the queue's events stream, which keeps it long after the job is gone, while the log is
 * deleted with the job.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { pack, unpack, type PackedList } from '../../wire/clone.js';
import type { BatchResponse } from '../../wire/protocol.js';
import type { EncodedThrown } from '../../wire/remote-error.js';

/**
 * The version of {@link JobData} and {@link JobOutcome}: a worker refuses a job of another version
 * rather than misread it. 2: the outcome in the job's log.
 */
export const JOB_VERSION = 2;

/** A job's data: one batch of consecutive shards of one call. */
export interface JobData {
  readonly v: number;
  /** The call's id (see {@link newCallId}): cancellations name it. */
  readonly call: string;
  /** The method's qualified name, for messages and for BullMQ's job name. */
  readonly name: string;
  /**
   * The module that defines the method, by its package's name and its path in the package, with `/`
   * (see projectPath): each worker finds it among its own modules by the same name, whatever folder
   * either side was started from and whatever the caller's machine calls it.
   */
  readonly module: string;
  /** The call's `CallContext` (its method's reference, `this`'s fields, the arguments), packed, in base64. */
  readonly context: string;
  /** Index of each shard in the call's input. */
  readonly indices: readonly number[];
  /** The shards, packed with `packList` then serialized once more, in base64. */
  readonly shards: string;
}

/**
 * A job's return value, as BullMQ stores it (and copies it into the queue's events stream): only a
 * marker, the outcome itself being in the job's log (see {@link outcomeToText}).
 */
export interface JobResult {
  readonly logged: true;
}

/** The marker every job returns. */
export const JOB_RESULT: JobResult = { logged: true };

/** The worker thread that ran the batch died (`process.exit`, out of memory…), as the pool saw it. */
export interface JobDied {
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** Why, when the thread said so (an uncaught error, `ERR_WORKER_OUT_OF_MEMORY`). */
  readonly reason: EncodedThrown | undefined;
}

/**
 * What happened to a job's batch: the worker executors' {@link BatchResponse}, or the death of the
 * worker thread that ran it (the caller then runs each of its shards alone, as `'worker'` does).
 */
export type JobOutcome = { readonly response: BatchResponse } | { readonly died: JobDied };

/** What the caller publishes on {@link cancelChannel}: a call that stopped, or some of its jobs. */
export interface CancelMessage {
  readonly call: string;
  /** Only these jobs (a shard's timeout); every job of the call when absent. */
  readonly jobs?: readonly string[];
}

/**
 * A new call id. BullMQ's custom job ids must not contain `:` nor be all digits; a letter first
 * keeps both true for the ids made from it.
 */
export function newCallId(): string {
  return `p${randomUUID().replaceAll('-', '')}`;
}

/** The id of the `n`th job of `call`. */
export function jobId(call: string, n: number): string {
  return `${call}-${n}`;
}

/** The call a job id belongs to, or `undefined` for a job that is not parafor's. */
export function callOfJob(id: string | undefined): string | undefined {
  const dash = id?.lastIndexOf('-') ?? -1;
  return dash > 0 ? id?.slice(0, dash) : undefined;
}

/** The Redis pub/sub channel on which callers tell workers to stop jobs of `queue`. */
export function cancelChannel(prefix: string, queue: string): string {
  return `${prefix}:${queue}:parafor:cancel`;
}

/** Packs a value into base64 text for a job. */
export function toText(value: unknown): string {
  return Buffer.from(pack(value)).toString('base64');
}

/** Rebuilds a value from {@link toText}. */
export function fromText(text: string): unknown {
  return unpack(Buffer.from(text, 'base64'));
}

/** A packed list of shards in base64 (a `Float64Array` of numbers survives as one). */
export function shardsToText(packed: PackedList): string {
  return toText(packed);
}

/** A job's outcome as the line of its log. */
export function outcomeToText(outcome: JobOutcome): string {
  return toText(outcome);
}

/**
 * A job's outcome from the last line of its log.
 * @throws TypeError when there is none (a worker of another parafor version, which returns it)
 */
export function outcomeOf(text: string | null | undefined): JobOutcome {
  if (typeof text !== 'string' || text === '') {
    throw new TypeError(
      'Expected the outcome of the job in its log, and it has none: run the same version of parafor on every machine',
    );
  }
  return fromText(text) as JobOutcome;
}

/** The key of a job's log, beside the key of its hash (`Queue.toKey(id)`). */
export function logKey(jobKey: string): string {
  return `${jobKey}:logs`;
}
