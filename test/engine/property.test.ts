import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { distribute, ShardError, type DistributeOptions, type Executor } from '../../src/index.js';
import { collect, settleWithin } from '../helpers.js';

/**
 * Random shard lists, concurrency, buffer sizes, result orders, error policies and failure positions;
 * fast-check's scheduler picks the order in which shards finish. Whatever it picks, the results must be
 * what a sequential `for` loop gives, the bounds must hold, and the call must settle.
 */

/** A custom executor that runs shards inline, to check the engine drives any executor the same way. */
const inlineExecutor: Executor = {
  name: 'inline',
  defaultConcurrency: () => 3,
  open: ({ method }) => ({
    run: async (task) => {
      task.started();
      return method.fn.call(method.thisArg, task.shard, ...task.args);
    },
    close() {},
  }),
};

const scenario = fc.record({
  shards: fc.array(fc.integer({ min: -1000, max: 1000 }), { maxLength: 40 }),
  failAt: fc.array(fc.nat({ max: 39 }), { maxLength: 3 }),
  concurrency: fc.integer({ min: 1, max: 8 }),
  bufferSize: fc.integer({ min: 0, max: 5 }),
  as: fc.constantFrom('array', 'completed', 'ordered'),
  policy: fc.constantFrom('fail-fast', 'aggregate', 'settled'),
  executor: fc.constantFrom<'thread' | 'inline'>('thread', 'inline'),
  syncShards: fc.boolean(),
  asyncSource: fc.boolean(),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

const f = (x: number) => x * 3 - 1;

/** What a sequential `for` loop does with the same shards: a result or an error per shard. */
function sequential({ shards, failAt }: Scenario) {
  const outcomes: ({ ok: true; value: number } | { ok: false })[] = [];
  for (const [index, shard] of shards.entries()) {
    outcomes.push(failAt.includes(index) ? { ok: false } : { ok: true, value: f(shard) });
  }
  return outcomes;
}

describe('property: a parallel for is a sequential for', () => {
  it('same results, bounded in-flight and read-ahead, always settles', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, fc.scheduler(), async (s, scheduler) => {
        let inFlight = 0;
        let maxInFlight = 0;
        let read = 0;
        let consumed = 0;
        let maxAhead = 0;
        const work = (x: number, index: number): Promise<number> | number => {
          if (s.syncShards && !s.failAt.includes(index)) return f(x);
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          return scheduler.schedule(Promise.resolve(), `shard ${index}`).then(() => {
            inFlight--;
            if (s.failAt.includes(index)) throw new Error(`fail ${index}`);
            return f(x);
          });
        };
        const indexed = s.shards.map((shard, index) => [shard, index] as const);
        async function* lazily() {
          for (const item of indexed) {
            read++;
            maxAhead = Math.max(maxAhead, read - consumed);
            yield item;
          }
        }
        const options: DistributeOptions = {
          concurrency: s.concurrency,
          bufferSize: s.bufferSize,
          as: s.as,
          results: s.policy === 'settled' ? 'settled' : 'values',
          stopOnError: s.policy !== 'aggregate',
          executor: s.executor === 'inline' ? inlineExecutor : 'thread',
        };
        const run = distribute(([x, index]: readonly [number, number]) => work(x, index), options) as unknown as (
          shards: Iterable<unknown> | AsyncIterable<unknown>,
        ) => Promise<unknown[]> | AsyncGenerator<unknown>;

        const call = collect(
          () => run(s.asyncSource ? lazily() : indexed),
          () => consumed++,
        );
        const settled = await settleWithin(scheduler.waitFor(call));

        const expected = sequential(s);
        const failing = expected.flatMap((o, index) => (o.ok ? [] : [index]));
        assert.ok(maxInFlight <= s.concurrency, `in flight ${maxInFlight} > ${s.concurrency}`);
        if (s.asyncSource && s.as !== 'array') {
          // +1: the item between the engine handing it over and the consumer counting it. Failures
          // gathered for the AggregateError are taken by the engine without reaching the consumer.
          const gathered = s.policy === 'aggregate' ? failing.length : 0;
          assert.ok(maxAhead <= s.concurrency + s.bufferSize + 1 + gathered, `read ahead ${maxAhead}`);
        }

        if (s.policy === 'settled') {
          assert.ok('value' in settled, 'settled never rejects');
          const outcomes = settled.value as { status: string; index: number; value?: number }[];
          const byIndex = s.as === 'completed' ? [...outcomes].sort((a, b) => a.index - b.index) : outcomes;
          assert.deepEqual(
            byIndex.map((o) => (o.status === 'fulfilled' ? { ok: true, value: o.value } : { ok: false })),
            expected,
          );
        } else if (failing.length === 0) {
          assert.ok('value' in settled, String((settled as { error: unknown }).error));
          const values = settled.value as number[];
          const want = expected.map((o) => (o.ok ? o.value : NaN));
          assert.deepEqual(
            s.as === 'completed' ? [...values].sort((a, b) => a - b) : values,
            s.as === 'completed' ? [...want].sort((a, b) => a - b) : want,
          );
        } else if (s.policy === 'fail-fast') {
          assert.ok('error' in settled);
          assert.ok(settled.error instanceof ShardError);
          assert.ok(failing.includes(settled.error.index), `index ${settled.error.index}`);
        } else {
          assert.ok('error' in settled && settled.error instanceof AggregateError);
          assert.deepEqual(
            settled.error.errors.map((e: ShardError) => e.index),
            failing,
          );
        }
      }),
      { numRuns: 300 },
    );
  });
});
