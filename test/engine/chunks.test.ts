/**
 * The engine's chunk path (`ExecutorSession.runChunk`), driven by in-process executors that take
 * chunks: what it hands over, and that every rule the per-shard path keeps still holds when shards
 * travel and settle in stretches (order, bounds, fail-fast, stopping, progress, errors).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  distribute,
  ShardError,
  ShardSourceError,
  type DistributeOptions,
  type Executor,
  type Progress,
  type ShardChunk,
  type ShardOutcome,
} from '../../src/index.js';
import { collect, countingSource, range, settleWithin, sleep, until } from '../helpers.js';

/** What a chunk executor saw. */
interface Seen {
  readonly chunks: ShardChunk[];
  tasks: number;
  closed: boolean;
}

type ChunkRunner = (chunk: ShardChunk, fn: (shard: unknown, ...args: unknown[]) => unknown) => void;

/** An executor whose sessions take chunks and run them with `runner`; `capacity` fixed. */
function chunkExecutor(runner: ChunkRunner, capacity = 4): { executor: Executor; seen: Seen } {
  const seen: Seen = { chunks: [], tasks: 0, closed: false };
  const executor: Executor = {
    name: 'chunks',
    defaultConcurrency: () => capacity,
    open: ({ method }) => ({
      capacity,
      run: async (task) => {
        seen.tasks++;
        task.started();
        return method.fn.call(method.thisArg, task.shard, ...task.args);
      },
      runChunk: (chunk) => {
        seen.chunks.push(chunk);
        runner(chunk, (shard, ...args) => method.fn.call(method.thisArg, shard, ...args));
      },
      close: () => {
        seen.closed = true;
      },
    }),
  };
  return { executor, seen };
}

/** Runs every shard of the chunk, then settles them all at once. */
function runAll(chunk: ShardChunk, fn: (shard: unknown, ...args: unknown[]) => unknown): void {
  chunk.started(0, chunk.shards.length);
  const values: unknown[] = [];
  const failures: [number, unknown][] = [];
  chunk.shards.forEach((shard, i) => {
    try {
      values[i] = fn(shard, ...chunk.args);
    } catch (error) {
      failures.push([i, error]);
    }
  });
  values.length = chunk.shards.length;
  chunk.settle(0, values, failures);
}

const syncAll: ChunkRunner = runAll;
const laterAll: ChunkRunner = (chunk, fn) => void sleep(1).then(() => runAll(chunk, fn));

describe('chunks: what the engine hands over', () => {
  it('reads an array by index and hands it over in chunks of consecutive shards, each within capacity', async () => {
    const { executor, seen } = chunkExecutor(laterAll, 4);
    const results = await distribute((i: number) => i * 2, { executor })(range(10));
    assert.deepEqual(
      results,
      range(10).map((i) => i * 2),
    );
    assert.equal(seen.tasks, 0, 'no shard went through run()');
    let next = 0;
    for (const chunk of seen.chunks) {
      assert.equal(chunk.start, next, 'consecutive');
      assert.ok(chunk.shards.length >= 1 && chunk.shards.length <= 4, `${chunk.shards.length} shards`);
      assert.deepEqual(chunk.shards, range(10).slice(chunk.start, chunk.start + chunk.shards.length));
      next += chunk.shards.length;
    }
    assert.equal(next, 10);
    assert.equal(seen.chunks[0]?.shards.length, 4, 'the first chunk takes all the room there is');
  });

  it('reads a sync iterable and an async iterable in chunks too', async () => {
    const { executor, seen } = chunkExecutor(laterAll, 3);
    function* numbers() {
      yield* range(7);
    }
    async function* later() {
      for (const i of range(7)) {
        await sleep(0);
        yield i;
      }
    }
    assert.deepEqual(
      await distribute((i: number) => i + 1, { executor })(numbers()),
      range(7).map((i) => i + 1),
    );
    assert.deepEqual(
      await distribute((i: number) => i + 1, { executor })(later()),
      range(7).map((i) => i + 1),
    );
    assert.equal(seen.tasks, 0);
    assert.equal(
      seen.chunks.reduce((sum, chunk) => sum + chunk.shards.length, 0),
      14,
    );
  });

  it('a finite timeout sends one task per shard through run(), so that each shard keeps its own clock', async () => {
    const { executor, seen } = chunkExecutor(laterAll);
    assert.deepEqual(await distribute((i: number) => i, { executor, timeout: 1000 })(range(5)), range(5));
    assert.equal(seen.chunks.length, 0);
    assert.equal(seen.tasks, 5);
  });

  it('an array with an iterator of its own is read through it', async () => {
    const { executor } = chunkExecutor(laterAll);
    const odd = [1, 2, 3];
    Object.defineProperty(odd, Symbol.iterator, {
      value: function* () {
        yield 'own';
      },
    });
    assert.deepEqual(await distribute((x: unknown) => x, { executor })(odd), ['own']);
  });

  it('reads holes as undefined and an array subclass by index, as their iterators would', async () => {
    class Tagged<T> extends Array<T> {}
    const { executor } = chunkExecutor(laterAll);
    const sparse = [1, , 3]; // eslint-disable-line no-sparse-arrays -- the hole is the point
    assert.deepEqual(await distribute((x: unknown) => x ?? 'hole', { executor })(sparse), [1, 'hole', 3]);
    const tagged = Tagged.from([4, 5]);
    assert.deepEqual(await distribute((x: number) => x, { executor })(tagged), [4, 5]);
  });

  it('an array read live: shards pushed during the call run, and a shrunk array gives fewer results', async () => {
    const { executor } = chunkExecutor(laterAll, 2);
    const growing = [0, 1, 2];
    const grown = await distribute(
      (i: number) => {
        if (i === 0) growing.push(3);
        return i;
      },
      { executor },
    )(growing);
    assert.deepEqual(grown, [0, 1, 2, 3]);
    const shrinking = [0, 1, 2, 3, 4, 5];
    const shrunk = await distribute(
      (i: number) => {
        if (i === 0) shrinking.length = 3;
        return i;
      },
      { executor },
    )(shrinking);
    assert.deepEqual(shrunk, [0, 1, 2]);
  });

  it('an index whose getter throws fails the call with a ShardSourceError naming it', async () => {
    const { executor } = chunkExecutor(laterAll);
    const shards = [0, 1, 2];
    Object.defineProperty(shards, 1, {
      get() {
        throw new Error('no such row');
      },
    });
    await assert.rejects(distribute((x: number) => x, { executor })(shards), (error: unknown) => {
      assert.ok(error instanceof ShardSourceError);
      assert.equal(error.index, 1);
      return true;
    });
  });

  it('an executor that settles at once, inside runChunk, runs 200,000 shards without deep recursion', async () => {
    const { executor, seen } = chunkExecutor(syncAll, 3);
    const results = await distribute((i: number) => i, { executor })(range(200_000));
    assert.equal(results.length, 200_000);
    assert.ok(results.every((value, i) => value === i));
    assert.ok(seen.chunks.length >= 200_000 / 3);
  });
});

describe('chunks: outcomes stay per shard', () => {
  const failing = (at: readonly number[]) => (i: number) => {
    if (at.includes(i)) throw new RangeError(`no ${i}`);
    return i * 10;
  };

  it("per-position failures: results 'settled' reports each shard, a ShardError for each failure", async () => {
    const { executor } = chunkExecutor(laterAll, 8);
    const outcomes: ShardOutcome<number, number>[] = await distribute(failing([1, 9, 10]), {
      executor,
      results: 'settled',
    })(range(20));
    assert.deepEqual(
      outcomes.flatMap((o) => (o.status === 'rejected' ? [o.index] : [])),
      [1, 9, 10],
    );
    for (const outcome of outcomes) {
      assert.equal(outcome.shard, outcome.index);
      if (outcome.status === 'fulfilled') assert.equal(outcome.value, outcome.index * 10);
      else {
        assert.ok(outcome.reason instanceof ShardError);
        assert.equal(outcome.reason.index, outcome.index);
        assert.match(String((outcome.reason.cause as Error).message), new RegExp(`no ${outcome.index}`));
      }
    }
  });

  it("stopOnError: false gathers every failure into an AggregateError in input order; 'entries' otherwise", async () => {
    const { executor } = chunkExecutor(laterAll, 8);
    await assert.rejects(
      distribute(failing([3, 17, 4]), { executor, stopOnError: false })(range(20)),
      (error: unknown) => {
        assert.ok(error instanceof AggregateError);
        assert.deepEqual(
          error.errors.map((e: ShardError) => e.index),
          [3, 4, 17],
        );
        return true;
      },
    );
    const entries = await distribute(failing([]), { executor, results: 'entries' })(['a', 'b'].map((_, i) => i));
    assert.deepEqual(entries, [
      { index: 0, shard: 0, value: 0 },
      { index: 1, shard: 1, value: 10 },
    ]);
  });

  it('pieces settled out of order and one by one: ordered streams in input order, completed as they come', async () => {
    // Each chunk settles its shards one at a time, last first.
    const backwards: ChunkRunner = (chunk, fn) => {
      chunk.started(0, chunk.shards.length);
      void (async () => {
        for (let i = chunk.shards.length - 1; i >= 0; i--) {
          await sleep(0);
          chunk.settle(i, [fn(chunk.shards[i])]);
        }
      })();
    };
    const { executor } = chunkExecutor(backwards, 4);
    const ordered: number[] = [];
    for await (const value of distribute((i: number) => i, { executor, as: 'ordered' })(range(10))) ordered.push(value);
    assert.deepEqual(ordered, range(10));
    const completed: number[] = [];
    for await (const value of distribute((i: number) => i, { executor, as: 'completed' })(range(8))) {
      completed.push(value);
    }
    assert.deepEqual(
      [...completed].sort((a, b) => a - b),
      range(8),
    );
    // The first chunk (0 to 3) settled last first; each shard that settled made room for a new chunk.
    const first = completed.filter((i) => i < 4);
    assert.deepEqual(first, [3, 2, 1, 0]);
    assert.equal(completed[0], 3);
  });

  it('onProgress reports every shard of a chunk, with its duration from started()', async () => {
    const reports: Progress[] = [];
    const { executor } = chunkExecutor(laterAll, 5);
    await distribute(failing([6]), { executor, results: 'settled', onProgress: (p) => reports.push(p) })(range(12));
    assert.equal(reports.length, 12);
    assert.deepEqual(
      reports.map((r) => r.done),
      range(12).map((i) => i + 1),
    );
    assert.deepEqual(
      reports.map((r) => r.index).sort((a, b) => a - b),
      range(12),
    );
    assert.equal(reports.at(-1)?.failed, 1);
    assert.ok(reports.every((r) => r.total === 12 && r.durationMs > 0 && r.elapsedMs >= r.durationMs));
  });

  it('a runChunk that throws fails the shards of its chunk it had not settled', async () => {
    const { executor } = chunkExecutor((chunk) => {
      chunk.settle(0, ['first']);
      throw new Error('executor broke');
    }, 3);
    const outcomes = await distribute((x: number) => x, { executor, results: 'settled' })(range(3));
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['fulfilled', 'rejected', 'rejected'],
    );
    const broken = outcomes[2];
    assert.ok(broken?.status === 'rejected' && (broken.reason.cause as Error).message === 'executor broke');
  });

  it('settling a shard twice, or one outside the chunk, throws a RangeError at the executor', async () => {
    const thrown: unknown[] = [];
    const { executor } = chunkExecutor((chunk) => {
      chunk.settle(0, [0]);
      for (const wrong of [
        () => chunk.settle(0, [0]),
        () => chunk.fail(1, 5, 'x'),
        () => chunk.settle(1, [1], [[3, 'x']]),
      ]) {
        try {
          wrong();
        } catch (error) {
          thrown.push(error);
        }
      }
      chunk.settle(1, chunk.shards.slice(1));
    }, 3);
    assert.deepEqual(await distribute((x: number) => x, { executor })(range(3)), range(3));
    assert.equal(thrown.length, 3);
    assert.ok(thrown.every((error) => error instanceof RangeError));
  });
});

describe('chunks: stopping', () => {
  /** Settles a chunk only when its signal aborts (never on its own), recording the reason. */
  const hanging = (reasons: unknown[]): ChunkRunner => {
    return (chunk) => {
      chunk.started(0, chunk.shards.length);
      chunk.signal.addEventListener('abort', () => reasons.push(chunk.signal.reason), { once: true });
    };
  };

  it('fail-fast: the first failure by position rejects the call, and no chunk is handed over after it', async () => {
    let failedAt = -1;
    const runner: ChunkRunner = (chunk, fn) =>
      void sleep(1).then(() => {
        runAll(chunk, fn);
        if (failedAt < 0 && chunk.start <= 5 && chunk.start + chunk.shards.length > 5) failedAt = seen.chunks.length;
      });
    const { executor, seen } = chunkExecutor(runner, 2);
    await assert.rejects(
      distribute(
        (i: number) => {
          if (i === 5 || i === 4) throw new Error(`bad ${i}`);
          return i;
        },
        { executor },
      )(range(100)),
      (error: unknown) => error instanceof ShardError && error.index === 4,
    );
    await sleep(20);
    assert.ok(failedAt > 0);
    assert.equal(seen.chunks.length, failedAt, 'nothing handed over after the failure');
    assert.ok(seen.closed);
  });

  it("aborting the call's signal aborts the chunks' signal and rejects with the reason", async () => {
    const reasons: unknown[] = [];
    const { executor, seen } = chunkExecutor(hanging(reasons), 4);
    const controller = new AbortController();
    const call = distribute((x: number) => x, { executor, signal: controller.signal })(range(100));
    await until(() => seen.chunks.length > 0);
    const reason = new Error('user cancelled');
    controller.abort(reason);
    await assert.rejects(call, (error: unknown) => error === reason);
    assert.deepEqual(reasons, [reason]);
    assert.equal(seen.chunks.length, 1);
  });

  it('break from a stream aborts the running chunks and closes the source', async () => {
    const reasons: unknown[] = [];
    let first = true;
    const runner: ChunkRunner = (chunk, fn) => {
      if (first) {
        first = false;
        runAll(chunk, fn);
      } else hanging(reasons)(chunk, fn);
    };
    const { executor } = chunkExecutor(runner, 2);
    const source = countingSource();
    for await (const value of distribute((x: number) => x, { executor, as: 'completed' })(source)) {
      assert.equal(value, 0);
      break;
    }
    await until(() => source.closed);
    assert.ok(reasons.length >= 1, 'the running chunks were told to stop');
    assert.ok(reasons.every((reason) => reason instanceof DOMException && reason.name === 'AbortError'));
  });
});

// ---------------------------------------------------------------------------------------------
// Property: whatever pieces the executor settles chunks in, and in whatever order, a parallel for
// is still a sequential for, and the bounds hold.

const scenario = fc.record({
  shards: fc.array(fc.integer({ min: -1000, max: 1000 }), { maxLength: 40 }),
  failAt: fc.array(fc.nat({ max: 39 }), { maxLength: 3 }),
  capacity: fc.integer({ min: 1, max: 8 }),
  bufferSize: fc.integer({ min: 0, max: 5 }),
  piece: fc.integer({ min: 1, max: 5 }),
  as: fc.constantFrom('array', 'completed', 'ordered'),
  policy: fc.constantFrom('fail-fast', 'aggregate', 'settled'),
  source: fc.constantFrom('array', 'iterable', 'async'),
});

const f = (x: number) => x * 3 - 1;

describe('property: chunks settled in any pieces, in any order, give what a sequential for gives', () => {
  it('same results, bounded in flight and read ahead, always settles', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, fc.scheduler(), async (s, scheduler) => {
        let inFlight = 0;
        let maxInFlight = 0;
        let read = 0;
        let consumed = 0;
        let maxAhead = 0;
        const runner: ChunkRunner = (chunk, fn) => {
          inFlight += chunk.shards.length;
          maxInFlight = Math.max(maxInFlight, inFlight);
          for (let offset = 0; offset < chunk.shards.length; offset += s.piece) {
            const count = Math.min(s.piece, chunk.shards.length - offset);
            void scheduler.schedule(Promise.resolve(), `chunk ${chunk.start} piece ${offset}`).then(() => {
              inFlight -= count;
              if (chunk.signal.aborted) return;
              chunk.started(offset, count);
              const values: unknown[] = [];
              const failures: [number, unknown][] = [];
              for (let i = 0; i < count; i++) {
                try {
                  values[i] = fn(chunk.shards[offset + i]);
                } catch (error) {
                  failures.push([i, error]);
                }
              }
              values.length = count;
              chunk.settle(offset, values, failures);
            });
          }
        };
        const { executor } = chunkExecutor(runner, s.capacity);
        const indexed = s.shards.map((shard, index) => [shard, index] as const);
        function* iterable() {
          for (const item of indexed) {
            read++;
            maxAhead = Math.max(maxAhead, read - consumed);
            yield item;
          }
        }
        async function* lazily() {
          yield* iterable();
        }
        const options: DistributeOptions = {
          bufferSize: s.bufferSize,
          as: s.as,
          results: s.policy === 'settled' ? 'settled' : 'values',
          stopOnError: s.policy !== 'aggregate',
          executor,
        };
        const run = distribute(([x, index]: readonly [number, number]) => {
          if (s.failAt.includes(index)) throw new Error(`fail ${index}`);
          return f(x);
        }, options) as unknown as (shards: unknown) => Promise<unknown[]> | AsyncGenerator<unknown>;

        const input = s.source === 'array' ? indexed : s.source === 'iterable' ? iterable() : lazily();
        const call = collect(
          () => run(input),
          () => consumed++,
        );
        const settled = await settleWithin(scheduler.waitFor(call));
        // Pieces of a stopped call still come through the scheduler; let them.
        await scheduler.waitAll();

        const expected = s.shards.map((shard, index) => (s.failAt.includes(index) ? undefined : f(shard)));
        const failing = expected.flatMap((value, index) => (value === undefined ? [index] : []));
        assert.ok(maxInFlight <= s.capacity, `in flight ${maxInFlight} > ${s.capacity}`);
        if (s.source !== 'array' && s.as !== 'array') {
          // As in property.test.ts: +1 for the item between the engine and the consumer's count, and
          // failures gathered for the AggregateError never reach the consumer.
          const gathered = s.policy === 'aggregate' ? failing.length : 0;
          assert.ok(maxAhead <= s.capacity + s.bufferSize + 1 + gathered, `read ahead ${maxAhead}`);
        }
        if (s.policy === 'settled') {
          assert.ok('value' in settled, 'settled never rejects');
          const outcomes = settled.value as { status: string; index: number; value?: number }[];
          const byIndex = s.as === 'completed' ? [...outcomes].sort((a, b) => a.index - b.index) : outcomes;
          assert.deepEqual(
            byIndex.map((o) => (o.status === 'fulfilled' ? o.value : undefined)),
            expected,
          );
        } else if (failing.length === 0) {
          assert.ok('value' in settled, String((settled as { error: unknown }).error));
          const values = settled.value as number[];
          const sorted = (list: readonly unknown[]) => [...list].sort((a, b) => (a as number) - (b as number));
          assert.deepEqual(
            s.as === 'completed' ? sorted(values) : values,
            s.as === 'completed' ? sorted(expected) : expected,
          );
        } else if (s.policy === 'fail-fast') {
          assert.ok('error' in settled && settled.error instanceof ShardError);
          assert.ok(failing.includes(settled.error.index), `index ${settled.error.index}`);
        } else {
          assert.ok('error' in settled && settled.error instanceof AggregateError);
          assert.deepEqual(
            settled.error.errors.map((e: ShardError) => e.index),
            failing,
          );
        }
      }),
      { numRuns: 300 },
    );
  });
});
