/**
 * `onStats` on `'worker'` and `'process'`: the shards each worker ran (named by the worker itself in
 * its replies), the shards fail-fast reports of a batch, and calls that failed, were aborted or broken off.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { parallel, shutdown, type CallStats, type Progress } from '../../src/index.js';
import { range } from '../helpers.js';
import { statsOf } from './check-stats.js';
import { Crunch } from './fixtures/crunch.js';

after(() => shutdown());

/** How many of `ids` each worker ran, by the name `onStats` gives it. */
function tally(ids: readonly number[], prefix: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(`${prefix} ${id}`, (counts.get(`${prefix} ${id}`) ?? 0) + 1);
  return counts;
}

/** The per-worker figures of `stats` as a map of shard counts, checked against the call's. */
function perWorker(stats: CallStats): Map<string, number> {
  const { workers } = stats;
  assert.equal(
    workers.reduce((sum, { shards }) => sum + shards, 0),
    stats.shards,
    `every shard ran on a named worker: ${JSON.stringify(workers)}`,
  );
  const busy = workers.reduce((sum, { busyMs }) => sum + busyMs, 0);
  assert.ok(Math.abs(busy - stats.busyMs) < 1e-6, `the workers' busy time is the call's: ${busy} != ${stats.busyMs}`);
  for (const { busyMs, shards } of workers) assert.ok(shards > 0 && busyMs > 0, JSON.stringify(workers));
  return new Map(workers.map(({ worker, shards }) => [worker, shards]));
}

describe('CallStats.workers', () => {
  for (const [executor, method, prefix, pattern] of [
    ['worker', 'threadOf', 'thread', /^thread [1-9]\d*$/],
    ['process', 'pidOf', 'pid', /^pid \d+$/],
  ] as const) {
    it(`'${executor}', concurrency 2: the shards each worker ran, by a name that is the worker's own`, async () => {
      let ids: number[] = [];
      const run = async (onStats: (stats: CallStats) => void): Promise<void> => {
        ids = await parallel(new Crunch(), { concurrency: 2, onStats })[method](range(40).map(() => 3));
      };
      const first = await statsOf(run);
      assert.equal(first.shards, 40);
      const named = perWorker(first);
      // Two slots: at most two workers (none was replaced: no shard killed one).
      assert.ok(named.size >= 1 && named.size <= 2, JSON.stringify(first.workers));
      for (const name of named.keys()) assert.match(name, pattern);
      assert.notEqual(first.workers[0]?.worker, `${prefix} ${prefix === 'pid' ? process.pid : 0}`, 'not this process');
      // What each shard says of where it ran is what onStats counts for that worker.
      assert.deepEqual(named, tally(ids, prefix));

      // The next call runs on the same workers, under the same names.
      const second = await statsOf(run);
      const again = perWorker(second);
      assert.deepEqual(again, tally(ids, prefix));
      for (const name of again.keys()) assert.ok(named.has(name), `${name} is a new name for a worker seen before`);
    });
  }
});

describe("onStats on 'worker' for a call that did not complete", () => {
  it('counts, after a fail-fast failure mid-batch, only the shards reported (as onProgress does)', async () => {
    // One batch of 50 at a time; shard 120 fails, in the third batch: 121 shards are reported.
    const shards = range(150).map((i) => (i === 120 ? -1 : 0));
    const progress: Progress[] = [];
    const stats = await statsOf((onStats) =>
      parallel(new Crunch(), { concurrency: 1, batchSize: 50, onStats, onProgress: (p) => progress.push(p) }).onWorker(
        shards,
      ),
    );
    assert.equal(stats.outcome, 'failed');
    assert.equal(stats.failed, 1);
    assert.equal(stats.shards, 121);
    assert.equal(stats.shards, progress.at(-1)?.done);
    assert.equal(perWorker(stats).size, 1);
    assert.deepEqual(stats.batches && [stats.batches.count, stats.batches.max], [3, 50]);
  });

  it('reports a call that failed fast', async () => {
    const stats = await statsOf((onStats) =>
      parallel(new Crunch(), { onStats }).onWorker(range(40).map((i) => (i === 7 ? -1 : 5))),
    );
    assert.equal(stats.outcome, 'failed');
    assert.ok(stats.shards < 40 && stats.failed === 1, JSON.stringify(stats));
  });

  it('reports a call that was aborted', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 150);
    const stats = await statsOf((onStats) =>
      parallel(new Crunch(), { signal: controller.signal, onStats }).onWorker(range(200).map(() => 10)),
    );
    assert.equal(stats.outcome, 'aborted');
    assert.ok(stats.shards < 200, JSON.stringify(stats));
  });

  it('reports a call whose consumer broke off', async () => {
    const stats = await statsOf(async (onStats) => {
      let seen = 0;
      for await (const _ of parallel(new Crunch(), { as: 'completed', onStats }).onWorker(range(200).map(() => 5))) {
        if (++seen === 10) break;
      }
    });
    assert.equal(stats.outcome, 'stopped');
    assert.ok(stats.shards >= 10 && stats.shards < 200, JSON.stringify(stats));
  });
});
