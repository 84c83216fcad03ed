import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  currentShard,
  distribute,
  ShardError,
  ShardSourceError,
  ShardTimeoutError,
  type Progress,
  type ShardOutcome,
} from '../../src/index.js';
import { countingSource, deferred, InFlight, range, sleep, until, warningsWith } from '../helpers.js';

describe('result order', () => {
  // Later shards finish first, so completion order is the reverse of input order.
  const reversed = (n: number) => async (i: number) => {
    await sleep((n - i) * 8);
    return i;
  };

  it("as: 'array' gives input order whatever the completion order", async () => {
    const run = distribute(reversed(6), { concurrency: 6 });
    assert.deepEqual(await run(range(6)), range(6));
  });

  /** Shards that finish when the test opens their gate, so completion order does not hang on timers. */
  const gated = (n: number) => {
    const gates = range(n).map(() => deferred());
    const run = async (i: number) => {
      await gates[i]!.promise;
      return i;
    };
    return { run, open: (i: number) => gates[i]!.resolve() };
  };

  it("as: 'completed' yields in completion order", async () => {
    const { run: shard, open } = gated(5);
    const stream = distribute(shard, { concurrency: 5, as: 'completed' })(range(5));
    const seen: number[] = [];
    for (const i of [4, 3, 2, 1, 0]) {
      const next = stream.next();
      open(i);
      seen.push((await next).value as number);
    }
    assert.deepEqual(seen, [4, 3, 2, 1, 0]);
    assert.equal((await stream.next()).done, true);
  });

  it("as: 'ordered' yields in input order, each as soon as all before it are ready", async () => {
    const gates = range(3).map(() => deferred());
    const run = distribute(
      async (i: number) => {
        await gates[i]!.promise;
        return i;
      },
      { concurrency: 3, as: 'ordered' },
    );
    const stream = run(range(3));
    const first = stream.next();
    gates[1]!.resolve();
    gates[0]!.resolve();
    assert.deepEqual(await first, { value: 0, done: false });
    assert.deepEqual(await stream.next(), { value: 1, done: false });
    gates[2]!.resolve();
    assert.deepEqual(await stream.next(), { value: 2, done: false });
    assert.deepEqual(await stream.next(), { value: undefined, done: true });
  });

  it("results: 'entries' tells which shard each streamed result came from", async () => {
    const { run: shard, open } = gated(3);
    const stream = distribute(shard, { concurrency: 3, as: 'completed', results: 'entries' })(range(3));
    const entries = [];
    for (const i of [2, 1, 0]) {
      const next = stream.next();
      open(i);
      entries.push((await next).value);
    }
    assert.equal((await stream.next()).done, true);
    assert.deepEqual(entries, [
      { index: 2, shard: 2, value: 2 },
      { index: 1, shard: 1, value: 1 },
      { index: 0, shard: 0, value: 0 },
    ]);
  });

  it('accepts arrays, Sets, generators, async generators and typed arrays', async () => {
    const square = distribute((x: number) => x * x, { concurrency: 2 });
    function* gen() {
      yield* [1, 2, 3];
    }
    async function* agen() {
      yield* [1, 2, 3];
    }
    for (const shards of [[1, 2, 3], new Set([1, 2, 3]), gen(), agen(), Uint8Array.of(1, 2, 3)]) {
      assert.deepEqual(await square(shards), [1, 4, 9]);
    }
    assert.deepEqual(await square([]), []);
  });

  it('runs sync and async functions alike, and a sync throw becomes a ShardError', async () => {
    const run = distribute((x: number) => {
      if (x === 2) throw new RangeError('two');
      return x;
    });
    await assert.rejects(
      run([1, 2]),
      (error: unknown) => error instanceof ShardError && error.cause instanceof RangeError,
    );
  });
});

describe('concurrency and lazy reading', () => {
  it('never runs more than `concurrency` shards at once', async () => {
    const flight = new InFlight();
    const run = distribute((i: number) => flight.around(() => sleep(2).then(() => i)), { concurrency: 3 });
    assert.deepEqual(await run(range(30)), range(30));
    assert.equal(flight.max, 3);
  });

  it('defaults to 5 at once for the thread executor (the article’s threads=5)', async () => {
    const flight = new InFlight();
    const run = distribute((i: number) => flight.around(() => sleep(5).then(() => i)));
    await run(range(20));
    assert.equal(flight.max, 5);
  });

  it('reads no more than concurrency + bufferSize shards ahead of a consumer that does not read', async () => {
    const source = countingSource();
    const run = distribute(async (i: number) => i, { concurrency: 2, bufferSize: 3, as: 'completed' });
    const stream = run(source);
    assert.deepEqual(await stream.next(), { value: 0, done: false });
    await sleep(30);
    // One handed out, and at most 2 + 3 held: the slow consumer slowed the reading.
    assert.ok(source.read <= 1 + 2 + 3, `read ${source.read}`);
    await stream.return();
    await until(() => source.closed);
  });

  for (const as of ['completed', 'ordered'] as const) {
    it(`as: '${as}' starts the next shard as soon as the consumer takes a result, while it works on it`, async () => {
      // concurrency 2, no buffer: taking the first result frees a place, which a third shard fills
      // at once, before the consumer asks for more.
      const gates = range(4).map(() => deferred());
      let started = 0;
      const stream = distribute(
        async (i: number) => {
          started++;
          await gates[i]!.promise;
          return i;
        },
        { concurrency: 2, bufferSize: 0, as },
      )(range(4));
      const first = stream.next();
      gates[0]!.resolve();
      assert.deepEqual(await first, { value: 0, done: false });
      await until(() => started === 3);
      for (const gate of gates) gate.resolve();
      const rest: number[] = [];
      for await (const value of stream) rest.push(value);
      assert.deepEqual(rest.sort(), [1, 2, 3]);
    });
  }

  it('streams an endless source and stops it on break: the source is closed and no new shard starts', async () => {
    const source = countingSource();
    let started = 0;
    const run = distribute(
      async (i: number) => {
        started++;
        await sleep(1);
        return i;
      },
      { concurrency: 4, as: 'completed' },
    );
    let taken = 0;
    for await (const value of run(source)) {
      assert.equal(typeof value, 'number');
      if (++taken === 50) break;
    }
    await until(() => source.closed);
    const startedAtBreak = started;
    await sleep(20);
    assert.equal(started, startedAtBreak, 'no shard started after the break');
    assert.ok(source.read <= 50 + 4 + 4, `read ${source.read}`);
  });

  it('break tells running shards to stop through their signal', async () => {
    const aborted: unknown[] = [];
    const run = distribute(
      async (i: number) => {
        if (i === 0) return 0;
        const { signal } = currentShard()!;
        await new Promise((resolve) => signal.addEventListener('abort', resolve));
        aborted.push(signal.reason);
        return i;
      },
      { concurrency: 3, as: 'completed' },
    );
    for await (const value of run(range(10))) {
      assert.equal(value, 0);
      break;
    }
    await until(() => aborted.length === 3);
    assert.ok(aborted.every((reason) => reason instanceof DOMException && reason.name === 'AbortError'));
  });

  it('closes a sync iterator on break', async () => {
    let closed = false;
    function* numbers() {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        closed = true;
      }
    }
    const run = distribute((i: number) => i, { as: 'ordered' });
    for await (const value of run(numbers())) if (value === 3) break;
    assert.ok(closed);
  });
});

describe('errors', () => {
  it('fails fast with a ShardError naming the method, the shard and its index, the cause kept', async () => {
    class QueryError extends Error {
      code = 'E42';
    }
    let startedAfterFailure = 0;
    let failed = false;
    const run = distribute(
      async function query(id: string) {
        if (failed) startedAfterFailure++;
        await sleep(id === 'b' ? 1 : 20);
        if (id === 'b') {
          failed = true;
          throw new QueryError('no such row');
        }
        return id;
      },
      { concurrency: 2 },
    );
    await assert.rejects(run(['a', 'b', 'c', 'd', 'e']), (error: unknown) => {
      assert.ok(error instanceof ShardError);
      assert.equal(error.method, 'query');
      assert.equal(error.index, 1);
      assert.equal(error.shard, 'b');
      assert.ok(error.cause instanceof QueryError);
      assert.equal(error.cause.code, 'E42');
      assert.equal(error.message, "query: Shard 1 `'b'` (string) failed: Error: no such row");
      return true;
    });
    await sleep(40);
    assert.equal(startedAfterFailure, 0, 'no new shard started after the failure');
  });

  it('a thrown non-Error is kept as the cause', async () => {
    const run = distribute((x: number) => {
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- what users may do
      throw x;
    });
    await assert.rejects(
      run([7]),
      (error: unknown) =>
        error instanceof ShardError && error.cause === 7 && /threw `7` \(number\)/.test(error.message),
    );
  });

  it('fails fast from a stream too, after the results before it', async () => {
    const run = distribute(
      async (i: number) => {
        await sleep(i * 5);
        if (i === 2) throw new Error('bad');
        return i;
      },
      { as: 'completed', concurrency: 1 },
    );
    const seen: number[] = [];
    await assert.rejects(async () => {
      for await (const value of run(range(5))) seen.push(value);
    }, ShardError);
    assert.deepEqual(seen, [0, 1]);
  });

  it('stopOnError: false runs every shard, then rejects with an AggregateError of ShardErrors in input order', async () => {
    let ran = 0;
    const run = distribute(
      async (i: number) => {
        ran++;
        await sleep(10 - i);
        if (i % 3 === 0) throw new Error(`bad ${i}`);
        return i;
      },
      { stopOnError: false, concurrency: 4 },
    );
    await assert.rejects(run(range(8)), (error: unknown) => {
      assert.ok(error instanceof AggregateError);
      assert.deepEqual(
        error.errors.map((e: ShardError) => e.index),
        [0, 3, 6],
      );
      assert.ok(error.errors.every((e) => e instanceof ShardError));
      assert.match(error.message, /3 shards failed \(0, 3, 6\)/);
      return true;
    });
    assert.equal(ran, 8);
  });

  it('stopOnError: false in a stream yields every success, then throws the AggregateError', async () => {
    const run = distribute(
      (i: number) => {
        if (i === 1) throw new Error('one');
        return i;
      },
      { stopOnError: false, as: 'ordered' },
    );
    const seen: number[] = [];
    await assert.rejects(async () => {
      for await (const value of run(range(4))) seen.push(value);
    }, AggregateError);
    assert.deepEqual(seen, [0, 2, 3]);
  });

  it("results: 'settled' reports every shard's outcome and never rejects for a shard", async () => {
    const run = distribute(
      (i: number) => {
        if (i === 1) throw new Error('one');
        return i * 10;
      },
      { results: 'settled' },
    );
    const outcomes: ShardOutcome<number, number>[] = await run(range(3));
    assert.equal(outcomes.length, 3);
    assert.deepEqual(outcomes[0], { status: 'fulfilled', index: 0, shard: 0, value: 0 });
    assert.equal(outcomes[1]?.status, 'rejected');
    assert.ok(
      outcomes[1]?.status === 'rejected' && outcomes[1].reason instanceof ShardError && outcomes[1].reason.index === 1,
    );
    assert.deepEqual(outcomes[2], { status: 'fulfilled', index: 2, shard: 2, value: 20 });
  });

  it('a failing source rejects with a ShardSourceError naming the index being read', async () => {
    async function* broken() {
      yield 1;
      yield 2;
      throw new Error('disk gone');
    }
    const run = distribute((x: number) => x, { results: 'settled' });
    await assert.rejects(run(broken()), (error: unknown) => {
      assert.ok(error instanceof ShardSourceError);
      assert.equal(error.index, 2);
      assert.match(error.message, /Reading shard 2 from the shards failed: Error: disk gone/);
      return true;
    });
  });

  it('a stream with bad shards throws a TypeError at the call, before any iteration', () => {
    const run = distribute((x: number) => x, { as: 'completed' });
    assert.throws(() => run(3 as never), /Expected the shards \(first argument\)/);
  });

  it('a throwing onProgress does not lose results, and each throw is a process warning with a code', async () => {
    const { warnings, stop } = warningsWith('PARAFOR_ON_PROGRESS_THREW');
    try {
      const run = distribute((x: number) => x, {
        onProgress: () => {
          throw new Error('bad callback');
        },
      });
      assert.deepEqual(await run([1, 2]), [1, 2]);
      await until(() => warnings.length === 2);
      assert.match(warnings[0]!.message, /onProgress of <anonymous function> threw: Error: bad callback/);
    } finally {
      stop();
    }
  });
});

describe('signal and timeout', () => {
  it('aborting the signal rejects with its reason and tells running shards to stop', async () => {
    const controller = new AbortController();
    const stopped: unknown[] = [];
    let started = 0;
    const run = distribute(
      async (i: number) => {
        started++;
        const { signal } = currentShard()!;
        await new Promise((resolve) => signal.addEventListener('abort', resolve));
        stopped.push(signal.reason);
        return i;
      },
      { concurrency: 2, signal: controller.signal },
    );
    const call = run(range(10));
    await until(() => started === 2);
    const reason = new Error('user cancelled');
    controller.abort(reason);
    await assert.rejects(call, (error: unknown) => error === reason);
    await until(() => stopped.length === 2);
    assert.ok(stopped.every((r) => r === reason));
    await sleep(10);
    assert.equal(started, 2, 'queued shards never started');
  });

  it('an already aborted signal rejects before any shard runs', async () => {
    let ran = false;
    const run = distribute(
      () => {
        ran = true;
      },
      { signal: AbortSignal.abort(new Error('too late')) },
    );
    await assert.rejects(run([1]), /too late/);
    assert.equal(ran, false);
  });

  it('aborting ends a stream: the next read throws the reason', async () => {
    const controller = new AbortController();
    const run = distribute(
      async (i: number) => {
        await sleep(i === 0 ? 0 : 1000);
        return i;
      },
      { signal: controller.signal, as: 'completed' },
    );
    const stream = run(range(3));
    assert.deepEqual(await stream.next(), { value: 0, done: false });
    controller.abort(new Error('stop'));
    await assert.rejects(stream.next(), /stop/);
  });

  it('timeout fails a shard that runs too long with ShardTimeoutError, and aborts its signal', async () => {
    let reason: unknown;
    const run = distribute(
      async (i: number) => {
        if (i !== 1) return i;
        const { signal } = currentShard()!;
        await new Promise((resolve) => signal.addEventListener('abort', resolve));
        reason = signal.reason;
        return i;
      },
      { timeout: 30, results: 'settled' },
    );
    const outcomes = await run(range(3));
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    const failure = outcomes[1];
    assert.ok(failure?.status === 'rejected');
    assert.ok(failure.reason.cause instanceof ShardTimeoutError);
    assert.equal(failure.reason.cause.timeout, 30);
    assert.match(failure.reason.message, /Shard 1 timed out after 30 ms/);
    assert.equal(reason, failure.reason.cause);
  });

  it('a shard that ignores its signal cannot hang the call: its slot is freed at the timeout', async () => {
    const never = new Promise<never>(() => undefined);
    const run = distribute((i: number) => (i === 0 ? never : i), { concurrency: 1, timeout: 20, results: 'settled' });
    const outcomes = await run(range(3));
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['rejected', 'fulfilled', 'fulfilled'],
    );
  });

  it('timeout counts from the start of a shard, not from when it was queued', async () => {
    // Each shard takes ~15 ms with one slot: the last starts ~60 ms after the call, well past 40 ms.
    const run = distribute(async (i: number) => sleep(15).then(() => i), { concurrency: 1, timeout: 200 });
    assert.deepEqual(await run(range(5)), range(5));
  });
});

describe('progress and context', () => {
  it('onProgress reports each finished shard with counts, total and timings', async () => {
    const reports: Progress[] = [];
    const run = distribute(
      async function work(i: number) {
        await sleep(2);
        if (i === 2) throw new Error('x');
        return i;
      },
      { onProgress: (p) => reports.push(p), results: 'settled', concurrency: 2 },
    );
    await run(range(4));
    assert.equal(reports.length, 4);
    assert.deepEqual(
      reports.map((r) => r.done),
      [1, 2, 3, 4],
    );
    assert.equal(reports.at(-1)?.failed, 1);
    assert.ok(
      reports.every((r) => r.total === 4 && r.method === 'work' && r.durationMs >= 0 && r.elapsedMs >= r.durationMs),
    );
    assert.deepEqual(reports.map((r) => r.index).sort(), range(4));
  });

  it('total is undefined for an input that does not know its size', async () => {
    let total: number | undefined = -1;
    const run = distribute((i: number) => i, { onProgress: (p) => (total = p.total) });
    async function* two() {
      yield* [1, 2];
    }
    await run(two());
    assert.equal(total, undefined);
  });

  it('currentShard() gives the running shard and is undefined outside', async () => {
    assert.equal(currentShard(), undefined);
    const run = distribute(async function inspect(_shard: string) {
      await sleep(1);
      const context = currentShard()!;
      return `${context.method}:${context.index}:${String(context.shard)}:${context.signal.aborted}`;
    });
    assert.deepEqual(await run(['x', 'y']), ['inspect:0:x:false', 'inspect:1:y:false']);
  });

  it('a nested distributed call inside a shard has its own slots (no deadlock)', async () => {
    const inner = distribute(async (j: number) => sleep(1).then(() => j), { concurrency: 1 });
    const outer = distribute(async (i: number) => (await inner([i, i])).reduce((a, b) => a + b), { concurrency: 1 });
    assert.deepEqual(await outer(range(3)), [0, 2, 4]);
  });
});
