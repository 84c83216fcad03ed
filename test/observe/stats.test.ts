import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CallStatsRecorder } from '../../src/observe/stats.js';

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
    assert.equal(stats.utilization, 1000 / 204 / 5);
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
});
