/**
 * Tiny shards in chunks on real workers: the engine hands the pool session stretches of the input
 * (ExecutorSession.runChunk), the session cuts them into batches, and every option still acts shard
 * by shard: results and errors, fail-fast, abort, break, timeout, progress, clone failures, a worker
 * that dies. Runs in both decorator modes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  getDistribution,
  parallel,
  ShardError,
  ShardTimeoutError,
  shutdown,
  WorkerExitError,
  type Progress,
} from '../../../src/index.js';
import { Chunky } from '../../fixtures/workers/chunks.js';
import { range, sleep } from '../../helpers.js';

const mode = getDistribution(Chunky.prototype, 'double')?.decorators;
/** Far more than any shard here takes, so a call that ends before it did not wait for the shard. */
const STALL_MS = 60_000;

let dir = '';
let files = 0;
/** A fresh file for `record` to list the shards that ran in. */
const newFile = (): string => join(dir, `ran-${files++}.txt`);
/** The shards listed in `file`, sorted. */
const ranIn = (file: string): number[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .sort((a, b) => a - b);

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'parafor-chunks-'));
});
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await shutdown();
});

describe(`chunks on real workers (${mode} mode)`, () => {
  // Warm the pool and the module in the workers.
  beforeEach(() => parallel(new Chunky()).double([1]));

  it("20,000 tiny shards: values in place, and per-shard failures as 'settled', AggregateError, ShardError", async () => {
    const chunky = new Chunky();
    const values = await parallel(chunky).double(range(20_000));
    assert.ok(values.length === 20_000 && values.every((value, i) => value === i * 2), 'every result in its place');
    const failAt = [0, 1023, 1024, 5000, 19_999];
    const settled = await parallel(chunky, { results: 'settled' }).double(range(20_000), failAt);
    assert.equal(settled.length, 20_000);
    assert.deepEqual(
      settled.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.index] : [])),
      failAt,
    );
    for (const outcome of settled) {
      if (outcome.status === 'fulfilled') assert.equal(outcome.value, outcome.index * 2);
      else {
        assert.ok(outcome.reason instanceof ShardError);
        assert.equal(outcome.reason.index, outcome.index);
        assert.equal((outcome.reason.cause as Error).name, 'RangeError');
        assert.equal((outcome.reason.cause as Error).message, `no ${outcome.index}`);
      }
    }
    await assert.rejects(
      parallel(chunky, { stopOnError: false }).double(range(20_000), [19_999, 3, 7000]),
      (error: unknown) => {
        assert.ok(error instanceof AggregateError);
        assert.deepEqual(
          error.errors.map((e: ShardError) => e.index),
          [3, 7000, 19_999],
        );
        return true;
      },
    );
    await assert.rejects(
      parallel(chunky).double(range(20_000), [15_000, 12_345]),
      (error: unknown) => error instanceof ShardError && (error.index === 12_345 || error.index === 15_000),
    );
  });

  it("'entries', and 'ordered' and 'completed' streams over 20,000 tiny shards", async () => {
    const chunky = new Chunky();
    const entries = await parallel(chunky, { results: 'entries' }).double(range(20_000));
    assert.ok(entries.every((entry, i) => entry.index === i && entry.shard === i && entry.value === i * 2));
    let next = 0;
    for await (const value of parallel(chunky, { as: 'ordered' }).double(range(20_000))) {
      assert.equal(value, next * 2);
      next++;
    }
    assert.equal(next, 20_000);
    const seen = new Set<number>();
    for await (const { index, value } of parallel(chunky, { as: 'completed', results: 'entries' }).double(
      range(20_000),
    )) {
      assert.equal(value, index * 2);
      seen.add(index);
    }
    assert.equal(seen.size, 20_000);
  });

  for (const batchSize of [50, 'auto'] as const) {
    it(`fail-fast (batchSize ${batchSize}, one slot): no batch leaves after the one that failed`, async () => {
      const file = newFile();
      const failAt = 120;
      await assert.rejects(
        parallel(new Chunky(), { concurrency: 1, batchSize }).record(range(5000), file, failAt),
        (error: unknown) => error instanceof ShardError && error.index === failAt,
      );
      await sleep(200);
      const ran = ranIn(file);
      // The shards of the failing batch after the failure ran too (a batch runs in one go), and
      // nothing past it: every shard ran once, from 0 to the end of that batch.
      assert.deepEqual(ran, range(ran.length), 'each shard once, none skipped');
      assert.ok(ran.length > failAt, `ran ${ran.length}`);
      if (batchSize === 50) assert.equal(ran.length, 150, 'the failing batch is shards 100 to 149');
      else assert.ok(ran.length < 5000, `ran ${ran.length} of 5000`);
    });
  }

  it('aborting mid-call stops the running batch and rejects with the reason; the pool serves the next call', async () => {
    const file = newFile();
    const controller = new AbortController();
    const started = performance.now();
    const call = parallel(new Chunky(), { signal: controller.signal, batchSize: 10, concurrency: 1 }).record(
      range(1000),
      file,
      -1,
      25,
      STALL_MS,
    );
    setTimeout(() => controller.abort(new Error('user cancelled')), 300);
    await assert.rejects(call, /user cancelled/);
    await sleep(300);
    assert.ok(performance.now() - started < STALL_MS / 2, 'the call did not wait for the stalled shard');
    assert.deepEqual(ranIn(file), range(26), 'shard 26, in the stalled batch, never ran: its worker was stopped');
    assert.deepEqual(
      await parallel(new Chunky()).double(range(100)),
      range(100).map((i) => i * 2),
    );
  });

  it('break from a stream stops the running batches; the pool serves the next call', async () => {
    const file = newFile();
    const started = performance.now();
    const stream = parallel(new Chunky(), { as: 'completed', batchSize: 10, concurrency: 2 }).record(
      range(1000),
      file,
      -1,
      5,
      STALL_MS,
    );
    let first: number | undefined;
    for await (const value of stream) {
      first = value;
      break;
    }
    assert.equal(typeof first, 'number');
    await sleep(300);
    assert.ok(performance.now() - started < STALL_MS / 2);
    assert.ok(!ranIn(file).includes(6), 'shard 6, in the stalled batch, never ran: its worker was stopped');
    assert.deepEqual(
      await parallel(new Chunky(), { concurrency: 2 }).double(range(100)),
      range(100).map((i) => i * 2),
    );
  });

  it('timeout: shards travel alone; the one that runs too long fails with ShardTimeoutError, the others succeed', async () => {
    const settled = await parallel(new Chunky(), { timeout: 500, results: 'settled' }).stall(range(20), 3, STALL_MS);
    assert.deepEqual(
      settled.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.index] : [])),
      [3],
    );
    const failure = settled[3];
    assert.ok(failure?.status === 'rejected' && failure.reason.cause instanceof ShardTimeoutError);
    assert.ok(settled.every((outcome) => outcome.status === 'rejected' || outcome.value === outcome.index));
  });

  it('onProgress reports every one of 5,000 shards, failures counted', async () => {
    const reports: Progress[] = [];
    await parallel(new Chunky(), { results: 'settled', onProgress: (p) => reports.push(p) }).double(
      range(5000),
      [10, 4000],
    );
    assert.equal(reports.length, 5000);
    assert.ok(reports.every((report, i) => report.done === i + 1 && report.total === 5000 && report.durationMs >= 0));
    assert.equal(new Set(reports.map((report) => report.index)).size, 5000);
    assert.equal(reports.at(-1)?.failed, 2);
  });

  it('a shard that cannot be cloned fails alone, naming what; the others run', async () => {
    const shards: unknown[] = range(3000);
    shards[1500] = { id: 1500, callback: () => 1 };
    const settled = await parallel(new Chunky(), { results: 'settled' }).echo(shards);
    assert.deepEqual(
      settled.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.index] : [])),
      [1500],
    );
    const failure = settled[1500];
    assert.ok(failure?.status === 'rejected');
    assert.match(
      (failure.reason.cause as Error).message,
      /Shard 1500 cannot be copied between threads: `shard\.callback` is/,
    );
    assert.ok(settled.every((outcome, i) => outcome.status === 'rejected' || outcome.value === i));
  });

  it('a worker that dies in a large batch fails only the shard that killed it', async () => {
    const settled = await parallel(new Chunky(), { results: 'settled' }).exitAt(range(3000), 1234);
    assert.deepEqual(
      settled.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.index] : [])),
      [1234],
    );
    const failure = settled[1234];
    assert.ok(failure?.status === 'rejected' && failure.reason.cause instanceof WorkerExitError);
    assert.deepEqual(failure.reason.cause.shards, [1234]);
    assert.equal(failure.reason.cause.exitCode, 7);
  });

  it("'process' takes chunks the same way", async () => {
    const settled = await parallel(new Chunky(), { executor: 'process', results: 'settled' }).double(
      range(5000),
      [7, 4999],
    );
    assert.deepEqual(
      settled.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.index] : [])),
      [7, 4999],
    );
    assert.ok(settled.every((outcome) => outcome.status === 'rejected' || outcome.value === outcome.index * 2));
  });
});
