/**
 * One call on a worker pool, once open: shards wait here, leave in batches (one per worker slot at
 * a time), and each batch's results, failures and faults come back to the shards it carried.
 *
 * Shards arrive in chunks (`runChunk`: a stretch of the input at once, the usual way) or one task
 * each (`run`: a call with a timeout, whose shards are watched one by one). Both wait as pieces,
 * stretches of consecutive shards of one arrival, and a batch is cut from the pieces at the front,
 * splitting one where the batch ends: the cost of a shard here is a copy into its batch and out.
 * @module
 */
import { callOver } from '../../errors.js';
import { say } from '../../messages.js';
import {
  buffersToMove,
  packLenient,
  packNumbers,
  takeMovable,
  type LenientPack,
  type Moved,
  type PackedList,
} from '../../wire/clone.js';
import type { BatchRequest, BatchResponse, LoadingEvent, StartedEvent } from '../../wire/protocol.js';
import type { ExecutorSession, ShardChunk, ShardTask } from '../executor.js';
import type { BatchSizer } from './batching.js';
import { classifyPoolFailure, loadingTimedOut, MAX_UNREACHED } from './failures.js';
import { settleBatch, weight, workerDied, type SentBatch } from './batch-answer.js';
import { failPieces, PieceQueue, TaskUnit, type Piece } from './pieces.js';
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
  /**
   * Whether shards report their true start (a timeout or a rate limit counts from it); with a
   * timeout each shard's own signal may abort too.
   */
  readonly watchTasks: boolean;
  readonly signal: AbortSignal;
  /**
   * How long a worker may take to load the method for a batch, when it had not loaded it yet (a
   * worker that replaced another, a pool that grew); `Infinity` for no bound. Only with `watchTasks`.
   */
  readonly loadTimeout: number;
}

interface Batch extends SentBatch {
  job: PoolJob<BatchResponse> | undefined;
  /** Why parafor stopped it, once it did. */
  stopped: { readonly reason: unknown } | undefined;
  unwatch: (() => void) | undefined;
  /** Stops the batch if its worker's loading of the method takes too long. */
  loading: ReturnType<typeof setTimeout> | undefined;
}

/** Numbers the calls of this process (see `BatchRequest.call`). */
let calls = 0;

/** The session of one call on a worker pool. */
export class PoolSession implements ExecutorSession {
  /** A batch's shards run one after another in its worker. */
  readonly runsInTurn = true;
  readonly #s: SessionSettings;
  readonly #queue = new PieceQueue();
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
    return new Promise((resolve, reject) => this.#enqueue(new TaskUnit(task, resolve, reject)));
  }

  runChunk(chunk: ShardChunk): void {
    if (this.#closed) chunk.fail(0, chunk.shards.length, this.#s.signal.reason);
    else this.#enqueue(chunk);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const reason: unknown = this.#s.signal.reason ?? callOver(this.#s.name);
    failPieces(this.#queue.drain(), reason);
    for (const batch of this.#running) this.#stop(batch, reason);
  }

  #enqueue(unit: ShardChunk): void {
    this.#queue.push(unit);
    this.#schedule();
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
      for (const piece of this.#queue.drain()) this.#failShutDown(piece, undefined);
      return;
    }
    // One batch per slot: a batch waiting in the shared pool could start on a worker that another
    // call's larger concurrency added, running this call over its own concurrency.
    while (!this.#closed && this.#running.size < slots && this.#queue.shards > 0) {
      const { pieces, count } = this.#queue.cut(this.#queue.nextAlone ? 1 : sizer.next(this.#queue.shards, slots));
      this.#send(pieces, count);
    }
  }

  #send(pieces: readonly Piece[], count: number): void {
    const { transfer, kind, context, pool } = this.#s;
    const indices = new Float64Array(count);
    let position = 0;
    for (const { unit, offset, count: n } of pieces) {
      for (let j = 0; j < n; j++) indices[position++] = unit.start + offset + j;
    }
    const packing = this.#pack(pieces, count, indices);
    if (packing === undefined) return;
    const { packed, moved } = packing;
    const request: BatchRequest = {
      call: this.#call,
      context,
      indices,
      shards: packed,
      moved,
      transfer,
      notifyStart: this.#s.watchTasks,
    };
    const batch: Batch = {
      pieces,
      count,
      bytes: weight(packed, moved),
      job: undefined,
      stopped: undefined,
      unwatch: undefined,
      loading: undefined,
    };
    this.#running.add(batch);
    // With a timeout, the worker says when the batch starts, and the shard's time counts from there.
    // Without, that message is saved: the shards count as started when sent (progress durations
    // then include any wait in the pool).
    if (!this.#s.watchTasks) for (const piece of pieces) piece.unit.started(piece.offset, piece.count);
    batch.job = pool.exec<BatchResponse>('run', [request], {
      ...(this.#s.watchTasks ? { on: (event: unknown) => this.#started(batch, event) } : {}),
      // Threads take the shards' bytes (and, with `transfer`, their buffers) without a copy.
      ...(kind === 'worker' ? { transfer: [...buffersToMove(packed, moved), indices.buffer] } : {}),
    });
    if (this.#s.watchTasks) this.#watch(batch);
    // A batch holds its slot until its worker is free: a stopped batch's shards fail at once, but its
    // worker runs on until terminated, and the next batch must not run beside it (concurrency).
    void batch.job.free.then(() => {
      this.#running.delete(batch);
      this.#schedule();
    });
    batch.job.result.then(
      (response) => this.#finished(batch, response),
      (error: unknown) => this.#failed(batch, error),
    );
  }

  /**
   * The batch's shards, packed, and those moved with `transfer`; `undefined` when there is nothing
   * left to send here: the shards failed, or some did and the rest left in a batch of their own.
   */
  #pack(
    pieces: readonly Piece[],
    count: number,
    indices: Float64Array,
  ): { readonly packed: PackedList; readonly moved: Moved } | undefined {
    const { transfer, name } = this.#s;
    // Numbers (the common tiny shards) of a single piece pack straight from their chunk.
    const only = pieces.length === 1 && !transfer ? (pieces[0] as Piece) : undefined;
    const numbers = only && packNumbers(only.unit.shards, only.offset, only.count);
    if (numbers !== undefined) return { packed: numbers, moved: [] };
    const shards = new Array<unknown>(count);
    let position = 0;
    for (const { unit, offset, count: n } of pieces) {
      for (let j = 0; j < n; j++) shards[position++] = unit.shards[offset + j];
    }
    const moved = transfer ? takeMovable(shards) : [];
    let lenient: LenientPack;
    try {
      lenient = packLenient(shards, name, (i) => `shard ${indices[i] ?? i}`, 'shard');
    } catch (error) {
      // Every shard clones alone but not together (a getter that throws once…): none can be blamed.
      failPieces(pieces, error);
      return undefined;
    }
    if (lenient.unclonable.length > 0) {
      this.#sendCloneable(pieces, lenient.unclonable);
      return undefined;
    }
    return { packed: lenient.packed, moved };
  }

  /** Shards that cannot be cloned fail, naming what; the others go on, in a batch of their own. */
  #sendCloneable(pieces: readonly Piece[], unclonable: readonly (readonly [number, TypeError])[]): void {
    const culprits = new Map(unclonable);
    const fine: Piece[] = [];
    let base = 0;
    for (const piece of pieces) {
      let from = 0;
      for (let j = 0; j < piece.count; j++) {
        const error = culprits.get(base + j);
        if (error === undefined) continue;
        if (j > from) fine.push({ ...piece, offset: piece.offset + from, count: j - from });
        piece.unit.fail(piece.offset + j, 1, error);
        from = j + 1;
      }
      if (piece.count > from) fine.push({ ...piece, offset: piece.offset + from, count: piece.count - from });
      base += piece.count;
    }
    const count = fine.reduce((sum, piece) => sum + piece.count, 0);
    if (count > 0) this.#send(fine, count);
  }

  #watch(batch: Batch): void {
    const listeners = batch.pieces.flatMap(({ unit }) => {
      if (!(unit instanceof TaskUnit)) return [];
      const { signal } = unit.task;
      const onAbort = (): void => this.#stop(batch, signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      return [() => signal.removeEventListener('abort', onAbort)];
    });
    batch.unwatch = () => listeners.forEach((unwatch) => unwatch());
  }

  #started(batch: Batch, event: unknown): void {
    const { loadTimeout, name } = this.#s;
    // The worker loads the method before the shards start: their timeout would never begin if the
    // loading never ended, so the loading has one of its own.
    if ((event as Partial<LoadingEvent> | undefined)?.loading === true) {
      if (loadTimeout === Infinity || batch.loading !== undefined) return;
      batch.loading = setTimeout(() => this.#stop(batch, loadingTimedOut(name, loadTimeout)), loadTimeout);
      return;
    }
    if ((event as Partial<StartedEvent> | undefined)?.started !== true) return;
    clearTimeout(batch.loading);
    for (const piece of batch.pieces) piece.unit.started(piece.offset, piece.count);
  }

  /** Stops a running batch: workerpool terminates its worker, and the pool replaces it. */
  #stop(batch: Batch, reason: unknown): void {
    if (batch.stopped !== undefined) return;
    batch.stopped = { reason };
    batch.job?.cancel();
  }

  #done(batch: Batch): void {
    clearTimeout(batch.loading);
    batch.unwatch?.();
  }

  #finished(batch: Batch, response: BatchResponse): void {
    this.#done(batch);
    settleBatch(batch, response, this.#s.sizer);
  }

  #failed(batch: Batch, error: unknown): void {
    this.#done(batch);
    const { pieces, stopped } = batch;
    const { kind, name } = this.#s;
    if (stopped !== undefined) {
      failPieces(pieces, stopped.reason);
      return;
    }
    const failure = classifyPoolFailure(error);
    switch (failure.kind) {
      case 'unreached': {
        const again: Piece[] = [];
        for (const piece of pieces) {
          if (++piece.unreached <= MAX_UNREACHED) again.push(piece);
          else piece.unit.fail(piece.offset, piece.count, error);
        }
        this.#requeue(again);
        return;
      }
      case 'died':
        workerDied(batch, { ...failure, executor: kind, method: name }, (again) => this.#requeue(again));
        return;
      case 'shutdown':
        for (const piece of pieces) this.#failShutDown(piece, error);
        return;
      default:
        failPieces(pieces, error);
    }
  }

  /** Fails a piece's shards, each with a message that names it. */
  #failShutDown({ unit, offset, count }: Piece, cause: unknown): void {
    const { name, kind } = this.#s;
    for (let j = 0; j < count; j++) {
      const index = unit.start + offset + j;
      const message = say(name, `the '${kind}' pool was shut down (shutdown()) before shard ${index} finished`);
      unit.fail(offset + j, 1, new Error(message, { cause }));
    }
  }

  /** Puts shards back at the front of the queue, to leave first. */
  #requeue(pieces: readonly Piece[]): void {
    if (this.#closed) {
      failPieces(pieces, this.#s.signal.reason);
      return;
    }
    this.#queue.unshift(pieces);
    this.#schedule();
  }
}
