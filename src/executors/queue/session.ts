/**
 * One call on the queue executor: shards wait here as pieces (as in the worker pool's session),
 * leave in batches, each batch one BullMQ job, and come back as each job completes.
 *
 * How results come back: **one listener per call plus reconciliation by job id**. The executor's
 * one `QueueEvents` stream hands each call the `active`/`completed`/`failed` events of its own jobs
 * (their ids start with the call's id); a completion is then read from the job itself, at once,
 * which brings results back the moment they are ready. That stream is best effort (events are
 * missed before it is ready, while it reconnects, and when the stream is trimmed under load), so
 * every half second the call also reads the state of each job it still waits for, in one pipelined
 * round trip: a missed event costs at most that delay, never a result. Waiting per job
 * (`waitUntilFinished`) was not chosen: it adds listeners per job and can wait forever; a flow
 * parent was not chosen either: its children's values are read once all are done, while results
 * should stream.
 *
 * A batch's shards count as started when a worker takes its job (its `active` event, or the job's
 * `processedOn` when that event was missed), not when it is added: jobs wait in Redis for a free
 * worker, and that wait is not shard time (as with `'worker'`, whose batches start in the worker).
 *
 * Each job is removed from Redis as soon as its result is read; when the call stops, the jobs not
 * started are removed, the running ones are told to stop (a pub/sub message every worker hears),
 * and are removed once they end.
 * @module
 */
import { callOver } from '../../errors.js';
import { reasonOf, say } from '../../messages.js';
import { packLenient, packNumbers, type LenientPack, type PackedList } from '../../wire/clone.js';
import type { BatchResponse } from '../../wire/protocol.js';
import { decodeThrown } from '../../wire/remote-error.js';
import type { ExecutorSession, ShardChunk, ShardTask } from '../executor.js';
import type { BatchSizer } from '../pool/batching.js';
import { settleBatch, workerDied, type SentBatch } from '../pool/batch-answer.js';
import { failPieces, PieceQueue, TaskUnit, type Piece } from '../pool/pieces.js';
import type { Connected, JobListener, JobState, QueueClient } from './client.js';
import { JOB_VERSION, jobId, outcomeOf, shardsToText, type JobData, type JobDied } from './jobs.js';

/** What a session is opened with (see open-session.ts). */
export interface QueueSessionSettings {
  readonly client: QueueClient;
  readonly call: string;
  readonly name: string;
  /** Module of the method, by its package and its path there (see `JobData.module`). */
  readonly module: string;
  /** The packed `CallContext`, in base64. */
  readonly context: string;
  readonly slots: number;
  readonly sizer: BatchSizer;
  /**
   * Whether shards are watched one by one: a timeout or a rate limit counts from each shard's true
   * start, and with a timeout each shard's own signal may abort too.
   */
  readonly watchTasks: boolean;
  readonly signal: AbortSignal;
  /** How long Redis may stay unreachable before the call's shards fail. */
  readonly downTimeout: number;
  readonly keepFinishedSeconds: number;
}

interface Batch extends SentBatch {
  readonly id: string;
  started: boolean;
  unwatch: (() => void) | undefined;
}

/** How often the call reads the state of the jobs it waits for (missed events, dead Redis). */
const RECONCILE_MS = 500;
/** How long, after the call stops, it waits for its running jobs to end, to remove them. */
const DRAIN_MS = 30_000;

/** The session of one call on the queue executor. */
export class QueueSession implements ExecutorSession, JobListener {
  /** A batch's shards run one after another in its worker. */
  readonly runsInTurn = true;
  readonly #s: QueueSessionSettings;
  readonly #queue = new PieceQueue();
  readonly #running = new Map<string, Batch>();
  /** Jobs added and not yet removed from Redis (the running ones, and those being removed). */
  readonly #inRedis = new Set<string>();
  /** Jobs being added: until Redis has them, reconciling would find no job and take it for lost. */
  readonly #adding = new Set<string>();
  /** Jobs whose completion was heard, to read on the next turn of the event loop (together). */
  readonly #due = new Set<string>();
  #connected: Connected | undefined;
  #jobs = 0;
  #scheduled = false;
  #closed = false;
  #released = false;
  #timer: NodeJS.Timeout | undefined;
  #reconciling = false;
  /** Since when Redis has not answered, if it has not. */
  #downSince: number | undefined;
  #drainUntil = 0;

  constructor(settings: QueueSessionSettings) {
    this.#s = settings;
    settings.signal.addEventListener('abort', () => this.close(), { once: true });
  }

  /** Opens the connections (fails within the connect timeout when Redis cannot be reached). */
  async start(): Promise<void> {
    this.#connected = await this.#s.client.acquire(this.#s.name, this.#s.call, this);
    this.#timer = setInterval(() => void this.#reconcile(), RECONCILE_MS);
  }

  /** Two batches per slot: one running, one waiting in the queue for the next free worker. */
  get capacity(): number {
    return 2 * this.#s.slots * this.#s.sizer.size;
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
    const reason = this.#whyClosed();
    failPieces(this.#queue.drain(), reason);
    const stopped = [...this.#running.values()];
    this.#running.clear();
    for (const batch of stopped) {
      batch.unwatch?.();
      failPieces(batch.pieces, reason);
    }
    if (stopped.length > 0) {
      this.#connected?.cancel({ call: this.#s.call }).catch(() => undefined);
      for (const { id } of stopped) this.#remove(id);
    }
    this.#drainUntil = Date.now() + DRAIN_MS;
    this.#releaseWhenDrained();
  }

  /** Why what waits or runs fails once the call is closed. */
  #whyClosed(): unknown {
    return this.#s.signal.reason ?? callOver(this.#s.name);
  }

  // JobListener: the events of this call's jobs.

  active(id: string): void {
    const batch = this.#running.get(id);
    if (batch === undefined || batch.started) return;
    batch.started = true;
    for (const piece of batch.pieces) piece.unit.started(piece.offset, piece.count);
  }

  completed(id: string): void {
    if (!this.#running.has(id) && !this.#inRedis.has(id)) return;
    this.#due.add(id);
    if (this.#due.size === 1) setImmediate(() => void this.#readDue());
  }

  failed(id: string, reason: string): void {
    const batch = this.#finishing(id);
    if (batch === undefined) return;
    const error = new Error(say(this.#s.name, `the job of ${shardsOf(batch)} failed in a worker: ${reason}`));
    failPieces(batch.pieces, error);
  }

  /** The batch of a job that ended, no longer running; `undefined` when no shard waits for it. */
  #finishing(id: string): Batch | undefined {
    const batch = this.#running.get(id);
    if (batch !== undefined) {
      this.#done(batch);
      return batch;
    }
    // A job of a stopped call that ended after all: now it can go.
    if (this.#inRedis.has(id)) this.#remove(id);
    return undefined;
  }

  #enqueue(unit: ShardChunk): void {
    this.#queue.push(unit);
    this.#schedule();
  }

  // Jobs are added on the next turn of the event loop, once the engine has handed over what it can.
  #schedule(): void {
    if (this.#scheduled || this.#closed) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    const { slots, sizer } = this.#s;
    const jobs: { name: string; data: JobData; opts: Record<string, unknown> }[] = [];
    const batches: Batch[] = [];
    while (!this.#closed && this.#running.size < slots && this.#queue.shards > 0) {
      const { pieces, count } = this.#queue.cut(this.#queue.nextAlone ? 1 : sizer.next(this.#queue.shards, slots));
      const job = this.#job(pieces, count);
      if (job === undefined) continue;
      jobs.push(job.add);
      batches.push(job.batch);
    }
    if (jobs.length === 0) return;
    const connected = this.#connected;
    if (connected === undefined) return;
    connected.queue.addBulk(jobs).then(
      () => {
        for (const { id } of batches) this.#adding.delete(id);
        if (this.#closed) for (const { id } of batches) this.#remove(id);
      },
      (error: unknown) => {
        const failure = new Error(
          say(this.#s.name, `adding jobs to the queue on Redis at ${this.#s.client.where} failed: ${reasonOf(error)}`),
          { cause: error },
        );
        for (const batch of batches) {
          this.#adding.delete(batch.id);
          this.#inRedis.delete(batch.id);
          if (!this.#running.has(batch.id)) continue;
          this.#done(batch);
          failPieces(batch.pieces, failure);
        }
      },
    );
  }

  #job(
    pieces: readonly Piece[],
    count: number,
  ): { add: { name: string; data: JobData; opts: Record<string, unknown> }; batch: Batch } | undefined {
    const { name, call, module, context, keepFinishedSeconds } = this.#s;
    const indices: number[] = [];
    for (const { unit, offset, count: n } of pieces) for (let j = 0; j < n; j++) indices.push(unit.start + offset + j);
    const packed = this.#pack(pieces, count, indices);
    if (packed === undefined) return undefined;
    const id = jobId(call, ++this.#jobs);
    const shards = shardsToText(packed);
    const batch: Batch = { id, pieces, count, bytes: packed.byteLength, started: false, unwatch: undefined };
    this.#running.set(id, batch);
    this.#inRedis.add(id);
    this.#adding.add(id);
    // The shards start when a worker takes the job (see `active`), not now: it may wait for one.
    if (this.#s.watchTasks) this.#watch(batch);
    const data: JobData = { v: JOB_VERSION, call, name, module, context, indices, shards };
    // The caller removes each job as it reads it; these only bound what a caller that died leaves.
    const keep = { age: keepFinishedSeconds };
    // The outcome is the log's one line: a job that runs again (its worker died) replaces it.
    const opts = { jobId: id, attempts: 1, removeOnComplete: keep, removeOnFail: keep, keepLogs: 1 };
    return { add: { name, data, opts }, batch };
  }

  /** The batch's shards packed; `undefined` when none is left to send (they could not be cloned). */
  #pack(pieces: readonly Piece[], count: number, indices: readonly number[]): PackedList | undefined {
    const only = pieces.length === 1 ? (pieces[0] as Piece) : undefined;
    const numbers = only && packNumbers(only.unit.shards, only.offset, only.count);
    if (numbers !== undefined) return numbers;
    const shards = new Array<unknown>(count);
    let position = 0;
    for (const { unit, offset, count: n } of pieces)
      for (let j = 0; j < n; j++) shards[position++] = unit.shards[offset + j];
    let lenient: LenientPack;
    try {
      lenient = packLenient(shards, this.#s.name, (i) => `shard ${indices[i] ?? i}`, 'shard');
    } catch (error) {
      failPieces(pieces, error);
      return undefined;
    }
    if (lenient.unclonable.length === 0) return lenient.packed;
    // Shards that cannot be cloned fail, naming what; the others go back to wait for a batch.
    const culprits = new Map(lenient.unclonable);
    const fine: Piece[] = [];
    let base = 0;
    for (const piece of pieces) {
      for (let j = 0; j < piece.count; j++) {
        const error = culprits.get(base + j);
        if (error === undefined) fine.push({ ...piece, offset: piece.offset + j, count: 1 });
        else piece.unit.fail(piece.offset + j, 1, error);
      }
      base += piece.count;
    }
    if (fine.length > 0) {
      this.#queue.unshift(fine);
      this.#schedule();
    }
    return undefined;
  }

  /** With a timeout: a shard whose time is up stops its job, wherever it runs. */
  #watch(batch: Batch): void {
    const listeners = batch.pieces.flatMap(({ unit }) => {
      if (!(unit instanceof TaskUnit)) return [];
      const { signal } = unit.task;
      const onAbort = (): void => {
        if (!this.#running.has(batch.id)) return;
        this.#done(batch);
        failPieces(batch.pieces, signal.reason);
        this.#connected?.cancel({ call: this.#s.call, jobs: [batch.id] }).catch(() => undefined);
        this.#remove(batch.id);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      return [() => signal.removeEventListener('abort', onAbort)];
    });
    batch.unwatch = () => listeners.forEach((unwatch) => unwatch());
  }

  #done(batch: Batch): void {
    this.#running.delete(batch.id);
    batch.unwatch?.();
    this.#schedule();
  }

  #settle(batch: Batch, text: string | null): void {
    this.#remove(batch.id);
    let response: BatchResponse;
    try {
      const outcome = outcomeOf(text);
      if ('died' in outcome) {
        this.#died(batch, outcome.died);
        return;
      }
      response = outcome.response;
    } catch (error) {
      failPieces(batch.pieces, error);
      return;
    }
    settleBatch(batch, response, this.#s.sizer);
  }

  /** The worker thread that ran the batch died: as with `'worker'`, its shards run again alone. */
  #died(batch: Batch, { exitCode, signal, reason }: JobDied): void {
    const death = {
      executor: 'worker',
      method: this.#s.name,
      exitCode,
      signal,
      reason: reason && decodeThrown(reason),
    } as const;
    workerDied(batch, death, (again) => this.#requeue(again));
  }

  /** Puts shards back at the front of the queue, to leave first. */
  #requeue(pieces: readonly Piece[]): void {
    if (this.#closed) {
      failPieces(pieces, this.#whyClosed());
      return;
    }
    this.#queue.unshift(pieces);
    this.#schedule();
  }

  /** Removes a job from Redis; one that is running stays until it ends (see {@link close}). */
  #remove(id: string): void {
    const connected = this.#connected;
    if (connected === undefined) return;
    connected.queue.remove(id).then(
      (removed) => {
        if (removed === 1) this.#inRedis.delete(id);
        this.#releaseWhenDrained();
      },
      () => undefined,
    );
  }

  /** Reads the state of every job still waited for: what the event stream missed, and a dead Redis. */
  async #reconcile(): Promise<void> {
    const connected = this.#connected;
    if (this.#reconciling || connected === undefined) return;
    this.#reconciling = true;
    const ids = [...(this.#closed ? this.#inRedis : this.#running.keys())].filter((id) => !this.#adding.has(id));
    let answers: (JobState | undefined)[] = [];
    try {
      if (ids.length > 0) answers = await connected.read(ids);
      this.#downSince = undefined;
    } catch (error) {
      this.#downSince ??= Date.now();
      if (Date.now() - this.#downSince > this.#s.downTimeout) this.#lost(error);
    } finally {
      this.#reconciling = false;
    }
    await this.#eachJob(ids, answers, true);
    if (this.#closed && Date.now() > this.#drainUntil) {
      this.#inRedis.clear();
      this.#releaseWhenDrained();
    }
  }

  /** Reads the jobs whose completion was heard (a failure to read is left to the next reconciliation). */
  async #readDue(): Promise<void> {
    const ids = [...this.#due];
    this.#due.clear();
    const connected = this.#connected;
    if (connected === undefined) return;
    let answers: (JobState | undefined)[];
    try {
      answers = await connected.read(ids);
    } catch {
      return;
    }
    // A job gone already was read and removed by a reconciliation meanwhile, which tells that apart.
    await this.#eachJob(ids, answers, false);
  }

  /**
   * Takes in what was read of each job, one job per microtask: the call's figures take the pieces
   * settled in one synchronous run that started together for one batch, whose time counts once,
   * and jobs read together were often taken by workers together.
   */
  async #eachJob(ids: readonly string[], states: readonly (JobState | undefined)[], gone: boolean): Promise<void> {
    for (let i = 0; i < states.length; i++) {
      const state = states[i];
      if (state === undefined && !gone) continue;
      if (i > 0) await Promise.resolve();
      this.#reconcileOne(ids[i] as string, state);
    }
  }

  #reconcileOne(id: string, state: JobState | undefined): void {
    if (state === undefined) {
      // Gone from Redis: removed by this call, or by someone else (an obliterated queue).
      this.#inRedis.delete(id);
      const batch = this.#running.get(id);
      if (batch !== undefined) this.failed(id, 'the job is no longer in Redis (was the queue emptied?)');
      this.#releaseWhenDrained();
      return;
    }
    const { processedOn, finishedOn, failedReason, outcome } = state;
    if (processedOn !== null) this.active(id);
    if (finishedOn === null) return;
    if (failedReason !== null && failedReason !== '') {
      this.failed(id, failedReason);
      return;
    }
    const batch = this.#finishing(id);
    if (batch !== undefined) this.#settle(batch, outcome);
  }

  /** Redis has not answered for too long: every shard waited for fails, saying so. */
  #lost(cause: unknown): void {
    const error = new Error(
      say(
        this.#s.name,
        `lost the connection to Redis at ${this.#s.client.where} for over ${this.#s.downTimeout} ms (${reasonOf(cause)})`,
      ),
      { cause },
    );
    // All leave the running set before any fails: a failure may stop the call, which fails what runs.
    const lost = [...this.#running.values()];
    for (const batch of lost) this.#done(batch);
    for (const batch of lost) failPieces(batch.pieces, error);
    if (this.#closed) {
      this.#inRedis.clear();
      this.#releaseWhenDrained();
    }
  }

  #releaseWhenDrained(): void {
    if (!this.#closed || this.#released || this.#inRedis.size > 0) return;
    this.#released = true;
    clearInterval(this.#timer);
    this.#s.client.release(this.#s.call);
  }
}

function shardsOf({ pieces, count }: Batch): string {
  const first = pieces[0];
  const start = first === undefined ? 0 : first.unit.start + first.offset;
  return count === 1 ? `shard ${start}` : `${count} shards from shard ${start}`;
}
