import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { distribute, parallel, RateLimiter } from '../../src/index.js';
import { Clock } from '../fixtures/workers/flaky.js';
import { InFlight, range, settleWithin, sleep } from '../helpers.js';

/** The most starts in any window of `interval` ms among `starts` (sorted), allowing `slack` ms for timer rounding. */
function mostInAnyWindow(starts: readonly number[], interval: number, slack = 1): number {
  const sorted = [...starts].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; j < sorted.length; j++) {
    while (sorted[j]! - sorted[i]! >= interval - slack) i++;
    most = Math.max(most, j - i + 1);
  }
  return most;
}

describe('RateLimiter', () => {
  it('allows at most `limit` starts in any window of `interval` ms (a sliding window, not a refilled bucket)', () => {
    const limiter = new RateLimiter({ limit: 3, interval: 100 });
    const [a, b] = [limiter.take(0)!, limiter.take(0)!];
    limiter.started(a, 0);
    limiter.started(b, 0);
    const c = limiter.take(50)!;
    limiter.started(c, 50);
    assert.equal(limiter.take(60), undefined);
    assert.equal(limiter.wait(60), 40); // the starts at 0 leave the window at 100
    assert.equal(limiter.take(99), undefined);
    const d = limiter.take(100)!;
    const e = limiter.take(100)!;
    assert.ok(d !== undefined && e !== undefined); // both starts at 0 left; the one at 50 is still in
    assert.equal(limiter.take(100), undefined);
    // d and e are taken but not started: until they start, the window cannot say when it frees.
    limiter.started(e, 110);
    assert.equal(limiter.wait(120), 30); // c leaves at 150
    assert.ok(limiter.take(150) !== undefined);
    assert.equal(limiter.wait(160), Infinity); // d has not started: nothing can leave before it
  });

  it('counts a start from when it happened, not from when its place was taken', () => {
    const limiter = new RateLimiter({ limit: 1, interval: 100 });
    const slot = limiter.take(0)!;
    assert.equal(limiter.wait(500), Infinity);
    let woken = 0;
    limiter.onStarted(() => woken++);
    limiter.started(slot, 500);
    assert.equal(woken, 1);
    assert.equal(limiter.wait(550), 50);
    assert.ok(limiter.take(600) !== undefined);
  });

  it('checks its limit and interval, naming what was wrong', () => {
    for (const bad of [
      { limit: 0, interval: 10 },
      { limit: 1.5, interval: 10 },
      { limit: 2_000_000, interval: 10 },
      { limit: 1, interval: 0 },
      { limit: 1, interval: Infinity },
      { limit: 1 },
    ]) {
      assert.throws(
        () => new RateLimiter(bad as never),
        (error: unknown) =>
          error instanceof TypeError &&
          error.message.startsWith(
            'RateLimiter: Expected { limit, interval }, with limit an integer from 1 to 1,000,000',
          ),
      );
    }
  });
});

describe('rateLimit', () => {
  it('a call starts at most `limit` shards in any `interval` ms', async () => {
    const starts: number[] = [];
    const fn = async (i: number) => {
      starts.push(performance.now());
      await sleep(1);
      return i;
    };
    assert.deepEqual(
      await distribute(fn, { concurrency: 10, rateLimit: { limit: 3, interval: 100 } })(range(10)),
      range(10),
    );
    assert.equal(starts.length, 10);
    // A shard's body runs a little after the engine counts its start (setting up currentShard()).
    assert.ok(
      mostInAnyWindow(starts, 100, 5) <= 3,
      `starts ${starts.map((t) => (t - starts[0]!).toFixed(1)).join(' ')}`,
    );
    // The limit is what slowed it down: three windows had to pass.
    assert.ok(starts.at(-1)! - starts[0]! >= 3 * 100 - 5);
  });

  it('composes with concurrency: neither bound is exceeded', async () => {
    const inFlight = new InFlight();
    const starts: number[] = [];
    const fn = (i: number) =>
      inFlight.around(async () => {
        starts.push(performance.now());
        await sleep(15);
        return i;
      });
    await distribute(fn, { concurrency: 2, rateLimit: { limit: 3, interval: 50 } })(range(9));
    assert.equal(inFlight.max, 2);
    assert.ok(mostInAnyWindow(starts, 50, 5) <= 3);
  });

  it('a plain { limit, interval } is a quota for each call; one RateLimiter passed to several calls is shared by them', async () => {
    const started: string[] = [];
    const fn = async (i: number, call: string) => {
      started.push(`${call}${i}`);
      await sleep(1);
      return i;
    };
    const own = distribute(fn, { rateLimit: { limit: 2, interval: 60_000 } });
    // Each call has its own two starts a minute: both finish at once.
    const both = await settleWithin(Promise.all([own([0, 1], 'a'), own([0, 1], 'b')]), 5000);
    assert.ok('value' in both);

    started.length = 0;
    const controller = new AbortController();
    const quota = new RateLimiter({ limit: 2, interval: 60_000 });
    const shared = distribute(fn, { rateLimit: quota, signal: controller.signal });
    const calls = [shared([0, 1, 2], 'a'), shared([0, 1, 2], 'b')].map((call) => settleWithin(call, 5000));
    await sleep(100);
    // Two starts in all, whichever calls they belong to; the rest wait for the minute to pass.
    assert.equal(started.length, 2);
    controller.abort(new Error('stop waiting'));
    for (const outcome of await Promise.all(calls)) assert.ok('error' in outcome);
  });

  it('a retry is a start too', async () => {
    const starts: number[] = [];
    const fn = async () => {
      starts.push(performance.now());
      if (starts.length < 4) throw new Error('again');
      return 'ok';
    };
    await distribute(fn, { retries: { limit: 3, minDelay: 0 }, rateLimit: { limit: 2, interval: 50 } })([0]);
    assert.equal(starts.length, 4);
    assert.ok(mostInAnyWindow(starts, 50, 5) <= 2);
  });

  it('an abort while shards wait for the limit rejects at once and starts nothing more', async () => {
    let started = 0;
    const controller = new AbortController();
    const fn = async (i: number) => {
      started++;
      return i;
    };
    const call = distribute(fn, { signal: controller.signal, rateLimit: { limit: 1, interval: 60_000 } })(range(5));
    await sleep(50);
    const reason = new Error('enough');
    controller.abort(reason);
    const outcome = await settleWithin(call, 2000);
    assert.ok('error' in outcome && outcome.error === reason);
    assert.equal(started, 1);
  });

  for (const executor of ['worker', 'process'] as const) {
    it(`'${executor}' sends rate-limited shards one per message, so they start under the limit`, async () => {
      const starts = await parallel(new Clock(), {
        executor,
        concurrency: 4,
        rateLimit: { limit: 3, interval: 100 },
      }).startedAt(range(9));
      // A shard starts in its worker a little after it is handed over: allow for that latency.
      assert.ok(
        mostInAnyWindow(starts, 100, 25) <= 3,
        `starts ${starts.map((t) => (t - starts[0]!).toFixed(1)).join(' ')}`,
      );
    });
  }

  it('refuses a fixed batchSize above 1 with a rate limit on the worker executors', async () => {
    assert.throws(
      () => distribute((x: number) => x, { executor: 'worker', batchSize: 10, rateLimit: { limit: 1, interval: 10 } }),
      /`batchSize: 10` cannot be combined with `rateLimit`/,
    );
    await assert.rejects(
      parallel(new Clock(), { batchSize: 10, rateLimit: { limit: 1, interval: 10 } }).startedAt([1]),
      /Clock\.startedAt: `batchSize: 10` cannot be combined with `rateLimit`/,
    );
  });

  it('checks the option and says what was wrong', () => {
    assert.throws(
      () => distribute((x: number) => x, { rateLimit: { limit: 0, interval: 10 } }),
      (error: unknown) =>
        error instanceof TypeError &&
        error.message.includes('Expected `rateLimit` to be a RateLimiter or { limit, interval }') &&
        error.message.endsWith('got `{ limit: 0, interval: 10 }` (object)'),
    );
  });
});
