/**
 * Odd values never crash the program or fail more than their own shard: errors with cyclic causes
 * or throwing getters, results and shards with throwing getters, on every executor.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { inspect } from 'node:util';
import { distribute, parallel, shutdown, ShardError, type ShardOutcome } from '../src/index.js';
import { Odd } from './fixtures/workers/odd.js';
import { range } from './helpers.js';

after(() => shutdown());

/** The indices of the rejected outcomes. */
const rejected = (outcomes: readonly ShardOutcome<unknown, unknown>[]): number[] =>
  outcomes.filter((outcome) => outcome.status === 'rejected').map((outcome) => outcome.index);

function reasonOf(outcomes: readonly ShardOutcome<unknown, unknown>[], index: number): ShardError {
  const outcome = outcomes[index];
  assert.ok(outcome?.status === 'rejected', `shard ${index} was expected to fail`);
  return outcome.reason;
}

const hostileShard = (): object =>
  Object.defineProperty({ id: 1 }, 'secret', {
    enumerable: true,
    get() {
      throw new Error('no');
    },
  });

for (const executor of ['worker', 'process'] as const) {
  describe(`odd values on '${executor}'`, () => {
    const odd = (): ReturnType<typeof parallel<Odd, { executor: typeof executor; results: 'settled' }>> =>
      parallel(new Odd(), { executor, results: 'settled' });

    it('an error whose cause is itself comes back with the same cycle, failing only its shard', async () => {
      const outcomes = await odd().cyclic(range(3));
      assert.deepEqual(rejected(outcomes), [1]);
      const cause = reasonOf(outcomes, 1).cause as Error;
      assert.equal(cause.message, 'loop');
      assert.equal(cause.cause, cause);
    });

    it('an error with a throwing getter fails only its shard, in a batch of many', async () => {
      const outcomes = await odd().throwsHostile(range(2000));
      assert.deepEqual(rejected(outcomes), [1]);
      const cause = reasonOf(outcomes, 1).cause as Error & { code: unknown };
      assert.equal(cause.message, 'bad');
      assert.match(String(cause.code), /a getter that throws/);
    });

    it('a result with a throwing getter fails only its shard, naming it, in a batch of many', async () => {
      const outcomes = await odd().returnsHostile(range(2000));
      assert.deepEqual(rejected(outcomes), [1]);
      assert.match(String((reasonOf(outcomes, 1).cause as Error).message), /`result\.b` is a getter that throws/);
    });

    it('a shard with a throwing getter fails alone, naming it; the program goes on', async () => {
      const shards: unknown[] = [0, hostileShard(), 2];
      const outcomes = await odd().echo(shards);
      assert.deepEqual(rejected(outcomes), [1]);
      assert.match(String((reasonOf(outcomes, 1).cause as Error).message), /`shard\.secret` is a getter that throws/);
    });
  });
}

describe("odd values on 'thread'", () => {
  it('an error whose message getter throws fails its shard with a ShardError, never the program', async () => {
    const run = distribute(
      (i: number) => {
        if (i === 1) {
          throw Object.defineProperty(new Error('x'), 'message', {
            get() {
              throw new Error('no');
            },
          });
        }
        return i;
      },
      { results: 'settled' },
    );
    const outcomes = await run(range(3));
    assert.deepEqual(rejected(outcomes), [1]);
    assert.match(reasonOf(outcomes, 1).message, /Shard 1 `1` \(number\) failed: threw/);
  });

  it('a shard whose inspect.custom throws is still described in its ShardError', async () => {
    const shard = {
      [inspect.custom]() {
        throw new Error('no');
      },
    };
    const run = distribute(
      (_: unknown) => {
        throw new Error('boom');
      },
      { results: 'settled' },
    );
    const outcomes = await run([shard]);
    assert.match(reasonOf(outcomes, 0).message, /Shard 0 .* failed: Error: boom/);
  });
});
