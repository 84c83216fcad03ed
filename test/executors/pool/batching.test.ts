/**
 * Batching: the sizing rules on their own, then with real workers: tiny shards travel in few
 * messages, results and errors stay per shard, and a worker that dies fails only its culprit.
 */
import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import {
  autoBatches,
  fixedBatches,
  MAX_BATCH,
  MAX_BATCH_BYTES,
  MIN_IDEAL_BATCH_MS,
} from '../../../src/executors/pool/batching.js';
import { distribute, getDistribution, parallel, shutdown, type ShardOutcome } from '../../../src/index.js';
import { Hasher } from '../../fixtures/workers/shapes.js';
import { range } from '../../helpers.js';

const mode = getDistribution(Hasher.prototype, 'hash')?.decorators;

describe('batch sizes', () => {
  it('a fixed size gives batches of that size, the last one smaller', () => {
    const sizer = fixedBatches(100);
    assert.equal(sizer.next(250, 2), 100);
    assert.equal(sizer.next(30, 2), 30);
    sizer.completed(100, 5000);
    assert.equal(sizer.size, 100, 'never adapts');
  });

  it("'auto' starts at 1 and at most doubles per measured batch while batches are short", () => {
    const sizer = autoBatches();
    const sizes = [sizer.size];
    for (let step = 0; step < 15; step++) {
      sizer.completed(sizer.size, 0.001 * sizer.size);
      sizes.push(sizer.size);
    }
    assert.deepEqual(sizes.slice(0, 6), [1, 2, 4, 8, 16, 32]);
    assert.equal(sizes.at(-1), MAX_BATCH, 'capped');
  });

  it("'auto' stops growing once batches take the ideal time, and shrinks at once when they take too long", () => {
    const sizer = autoBatches();
    for (let step = 0; step < 4; step++) sizer.completed(sizer.size, (MIN_IDEAL_BATCH_MS / 4) * sizer.size);
    const settled = sizer.size;
    sizer.completed(settled, MIN_IDEAL_BATCH_MS * 1.5);
    assert.equal(sizer.size, settled, 'between the bounds: unchanged');
    sizer.completed(settled, 10_000);
    assert.ok(sizer.size < settled, `shrinks: ${sizer.size} < ${settled}`);
  });

  it("'auto' keeps batches within MAX_BATCH_BYTES, judged from the last batch's weight per shard", () => {
    const heavy = autoBatches();
    for (let step = 0; step < 30; step++) heavy.completed(heavy.size, 0.001, heavy.size * 10_000);
    assert.equal(heavy.size, Math.floor(MAX_BATCH_BYTES / 10_000), 'shards of 10 kB: 1 MiB a batch');
    const light = autoBatches();
    for (let step = 0; step < 30; step++) light.completed(light.size, 0.001, light.size * 8);
    assert.equal(light.size, MAX_BATCH, 'numbers: the most shards a batch may hold');
  });

  it("'auto' ignores batches of another size than the current one", () => {
    const sizer = autoBatches();
    sizer.completed(7, 0.01);
    assert.equal(sizer.size, 1);
  });

  it("'auto' splits the tail finely so no worker straggles", () => {
    const sizer = autoBatches();
    for (let step = 0; step < 8; step++) sizer.completed(sizer.size, 0.01);
    assert.equal(sizer.size, 256);
    assert.equal(sizer.next(10_000, 2), 256, 'plenty queued: full batches');
    assert.equal(sizer.next(400, 2), 50, 'less than a batch per worker: a quarter of each worker share');
    assert.equal(sizer.next(3, 2), 1);
  });

  it('every size is from 1 to what is queued, whatever happened before', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 5000 }), fc.double({ min: 0, max: 10_000, noNaN: true }))),
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 1, max: 64 }),
        (history, queued, slots) => {
          const sizer = autoBatches();
          for (const [, duration] of history) sizer.completed(sizer.size, duration);
          const next = sizer.next(queued, slots);
          return next >= 1 && next <= Math.min(queued, sizer.size) && sizer.size <= MAX_BATCH;
        },
      ),
    );
  });
});

/** Counts the messages sent to worker threads while `run` runs. */
async function messagesDuring(run: () => Promise<unknown>): Promise<number> {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- put back as it was
  const original = Worker.prototype.postMessage;
  let count = 0;
  Worker.prototype.postMessage = function (this: Worker, ...args: Parameters<Worker['postMessage']>) {
    count++;
    return original.apply(this, args);
  };
  try {
    await run();
  } finally {
    Worker.prototype.postMessage = original;
  }
  return count;
}

function statuses(outcomes: readonly ShardOutcome<unknown, unknown>[]): string[] {
  return outcomes.map((outcome) => outcome.status);
}

describe(`batching with real workers (${mode} mode)`, () => {
  // Warm the pool and the module in the workers, so counts below are of batches only.
  beforeEach(() => parallel(new Hasher()).square([1]));
  after(() => shutdown());

  it("'auto' sends 20,000 tiny shards in few messages, results in order", async () => {
    let results: number[] = [];
    const messages = await messagesDuring(async () => {
      results = await parallel(new Hasher()).square(range(20_000).map((i) => (i === 1234 ? 0 : i)));
    });
    assert.equal(results.length, 20_000);
    assert.ok(
      results.every((value, i) => value === (i === 1234 ? 0 : i * i)),
      'every result in its place',
    );
    assert.ok(messages < 400, `${messages} messages for 20,000 shards`);
  });

  it('a fixed batchSize sends that many shards per message', async () => {
    const messages = await messagesDuring(() => parallel(new Hasher(), { batchSize: 100 }).square(range(1000)));
    assert.ok(messages <= 11, `${messages} messages for 10 batches`);
  });

  it('one failing shard in a batch fails alone, under its own index', async () => {
    const settled = await parallel(new Hasher(), { batchSize: 500, results: 'settled' }).square(range(2000));
    const rejected = settled.filter((outcome) => outcome.status === 'rejected');
    assert.deepEqual(
      rejected.map((outcome) => outcome.index),
      [1234],
    );
    const failed = rejected[0];
    if (failed?.status === 'rejected') {
      assert.equal(failed.reason.index, 1234);
      assert.match(failed.reason.message, /Hasher\.square: Shard 1234 `1234` \(number\) failed/);
      assert.match((failed.reason.cause as Error).message, /no 1234/);
    }
    assert.ok(settled.every((outcome) => outcome.status === 'rejected' || outcome.value === outcome.index ** 2));
  });

  it('a worker that dies in a batch fails only the shard that killed it: the rest run again alone', async () => {
    const settled = await parallel(new Hasher(), { batchSize: 10, results: 'settled' }).crash(range(30));
    assert.deepEqual(
      statuses(settled)
        .map((status, i) => [status, i])
        .filter(([status]) => status === 'rejected'),
      [['rejected', 1]],
    );
  });

  it('a fixed batchSize cannot be combined with a timeout', async () => {
    await assert.rejects(
      parallel(new Hasher(), { batchSize: 10, timeout: 1000 }).square(range(3)),
      /`batchSize: 10` cannot be combined with `timeout`/,
    );
  });

  it('checks the new options like every other', () => {
    const square = (i: number) => i * i;
    assert.throws(() => distribute(square, { batchSize: 0 }), /Expected `batchSize` to be 'auto' or an integer/);
    assert.throws(() => distribute(square, { batchSize: Infinity }), TypeError);
    // @ts-expect-error -- a number or 'auto'
    assert.throws(() => distribute(square, { batchSize: 'big' }), TypeError);
    // @ts-expect-error -- a boolean
    assert.throws(() => distribute(square, { transfer: 'yes' }), /`transfer` to be a boolean/);
    assert.throws(() => distribute(square, { module: 'relative/file.js' }), /`module` to be a file URL/);
    distribute(square, { batchSize: 'auto', transfer: true, module: import.meta.url });
  });
});
