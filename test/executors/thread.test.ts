import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { currentShard, distribute, ShardError, ShardTimeoutError } from '../../src/index.js';
import { countingSource, deferred, range, settleWithin, sleep } from '../helpers.js';

/** What shards did, in the order they did it: `start i` when shard i began, `fail i` when it threw. */
class Log {
  readonly events: string[] = [];
  running = 0;
  max = 0;
  start(i: number): void {
    this.events.push(`start ${i}`);
    this.running++;
    this.max = Math.max(this.max, this.running);
  }
  end(): void {
    this.running--;
  }
  fail(i: number): Error {
    this.events.push(`fail ${i}`);
    this.end();
    return new Error(`shard ${i} failed`);
  }
  /** Shards that started after the first failure. */
  startedAfterFailure(): string[] {
    const first = this.events.findIndex((event) => event.startsWith('fail'));
    return first < 0 ? [] : this.events.slice(first + 1).filter((event) => event.startsWith('start'));
  }
}

const timeouts = [
  { name: 'in chunks (no timeout)', timeout: undefined },
  { name: 'one task each (a timeout)', timeout: 60_000 },
] as const;

describe("'thread' executor", () => {
  for (const { name, timeout } of timeouts) {
    describe(name, () => {
      const options = timeout === undefined ? {} : { timeout };

      it('never runs more than `concurrency` shards at once, sync and async alike', async () => {
        const log = new Log();
        const run = distribute(
          (i: number): number | Promise<number> => {
            log.start(i);
            // Every third shard returns at once; the others wait on a timer or a microtask.
            if (i % 3 === 0) {
              log.end();
              return i;
            }
            return (i % 3 === 1 ? sleep(1) : Promise.resolve()).then(() => {
              log.end();
              return i;
            });
          },
          { concurrency: 4, ...options },
        );
        assert.deepEqual(await run(range(300)), range(300));
        assert.ok(log.max <= 4, `${log.max} shards ran at once`);
        assert.equal(log.max, 4);
        assert.equal(log.running, 0);
      });

      it('keeps the bound across concurrent calls, each to its own concurrency', async () => {
        const logs = [new Log(), new Log(), new Log()];
        const calls = logs.map((log, k) =>
          distribute(
            async (i: number) => {
              log.start(i);
              await sleep(i % 2);
              log.end();
              return i * k;
            },
            { concurrency: k + 1, ...options },
          )(range(60)),
        );
        const results = await Promise.all(calls);
        results.forEach((values, k) =>
          assert.deepEqual(
            values,
            range(60).map((i) => i * k),
          ),
        );
        logs.forEach((log, k) => assert.ok(log.max <= k + 1, `call ${k}: ${log.max} at once`));
      });

      // Shards 0 to 7 are released together, in one turn of the event loop, and shard 5 fails: at
      // once, or with a rejection that passes through three more promises before it comes back,
      // after the others' results.
      const failures = {
        'in the same turn': (error: Error): Promise<never> => Promise.reject(error),
        'with a rejection several promises long': (error: Error): Promise<never> =>
          Promise.reject(error).then(Number).then(Number).then(Number) as Promise<never>,
      };
      for (const [how, failing] of Object.entries(failures)) {
        it(`fail-fast starts no shard after an async failure among shards finishing together, ${how}`, async () => {
          const log = new Log();
          const gate = deferred();
          const run = distribute(
            async (i: number) => {
              log.start(i);
              if (i >= 8) return await sleep(1).then(() => i);
              await gate.promise;
              if (i === 5) return await failing(log.fail(i));
              log.end();
              return i;
            },
            { concurrency: 8, ...options },
          );
          const call = run(range(100));
          await sleep(5);
          gate.resolve();
          await assert.rejects(call, (error: unknown) => error instanceof ShardError && error.index === 5);
          await sleep(20);
          assert.deepEqual(log.startedAfterFailure(), []);
        });
      }

      it('fail-fast starts no shard after a sync throw', async () => {
        const log = new Log();
        const run = distribute(
          (i: number) => {
            log.start(i);
            if (i === 3) throw log.fail(i);
            log.end();
            return i;
          },
          { concurrency: 10, ...options },
        );
        await assert.rejects(run(range(50)), (error: unknown) => error instanceof ShardError && error.index === 3);
        await sleep(5);
        assert.deepEqual(log.startedAfterFailure(), []);
        assert.equal(log.events.at(-1), 'fail 3');
      });

      it('reports every shard on its own with stopOnError: false: results, sync throws and rejections', async () => {
        const run = distribute(
          async (i: number) => {
            if (i % 7 === 0) throw new Error(`sync ${i}`);
            await sleep(i % 2);
            if (i % 5 === 0) throw new Error(`async ${i}`);
            return i;
          },
          { concurrency: 6, results: 'settled', ...options },
        );
        const outcomes = await run(range(40));
        outcomes.forEach((outcome, i) => {
          assert.equal(outcome.index, i);
          if (i % 7 === 0 || i % 5 === 0) {
            assert.equal(outcome.status, 'rejected');
            const reason = (outcome as { reason: ShardError }).reason;
            assert.match(String((reason.cause as Error).message), new RegExp(`^(sync|async) ${i}$`));
          } else {
            assert.deepEqual(outcome, { status: 'fulfilled', index: i, shard: i, value: i });
          }
        });
      });

      it('currentShard() holds the shard after awaits, in sync shards too', async () => {
        const run = distribute(
          (i: number): unknown => {
            if (i % 2 === 0) return { sync: currentShard()?.index };
            return (async () => {
              await sleep(1);
              await Promise.resolve();
              const shard = currentShard();
              return { index: shard?.index, shard: shard?.shard, aborted: shard?.signal.aborted };
            })();
          },
          { concurrency: 5, ...options },
        );
        const results = await run(range(20).map((i) => i));
        results.forEach((result, i) =>
          assert.deepEqual(result, i % 2 === 0 ? { sync: i } : { index: i, shard: i, aborted: false }),
        );
        assert.equal(currentShard(), undefined);
      });

      it('nested calls do not wait on their parent: no deadlock at concurrency 1', async () => {
        const inner = distribute(async (j: number) => (await sleep(1), j + 1), { concurrency: 1, ...options });
        const outer = distribute(async (i: number) => (await inner([i, i])).reduce((a, b) => a + b), {
          concurrency: 1,
          ...options,
        });
        const settled = await settleWithin(outer(range(5)), 5_000);
        assert.deepEqual(settled, { value: [2, 4, 6, 8, 10] });
      });

      it('abort rejects with the reason, tells running shards to stop and starts no more', async () => {
        const log = new Log();
        const controller = new AbortController();
        const signals: AbortSignal[] = [];
        const run = distribute(
          async (i: number) => {
            log.start(i);
            signals.push(currentShard()!.signal);
            await sleep(2);
            log.end();
            return i;
          },
          { concurrency: 3, signal: controller.signal, ...options },
        );
        const call = run(range(1000));
        await sleep(15);
        const reason = new Error('enough');
        controller.abort(reason);
        const startedWhenAborted = log.events.length;
        await assert.rejects(call, (error: unknown) => error === reason);
        await sleep(10);
        assert.equal(log.events.length, startedWhenAborted);
        assert.ok(signals.slice(-3).every((signal) => signal.aborted));
      });

      it('adopts thenables; a `then` that throws fails only its shard', async () => {
        const run = distribute(
          (i: number): unknown => {
            if (i === 1) return { then: (resolve: (value: unknown) => void) => setTimeout(resolve, 1, 'later') };
            if (i === 2) {
              return Object.defineProperty({}, 'then', {
                get() {
                  throw new Error('no then');
                },
              });
            }
            return { plain: i };
          },
          { concurrency: 2, results: 'settled', ...options },
        );
        const [first, second, third] = await run(range(3));
        assert.deepEqual(first, { status: 'fulfilled', index: 0, shard: 0, value: { plain: 0 } });
        assert.deepEqual(second, { status: 'fulfilled', index: 1, shard: 1, value: 'later' });
        assert.equal(third?.status, 'rejected');
        assert.equal(((third as { reason: ShardError }).reason.cause as Error).message, 'no then');
      });

      it('reads an endless source lazily and closes it on break', async () => {
        const source = countingSource();
        const stream = distribute(async (i: number) => (await sleep(0), i), {
          concurrency: 3,
          as: 'completed',
          ...options,
        })(source);
        let seen = 0;
        for await (const value of stream) {
          assert.equal(typeof value, 'number');
          if (++seen === 20) break;
        }
        assert.ok(source.closed);
        assert.ok(source.read < 20 + 3 + 3 + 2, `read ${source.read}`);
      });
    });
  }

  it('a timeout fails the shard that ignores it and frees its slot for the rest', async () => {
    const started: number[] = [];
    const run = distribute(
      async (i: number) => {
        started.push(i);
        // Shard 0 never ends and ignores its signal: only letting go of it frees the slot.
        if (i === 0) await new Promise(() => undefined);
        return i;
      },
      { concurrency: 1, timeout: 30, results: 'settled' },
    );
    const settled = await settleWithin(run(range(4)), 5_000);
    assert.ok('value' in settled);
    const [hung, ...rest] = settled.value;
    assert.equal(hung?.status, 'rejected');
    assert.ok((hung as { reason: ShardError }).reason.cause instanceof ShardTimeoutError);
    assert.deepEqual(
      rest.map((outcome) => outcome.status),
      ['fulfilled', 'fulfilled', 'fulfilled'],
    );
    assert.deepEqual(started, [0, 1, 2, 3]);
  });

  describe('reading and stopping in chunks', () => {
    it('reads no more than concurrency + bufferSize ahead of a slow ordered consumer', async () => {
      const source = countingSource();
      const gates = range(40).map(() => deferred());
      const stream = distribute(
        async (i: number) => {
          await gates[i]!.promise;
          return i;
        },
        { concurrency: 3, bufferSize: 2, as: 'ordered' },
      )(source);
      const first = stream.next();
      for (const gate of gates) gate.resolve();
      assert.deepEqual(await first, { value: 0, done: false });
      await sleep(30);
      assert.ok(source.read <= 1 + 3 + 2, `read ${source.read}`);
      await stream.return();
    });

    it('an abort starts none of the shards still waiting', async () => {
      const controller = new AbortController();
      const started: number[] = [];
      const run = distribute(
        async (i: number) => {
          started.push(i);
          if (i === 1) controller.abort(new Error('enough'));
          await sleep(1);
          return i;
        },
        { concurrency: 2, signal: controller.signal },
      );
      await assert.rejects(run(range(50)), /enough/);
      await sleep(20);
      assert.deepEqual(started, [0, 1]);
    });
  });
});
