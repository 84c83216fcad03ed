/**
 * Reading one call's shards. An array is read by index as its shards are handed over: reading it
 * ahead would gain nothing, and a chunk is then one copy of a stretch of it. Anything else is read
 * through its iterator, ahead of the hand-over as far as the engine allows: sync iterators in a loop,
 * async ones one `next()` at a time.
 * @module
 */
import type { Shards } from '../types.js';
import { Fifo } from '../util/fifo.js';
import { arrayShards, openShards, type ShardIterator } from './shards.js';

/** What the reader tells its fan-out. */
export interface ReaderEvents {
  /** An async read came back: `read` is 1 for a shard, 0 for the end of the input. */
  readonly resumed: (read: number) => void;
  /** Reading shard `index` threw `error`. */
  readonly failed: (error: unknown, index: number) => void;
}

/** Consecutive shards taken from the reader: shard `start + i` of the input is `shards[i]`. */
export interface Taken {
  readonly start: number;
  readonly shards: unknown[];
}

/** The shards of one call, read lazily. */
export class ShardReader {
  readonly #events: ReaderEvents;
  /** The input, when it is an array read by index (see arrayShards). */
  readonly #array: readonly unknown[] | undefined;
  readonly #iterator: ShardIterator | undefined;
  /** Shards read ahead from the iterator and not yet taken, oldest first. */
  readonly #waiting = new Fifo<unknown>();
  #read = 0;
  #reading = false;
  #done = false;
  #closed = false;

  constructor(shards: Shards<unknown>, events: ReaderEvents) {
    this.#events = events;
    this.#array = arrayShards(shards);
    this.#iterator = this.#array === undefined ? openShards(shards) : undefined;
  }

  /** Whether shards are read as they are taken (an array) rather than ahead (an iterator). */
  get byIndex(): boolean {
    return this.#array !== undefined;
  }

  /** Shards read so far: the index of the next one. */
  get read(): number {
    return this.#read;
  }

  /** Shards read ahead and not yet taken. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /** Whether the input has no more shards. */
  get done(): boolean {
    return this.#done;
  }

  /** Whether an async read is under way. */
  get reading(): boolean {
    return this.#reading;
  }

  /**
   * Reads up to `room` shards ahead from the iterator (an array is never read ahead). Returns how
   * many it read now; an async read started here brings its shard later, through `resumed`.
   */
  readAhead(room: number): number {
    const iterator = this.#iterator;
    let read = 0;
    while (iterator !== undefined && read < room && !this.#reading && !this.#done && !this.#closed) {
      let result: IteratorResult<unknown> | Promise<IteratorResult<unknown>>;
      try {
        result = iterator.next();
      } catch (error) {
        this.#events.failed(error, this.#read);
        return read;
      }
      if (isThenable(result)) {
        this.#reading = true;
        Promise.resolve(result).then(
          (value) => {
            this.#reading = false;
            if (!this.#closed) this.#events.resumed(this.#accept(value));
          },
          (error: unknown) => {
            this.#reading = false;
            if (!this.#closed) this.#events.failed(error, this.#read);
          },
        );
        break;
      }
      read += this.#accept(result);
    }
    return read;
  }

  /**
   * Takes up to `count` consecutive shards to hand over: the array's next ones, read now, or those
   * read ahead. `undefined` when there are none now (and, for an array, when it ended or failed).
   */
  take(count: number): Taken | undefined {
    const array = this.#array;
    if (array === undefined) {
      const n = Math.min(count, this.#waiting.size);
      if (n <= 0) return undefined;
      const shards = new Array<unknown>(n);
      for (let i = 0; i < n; i++) shards[i] = this.#waiting.shift();
      return { start: this.#read - this.#waiting.size - n, shards };
    }
    // The array is read live, as its iterator would read it: its length at each take.
    const n = Math.min(count, array.length - this.#read);
    if (n <= 0 || this.#closed) {
      if (n <= 0) this.#done = true;
      return undefined;
    }
    const start = this.#read;
    // Read by index, as the array's own iterator would (holes read as `undefined`; a getter may
    // throw), and not with slice(), which would build the chunk with a subclass's constructor.
    const shards = new Array<unknown>(n);
    try {
      for (; this.#read < start + n; this.#read++) shards[this.#read - start] = array[this.#read];
    } catch (error) {
      this.#events.failed(error, this.#read);
      return undefined;
    }
    return { start, shards };
  }

  /**
   * Stops reading. An iterator not read to its end is closed (`return()`); what that returns is
   * given back, and what it throws thrown, for the caller to report.
   */
  close(): unknown {
    if (this.#closed) return undefined;
    this.#closed = true;
    return this.#done ? undefined : this.#iterator?.return?.();
  }

  /** Takes one iterator result; returns 1 for a shard, 0 for the end. */
  #accept(result: IteratorResult<unknown>): number {
    if (result.done === true) {
      this.#done = true;
      return 0;
    }
    this.#read++;
    this.#waiting.push(result.value);
    return 1;
  }
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as Partial<PromiseLike<T>>).then === 'function';
}
