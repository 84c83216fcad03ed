/**
 * Reading one call's shards. An array is read by index as its shards are handed over: reading it
 * ahead would gain nothing, and a chunk is then one copy of a stretch of it. Anything else is read
 * through its iterator, ahead of the hand-over as far as the engine allows: sync iterators in a loop,
 * async ones one `next()` at a time.
 *
 * The iterator is held to what `for…of` and `for await…of` require of it (see shards.ts): whatever it
 * does wrong, throws or gives, fails the call through `failed` with the index being read, and never
 * escapes as an unhandled rejection. As with `for…of`, an iterator that failed is not closed.
 * @module
 */
import type { Shards } from '../types.js';
import { Fifo } from '../util/fifo.js';
import { arrayShards, checkResult, closeShards, openShards, type ShardIterator } from './shards.js';
import { isThenable } from '../util/thenable.js';

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
  /** The input, when it is read through its iterator. */
  readonly #iterable: Shards<unknown> | undefined;
  /** Opened at the first read, so that what opening throws is reported like any failed read. */
  #iterator: ShardIterator | undefined;
  /** Shards read ahead from the iterator and not yet taken, oldest first. */
  readonly #waiting = new Fifo<unknown>();
  #read = 0;
  #reading = false;
  #done = false;
  #closed = false;
  /** Reading the iterator threw or gave something that is no iterator result. */
  #failed = false;

  constructor(shards: Shards<unknown>, events: ReaderEvents) {
    this.#events = events;
    this.#array = arrayShards(shards);
    this.#iterable = this.#array === undefined ? shards : undefined;
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
    const opened = this.#open();
    if (opened === undefined) return 0;
    const { iterator, next, async } = opened;
    let read = 0;
    while (read < room && !this.#reading && !this.#done && !this.#closed && !this.#failed) {
      const index = this.#read;
      try {
        const result = next.call(iterator);
        if (async && isThenable(result)) {
          // Promise.resolve may read the result's own `constructor`: inside the try, like `then`.
          this.#await(Promise.resolve(result), index);
          break;
        }
        read += this.#accept(result);
      } catch (error) {
        this.#fail(error, index);
      }
    }
    return read;
  }

  /** The iterator, opened at the first read; `undefined` for an array, or when opening failed. */
  #open(): ShardIterator | undefined {
    if (this.#iterator !== undefined || this.#iterable === undefined || this.#failed) return this.#iterator;
    try {
      this.#iterator = openShards(this.#iterable);
    } catch (error) {
      this.#fail(error, 0);
    }
    return this.#iterator;
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
   * Stops reading. An iterator not read to its end is closed (`return()`), unless reading it failed;
   * a promise of the closing is given back, and what closing throws thrown, for the caller to report.
   */
  close(): unknown {
    if (this.#closed) return undefined;
    this.#closed = true;
    const opened = this.#iterator;
    return opened === undefined || this.#done || this.#failed ? undefined : closeShards(opened);
  }

  /** An async read under way: its shard, the end, or the failure comes back through the events. */
  #await(result: Promise<unknown>, index: number): void {
    this.#reading = true;
    result.then(
      (settled) => {
        this.#reading = false;
        if (this.#closed) return;
        let read: number;
        try {
          read = this.#accept(settled);
        } catch (error) {
          this.#fail(error, index);
          return;
        }
        this.#events.resumed(read);
      },
      (error: unknown) => {
        this.#reading = false;
        if (!this.#closed) this.#fail(error, index);
      },
    );
  }

  /**
   * Takes one iterator result; returns 1 for a shard, 0 for the end. Throws, as `for…of` would, for a
   * result that is no object, and what its `done` or `value` getter throws.
   */
  #accept(result: unknown): number {
    const checked = checkResult(result, this.#iterator as ShardIterator, 'next');
    if (checked.done) {
      this.#done = true;
      return 0;
    }
    const value = checked.value;
    this.#read++;
    this.#waiting.push(value);
    return 1;
  }

  #fail(error: unknown, index: number): void {
    this.#failed = true;
    this.#events.failed(error, index);
  }
}
