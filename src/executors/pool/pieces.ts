/**
 * What waits in a pool session: pieces, stretches of consecutive shards of one chunk (a task, a call
 * with a timeout's one shard, is a chunk of one), queued in arrival order and cut into batches at
 * the front, a piece split where a batch ends.
 * @module
 */
import { Fifo } from '../../util/fifo.js';
import type { ShardChunk, ShardTask } from '../executor.js';

/** One task as a chunk of one shard, so that every shard waits and travels the same way. */
export class TaskUnit implements ShardChunk {
  readonly start: number;
  readonly shards: readonly unknown[];
  readonly task: ShardTask;
  readonly #resolve: (value: unknown) => void;
  readonly #reject: (error: unknown) => void;

  constructor(task: ShardTask, resolve: (value: unknown) => void, reject: (error: unknown) => void) {
    this.task = task;
    this.start = task.index;
    this.shards = [task.shard];
    this.#resolve = resolve;
    this.#reject = reject;
  }

  get args(): readonly unknown[] {
    return this.task.args;
  }

  // Read only when watched (a timeout): reading it makes the task's AbortController.
  get signal(): AbortSignal {
    return this.task.signal;
  }

  started(): void {
    this.task.started();
  }

  settle(_offset: number, values: readonly unknown[], failures?: readonly (readonly [number, unknown])[]): void {
    const failure = failures?.[0];
    if (failure === undefined) this.#resolve(values[0]);
    else this.#reject(failure[1]);
  }

  fail(_offset: number, _count: number, error: unknown): void {
    this.#reject(error);
  }

  ranOn(worker: string): void {
    this.task.ranOn?.(worker);
  }
}

/** Consecutive shards of one chunk, waiting or travelling together. */
export interface Piece {
  readonly unit: ShardChunk;
  /** Position of its first shard in the unit. */
  offset: number;
  count: number;
  /** Its batch's worker died: it runs again by itself, so that only the shard that kills a worker fails. */
  readonly alone: boolean;
  /** How many times it reached a worker that had already died. */
  unreached: number;
}

/** The pieces waiting to leave, oldest first. */
export class PieceQueue {
  readonly #pieces = new Fifo<Piece>();
  #shards = 0;

  /** Shards waiting, in all pieces. */
  get shards(): number {
    return this.#shards;
  }

  /** Whether the next batch must be one shard alone. */
  get nextAlone(): boolean {
    return this.#pieces.peek()?.alone === true;
  }

  /** Queues a unit's shards. */
  push(unit: ShardChunk): void {
    const count = unit.shards.length;
    if (count === 0) return;
    this.#pieces.push({ unit, offset: 0, count, alone: false, unreached: 0 });
    this.#shards += count;
  }

  /** Puts pieces back at the front, to leave first. */
  unshift(pieces: readonly Piece[]): void {
    this.#pieces.unshift(pieces);
    for (const piece of pieces) this.#shards += piece.count;
  }

  /** Takes up to `size` shards from the front, as pieces; a piece that travels alone is never joined. */
  cut(size: number): { readonly pieces: Piece[]; readonly count: number } {
    const pieces: Piece[] = [];
    let count = 0;
    while (count < size && this.#pieces.size > 0) {
      const piece = this.#pieces.peek() as Piece;
      if (piece.alone && count > 0) break;
      const wanted = size - count;
      if (piece.count <= wanted) {
        this.#pieces.shift();
        pieces.push(piece);
        count += piece.count;
      } else {
        pieces.push({ ...piece, count: wanted });
        piece.offset += wanted;
        piece.count -= wanted;
        count += wanted;
      }
    }
    this.#shards -= count;
    return { pieces, count };
  }

  /** Takes every piece. */
  drain(): Piece[] {
    this.#shards = 0;
    return this.#pieces.drain();
  }
}

/** Each shard of `pieces` as a piece of its own, to travel alone. */
export function alone(pieces: readonly Piece[]): Piece[] {
  const each: Piece[] = [];
  for (const { unit, offset, count, unreached } of pieces) {
    for (let j = 0; j < count; j++) each.push({ unit, offset: offset + j, count: 1, alone: true, unreached });
  }
  return each;
}

/** Fails every shard of `pieces` with `error`. */
export function failPieces(pieces: readonly Piece[], error: unknown): void {
  for (const piece of pieces) piece.unit.fail(piece.offset, piece.count, error);
}
