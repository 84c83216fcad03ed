/**
 * One call on a worker pool, once open: shards wait here, leave in batches (one per worker slot at
 * a time), and each batch's results, failures and faults come back to the shards it carried.
 * @module
 */
import { callOver, WorkerExitError } from '../../errors.js';
import { say } from '../../messages.js';
import { Fifo } from '../../util/fifo.js';
import { buffersToMove, packLenient, takeMovable, unpackList, type LenientPack } from '../../wire/clone.js';
import type { BatchRequest, BatchResponse, StartedEvent } from '../../wire/protocol.js';
import { decodeThrown } from '../../wire/remote-error.js';
import type { ExecutorSession, ShardTask } from '../executor.js';
import type { BatchSizer } from './batching.js';
import { classifyPoolFailure } from './failures.js';
import type { PoolJob, PoolKind, SharedPool } from './pool.js';

/** What a session is opened with (see open-session.ts). */
export interface SessionSettings {
  readonly pool: SharedPool;
  /** The pool's generation when the call started (before its probe): a shutdown() since fails its shards. */
  readonly generation: number;
  readonly kind: PoolKind;
  readonly name: string;
  readonly context: Uint8Array;
  readonly slots: number;
  readonly sizer: BatchSizer;
  readonly transfer: boolean;
  /** With a timeout each shard's own signal may abort; without, only the whole call stops. */
  readonly watchTasks: boolean;
  readonly signal: AbortSignal;
}

interface Pending {
  readonly task: ShardTask;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  /** Its batch's worker died: it runs again by itself, so that only the shard that kills a worker fails. */
  alone: boolean;
  /** How many times it reached a worker that had already died. */
  unreached: number;
}

interface Batch {
  readonly entries: readonly Pending[];
  job: PoolJob<BatchResponse> | undefined;
  /** Why parafor stopped it, once it did. */
  stopped: { readonly reason: unknown } | undefined;
  unwatch: (() => void) | undefined;
}

/** Numbers the calls of this process (see `BatchRequest.call`). */
let calls = 0;

/** How often a shard may be sent again after reaching a dead worker, before it fails. */
const MAX_UNREACHED = 3;

/** The session of one call on a worker pool. */
export class PoolSession implements ExecutorSession {
  readonly #s: SessionSettings;
  readonly #queue = new Fifo<Pending>();
  readonly #running = new Set<Batch>();
  #scheduled = false;
  #closed = false;
  readonly #call: number;
  /** The pool's generation when the call started. */
  readonly #generation: number;

  constructor(settings: SessionSettings) {
    this.#s = settings;
    this.#call = ++calls;
    this.#generation = settings.generation;
    settings.signal.addEventListener('abort', () => this.close(), { once: true });
  }

  /**
   * About three batches per worker slot: one running and two waiting here, so the next batch is ready
   * the moment a worker is free. Grows with the batch size, so the engine reads further ahead for tiny shards.
   */
  get capacity(): number {
    return 3 * this.#s.slots * this.#s.sizer.size;
  }

  run(task: ShardTask): Promise<unknown> {
    if (this.#closed) return Promise.reject(this.#s.signal.reason as Error);
    return new Promise((resolve, reject) => {
      this.#queue.push({ task, resolve, reject, alone: false, unreached: 0 });
      this.#schedule();
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const reason: unknown = this.#s.signal.reason ?? callOver(this.#s.name);
    for (const entry of this.#queue.drain()) entry.reject(reason);
    for (const batch of this.#running) this.#stop(batch, reason);
  }

  // Batches leave on the next turn of the event loop, after the engine has handed over every shard
  // it can: a batch formed at once would be cut short.
  #schedule(): void {
    if (this.#scheduled || this.#closed) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    const { slots, sizer, pool } = this.#s;
    // `shutdown()` during the call: what was not sent yet fails, rather than starting a new pool.
    if (pool.generation !== this.#generation) {
      for (const entry of this.#queue.drain()) this.#rejectShutDown(entry, undefined);
      return;
    }
    // One batch per slot: a batch waiting in the shared pool could start on a worker that another
    // call's larger concurrency added, running this call over its own concurrency.
    while (!this.#closed && this.#running.size < slots && this.#queue.size > 0) {
      const first = this.#queue.peek() as Pending;
      const size = first.alone ? 1 : sizer.next(this.#queue.size, slots);
      const entries: Pending[] = [];
      while (entries.length < size && this.#queue.size > 0) entries.push(this.#queue.shift() as Pending);
      this.#send(entries);
    }
  }

  #send(entries: Pending[]): void {
    const { transfer, kind, context, pool, name } = this.#s;
    const shards = entries.map(({ task }) => task.shard);
    const moved = transfer ? takeMovable(shards) : [];
    let lenient: LenientPack;
    try {
      lenient = packLenient(shards, name, (i) => `shard ${entries[i]?.task.index ?? i}`, 'shard');
    } catch (error) {
      // Every shard clones alone but not together (a getter that throws once…): none can be blamed.
      for (const entry of entries) entry.reject(error);
      return;
    }
    if (lenient.unclonable.length > 0) {
      // Those shards fail, naming what; the others go on, in a batch of their own.
      for (const [position, error] of lenient.unclonable) entries[position]?.reject(error);
      const culprits = new Set(lenient.unclonable.map(([position]) => position));
      const fine = entries.filter((_, i) => !culprits.has(i));
      if (fine.length > 0) this.#send(fine);
      return;
    }
    const { packed } = lenient;
    const request: BatchRequest = {
      call: this.#call,
      context,
      indices: entries.map(({ task }) => task.index),
      shards: packed,
      moved,
      transfer,
      notifyStart: this.#s.watchTasks,
    };
    const batch: Batch = { entries, job: undefined, stopped: undefined, unwatch: undefined };
    this.#running.add(batch);
    // With a timeout, the worker says when the batch starts, and the shard's time counts from there.
    // Without, that message is saved: the shards count as started when sent (progress durations
    // then include any wait in the pool).
    if (!this.#s.watchTasks) for (const { task } of entries) task.started();
    batch.job = pool.exec<BatchResponse>('run', [request], {
      ...(this.#s.watchTasks ? { on: (event: unknown) => this.#started(batch, event) } : {}),
      // Threads take the shards' bytes (and, with `transfer`, their buffers) without a copy.
      ...(kind === 'worker' ? { transfer: buffersToMove(packed, moved) } : {}),
    });
    if (this.#s.watchTasks) this.#watch(batch);
    batch.job.result.then(
      (response) => this.#finished(batch, response),
      (error: unknown) => this.#failed(batch, error),
    );
  }

  #watch(batch: Batch): void {
    const listeners = batch.entries.map(({ task }) => {
      const onAbort = (): void => this.#stop(batch, task.signal.reason);
      task.signal.addEventListener('abort', onAbort, { once: true });
      return () => task.signal.removeEventListener('abort', onAbort);
    });
    batch.unwatch = () => listeners.forEach((unwatch) => unwatch());
  }

  #started(batch: Batch, event: unknown): void {
    if ((event as Partial<StartedEvent> | undefined)?.started !== true) return;
    for (const { task } of batch.entries) task.started();
  }

  /** Stops a running batch: workerpool terminates its worker, and the pool replaces it. */
  #stop(batch: Batch, reason: unknown): void {
    if (batch.stopped !== undefined) return;
    batch.stopped = { reason };
    batch.job?.cancel();
  }

  #done(batch: Batch): void {
    this.#running.delete(batch);
    batch.unwatch?.();
    this.#schedule();
  }

  #finished(batch: Batch, response: BatchResponse): void {
    this.#done(batch);
    const { entries } = batch;
    let values: unknown[];
    try {
      if (response.batchFailure !== undefined) throw decodeThrown(response.batchFailure);
      values = unpackList(response.values);
    } catch (error) {
      for (const entry of entries) entry.reject(error);
      return;
    }
    for (const [position, value] of response.moved) values[position] = value;
    const failures = new Map(response.failures);
    entries.forEach((entry, i) => {
      const failure = failures.get(i);
      if (failure === undefined) entry.resolve(values[i]);
      else entry.reject(decodeThrown(failure));
    });
    this.#s.sizer.completed(entries.length, response.durationMs);
  }

  #failed(batch: Batch, error: unknown): void {
    this.#done(batch);
    const { entries, stopped } = batch;
    const { kind, name } = this.#s;
    if (stopped !== undefined) {
      for (const entry of entries) entry.reject(stopped.reason);
      return;
    }
    const failure = classifyPoolFailure(error);
    switch (failure.kind) {
      case 'unreached': {
        const again = entries.filter((entry) => ++entry.unreached <= MAX_UNREACHED);
        for (const entry of entries) if (entry.unreached > MAX_UNREACHED) entry.reject(error);
        this.#requeue(again);
        return;
      }
      case 'died':
        if (entries.length > 1) {
          for (const entry of entries) entry.alone = true;
          this.#requeue(entries);
          return;
        }
        for (const entry of entries) {
          entry.reject(new WorkerExitError({ ...failure, executor: kind, method: name, shards: [entry.task.index] }));
        }
        return;
      case 'shutdown':
        for (const entry of entries) this.#rejectShutDown(entry, error);
        return;
      default:
        for (const entry of entries) entry.reject(error);
    }
  }

  #rejectShutDown(entry: Pending, cause: unknown): void {
    const { name, kind } = this.#s;
    const message = say(
      name,
      `the '${kind}' pool was shut down (shutdown()) before shard ${entry.task.index} finished`,
    );
    entry.reject(new Error(message, { cause }));
  }

  /** Puts shards back at the front of the queue, to leave first. */
  #requeue(entries: readonly Pending[]): void {
    if (this.#closed) {
      for (const entry of entries) entry.reject(this.#s.signal.reason);
      return;
    }
    this.#queue.unshift(entries);
    this.#schedule();
  }
}
