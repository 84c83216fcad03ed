/** `onStats` on every executor: one `CallStats` per call, however it ended, whose figures hold together. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { distribute, parallel, runShard, shutdown, type Executor } from '../../src/index.js';
import { range, sleep, warningsWith } from '../helpers.js';
import { statsOf } from './check-stats.js';
import { Crunch } from './fixtures/crunch.js';
import { lateStart } from './fixtures/late-start.js';

after(() => shutdown());

const nap = async (ms: number) => {
  await sleep(ms);
  return ms;
};

describe("onStats on 'thread'", () => {
  it('counts every shard of a call that completes, and speeds up over the summed shard time', async () => {
    const stats = await statsOf((onStats) =>
      distribute(
        async function getCube(i: number) {
          await sleep(20);
          return i ** 3;
        },
        { concurrency: 5, onStats },
      )(range(20)),
    );
    const { method, executor, outcome, shards, failed, concurrency } = stats;
    assert.deepEqual(
      { method, executor, outcome, shards, failed, concurrency },
      { method: 'getCube', executor: 'thread', outcome: 'completed', shards: 20, failed: 0, concurrency: 5 },
    );
    assert.ok(stats.busyMs >= 20 * 20 * 0.9, `busy ${stats.busyMs}`);
    assert.ok(stats.speedup > 1, `speedup ${stats.speedup}`);
    assert.equal(stats.batches, undefined);
    // No workers on 'thread'.
    assert.deepEqual(stats.workers, []);
  });

  it('times synchronous shards as the one-after-another work they are: no speed-up', async () => {
    const spin = (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end);
      return ms;
    };
    const stats = await statsOf((onStats) => distribute(spin, { concurrency: 5, onStats })(range(20).map(() => 5)));
    assert.equal(stats.shards, 20);
    assert.ok(stats.busyMs >= 20 * 5 * 0.9, `busy ${stats.busyMs}`);
    // One thread ran them in turn: the busy time is the wall time, give or take the engine's own.
    assert.ok(stats.speedup <= 1.2, `speedup ${stats.speedup}`);
    // Each spins for 5 ms at least; a run of them counts its time shared among them.
    assert.ok(stats.shardMs.min >= 4.5, JSON.stringify(stats.shardMs));
  });

  it("counts failures when every shard runs (stopOnError: false, results: 'settled')", async () => {
    const flaky = async (i: number) => {
      await sleep(2);
      if (i % 4 === 0) throw new Error(`no ${i}`);
      return i;
    };
    const settled = await statsOf((onStats) => distribute(flaky, { results: 'settled', onStats })(range(20)));
    assert.deepEqual([settled.outcome, settled.shards, settled.failed], ['completed', 20, 5]);
    const rejected = await statsOf((onStats) => distribute(flaky, { stopOnError: false, onStats })(range(20)));
    assert.deepEqual([rejected.outcome, rejected.shards, rejected.failed], ['failed', 20, 5]);
  });

  it('reports a call that failed fast, was aborted, or whose consumer broke off', async () => {
    const failed = await statsOf((onStats) =>
      distribute(
        async (i: number) => {
          await sleep(5);
          if (i === 7) throw new Error('boom');
          return i;
        },
        { concurrency: 2, onStats },
      )(range(50)),
    );
    assert.equal(failed.outcome, 'failed');
    assert.ok(failed.shards < 50 && failed.failed === 1, JSON.stringify(failed));

    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const aborted = await statsOf((onStats) =>
      distribute(nap, { signal: controller.signal, onStats })(range(1000).map(() => 10)),
    );
    assert.equal(aborted.outcome, 'aborted');
    assert.ok(aborted.shards < 1000);

    const stopped = await statsOf(async (onStats) => {
      let seen = 0;
      for await (const _ of distribute(nap, { as: 'completed', onStats })(range(100).map(() => 2))) {
        if (++seen === 10) break;
      }
    });
    assert.equal(stopped.outcome, 'stopped');
    assert.ok(stopped.shards >= 10 && stopped.shards < 100);
  });

  it('is made for a call that ends before its first shard (an empty input, an aborted signal)', async () => {
    const empty = await statsOf((onStats) => distribute(nap, { onStats })([]));
    assert.deepEqual([empty.outcome, empty.shards, empty.speedup], ['completed', 0, 0]);
  });

  it('never lets an onStats that throws affect the call: a warning, PARAFOR_ON_STATS_THREW', async () => {
    const listening = warningsWith('PARAFOR_ON_STATS_THREW');
    try {
      const run = distribute((i: number) => i * 2, {
        onStats: () => {
          throw new Error('stats broke');
        },
      });
      assert.deepEqual(await run(range(5)), [0, 2, 4, 6, 8]);
      await sleep(10);
      assert.equal(listening.warnings.length, 1);
      assert.match(listening.warnings[0]!.message, /onStats of .* threw: Error: stats broke/);
    } finally {
      listening.stop();
    }
  });
});

describe("onStats on 'worker' and 'process'", () => {
  it("'worker': every shard, failures, and the batches they travelled in", async () => {
    const stats = await statsOf((onStats) =>
      parallel(new Crunch(), { results: 'settled', onStats }).onWorker([...range(8).map(() => 20), -1]),
    );
    assert.deepEqual([stats.executor, stats.outcome, stats.shards, stats.failed], ['worker', 'completed', 9, 1]);
    assert.ok(stats.busyMs >= 8 * 20 * 0.9, `busy ${stats.busyMs}`);
    assert.notEqual(stats.batches, undefined);
  });

  it("'worker': tiny shards in batches are still counted one by one", async () => {
    const stats = await statsOf((onStats) => parallel(new Crunch(), { onStats }).square(range(20_000)));
    assert.equal(stats.shards, 20_000);
    assert.ok(stats.batches !== undefined && stats.batches.count < 20_000, JSON.stringify(stats.batches));
  });

  it("'process': every shard", async () => {
    const stats = await statsOf((onStats) => parallel(new Crunch(), { onStats }).onProcess(range(6).map(() => 20)));
    assert.deepEqual([stats.executor, stats.outcome, stats.shards, stats.failed], ['process', 'completed', 6, 0]);
  });

  it("'worker' with a timeout: shards one task each, their wait and run times", async () => {
    const stats = await statsOf((onStats) =>
      parallel(new Crunch(), { timeout: 10_000, onStats }).onWorker(range(6).map(() => 10)),
    );
    assert.equal(stats.shards, 6);
    // Each task is counted for the worker that ran it.
    assert.equal(
      stats.workers.reduce((sum, { shards }) => sum + shards, 0),
      6,
      JSON.stringify(stats.workers),
    );
  });
});

describe('onStats on a custom executor', () => {
  it('names the executor, counts its shards, and tells their wait from their run', async () => {
    const stats = await statsOf((onStats) => distribute(nap, { executor: lateStart, onStats })([10, 10, 10]));
    assert.deepEqual([stats.executor, stats.shards, stats.concurrency], ['later', 3, 2]);
    assert.ok(stats.waitMs.min >= 4, JSON.stringify(stats.waitMs));
    assert.ok(stats.shardMs.min >= 9, JSON.stringify(stats.shardMs));
    // It never said which worker ran a shard.
    assert.deepEqual(stats.workers, []);
  });

  it('takes shards in chunks (runChunk) that run in turn as batches', async () => {
    const chunks: Executor = {
      name: 'chunks',
      defaultConcurrency: () => 4,
      open: ({ method }) => ({
        runsInTurn: true,
        run: (task) => runShard(method, task),
        runChunk(chunk) {
          chunk.started(0, chunk.shards.length);
          const add = method.fn as (x: number) => number;
          chunk.settle(
            0,
            chunk.shards.map((shard) => add(shard as number)),
          );
        },
        close() {},
      }),
    };
    const stats = await statsOf((onStats) =>
      distribute((x: number) => x + 1, { executor: chunks, onStats })(range(100)),
    );
    assert.equal(stats.shards, 100);
    assert.notEqual(stats.batches, undefined);
  });
});

describe('the memory of onStats and progress', () => {
  it('does not grow with the number of shards (1,000,000 streamed)', () => {
    const script = fileURLToPath(new URL('./fixtures/memory.js', import.meta.url));
    const child = spawnSync(process.execPath, ['--expose-gc', script], { encoding: 'utf8', timeout: 300_000 });
    assert.equal(child.status, 0, child.stderr);
    const { heaps, shards, seen } = JSON.parse(child.stdout) as { heaps: number[]; shards: number; seen: number };
    assert.equal(seen, 1_000_000);
    assert.equal(shards, 1_000_000);
    // What is kept per shard grows the heap from each stretch to the next: at least 300,000 shards
    // apart, 8 bytes per shard would be 2.4 MB each time. V8 may also step up once and stay there
    // (a few MB, now and then), which grows one of the two and not the other.
    const [early, middle, late] = heaps.map((bytes) => bytes / 2 ** 20) as [number, number, number];
    const grew = middle - early > 2 && late - middle > 2;
    assert.ok(!grew, `the heap grew from ${early.toFixed(1)} to ${middle.toFixed(1)} to ${late.toFixed(1)} MiB`);
  });
});
