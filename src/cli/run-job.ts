/**
 * What `parafor worker` does with a job: turn it back into a batch of the `'worker'` executor and
 * run it in the process's own worker threads (so that a CPU-bound shard never blocks the event loop
 * that renews the job's lock), then hand the batch's outcome back in the job's log (see
 * ../executors/queue/jobs.ts for why not in its return value).
 * @module
 */
import { hostname } from 'node:os';
import { reasonOf, say } from '../messages.js';
import { classifyPoolFailure, MAX_UNREACHED } from '../executors/pool/failures.js';
import type { SharedPool } from '../executors/pool/pool.js';
import {
  fromText,
  JOB_RESULT,
  JOB_VERSION,
  outcomeToText,
  type CancelMessage,
  type JobData,
  type JobOutcome,
  type JobResult,
} from '../executors/queue/jobs.js';
import { pack, packList, unpack, type PackedList } from '../wire/clone.js';
import type { BatchRequest, BatchResponse, CallContext } from '../wire/protocol.js';
import { encodeThrown } from '../wire/remote-error.js';

/** A job as the runner needs it (a BullMQ `Job` is one). */
export interface RunnableJob {
  readonly id?: string | undefined;
  readonly data: unknown;
  /** Adds a line to the job's log (BullMQ's `Job.log`): where the job's outcome goes. */
  log(row: string): Promise<number>;
  /** Its state in Redis (BullMQ's `Job.getState`): `'unknown'` once it was removed. */
  getState(): Promise<string>;
}

/** How long a worker remembers that a call stopped, to refuse its jobs that were already taken. */
const REMEMBER_STOPPED_MS = 10 * 60_000;
/** Calls whose context is kept decoded. */
const RECENT_CALLS = 16;

/** Runs jobs on a worker-thread pool, and stops those whose call stopped. */
export class JobRunner {
  readonly #pool: SharedPool;
  /** File URLs of the modules this worker was started with, by their names in their packages (see projectPath). */
  readonly #modules: ReadonlyMap<string, string>;
  readonly #shown: string;
  readonly #contexts = new Map<string, { readonly number: number; readonly context: Uint8Array }>();
  readonly #active = new Map<string, { readonly call: string; cancel(): void }>();
  readonly #stopped = new Map<string, number>();
  #calls = 0;

  /** @param modules - file URLs of the worker's modules, by their names in their packages (see projectPath) */
  constructor(pool: SharedPool, modules: ReadonlyMap<string, string>, shown: readonly string[]) {
    this.#pool = pool;
    this.#modules = modules;
    this.#shown = shown.join(', ');
  }

  /** Jobs running now. */
  get running(): number {
    return this.#active.size;
  }

  /** A caller said to stop jobs: the running ones are stopped (their thread is ended and replaced). */
  cancel(message: CancelMessage): void {
    const now = Date.now();
    if (message.jobs === undefined) this.#stopped.set(message.call, now);
    for (const [key, since] of this.#stopped) if (now - since > REMEMBER_STOPPED_MS) this.#stopped.delete(key);
    const only = message.jobs === undefined ? undefined : new Set(message.jobs);
    for (const [id, running] of this.#active) {
      if (running.call === message.call && (only === undefined || only.has(id))) running.cancel();
    }
  }

  /**
   * Runs a job's batch and logs its outcome in the job. Shards that fail are reported there, each on
   * its own, as is a method that cannot be loaded here, and a worker thread that died under the
   * batch (the caller then runs each shard alone, so that only the one that kills its thread fails).
   * It throws (failing the job) only when its call stopped.
   */
  async run(job: RunnableJob): Promise<JobResult> {
    const outcome = await this.#outcome(job);
    try {
      await job.log(outcomeToText(outcome));
    } catch (error) {
      // BullMQ refuses to log to a job that is gone: its call stopped and removed it meanwhile,
      // and nobody waits for its outcome. Anything else fails the job, which its caller then hears.
      if (!(await gone(job))) throw error;
    }
    return JOB_RESULT;
  }

  async #outcome(job: RunnableJob): Promise<JobOutcome> {
    const data = job.data as JobData;
    const id = job.id ?? '';
    if (data.v !== JOB_VERSION) {
      const error = new Error(
        say(
          String(data.name),
          `this worker reads jobs of version ${JOB_VERSION}, and this job is of version ${String(data.v)}: run the same version of parafor on every machine`,
        ),
      );
      return failedBatch(error);
    }
    if (this.#stopped.has(data.call)) throw new Error(say(data.name, 'the call of this job stopped'));
    let request: BatchRequest;
    try {
      request = {
        ...this.#context(data),
        indices: Float64Array.from(data.indices),
        shards: fromText(data.shards) as PackedList,
        moved: [],
        transfer: false,
        notifyStart: false,
      };
    } catch (error) {
      return failedBatch(error);
    }
    let cancelled = false;
    for (let unreached = 0; ;) {
      const running = this.#pool.exec<BatchResponse>('run', [request]);
      this.#active.set(id, {
        call: data.call,
        cancel: () => {
          cancelled = true;
          running.cancel();
        },
      });
      try {
        return { response: named(await running.result) };
      } catch (error) {
        const failure = classifyPoolFailure(error);
        if (cancelled || this.#stopped.has(data.call) || failure.kind === 'cancelled') {
          throw new Error(say(data.name, 'the call of this job stopped, so its shards were stopped'), { cause: error });
        }
        // Sent to a thread that had already died while idle: the batch never ran, so it goes again.
        if (failure.kind === 'unreached' && ++unreached <= MAX_UNREACHED) continue;
        if (failure.kind !== 'died') {
          throw new Error(say(data.name, `running this job failed in the worker: ${reasonOf(error)}`), {
            cause: error,
          });
        }
        const { exitCode, signal, reason } = failure;
        return { died: { exitCode, signal, reason: reason === undefined ? undefined : encodeThrown(reason) } };
      } finally {
        this.#active.delete(id);
      }
    }
  }

  /** The call's context with its module found here, packed once per call. */
  #context(data: JobData): { readonly call: number; readonly context: Uint8Array } {
    let known = this.#contexts.get(data.call);
    if (known === undefined) {
      const url = this.#modules.get(data.module);
      if (url === undefined) {
        const known = [...this.#modules.keys()].join(', ');
        throw new TypeError(
          say(
            data.name,
            `this worker was started with ${this.#shown} (${known} in their packages), not with ${data.module}, the module ` +
              'that defines the method (its package and its path there). Start `parafor worker` with that module of the same code.',
          ),
        );
      }
      const context = unpack(Buffer.from(data.context, 'base64')) as CallContext;
      known = { number: ++this.#calls, context: pack({ ...context, ref: { ...context.ref, module: url } }) };
      this.#contexts.set(data.call, known);
      if (this.#contexts.size > RECENT_CALLS) this.#contexts.delete(this.#contexts.keys().next().value as string);
    }
    return { call: known.number, context: known.context };
  }
}

function failedBatch(error: unknown): JobOutcome {
  return {
    response: { values: packList([]), failures: [], batchFailure: encodeThrown(error), durationMs: 0, moved: [] },
  };
}

/** This process on this host: a thread's name alone would be the same on every machine. */
const PROCESS_NAME = `${hostname()} pid ${process.pid}`;

/** The reply, its worker named for the caller's `onStats` by host, process and thread. */
function named(response: BatchResponse): BatchResponse {
  return response.worker === undefined ? response : { ...response, worker: `${PROCESS_NAME} ${response.worker}` };
}

/** Whether a job was removed from Redis. */
async function gone(job: RunnableJob): Promise<boolean> {
  try {
    return (await job.getState()) === 'unknown';
  } catch {
    return false;
  }
}
