/**
 * Outcomes on their way from the executor to the consumer. Shards settle in runs (one shard, or a
 * stretch of a chunk settled at once), which wait here, in completion or input order, until the
 * consumer takes them whole (`as: 'array'`) or shard by shard (the streams).
 * @module
 */
import { ShardError } from '../errors.js';
import { Fifo } from '../util/fifo.js';

/** One shard's outcome, as a stream hands it on. */
export type Settled =
  | { readonly index: number; readonly shard: unknown; readonly ok: true; readonly value: unknown }
  | { readonly index: number; readonly shard: unknown; readonly ok: false; readonly error: ShardError };

/**
 * The outcomes of consecutive shards settled together: shard `start + i` of the input is
 * `shards[offset + i]`, and its result `values[i]` unless `errors` has position `i`.
 */
export interface SettledRun {
  readonly start: number;
  readonly count: number;
  /** The shards of the chunk the run belongs to (or the one shard, alone). */
  readonly shards: readonly unknown[];
  /** Where the run's first shard is in `shards`. */
  readonly offset: number;
  readonly values: readonly unknown[];
  /** The shards that failed, by position in the run; `undefined` when none did. */
  readonly errors: ReadonlyMap<number, ShardError> | undefined;
}

/** Position `i` of a run as one shard's outcome. */
export function outcomeAt(run: SettledRun, i: number): Settled {
  const index = run.start + i;
  const shard = run.shards[run.offset + i];
  const error = run.errors?.get(i);
  return error === undefined ? { index, shard, ok: true, value: run.values[i] } : { index, shard, ok: false, error };
}

/** One shard's outcome as a run of one. */
export function runOfOne(outcome: Settled): SettledRun {
  const { index: start, shard } = outcome;
  return outcome.ok
    ? { start, count: 1, shards: [shard], offset: 0, values: [outcome.value], errors: undefined }
    : { start, count: 1, shards: [shard], offset: 0, values: [], errors: new Map([[0, outcome.error]]) };
}

/**
 * A run of a chunk: shards `offset` to `offset + count - 1` of `shards`, the first at `start` in the
 * input. Each cause (by position in the run) becomes its shard's ShardError; with `firstOnly` (the
 * first failure ends the call) only the first is made.
 */
export function chunkRun(
  method: string,
  start: number,
  shards: readonly unknown[],
  offset: number,
  values: readonly unknown[],
  count: number,
  causes: ReadonlyMap<number, unknown> | undefined,
  firstOnly: boolean,
): SettledRun {
  let errors: Map<number, ShardError> | undefined;
  if (causes !== undefined) {
    errors = new Map();
    const positions = [...causes.keys()].sort((a, b) => a - b);
    for (const i of firstOnly ? positions.slice(0, 1) : positions) {
      errors.set(i, new ShardError({ method, index: start + i, shard: shards[offset + i], cause: causes.get(i) }));
    }
  }
  return { start, count, shards, offset, values, errors };
}

/** Settled runs not yet handed to the consumer. */
export class Outcomes {
  readonly #ordered: boolean;
  /** `'completed'`: runs in the order they settled. */
  readonly #completed = new Fifo<SettledRun>();
  /** `'ordered'`: runs by the index of their first shard. */
  readonly #ready = new Map<number, SettledRun>();
  /** `'ordered'`: the index of the next shard to hand over. */
  #emitIndex = 0;
  /** The run {@link Outcomes.takeOne} is handing over shard by shard, and where it is in it. */
  #current: SettledRun | undefined;
  #position = 0;

  constructor(order: 'completed' | 'ordered') {
    this.#ordered = order === 'ordered';
  }

  push(run: SettledRun): void {
    if (this.#ordered) this.#ready.set(run.start, run);
    else this.#completed.push(run);
  }

  /** The next run the consumer may have, whole. Not to be mixed with {@link Outcomes.takeOne}. */
  takeRun(): SettledRun | undefined {
    if (!this.#ordered) return this.#completed.shift();
    const run = this.#ready.get(this.#emitIndex);
    if (run === undefined) return undefined;
    this.#ready.delete(this.#emitIndex);
    this.#emitIndex += run.count;
    return run;
  }

  /** The next shard's outcome the consumer may have. */
  takeOne(): Settled | undefined {
    while (this.#current === undefined || this.#position === this.#current.count) {
      this.#current = this.takeRun();
      this.#position = 0;
      if (this.#current === undefined) return undefined;
    }
    return outcomeAt(this.#current, this.#position++);
  }
}
