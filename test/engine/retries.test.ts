import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, describe, it } from 'node:test';
import {
  distribute,
  parallel,
  ShardError,
  ShardTimeoutError,
  WorkerExitError,
  type Executor,
  type Progress,
} from '../../src/index.js';
import { Flaky, runsOf, type Failure } from '../fixtures/workers/flaky.js';
import { collect, range, settleWithin, sleep, warningsWith } from '../helpers.js';

/** A one-item function that fails its first `failures` runs of each shard, counting runs per shard. */
function flaky(
  failures: number,
  error: (index: number, run: number) => unknown = (i, run) => new Error(`${i}:${run}`),
) {
  const runs = new Map<number, number>();
  const fn = async (i: number) => {
    const run = (runs.get(i) ?? 0) + 1;
    runs.set(i, run);
    await sleep(1);
    if (run <= failures) throw error(i, run);
    return i;
  };
  return { fn, runs };
}

const quick = { minDelay: 1, jitter: false } as const;

describe('retries', () => {
  it('runs a failing shard again until it succeeds, within the limit', async () => {
    const { fn, runs } = flaky(2);
    const results = await distribute(fn, { retries: { limit: 2, ...quick } })(range(5));
    assert.deepEqual(results, range(5));
    assert.deepEqual([...runs.values()], [3, 3, 3, 3, 3]);
  });

  it('a number is the limit, with the default delays', async () => {
    const { fn, runs } = flaky(1);
    assert.deepEqual(await distribute(fn, { retries: 1 })(range(3)), range(3));
    assert.deepEqual([...runs.values()], [2, 2, 2]);
  });

  it('a shard that still fails gets a ShardError that says how many attempts it had, its cause the last error', async () => {
    const { fn, runs } = flaky(Infinity);
    const error = await distribute(fn, { retries: { limit: 3, ...quick } })([7]).then(
      () => assert.fail('expected a rejection'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ShardError);
    assert.equal(error.attempts, 4);
    assert.equal(runs.get(7), 4);
    assert.match(error.message, /Shard 0 `7` \(number\) failed after 4 attempts: Error: 7:4/);
    assert.equal((error.cause as Error).message, '7:4');
  });

  it('without retries a ShardError says 1 attempt and its message does not mention attempts', async () => {
    const { fn } = flaky(Infinity);
    const error = await distribute(fn)([1]).catch((e: unknown) => e);
    assert.ok(error instanceof ShardError);
    assert.equal(error.attempts, 1);
    assert.doesNotMatch(error.message, /attempts/);
  });

  it('retryIf decides which errors are retried, and sees each failed attempt', async () => {
    const seen: [number, number, number][] = [];
    const { fn, runs } = flaky(Infinity, (i) => (i === 0 ? new TypeError('permanent') : new Error('transient')));
    const outcomes = await distribute(fn, {
      results: 'settled',
      retries: {
        limit: 2,
        ...quick,
        retryIf: ({ error, index, attempt, retriesLeft }) => {
          seen.push([index, attempt, retriesLeft]);
          return !(error instanceof TypeError);
        },
      },
    })(range(2));
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['rejected', 'rejected'],
    );
    assert.equal(runs.get(0), 1);
    assert.equal(runs.get(1), 3);
    assert.deepEqual(
      seen.sort((a, b) => a[0] - b[0] || a[1] - b[1]),
      [
        [0, 1, 1],
        [1, 1, 1],
        [1, 2, 0],
      ],
    );
    assert.equal((outcomes[1] as { reason: ShardError }).reason.attempts, 3);
  });

  for (const [what, retryIf] of [
    [
      'throws',
      () => {
        throw new Error('retryIf broke');
      },
    ],
    ['answers a promise', () => Promise.resolve(true)],
  ] as const) {
    it(`a retryIf that ${what} means no retry, and a PARAFOR_RETRY_IF_FAILED warning`, async () => {
      const watch = warningsWith('PARAFOR_RETRY_IF_FAILED');
      try {
        const { fn, runs } = flaky(Infinity);
        const error = await distribute(fn, { retries: { limit: 3, retryIf: retryIf as () => boolean } })([0]).catch(
          (e: unknown) => e,
        );
        assert.ok(error instanceof ShardError);
        assert.equal(error.attempts, 1);
        assert.equal((error.cause as Error).message, '0:1');
        assert.equal(runs.get(0), 1);
        await sleep(1); // warnings are emitted on the next tick
        assert.equal(watch.warnings.length, 1);
        assert.match(watch.warnings[0]!.message, /retryIf of .* shard 0 was not retried/);
      } finally {
        watch.stop();
      }
    });
  }

  it('a timed-out attempt is retried, each attempt with its own timeout; timeouts: false does not retry it', async () => {
    const runs = new Map<number, number>();
    const slowOnce = async (i: number) => {
      const run = (runs.get(i) ?? 0) + 1;
      runs.set(i, run);
      if (run === 1) await sleep(10_000);
      return i;
    };
    assert.deepEqual(await distribute(slowOnce, { timeout: 50, retries: { limit: 1, ...quick } })([0, 1]), [0, 1]);
    runs.clear();
    const error = await distribute(slowOnce, { timeout: 50, retries: { limit: 1, timeouts: false } })([0]).catch(
      (e: unknown) => e,
    );
    assert.ok(error instanceof ShardError);
    assert.ok(error.cause instanceof ShardTimeoutError);
    assert.equal(runs.get(0), 1);
  });

  it('waits with exponential backoff between attempts (never less than the delay)', async () => {
    const at: number[] = [];
    const fn = async () => {
      at.push(performance.now());
      if (at.length < 4) throw new Error('again');
      return 'ok';
    };
    await distribute(fn, { retries: { limit: 3, minDelay: 20, factor: 2, jitter: false } })([0]);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    // Timers never fire early; allow 1 ms for their rounding.
    assert.ok(gaps[0]! >= 19 && gaps[1]! >= 39 && gaps[2]! >= 79, `gaps ${gaps.join(', ')}`);
  });

  it('a retry waiting for its delay keeps its slot: with concurrency 1 the next shard waits for it', async () => {
    const order: string[] = [];
    const runs = new Map<number, number>();
    const fn = async (i: number) => {
      const run = (runs.get(i) ?? 0) + 1;
      runs.set(i, run);
      order.push(`${i}.${run}`);
      await sleep(1);
      if (i === 0 && run === 1) throw new Error('once');
      return i;
    };
    await distribute(fn, { concurrency: 1, retries: { limit: 1, minDelay: 30, jitter: false } })(range(3));
    assert.deepEqual(order, ['0.1', '0.2', '1.1', '2.1']);
  });

  it('an abort during a retry delay rejects at once with its reason, and the retry never runs', async () => {
    const controller = new AbortController();
    const { fn, runs } = flaky(Infinity);
    const call = distribute(fn, { signal: controller.signal, retries: { limit: 5, minDelay: 60_000 } })([0]);
    await sleep(30);
    const reason = new Error('enough');
    controller.abort(reason);
    const outcome = await settleWithin(call, 2000);
    assert.ok('error' in outcome && outcome.error === reason);
    await sleep(20);
    assert.equal(runs.get(0), 1);
  });

  it('fail-fast: a shard that fails for good stops the call, and a retry still waiting never runs', async () => {
    const runs = new Map<number, number>();
    const fn = async (i: number) => {
      runs.set(i, (runs.get(i) ?? 0) + 1);
      if (i === 0) throw new Error('retried slowly');
      await sleep(20);
      throw new TypeError('for good');
    };
    const error = await distribute(fn, {
      retries: { limit: 3, minDelay: 60_000, retryIf: ({ error }) => !(error instanceof TypeError) },
    })(range(2)).catch((e: unknown) => e);
    assert.ok(error instanceof ShardError);
    assert.equal(error.index, 1);
    await sleep(20);
    assert.equal(runs.get(0), 1);
  });

  it('streams in both orders give every result once, retried shards included', async () => {
    for (const as of ['completed', 'ordered'] as const) {
      const { fn } = flaky(1);
      const items = await collect(() => distribute(fn, { as, retries: { limit: 1, ...quick } })(range(6)));
      assert.deepEqual(
        (items as number[]).sort((a, b) => a - b),
        range(6),
      );
      if (as === 'ordered') assert.deepEqual(items, range(6));
    }
  });

  it('onProgress counts each shard once, when it finishes for good, and reports the retries so far', async () => {
    const seen: Progress[] = [];
    const { fn } = flaky(1);
    await distribute(fn, { concurrency: 1, retries: { limit: 1, ...quick }, onProgress: (p) => seen.push(p) })(
      range(3),
    );
    assert.deepEqual(
      seen.map((p) => [p.index, p.done, p.retries]),
      [
        [0, 1, 1],
        [1, 2, 2],
        [2, 3, 3],
      ],
    );
  });

  it('works with a custom executor, through its run()', async () => {
    let opened = 0;
    const inline: Executor = {
      name: 'inline',
      defaultConcurrency: () => 2,
      open: ({ method }) => {
        opened++;
        return {
          run: async (task) => {
            task.started();
            return method.fn.call(method.thisArg, task.shard, ...task.args);
          },
          close() {},
        };
      },
    };
    const { fn } = flaky(2);
    assert.deepEqual(await distribute(fn, { executor: inline, retries: { limit: 2, ...quick } })(range(4)), range(4));
    assert.equal(opened, 1);
  });

  it('checks the option and says what was wrong', () => {
    for (const [value, shown] of [
      [-1, '`-1` (number)'],
      [1.5, '`1.5` (number)'],
      ['3', "`'3'` (string)"],
      [{ limit: -1 }, '`{ limit: -1 }` (object)'],
      [{ limit: 1, minDelay: -5 }, '`{ limit: 1, minDelay: -5 }` (object)'],
      [{ limit: 1, factor: 0.5 }, '`{ limit: 1, factor: 0.5 }` (object)'],
      [{ limit: 1, jitter: 'yes' }, "`{ limit: 1, jitter: 'yes' }` (object)"],
      [{ limit: 1, retryif: () => true }, '`{ limit: 1, retryif: [Function: retryif] }` (object)'],
      [{ minDelay: 5 }, '`{ minDelay: 5 }` (object)'],
    ] as const) {
      assert.throws(
        () => distribute((x: number) => x, { retries: value as never }),
        (error: unknown) =>
          error instanceof TypeError &&
          error.message.includes('Expected `retries` to be an integer from 0 and up, Infinity, or { limit,') &&
          error.message.endsWith(`got ${shown}`),
        String(shown),
      );
    }
  });
});

describe('retries on worker executors', () => {
  const root = mkdtempSync(join(tmpdir(), 'parafor-retries-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  let cases = 0;
  const freshDir = (): string => mkdtempSync(join(root, String(cases++)));

  for (const executor of ['worker', 'process'] as const) {
    for (const how of ['throw', 'exit', 'hang'] as const satisfies readonly Failure[]) {
      it(`${executor}: shards whose first run fails (${how}) are retried, and the call returns every result`, async () => {
        const dir = freshDir();
        const shards = range(how === 'throw' ? 40 : 3);
        const results = await parallel(new Flaky(), {
          executor,
          concurrency: 2,
          ...(how === 'hang' ? { timeout: 1000 } : {}),
          retries: { limit: 1, ...quick },
        }).run(shards, dir, 1, how);
        assert.deepEqual(
          results,
          shards.map((i) => i * 10 + 2),
        );
        for (const i of shards) assert.equal(runsOf(dir, i), 2);
      });
    }

    it(`${executor}: crashes: false fails a shard whose worker died, after one attempt`, async () => {
      const dir = freshDir();
      const error = await parallel(new Flaky(), { executor, retries: { limit: 2, crashes: false } })
        .run([0], dir, 1, 'exit')
        .catch((e: unknown) => e);
      assert.ok(error instanceof ShardError);
      assert.ok(error.cause instanceof WorkerExitError);
      assert.equal(error.attempts, 1);
      assert.equal(runsOf(dir, 0), 1);
    });
  }
});
