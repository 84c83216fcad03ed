import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CallStats } from '../../src/observe/call-stats.js';
import { formatDuration, formatRate, statusLine, summaryLine } from '../../src/observe/progress-line.js';

const figures = { method: 'Report.getCube', done: 6, failed: 0, total: 10, elapsedMs: 1200 };

describe('the progress line', () => {
  it('says done / total, percent, rate, elapsed and ETA in plain words off a terminal', () => {
    assert.equal(statusLine(figures, false), 'Report.getCube: 6/10 (60%), 5.00/s, 1.20 s elapsed, ETA 800 ms');
  });

  it('draws a bar on a terminal', () => {
    assert.equal(
      statusLine({ ...figures, failed: 2 }, true),
      'Report.getCube: [############--------] 6/10 60%  5.00/s  1.20 s  ETA 800 ms  2 failed',
    );
  });

  it('counts when the total is unknown, with no percent nor ETA', () => {
    assert.equal(statusLine({ ...figures, total: undefined }, false), 'Report.getCube: 6 done, 5.00/s, 1.20 s elapsed');
  });

  it('has an unknown ETA before the first shard, and none once all are done', () => {
    assert.match(statusLine({ ...figures, done: 0 }, false), /ETA \?$/);
    assert.doesNotMatch(statusLine({ ...figures, done: 10 }, false), /ETA/);
  });

  it('shows no control characters from a method name', () => {
    assert.equal(statusLine({ ...figures, method: 'a\u001b[2Jb\n' }, false).split(':')[0], 'a?[2Jb?');
  });

  const stats: CallStats = {
    method: 'Report.getCube',
    executor: 'thread',
    concurrency: 5,
    outcome: 'completed',
    shards: 10,
    failed: 0,
    retries: 0,
    wallMs: 2010,
    busyMs: 10_020,
    speedup: 10_020 / 2010,
    utilization: 10_020 / 2010 / 5,
    shardMs: { min: 1000, median: 1002, p95: 1003, max: 1003, mean: 1002 },
    waitMs: { min: 0, median: 0, p95: 0, max: 0, mean: 0 },
    batches: undefined,
    workers: [],
  };

  it('ends as a summary: shards, wall time, speed-up over the summed shard time', () => {
    assert.equal(
      summaryLine(stats, 10),
      'Report.getCube: 10 shards in 2.01 s, 5.0x speed-up (10.0 s of shard time, 5 at once)',
    );
  });

  it('says how a call that did not complete ended', () => {
    const failed = { ...stats, outcome: 'failed', shards: 4, failed: 1 } as const;
    assert.equal(
      summaryLine(failed, 10),
      'Report.getCube: failed after 4 of 10 shards in 2.01 s, 5.0x speed-up (10.0 s of shard time, 5 at once), 1 failed',
    );
    assert.match(summaryLine({ ...stats, outcome: 'stopped', shards: 3 }, undefined), /: stopped after 3 shards in /);
    assert.match(summaryLine({ ...stats, outcome: 'aborted', shards: 1 }, undefined), /: aborted after 1 shard in /);
  });

  it('formats durations and rates for people', () => {
    assert.deepEqual([12.4, 999.6, 1234, 12_345, 245_000, 7_380_000].map(formatDuration), [
      '12 ms',
      '1000 ms',
      '1.23 s',
      '12.3 s',
      '4 min 05 s',
      '2 h 03 min',
    ]);
    assert.equal(formatDuration(NaN), '?');
    assert.deepEqual([0.5, 12.34, 345.6, 45_600, 1_234_567].map(formatRate), [
      '0.50/s',
      '12.3/s',
      '346/s',
      '45.6k/s',
      '1.2M/s',
    ]);
  });
});
