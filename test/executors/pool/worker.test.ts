/**
 * The 'worker' executor with real worker threads: the user's own method runs in the worker, loaded
 * by reference from its module; errors, faults, timeouts and transfer. Runs in both decorator modes.
 */
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { after, describe, it } from 'node:test';
import { threadId } from 'node:worker_threads';
import { namedExecutor } from '../../../src/executors/registry.js';
import {
  getDistribution,
  parallel,
  ShardError,
  ShardTimeoutError,
  shutdown,
  WorkerExitError,
  type ShardOutcome,
} from '../../../src/index.js';
import {
  closure,
  cube,
  digest,
  Hasher,
  hidden,
  LoudHasher,
  tens,
  WithCallback,
} from '../../fixtures/workers/shapes.js';
import { range, sleep } from '../../helpers.js';

const mode = getDistribution(Hasher.prototype, 'hash')?.decorators;

/** The `cause` of a ShardError, checked to be one. */
function causeOf(error: unknown): any {
  assert.ok(error instanceof ShardError, `expected a ShardError, got ${String(error)}`);
  return error.cause;
}

function statuses(outcomes: readonly ShardOutcome<unknown, unknown>[]): string[] {
  return outcomes.map((outcome) => outcome.status);
}

after(() => shutdown());

describe(`'worker' executor: the user's own method, by reference (${mode} mode)`, () => {
  it('runs an instance method in worker threads with its fields, prototype and module imports', async () => {
    const hasher = new Hasher('salt');
    const results = await parallel(hasher).hash(range(6), '!');
    assert.equal(results.length, 6);
    results.forEach((result, i) => {
      assert.equal(result.value, digest(`salt/${i}!`), 'module-level import and another method of the class');
      assert.equal(result.index, i, 'currentShard() works in the worker');
      assert.equal(result.inWorker, true);
      assert.equal(result.prototype, true, 'the class prototype is restored');
      assert.deepEqual(result.fields, [42, true, true], 'a Map, a Date and a typed array field survive the clone');
    });
  });

  it('restores the prototype of a subclass exported beside the decorated class', async () => {
    const [result] = await parallel(new LoudHasher('salt')).hash([7]);
    assert.equal(result?.value, digest('SALT!7'));
  });

  it("decodes a call's fields once per worker, not once per batch", async () => {
    // One shard per batch, more batches than workers: some worker gets a second batch of the same
    // call, and finds the `this` it already made (without the cache every count would be 1).
    const workers = availableParallelism();
    const counts = await parallel(new Hasher(), { concurrency: 1 }).seen(range(workers + 2));
    assert.ok(Math.max(...counts) > 1, `counts ${counts.join(',')}`);
    // A new call decodes its own: its first batch in any worker counts from 1.
    assert.equal((await parallel(new Hasher(), { concurrency: 1 }).seen([0]))[0], 1);
  });

  it('runs a static method with `this` the class', async () => {
    assert.deepEqual(await parallel(Hasher).double([1, 2, 3]), [
      { value: 2, isClass: true },
      { value: 4, isClass: true },
      { value: 6, isClass: true },
    ]);
  });

  it('runs a @distributeOver method over its own shards', async () => {
    assert.deepEqual(await parallel(new Hasher('s')).fixed(), ['s:1', 's:2', 's:3']);
  });

  it('runs the function form exported from a module, anonymous or not', async () => {
    assert.deepEqual(await cube(range(5)), [0, 1, 8, 27, 64]);
    assert.deepEqual(await tens(5), [15, 25, 35]);
  });

  it('streams results with as: completed and entries', async () => {
    const seen: number[] = [];
    for await (const entry of parallel(new Hasher(), { as: 'completed', results: 'entries' }).hash(range(4))) {
      assert.equal(entry.value.index, entry.index);
      seen.push(entry.index);
    }
    assert.deepEqual(seen.sort(), [0, 1, 2, 3]);
  });

  it('uses the available cores by default and reuses its pool across calls', async () => {
    assert.equal(namedExecutor('worker').defaultConcurrency(), availableParallelism());
    const first = new Set((await parallel(new Hasher()).where(range(8))).map((r) => r.threadId));
    const second = new Set((await parallel(new Hasher()).where(range(8))).map((r) => r.threadId));
    assert.ok(!first.has(threadId) && !second.has(threadId), 'never on the main thread');
    assert.ok(
      [...second].some((id) => first.has(id)),
      'the second call ran on the workers of the first',
    );
  });

  it('never runs more shards at once than `concurrency`, even on a larger pool', async () => {
    await parallel(new Hasher(), { concurrency: 4 }).where(range(8)); // grows the shared pool to 4
    const runs = await parallel(new Hasher(), { concurrency: 1 }).busy([5, 5, 5, 5, 5, 5]);
    const sorted = [...runs].sort((a, b) => a.start - b.start);
    for (let i = 1; i < sorted.length; i++) {
      assert.ok((sorted[i]?.start ?? 0) >= (sorted[i - 1]?.end ?? 0), `shards ${i - 1} and ${i} overlapped`);
    }
  });

  it('runs a distributed call made inside a worker inline, in that worker', async () => {
    const [result] = await parallel(new Hasher()).nested([10]);
    assert.deepEqual(
      result?.inner.map((r) => r.i),
      [10, 11],
    );
    for (const inner of result?.inner ?? []) {
      assert.equal(inner.threadId, result?.outer.threadId, 'the inner shards ran in the outer worker');
      assert.equal(inner.inWorker, true);
    }
  });
});

describe(`'worker' executor: errors (${mode} mode)`, () => {
  it("keeps a worker error's class name, message, stack, cause and own properties", async () => {
    const error = await parallel(new Hasher())
      .fail(range(4))
      .catch((e: unknown) => e);
    assert.ok(error instanceof ShardError);
    assert.equal(error.index, 2);
    assert.equal(error.method, 'Hasher.fail');
    const cause = causeOf(error);
    assert.equal(cause instanceof Error, true, 'rebuilt as an Error');
    assert.equal(cause.name, 'ValidationError');
    assert.equal(cause.message, 'bad 2');
    assert.equal(cause.field, 'i');
    assert.equal(cause.code, 'E_BAD');
    assert.deepEqual(cause.details, { shard: 2 });
    assert.match(cause.stack, /ValidationError: bad 2/);
    assert.match(cause.stack, /shapes\.[jt]s/, 'the stack points into the user module, in the worker');
    assert.equal(cause.cause instanceof RangeError, true, 'a built-in class comes back as itself');
    assert.equal(cause.cause.message, 'root cause');
  });

  it('passes on what a shard throws when it is not an Error', async () => {
    const error = await parallel(new Hasher())
      .fail([4])
      .catch((e: unknown) => e);
    assert.equal(causeOf(error), 'a plain string');
  });

  it('with stopOnError: false, gathers every failure; with results: settled, reports each', async () => {
    const aggregate = await parallel(new Hasher(), { stopOnError: false })
      .fail(range(6))
      .catch((e: unknown) => e);
    assert.ok(aggregate instanceof AggregateError);
    assert.deepEqual(
      aggregate.errors.map((e: ShardError) => e.index),
      [2, 4],
    );
    const settled = await parallel(new Hasher(), { results: 'settled' }).fail(range(6));
    assert.deepEqual(statuses(settled), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
  });

  it('names an unclonable field, before any shard runs', async () => {
    const error = await parallel(new WithCallback())
      .run(range(3))
      .catch((e: unknown) => e);
    assert.ok(error instanceof TypeError, 'a TypeError at once, not a ShardError');
    assert.match(error.message, /WithCallback\.run: The instance's fields cannot be copied/);
    assert.match(error.message, /`this\.onDone` is `\[Function[^`]*\]` \(function\)/);
  });

  it('names an unclonable argument', async () => {
    const error = await parallel(new Hasher())
      .hash(range(3), (() => '') as unknown as string)
      .catch((e: unknown) => e);
    assert.ok(error instanceof TypeError);
    assert.match(error.message, /Hasher\.hash: Argument 2 \(after the shards\) cannot be copied/);
    assert.match(error.message, /`arguments\[1\]` is `\[Function \(anonymous\)\]` \(function\)/);
  });

  it('fails only the shard that cannot be cloned, naming its path', async () => {
    const shards = [1, { nested: { fn: () => 1 } }, 3] as unknown as number[];
    const settled = await parallel(Hasher, { results: 'settled' }).double(shards);
    assert.deepEqual(statuses(settled), ['fulfilled', 'rejected', 'fulfilled']);
    const failed = settled[1];
    assert.equal(failed?.status, 'rejected');
    if (failed?.status === 'rejected') {
      assert.ok(failed.reason.cause instanceof TypeError);
      assert.match(
        failed.reason.cause.message,
        /Hasher\.double: Shard 1 cannot be copied between threads: `shard\.nested\.fn` is `\[Function: fn\]` \(function\)/,
      );
    }
  });

  it('fails only the shard whose result cannot be sent back, naming its path', async () => {
    const settled = await parallel(new Hasher(), { results: 'settled' }).oddResult(range(3));
    assert.deepEqual(statuses(settled), ['fulfilled', 'rejected', 'fulfilled']);
    const failed = settled[1];
    if (failed?.status === 'rejected') {
      assert.match((failed.reason.cause as Error).message, /Hasher\.oddResult: The result of shard 1 cannot be copied/);
      assert.match(
        (failed.reason.cause as Error).message,
        /`result\.callback` is `\[Function: callback\]` \(function\)/,
      );
    }
  });

  it('explains, before any shard runs, that a class which is not exported cannot be found', async () => {
    const error = await parallel(hidden())
      .run(range(3))
      .catch((e: unknown) => e);
    assert.ok(error instanceof TypeError, String(error));
    assert.match(error.message, /NotExported\.run: A worker imported .*shapes\.js/);
    assert.match(error.message, /the class must be exported from that module/);
  });

  it('explains that a function made inside a function cannot be found', async () => {
    const error = await closure(1)(range(3)).catch((e: unknown) => e);
    assert.ok(error instanceof TypeError, String(error));
    assert.match(error.message, /a closure\) cannot be found/);
  });
});

describe(`'worker' executor: faults, timeouts, abort (${mode} mode)`, () => {
  it('a shard that exits its worker fails alone, saying the worker died with its exit code', async () => {
    const error = await parallel(new Hasher())
      .crash(range(4))
      .catch((e: unknown) => e);
    const cause = causeOf(error);
    assert.ok(cause instanceof WorkerExitError);
    assert.equal(cause.name, 'WorkerExitError');
    assert.equal(cause.exitCode, 3);
    assert.equal(cause.executor, 'worker');
    assert.deepEqual(cause.shards, [1]);
    assert.match(cause.message, /Hasher\.crash: The worker thread died \(exit code 3\) while it held shard 1/);
    const settled = await parallel(new Hasher(), { results: 'settled' }).crash(range(6));
    assert.deepEqual(statuses(settled), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    assert.deepEqual(await parallel(Hasher).double([5]), [{ value: 10, isClass: true }], 'the pool goes on');
  });

  it('an error thrown outside any shard kills only that worker and fails only its shard', async () => {
    const settled = await parallel(new Hasher(), { results: 'settled' }).throwLater(range(3));
    assert.deepEqual(statuses(settled), ['fulfilled', 'rejected', 'fulfilled']);
    const failed = settled[1];
    if (failed?.status === 'rejected') {
      assert.match((failed.reason.cause as Error).message, /died \(uncaught TypeError: thrown outside any shard\)/);
    }
  });

  it('an error thrown by an idle worker does not kill the program, and the next call runs', async () => {
    assert.deepEqual(await parallel(new Hasher()).leaveBomb([1, 2]), [1, 2]);
    await sleep(100);
    assert.deepEqual(
      await parallel(new Hasher())
        .where(range(4))
        .then((r) => r.map((x) => x.i)),
      [0, 1, 2, 3],
    );
  });

  it('a shard stuck in a loop times out; its worker is terminated and the other shards complete', async () => {
    const settled = await parallel(new Hasher(), { results: 'settled', timeout: 300 }).spin(range(4));
    assert.deepEqual(statuses(settled), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    const failed = settled[1];
    if (failed?.status === 'rejected') assert.ok(failed.reason.cause instanceof ShardTimeoutError);
    assert.deepEqual(await parallel(Hasher).double([1]), [{ value: 2, isClass: true }], 'the pool goes on');
  });

  it('aborting the signal stops a stuck shard and rejects with the reason', async () => {
    const controller = new AbortController();
    const reason = new Error('stop now');
    setTimeout(() => controller.abort(reason), 200);
    await assert.rejects(parallel(new Hasher(), { signal: controller.signal }).spin(range(3)), reason);
    assert.deepEqual(await parallel(Hasher).double([2]), [{ value: 4, isClass: true }], 'the pool goes on');
  });
});

describe(`'worker' executor: transfer and shutdown (${mode} mode)`, () => {
  it('moves typed-array shards and results with transfer: true, and copies them otherwise', async () => {
    const moved = [new Float64Array([1, 2]), new Float64Array([3, 4])];
    const results = await parallel(new Hasher()).scale(moved, 10);
    assert.deepEqual(
      results.map((r) => [...r]),
      [
        [10, 20],
        [30, 40],
      ],
    );
    assert.ok(results[0] instanceof Float64Array);
    assert.equal(moved[0]?.byteLength, 0, 'the shard was moved to the worker (detached here)');

    const copied = [new Float64Array([1, 2])];
    const again = await parallel(new Hasher(), { transfer: false }).scale(copied, 2);
    assert.deepEqual([...(again[0] ?? [])], [2, 4]);
    assert.equal(copied[0]?.byteLength, 16, 'without transfer the shard stays usable');
  });

  it("copies small Buffers that share Node's pool, both ways, with transfer: true", async () => {
    const pooled = Buffer.from('small');
    const neighbour = Buffer.from('neighbour');
    const results = await parallel(new Hasher()).scale([pooled] as unknown as Float64Array[], 1);
    assert.deepEqual([...(results[0] ?? [])], [...Buffer.from('small')]);
    assert.equal(pooled.toString(), 'small', 'the shard was copied, not moved');
    assert.equal(neighbour.toString(), 'neighbour', 'the rest of the pool is intact');
    const spelled = await parallel(new Hasher()).spell(['a', 'bc']);
    assert.deepEqual(
      spelled.map((bytes) => Buffer.from(bytes).toString()),
      ['a', 'bc'],
    );
  });

  it('shutdown() terminates the pool, is safe twice, and a later call starts a new one', async () => {
    await parallel(Hasher).double([1]);
    await shutdown();
    await shutdown();
    assert.deepEqual(await parallel(Hasher).double([3]), [{ value: 6, isClass: true }]);
  });
});
