import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CallStatsRecorder, MAX_WORKERS, MORE_WORKERS } from '../../src/observe/stats.js';

describe('CallStatsRecorder', () => {
  it('sums shards handed over alone: busy time, speed-up, utilization and quantiles', () => {
    const recorder = new CallStatsRecorder('Report.getCube', 'thread', 5, 1000);
    // Ten shards of 100 ms, five at a time, each waiting 2 ms: two rounds.
    for (let i = 0; i < 10; i++) {
      const start = 1000 + Math.floor(i / 5) * 100 + 2;
      recorder.ran(start - 2, start, start + 100, 1, i === 3 ? 1 : 0, false);
    }
    const stats = recorder.finish('completed', 1204);
    assert.equal(stats.method, 'Report.getCube');
    assert.equal(stats.executor, 'thread');
    assert.equal(stats.outcome, 'completed');
    assert.equal(stats.shards, 10);
    assert.equal(stats.failed, 1);
    assert.equal(stats.wallMs, 204);
    assert.equal(stats.busyMs, 1000);
    assert.equal(stats.speedup, 1000 / 204);
    assert.ok(Math.abs(stats.utilization - 1000 / 204 / 5) < 1e-12, `utilization ${stats.utilization}`);
    assert.ok(Math.abs(stats.shardMs.median - 100) < 0.1, `median ${stats.shardMs.median}`);
    assert.ok(Math.abs(stats.waitMs.mean - 2) < 0.01, `wait ${stats.waitMs.mean}`);
    assert.equal(stats.batches, undefined);
  });

  it('counts a batch once, however many pieces it settles in, and sizes the batches', async () => {
    const recorder = new CallStatsRecorder('Report.cube', 'worker', 2, 0);
    // Batch A: 100 shards from 0 to 10 ms, settled in two pieces at once; batch B: 50 shards from
    // 0.1 to 10.1 ms, back in a message of its own.
    recorder.ran(0, 0.001, 10, 60, 0, true);
    recorder.ran(0, 0.002, 10.001, 40, 0, true);
    await Promise.resolve();
    recorder.ran(0, 0.1, 10.1, 50, 2, true);
    const stats = recorder.finish('completed', 11);
    assert.equal(stats.shards, 150);
    assert.equal(stats.failed, 2);
    assert.ok(Math.abs(stats.busyMs - 20) < 0.01, `busy ${stats.busyMs}`);
    assert.deepEqual(stats.batches, { count: 2, min: 50, mean: 75, max: 100 });
    // A shard of batch B counts 10 ms / 50.
    assert.ok(Math.abs(stats.shardMs.max - 0.2) < 0.001, `max ${stats.shardMs.max}`);
    assert.ok(stats.utilization > 0 && stats.utilization <= 1);
  });

  it('counts each of shards that ran at once for its whole time', () => {
    const recorder = new CallStatsRecorder('f', 'thread', 8, 0);
    recorder.ran(0, 0, 30, 8, 0, false);
    const stats = recorder.finish('completed', 30);
    assert.equal(stats.busyMs, 240);
    assert.equal(stats.utilization, 1);
    assert.ok(Math.abs(stats.shardMs.median - 30) < 0.05);
  });

  it('takes shards whose start was never said to start when handed over', () => {
    const recorder = new CallStatsRecorder('f', 'custom', 1, 0);
    recorder.ran(5, 0, 15, 1, 0, false);
    const stats = recorder.finish('completed', 20);
    assert.equal(stats.busyMs, 10);
    assert.equal(stats.waitMs.max, 0.000001);
  });

  it('gives zeros, not NaN, for a call that ran nothing', () => {
    const stats = new CallStatsRecorder('f', 'thread', Infinity, 10).finish('aborted', 10);
    assert.equal(stats.shards, 0);
    assert.equal(stats.speedup, 0);
    assert.equal(stats.utilization, 0);
    assert.deepEqual(stats.shardMs, { min: 0, median: 0, p95: 0, max: 0, mean: 0 });
    assert.equal(stats.outcome, 'aborted');
  });

  it('keeps min <= median <= p95 <= max over skewed durations, and counts retries', () => {
    const recorder = new CallStatsRecorder('f', 'thread', 4, 0);
    let t = 0;
    for (let i = 0; i < 1000; i++) {
      const ms = i % 100 === 0 ? 500 : 0.01 * ((i * 7919) % 13);
      recorder.ran(t, t, t + ms, 1, 0, false);
      t += ms / 4;
    }
    recorder.retried(t, t + 1, t + 3);
    const { shardMs, retries, busyMs } = recorder.finish('completed', t + 10);
    assert.equal(retries, 1);
    assert.ok(busyMs >= 2, 'a failed attempt that runs again counts as busy');
    assert.ok(shardMs.min <= shardMs.median, JSON.stringify(shardMs));
    assert.ok(shardMs.median <= shardMs.p95, JSON.stringify(shardMs));
    assert.ok(shardMs.p95 <= shardMs.max, JSON.stringify(shardMs));
    assert.ok(Math.abs(shardMs.max - 500) < 1, JSON.stringify(shardMs));
  });

  it('keeps utilization within 1 when retried attempts of an unbounded call never finish', () => {
    // concurrency: Infinity, 10 shards at once, each failing three times in 100 ms and run again;
    // aborted before any finished. Counting slots by shards finished made this 30.
    const recorder = new CallStatsRecorder('f', 'thread', Infinity, 0);
    recorder.handedOver(10);
    for (let round = 0; round < 3; round++) {
      const start = round * 100;
      for (let i = 0; i < 10; i++) recorder.retried(start, start, start + 100);
      recorder.handedOver(10);
    }
    const stats = recorder.finish('aborted', 300);
    assert.equal(stats.shards, 0);
    assert.equal(stats.retries, 30);
    assert.equal(stats.busyMs, 3000);
    // Ten slots were busy all along: 10 attempts at once, for the whole call.
    assert.ok(Math.abs(stats.utilization - 1) < 1e-9, `utilization ${stats.utilization}`);
  });

  it('takes the most shards in flight at once as the slots of an unbounded call', () => {
    const recorder = new CallStatsRecorder('f', 'thread', Infinity, 0);
    // 8 shards at once for 50 ms, then 8 more after a 50 ms pause: 4 of 8 slots busy on average.
    recorder.handedOver(8);
    recorder.ran(0, 0, 50, 8, 0, false);
    recorder.handedOver(8);
    recorder.ran(100, 100, 150, 8, 0, false);
    const stats = recorder.finish('completed', 200);
    assert.equal(stats.busyMs, 800);
    assert.ok(Math.abs(stats.utilization - 0.5) < 1e-9, `utilization ${stats.utilization}`);
  });

  it('does not count twice the time reported shards overlap beyond the slots', () => {
    // concurrency 1, each shard's end seen 2 ms late, after the next one started in its slot.
    const recorder = new CallStatsRecorder('f', 'thread', 1, 0);
    for (let i = 0; i < 10; i++) {
      recorder.handedOver(1);
      recorder.ran(i * 10, i * 10, i * 10 + 12, 1, 0, false);
    }
    const stats = recorder.finish('completed', 102);
    assert.equal(stats.busyMs, 120);
    assert.ok(stats.speedup > 1, 'the busy time itself is what was reported');
    assert.ok(stats.utilization <= 1, `utilization ${stats.utilization}`);
    // The slot was busy from 0 to 102 ms: all of it.
    assert.ok(stats.utilization > 0.97, `utilization ${stats.utilization}`);
  });

  it('utilization is within 0-1 whatever the run times, and busy / (wall × slots) while they fit the slots', () => {
    const span = fc.tuple(fc.double({ min: 0, max: 1000, noNaN: true }), fc.double({ min: 0, max: 1000, noNaN: true }));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(span, { maxLength: 60 }), (slots, spans) => {
        // Any spans, overlapping as they may.
        const any = new CallStatsRecorder('f', 'custom', slots, 0);
        let end = 1;
        for (const [a, b] of spans) {
          const [from, to] = a <= b ? [a, b] : [b, a];
          any.handedOver(1);
          any.ran(from, from, to, 1, 0, false);
          end = Math.max(end, to);
        }
        const { utilization } = any.finish('completed', end);
        assert.ok(utilization >= 0 && utilization <= 1, `utilization ${utilization}`);
        // Spans laid end to end in `slots` lanes never overlap beyond the slots.
        const fitting = new CallStatsRecorder('f', 'custom', slots, 0);
        const lanes = new Array<number>(slots).fill(0);
        for (const [i, [a]] of spans.entries()) {
          const lane = i % slots;
          const from = lanes[lane] as number;
          lanes[lane] = from + a / 10;
          fitting.ran(from, from, from + a / 10, 1, 0, false);
        }
        const last = Math.max(1, ...lanes);
        const stats = fitting.finish('completed', last);
        const expected = stats.busyMs / (last * slots);
        assert.ok(Math.abs(stats.utilization - expected) < 1e-9, `${stats.utilization} != ${expected}`);
      }),
      { numRuns: 300 },
    );
  });

  it('counts shards and busy time per worker, a batch for the worker that ran it', async () => {
    const recorder = new CallStatsRecorder('f', 'worker', 2, 0);
    // Two batches at once, one per worker; the first settles in two pieces of two chunks.
    recorder.ran(0, 0, 10, 60, 0, true, [['thread 1', 60]]);
    recorder.ran(0, 0, 10, 40, 0, true, [['thread 1', 40]]);
    await Promise.resolve();
    recorder.ran(0, 0, 20, 50, 1, true, [['thread 2', 50]]);
    await Promise.resolve();
    // A shard alone whose run was said, and one whose worker was not.
    recorder.ran(20, 20, 25, 1, 0, false, [['thread 2', 1]]);
    recorder.ran(20, 20, 25, 1, 0, false);
    // An attempt that ran again: its time counts for its worker.
    recorder.retried(25, 25, 28, 'thread 1');
    const stats = recorder.finish('completed', 30);
    assert.deepEqual(
      stats.workers.map(({ worker, shards, busyMs }) => [worker, shards, Math.round(busyMs * 1000) / 1000]),
      [
        ['thread 1', 100, 13],
        ['thread 2', 51, 25],
      ],
    );
    assert.equal(stats.shards, 152);
    assert.ok(Math.abs(stats.busyMs - 43) < 1e-9, `busy ${stats.busyMs}`);
  });

  it('shares time by shards among the workers of one report', () => {
    const recorder = new CallStatsRecorder('f', 'custom', 4, 0);
    recorder.ran(0, 0, 10, 4, 0, false, [
      ['a', 3],
      ['b', 1],
    ]);
    const { workers } = recorder.finish('completed', 10);
    assert.deepEqual(workers, [
      { worker: 'a', shards: 3, busyMs: 30 },
      { worker: 'b', shards: 1, busyMs: 10 },
    ]);
  });

  it(`names at most ${MAX_WORKERS} workers, the rest summed as '${MORE_WORKERS}'`, () => {
    const recorder = new CallStatsRecorder('f', 'custom', Infinity, 0);
    for (let i = 0; i < MAX_WORKERS + 50; i++) recorder.ran(0, 0, 1, 1, 0, false, [[`w${i}`, 1]]);
    const { workers } = recorder.finish('completed', 1);
    assert.equal(workers.length, MAX_WORKERS + 1);
    assert.deepEqual(workers.at(-1), { worker: MORE_WORKERS, shards: 50, busyMs: 50 });
    assert.equal(
      workers.reduce((sum, { shards }) => sum + shards, 0),
      MAX_WORKERS + 50,
    );
  });

  it('has no workers where none was named', () => {
    const recorder = new CallStatsRecorder('f', 'thread', 2, 0);
    recorder.ran(0, 0, 5, 3, 0, false);
    assert.deepEqual(recorder.finish('completed', 5).workers, []);
  });

  it("counts a batch's share of its time for the shards of it that are reported", () => {
    const recorder = new CallStatsRecorder('f', 'worker', 1, 0);
    // A batch of 100 shards in 50 ms, of which fail-fast reports the first 10.
    recorder.ran(0, 0, 50, 10, 1, true, [['thread 1', 10]], 10 / 100);
    const stats = recorder.finish('failed', 50);
    assert.equal(stats.shards, 10);
    assert.ok(Math.abs(stats.busyMs - 5) < 1e-9, `busy ${stats.busyMs}`);
    assert.ok(Math.abs(stats.shardMs.mean - 0.5) < 0.001, JSON.stringify(stats.shardMs));
    assert.ok(Math.abs((stats.workers[0]?.busyMs ?? 0) - 5) < 1e-9);
  });
});
