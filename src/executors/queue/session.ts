/**
 * One call on the queue executor: shards wait here as pieces (as in the worker pool's session),
 * leave in batches, each batch one BullMQ job, and come back as each job completes.
 *
 * How results come back: **one listener per call plus reconciliation by job id**. The executor's
 * one `QueueEvents` stream hands each call the `active`/`completed`/`failed` events of its own jobs
 * (their ids start with the call's id), which brings results back the moment they are ready. That
 * stream is best effort (events are missed before it is ready, while it reconnects, and when the
 * stream is trimmed under load), so every half second the call also reads the state of each job it
 * still waits for, in one pipelined round trip: a missed event costs at most that delay, never a
 * result. Waiting per job (`waitUntilFinished`) was not chosen: it adds listeners per job and can
 * wait forever; a flow parent was not chosen either: its children's values are read once all are
 * done, while results should stream.
 *
 * Each job is removed from Redis as soon as its result is read; when the call stops, the jobs not
 * started are removed, the running ones are told to stop (a pub/sub message every worker hears),
 * and are removed once they end.
 * @module
 */
import { callOver } from '../../errors.js';
import { reasonOf, say } from '../../messages.js';
import { packLenient, packNumbers, unpackList, type LenientPack, type PackedList } from '../../wire/clone.js';
import { decodeThrown } from '../../wire/remote-error.js';
import type { ExecutorSession, ShardChunk, ShardTask } from '../executor.js';
import type { BatchSizer } from '../pool/batching.js';
import { failuresIn, PieceQueue, TaskUnit, type Piece } from '../pool/pieces.js';
import type { Connected, JobListener, QueueClient } from './client.js';
import { JOB_VERSION, jobId, responseOf, shardsToText, type JobData } from './jobs.js';

/** What a session is opened with (see open-session.ts). */
export interface QueueSessionSettings {
  readonly client: QueueClient;
  readonly call: string;
  readonly name: string;
  /** Module of the method, relative to the working folder (see `JobData.module`). */
  readonly module: string;
  /** The packed `CallContext`, in base64. */
  readonly context: string;
  readonly slots: number;
  readonly sizer: BatchSizer;
  readonly watchTasks: boolean;
  readonly signal: AbortSignal;
  /** How long Redis may stay unreachable before the call's shards fail. */
  readonly downTimeout: number;
  readonly keepFinishedSeconds: number;
}

interface Batch {
  readonly id: string;
  readonly pieces: readonly Piece[];
  readonly count: number;
  readonly bytes: number;
  started: boolean;
  unwatch: (() => void) | undefined;
}

/** How often the call reads the state of the jobs it waits for (missed events, dead Redis). */
const RECONCILE_MS = 500;
/** How long, after the call stops, it waits for its running jobs to end, to remove them. */
const DRAIN_MS = 30_000;
const FIELDS = ['processedOn', 'finishedOn', 'returnvalue', 'failedReason'] as const;

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
    const reason: unknown = this.#s.signal.reason ?? callOver(this.#s.name);
    for (const { unit, offset, count } of this.#queue.drain()) unit.fail(offset, count, reason);
    const stopped = [...this.#running.values()];
    this.#running.clear();
    for (const batch of stopped) {
      batch.unwatch?.();
      for (const piece of batch.pieces) piece.unit.fail(piece.offset, piece.count, reason);
    }
    if (stopped.length > 0) {
      this.#connected?.cancel({ call: this.#s.call }).catch(() => undefined);
      for (const { id } of stopped) this.#remove(id);
    }
    this.#drainUntil = Date.now() + DRAIN_MS;
    this.#releaseWhenDrained();
  }

  // JobListener: the events of this call's jobs.

  active(id: string): void {
    const batch = this.#running.get(id);
    if (batch === undefined || batch.started) return;
    batch.started = true;
    for (const piece of batch.pieces) piece.unit.started(piece.offset, piece.count);
  }

  completed(id: string, result: unknown): void {
    const batch = this.#finishing(id);
    if (batch === undefined) return;
    this.#settle(batch, result);
  }

  failed(id: string, reason: string): void {
    const batch = this.#finishing(id);
    if (batch === undefined) return;
    const error = new Error(say(this.#s.name, `the job of ${shardsOf(batch)} failed in a worker: ${reason}`));
    for (const piece of batch.pieces) piece.unit.fail(piece.offset, piece.count, error);
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
          for (const piece of batch.pieces) piece.unit.fail(piece.offset, piece.count, failure);
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
    if (this.#s.watchTasks) this.#watch(batch);
    // Without a timeout, shards count as started when they leave (progress durations then include
    // the wait in the queue); with one, from the job's `active` event, when a worker takes it.
    else this.active(id);
    const data: JobData = { v: JOB_VERSION, call, name, module, context, indices, shards };
    // The caller removes each job as it reads it; these only bound what a caller that died leaves.
    const keep = { age: keepFinishedSeconds };
    return {
      add: { name, data, opts: { jobId: id, attempts: 1, removeOnComplete: keep, removeOnFail: keep } },
      batch,
    };
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
      for (const piece of pieces) piece.unit.fail(piece.offset, piece.count, error);
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
        for (const piece of batch.pieces) piece.unit.fail(piece.offset, piece.count, signal.reason);
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

  #settle(batch: Batch, result: unknown): void {
    const { pieces, count } = batch;
    this.#remove(batch.id);
    let values: unknown[];
    let response;
    try {
      response = responseOf(result);
      if (response.batchFailure !== undefined) throw decodeThrown(response.batchFailure);
      values = unpackList(response.values);
    } catch (error) {
      for (const piece of pieces) piece.unit.fail(piece.offset, piece.count, error);
      return;
    }
    values.length = count;
    this.#s.sizer.completed(count, response.durationMs, Math.max(batch.bytes, response.values.byteLength));
    let base = 0;
    for (const piece of pieces) {
      const part = pieces.length === 1 ? values : values.slice(base, base + piece.count);
      piece.unit.settle(piece.offset, part, failuresIn(response.failures, base, piece.count));
      base += piece.count;
    }
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
    let answers: Awaited<ReturnType<Connected['fields']>> = [];
    try {
      if (ids.length > 0) answers = await connected.fields(ids, FIELDS);
      this.#downSince = undefined;
    } catch (error) {
      this.#downSince ??= Date.now();
      if (Date.now() - this.#downSince > this.#s.downTimeout) this.#lost(error);
    } finally {
      this.#reconciling = false;
    }
    answers.forEach((fields, i) => this.#reconcileOne(ids[i] as string, fields));
    if (this.#closed && Date.now() > this.#drainUntil) {
      this.#inRedis.clear();
      this.#releaseWhenDrained();
    }
  }

  #reconcileOne(id: string, fields: (string | null)[] | undefined): void {
    if (fields === undefined) {
      // Gone from Redis: removed by this call, or by someone else (an obliterated queue).
      this.#inRedis.delete(id);
      const batch = this.#running.get(id);
      if (batch !== undefined) this.failed(id, 'the job is no longer in Redis (was the queue emptied?)');
      this.#releaseWhenDrained();
      return;
    }
    const [processedOn, finishedOn, returnvalue, failedReason] = fields;
    if (processedOn !== null && processedOn !== undefined) this.active(id);
    if (finishedOn === null || finishedOn === undefined) return;
    if (failedReason !== null && failedReason !== undefined && failedReason !== '') this.failed(id, failedReason);
    else this.completed(id, parse(returnvalue));
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
    for (const batch of lost) for (const piece of batch.pieces) piece.unit.fail(piece.offset, piece.count, error);
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

function parse(text: string | null | undefined): unknown {
  if (text === null || text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function shardsOf({ pieces, count }: Batch): string {
  const first = pieces[0];
  const start = first === undefined ? 0 : first.unit.start + first.offset;
  return count === 1 ? `shard ${start}` : `${count} shards from shard ${start}`;
}
