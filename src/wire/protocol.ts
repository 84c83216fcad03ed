/**
 * The messages between the `'worker'`/`'process'` executors and the worker entry. No runtime code
 * lives here.
 * @module
 */
import type { PackedList } from './clone.js';
import type { EncodedThrown } from './remote-error.js';

/**
 * How a worker finds the method to run: by reference, the way Python's pickle sends a function.
 * The worker imports `module` and looks among its exports for the distributed member.
 */
export interface MethodRef {
  /** File URL of the module that defines the method (`import.meta.url` there). */
  readonly module: string;
  /** The member's key; a symbol travels by its `Symbol.for` name. */
  readonly key: string | { readonly symbolFor: string };
  readonly kind: 'distribute' | 'distributeOver';
  readonly form: 'method' | 'function';
  readonly isStatic: boolean;
  /** Name of the instance's class (or of the class, for a static method), to choose among exports. */
  readonly owner: string | undefined;
  /** A hash of the original function's source, to tell apart two candidates with the same name. */
  readonly fingerprint: string;
  /** Qualified name for messages, e.g. `Report.getCubes`. */
  readonly name: string;
}

/** What every batch of one call shares. Serialized once per call. */
export interface CallContext {
  readonly ref: MethodRef;
  /** The instance's own fields, for an instance method: the worker's `this` gets them. */
  readonly fields: Readonly<Record<string, unknown>> | undefined;
  /** The arguments after the shards. */
  readonly args: readonly unknown[];
}

/** One batch, as the worker's `run` receives it. */
export interface BatchRequest {
  /** Identifies the call in this process, so a worker decodes its context once, not per batch. */
  readonly call: number;
  /** The serialized {@link CallContext}. */
  readonly context: Uint8Array;
  /**
   * Index of each shard in the call's input, for `currentShard()` and messages. A typed array: the
   * structured clone copies it as bytes, where an array of numbers costs about 0.1 us per number.
   */
  readonly indices: Float64Array;
  /** The shards, packed (see `packList`); a shard sent in `moved` leaves a hole. */
  readonly shards: PackedList;
  /** With `transfer`: shards sent as they are (position in the batch, value), their buffers moved. */
  readonly moved: readonly (readonly [number, unknown])[];
  /** Whether results that are `ArrayBuffer`s or typed arrays come back moved rather than copied. */
  readonly transfer: boolean;
  /** Whether to emit a {@link StartedEvent} when the first shard starts (for timeouts). */
  readonly notifyStart: boolean;
}

/** What the worker's `run` sends back for a batch. */
export interface BatchResponse {
  /** Each shard's result, packed (see `packList`), by position; a hole where it failed or was moved. */
  readonly values: PackedList;
  /** Shards that failed: position in the batch, and what was thrown (encoded, so always cloneable). */
  readonly failures: readonly (readonly [number, EncodedThrown])[];
  /** Set when the batch could not run at all (the method could not be loaded): every shard fails with it. */
  readonly batchFailure?: EncodedThrown;
  /** Milliseconds from the batch's first shard's start to its last shard's end, in the worker. */
  readonly durationMs: number;
  /** With `transfer`: results sent as they are (position in the batch, value), their buffers moved. */
  readonly moved: readonly (readonly [number, unknown])[];
  /** Errors that shards whose results were already sent left behind, met since the worker's last reply. */
  readonly leftovers?: Leftovers;
  /**
   * The worker that ran the batch, the same for its whole life: `thread <threadId>` for a worker
   * thread, `pid <pid>` for a child process (`onStats` counts shards per worker by it).
   */
  readonly worker?: string;
}

/**
 * An error thrown by what a shard left running after its result was sent (a timer, a callback, a
 * promise nobody awaited): no shard can fail for it any more, so the parent warns about it.
 */
export interface LeftoverError {
  /** Qualified name of the shard's method. */
  readonly method: string;
  /** The shard's index in its call's input. */
  readonly index: number;
  /** `'uncaught'`: thrown (by a timer, a callback); `'unhandled'`: a promise that rejected unhandled. */
  readonly kind: 'uncaught' | 'unhandled';
  readonly error: EncodedThrown;
}

/** The {@link LeftoverError}s a reply carries, and how many more the worker met but did not keep. */
export interface Leftovers {
  readonly errors: readonly LeftoverError[];
  readonly dropped: number;
}

/**
 * Sent by the worker through workerpool's events when the batch's first shard starts, if asked: a
 * timeout counts from there, not from when the batch was queued or the worker was starting.
 */
export interface StartedEvent {
  readonly started: true;
}

/**
 * Sent by the worker through workerpool's events when it starts loading the method's module for a
 * probe, or for a batch (if asked, with `notifyStart`) in a worker that has not loaded it yet: a
 * timeout bounds the loading from there, apart from the shards' own time.
 */
export interface LoadingEvent {
  readonly loading: true;
}

/** What the worker's `probe` answers: nothing when the method was found, else why not. */
export interface ProbeAnswer {
  readonly failure?: EncodedThrown;
}
