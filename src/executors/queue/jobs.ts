/**
 * What a queue job carries, in both directions, and the Redis names a call uses: shared by the
 * caller (session.ts) and `parafor worker` (../../cli/). BullMQ stores a job's data and return value
 * as JSON, so the structured-clone bytes the worker executors send travel here as base64 text: every
 * value a `'worker'` shard may take or return (a `Map`, a `Date`, a `BigInt`, `undefined`) survives.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { pack, unpack, type PackedList } from '../../wire/clone.js';
import type { BatchResponse } from '../../wire/protocol.js';

/** The version of {@link JobData}: a worker refuses a job of another version rather than misread it. */
export const JOB_VERSION = 1;

/** A job's data: one batch of consecutive shards of one call. */
export interface JobData {
  readonly v: number;
  /** The call's id (see {@link newCallId}): cancellations name it. */
  readonly call: string;
  /** The method's qualified name, for messages and for BullMQ's job name. */
  readonly name: string;
  /**
   * The module that defines the method, relative to the caller's working folder, with `/`: each
   * worker finds it from its own working folder, whatever the caller's machine calls it.
   */
  readonly module: string;
  /** The call's `CallContext` (its method's reference, `this`'s fields, the arguments), packed, in base64. */
  readonly context: string;
  /** Index of each shard in the call's input. */
  readonly indices: readonly number[];
  /** The shards, packed with `packList` then serialized once more, in base64. */
  readonly shards: string;
}

/** A job's return value: the worker executors' {@link BatchResponse}, packed, in base64. */
export interface JobResult {
  readonly response: string;
}

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

/** The response of a batch, as the job's return value. */
export function resultOf(response: BatchResponse): JobResult {
  return { response: toText(response) };
}

/** The response of a batch from a job's return value. */
export function responseOf(result: unknown): BatchResponse {
  const text = (result as Partial<JobResult> | null | undefined)?.response;
  if (typeof text !== 'string') throw new TypeError(`Expected a parafor job result, got ${typeof result}`);
  return fromText(text) as BatchResponse;
}
