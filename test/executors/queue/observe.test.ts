/**
 * Seeing the work of the queue executor, against a real redis-server and two real `parafor worker`
 * processes (2 jobs at once each: 4 slots): `progress: true` on a pipe, `onStats` (shard time
 * counted from when a worker takes the job, not while it waits in Redis), `rateLimit` measured by
 * the shards' own start times in the workers, and retries that run out. Standard mode only:
 * nothing here depends on the decorators' mode.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parallel, ShardError, shutdown, type CallStats } from '../../../src/index.js';
import { range } from '../../helpers.js';
import { assertConsistent } from '../../observe/check-stats.js';
import { activeJobs, METHODS, RedisServer, skipReason, WorkerProcess } from './servers.js';

const QUEUE = 'observe';
process.env['PARAFOR_TEST_QUEUE'] = QUEUE;
const OBSERVE = fileURLToPath(new URL('../../fixtures/queue/observe.js', import.meta.url));
const PROGRAM = fileURLToPath(new URL('../../fixtures/queue/progress.js', import.meta.url));
const skip =
  skipReason() ??
  // The compiled legacy tree runs the same executor: its results suite covers that mode.
  (import.meta.url.includes('/legacy/') ? 'the standard build covers observing' : undefined);
let redis: RedisServer | undefined;
let workers: WorkerProcess[] = [];
// The methods read Redis's address from the environment when their module loads: after before().
let methods: typeof import('../../fixtures/queue/methods.js');
let stamps: typeof import('../../fixtures/queue/observe.js');

before(async () => {
  if (skip !== undefined) return;
  redis = await RedisServer.start();
  process.env['PARAFOR_TEST_REDIS'] = redis.url;
  methods = await import('../../fixtures/queue/methods.js');
  stamps = await import('../../fixtures/queue/observe.js');
  const modules = [METHODS, OBSERVE];
  workers = await Promise.all([
    WorkerProcess.start(redis, QUEUE, { modules }),
    WorkerProcess.start(redis, QUEUE, { modules }),
  ]);
});

after(async () => {
  await shutdown();
  await Promise.all(workers.map((worker) => worker.stop('SIGKILL')));
  await redis?.close();
});

/** `parallel()`'s view of a call with options of its own, typed loosely as a one-item method is at call sites. */
const view = (target: object, options: object): any => parallel(target, options);

/**
 * No more than `limit` of these starts (the workers' own clocks) in any `interval` ms. A shard starts
 * in a worker some moments after the caller lets it go, and not all equally late: that much of the
 * interval is allowed to the workers' latency.
 */
function assertSpaced(started: readonly { readonly at: number }[], limit: number, interval: number): void {
  const tolerance = 100;
  const times = started.map(({ at }) => at).sort((a, b) => a - b);
  for (let i = 0; i + limit < times.length; i++) {
    const gap = (times[i + limit] as number) - (times[i] as number);
    assert.ok(
      gap >= interval - tolerance,
      `starts ${i} and ${i + limit} were ${gap.toFixed(1)} ms apart: ${times.map((at) => (at - times[0]!).toFixed(0)).join(', ')}`,
    );
  }
}

describe('queue executor: seeing the work', { skip }, () => {
  it('progress: true on a pipe writes plain lines and a summary on stderr, nothing on stdout, and the program exits by itself', async () => {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [PROGRAM], {
      env: { ...process.env, CI: undefined },
      timeout: 30_000,
    });
    assert.equal(stdout, '');
    assert.ok(!stderr.includes('\u001b'), stderr);
    const lines = stderr.trimEnd().split('\n');
    assert.match(
      lines.at(-1) ?? '',
      /^Shards\.square: 30 shards in .+, \d+\.\dx speed-up \(.+ of shard time, \d+ at once\)/,
    );
  });

  it('onStats gives one CallStats whose counts and quantiles are right', async () => {
    const seen: CallStats[] = [];
    const settled = (await view(new methods.Shards(), {
      results: 'settled',
      stopOnError: false,
      onStats: (stats: CallStats) => seen.push(stats),
    }).oddFails(range(9))) as PromiseSettledResult<number>[];
    assert.equal(settled.filter((outcome) => outcome.status === 'rejected').length, 4);
    assert.equal(seen.length, 1);
    const [stats] = seen as [CallStats];
    assert.equal(stats.method, 'Shards.oddFails');
    assert.equal(stats.shards, 9);
    assert.equal(stats.failed, 4);
    assert.equal(stats.retries, 0);
    for (const quantiles of [stats.shardMs, stats.waitMs]) {
      assert.ok(quantiles.min >= 0, JSON.stringify(stats));
      assert.ok(quantiles.min <= quantiles.median, JSON.stringify(stats));
      assert.ok(quantiles.median <= quantiles.p95, JSON.stringify(stats));
      assert.ok(quantiles.p95 <= quantiles.max, JSON.stringify(stats));
    }
    assert.ok(stats.wallMs > 0 && stats.busyMs >= 0, JSON.stringify(stats));
    assertConsistent(stats);
  });

  it('onStats counts shards per worker, each named by host, process and thread, and its figures agree', async () => {
    const seen: CallStats[] = [];
    const ran = (await view(new methods.Shards(), { onStats: (stats: CallStats) => seen.push(stats) }).where(
      range(24).map(() => 20),
    )) as { pid: number }[];
    const [stats] = seen as [CallStats];
    assertConsistent(stats);
    assert.equal(stats.shards, 24);
    const names = new RegExp(`^${hostname()} pid (\\d+) thread \\d+$`);
    for (const { worker } of stats.workers) assert.match(worker, names);
    // Each process's count, from its entries, is the number of shards that say they ran there.
    const perProcess = new Map<number, number>();
    for (const { worker, shards } of stats.workers) {
      const pid = Number(names.exec(worker)?.[1]);
      perProcess.set(pid, (perProcess.get(pid) ?? 0) + shards);
    }
    const ranIn = new Map<number, number>();
    for (const { pid } of ran) ranIn.set(pid, (ranIn.get(pid) ?? 0) + 1);
    assert.deepEqual([...perProcess].sort(), [...ranIn].sort());
    assert.equal(
      stats.workers.reduce((sum, { shards }) => sum + shards, 0),
      24,
    );
  });

  it('rateLimit holds across the workers: at most `limit` starts in any `interval` ms', async () => {
    const limit = 3;
    const interval = 300;
    const count = 12;
    const started = (await view(new stamps.Stamps(), { rateLimit: { limit, interval } }).stamp(range(count))) as {
      index: number;
      at: number;
    }[];
    assert.deepEqual(
      started.map(({ index }) => index),
      range(count),
    );
    assertSpaced(started, limit, interval);
  });

  it('shard time counts from when a worker takes the job: with more jobs than worker slots, the wait is waitMs, not busyMs', async () => {
    // Every worker thread started and its method loaded (that counts as shard time, as on 'worker').
    await view(new methods.Shards(), { concurrency: 4 }).busy([100, 100, 100, 100]);
    const seen: CallStats[] = [];
    const ms = 400;
    // 8 jobs of 400 ms on 4 worker slots: 4 run at once, 4 wait in Redis about 400 ms for a slot.
    await view(new methods.Shards(), { concurrency: 8, onStats: (stats: CallStats) => seen.push(stats) }).busy(
      range(8).map(() => ms),
    );
    const [stats] = seen as [CallStats];
    const figures = JSON.stringify(stats);
    assert.equal(stats.shards, 8);
    // The shards ran 8 x 400 ms, plus the moments an event takes to come back (counting the wait in
    // Redis too would make it about 8 x 400 + 4 x 400 ms).
    assert.ok(stats.busyMs >= 8 * ms * 0.95 && stats.busyMs < 8 * ms * 1.3, figures);
    // 4 slots were never more than full.
    assert.ok(stats.busyMs <= stats.wallMs * 4 * 1.05, figures);
    assert.ok(stats.shardMs.max < ms * 1.5, figures);
    assert.ok(stats.waitMs.max > ms * 0.5, figures);
    assert.ok(stats.utilization <= 1, figures);
    assert.ok(Math.abs(stats.speedup - stats.busyMs / stats.wallMs) < 1e-9, figures);
  });

  it('rateLimit counts a start when a worker takes the job: with the workers busy, no burst when they free up', async () => {
    // Every worker slot busy for a second: the limited call's jobs wait in Redis meanwhile.
    const blocker = view(new methods.Shards(), { concurrency: 4 }).busy([1000, 1000, 1000, 1000]);
    await activeJobs(redis!.url, QUEUE, 4);
    const limit = 3;
    const interval = 300;
    const count = 9;
    const started = (await view(new stamps.Stamps(), { rateLimit: { limit, interval }, concurrency: count }).stamp(
      range(count),
    )) as { index: number; at: number }[];
    await blocker;
    assertSpaced(started, limit, interval);
  });

  it('a shard that fails every attempt reports its error after its retries, and the others their results', async () => {
    const seen: CallStats[] = [];
    const settled = (await view(new methods.Shards(), {
      results: 'settled',
      stopOnError: false,
      retries: { limit: 2, minDelay: 5 },
      onStats: (stats: CallStats) => seen.push(stats),
    }).oddFails(range(4))) as PromiseSettledResult<number>[];
    assert.deepEqual(
      settled.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : 'rejected')),
      [0, 'rejected', 2, 'rejected'],
    );
    for (const index of [1, 3]) {
      const { reason } = settled[index] as PromiseRejectedResult;
      assert.ok(reason instanceof ShardError, String(reason));
      assert.equal(reason.index, index);
      assert.equal((reason.cause as { code?: string }).code, 'E_ODD');
      assert.equal(reason.attempts, 3);
      assert.match(reason.message, /3 attempts/);
    }
    assert.equal(seen[0]?.retries, 4);
    assert.equal(seen[0]?.failed, 2);
  });
});
