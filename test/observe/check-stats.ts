/** What the tests of `onStats` check of every `CallStats` they get. */
import assert from 'node:assert/strict';
import type { CallStats, Quantiles } from '../../src/index.js';
import { sleep } from '../helpers.js';

/** Every figure agrees with the others. */
export function assertConsistent(stats: CallStats): void {
  const { shardMs, waitMs, wallMs, busyMs, speedup, utilization, concurrency } = stats;
  for (const [name, q] of [
    ['shardMs', shardMs],
    ['waitMs', waitMs],
  ] as const) {
    const ordered = (q: Quantiles) => q.min <= q.median && q.median <= q.p95 && q.p95 <= q.max;
    assert.ok(ordered(q), `${name} out of order: ${JSON.stringify(q)}`);
    assert.ok(q.min <= q.mean && q.mean <= q.max, `${name} mean outside: ${JSON.stringify(q)}`);
  }
  assert.ok(wallMs > 0 && busyMs >= 0, JSON.stringify(stats));
  assert.equal(speedup, busyMs / wallMs);
  assert.ok(utilization >= 0 && utilization <= 1, `utilization ${utilization}`);
  // The busy time, except where it overlapped beyond the slots.
  if (concurrency !== Infinity) assert.ok(utilization <= speedup / concurrency + 1e-9, JSON.stringify(stats));
  assert.ok(stats.failed <= stats.shards);
  // Each worker's figures are a part of the call's.
  const { workers } = stats;
  assert.equal(new Set(workers.map(({ worker }) => worker)).size, workers.length, 'one entry per worker');
  assert.ok(workers.every(({ shards, busyMs: ms }) => shards >= 0 && ms >= 0));
  assert.ok(workers.reduce((sum, { shards }) => sum + shards, 0) <= stats.shards, JSON.stringify(workers));
  assert.ok(workers.reduce((sum, { busyMs: ms }) => sum + ms, 0) <= busyMs + 1e-6, JSON.stringify(workers));
  if (stats.batches !== undefined) {
    const { count, min, mean, max } = stats.batches;
    assert.ok(min <= mean && mean <= max && min >= 1, JSON.stringify(stats.batches));
    assert.ok(Math.abs(count * mean - stats.shards) < 1e-6, 'the batches carry every shard');
  }
}

/** Runs `call` with an `onStats` and gives the one `CallStats` it got, checked. */
export async function statsOf(call: (onStats: (stats: CallStats) => void) => Promise<unknown>): Promise<CallStats> {
  const got: CallStats[] = [];
  await call((stats) => got.push(stats)).catch(() => undefined);
  // Nothing comes later either.
  await sleep(20);
  assert.equal(got.length, 1, 'onStats is called exactly once');
  const [stats] = got as [CallStats];
  assertConsistent(stats);
  return stats;
}
