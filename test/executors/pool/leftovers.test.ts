/**
 * Errors that a shard's leftover code throws later (a timer, a promise nobody handled), on real
 * worker threads and child processes: they go to the shard that left them, never to the innocent
 * shard that runs in that worker when they fire.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parallel, ShardError, WorkerExitError } from '../../../src/index.js';
import { Leftovers, type Outcome, type Plan } from '../../fixtures/workers/leftovers.js';
import { settleWithin, until, warningsWith } from '../../helpers.js';

const run = promisify(execFile);
const mode = import.meta.url.includes('/legacy/') ? 'legacy' : 'standard';
const fixture = fileURLToPath(new URL('../../fixtures/workers/leftovers-main.js', import.meta.url));
const guardedFixture = fileURLToPath(new URL('../../fixtures/workers/leftovers-guarded-main.js', import.meta.url));

type Settled =
  { readonly status: 'fulfilled'; readonly value: Outcome } | { readonly status: 'rejected'; readonly reason: unknown };

const leftovers = new Leftovers();
let tokens = 0;

/**
 * Runs `plans` with one shard at a time, in batches of `batchSize`, so that they follow one another
 * in one worker; a call that never settles fails the test.
 */
async function settle(executor: 'worker' | 'process', batchSize: number, plans: readonly Plan[]): Promise<Settled[]> {
  const view = parallel(leftovers, { executor, concurrency: 1, batchSize, results: 'settled' });
  const settled = await settleWithin(view.run([...plans]), 20_000);
  assert.ok('value' in settled, `the call rejected: ${String((settled as { error: unknown }).error)}`);
  return settled.value;
}

function valueOf(outcome: Settled | undefined): Outcome {
  assert.equal(
    outcome?.status,
    'fulfilled',
    `expected a fulfilled shard, got ${String((outcome as { reason?: unknown }).reason)}`,
  );
  return (outcome as { value: Outcome }).value;
}

function reasonOf(outcome: Settled | undefined): unknown {
  assert.equal(outcome?.status, 'rejected');
  return (outcome as { reason: unknown }).reason;
}

/** Checks that `error` is the error `token`'s shard left behind, rebuilt in full. */
function assertLeftError(error: unknown, token: string): void {
  assert.ok(error instanceof RangeError, `expected the RangeError left behind, got ${String(error)}`);
  assert.equal(error.message, `left behind by ${token}`);
  assert.equal((error as { code?: unknown }).code, 'E_LEFT');
  assert.match(error.stack ?? '', /leftovers\.(ts|js)/);
}

describe(`errors left behind by shards (${mode} mode)`, () => {
  for (const executor of ['worker', 'process'] as const) {
    for (const how of ['throw', 'reject'] as const) {
      const what = how === 'throw' ? 'a timer that throws' : 'a promise that rejects unhandled';

      it(`'${executor}': ${what}, left by a shard whose result went back, fails no shard and is a warning`, async () => {
        const token = `sent-${executor}-${how}-${++tokens}`;
        const { warnings, stop } = warningsWith('PARAFOR_LEFTOVER_ERROR');
        try {
          const [first, second] = await settle(executor, 1, [
            { token, leave: how },
            { token, wait: true },
          ]);
          const before = valueOf(first);
          const after = valueOf(second);
          // The innocent shard ran in the same worker, which outlived the error.
          assert.equal(after.worker, before.worker);
          assert.equal(after.fired, true);
          await until(() => warnings.length > 0);
          assert.equal(warnings.length, 1);
          const [warning] = warnings as [Error];
          assert.match(
            warning.message,
            /^Leftovers\.run: Shard 0 left .* after its result was sent; no shard failed for it/,
          );
          assert.match(warning.message, new RegExp(`RangeError: left behind by ${token}$`));
          assert.match((warning as { detail?: string }).detail ?? '', /leftovers\.(ts|js)/);
          // And the worker goes on serving calls.
          const [next] = await settle(executor, 1, [{ token: `${token}-next` }]);
          assert.equal(valueOf(next).worker, before.worker);
        } finally {
          stop();
        }
      });

      it(`'${executor}': ${what}, left by an earlier shard of the batch still running, fails that shard alone`, async () => {
        const token = `batch-${executor}-${how}-${++tokens}`;
        const { warnings, stop } = warningsWith('PARAFOR_LEFTOVER_ERROR');
        try {
          const [first, second, third] = await settle(executor, 3, [
            { token, leave: how },
            { token, wait: true },
            { token: `${token}-third` },
          ]);
          const error = reasonOf(first);
          assert.ok(error instanceof ShardError);
          assert.equal(error.index, 0);
          assertLeftError(error.cause, token);
          const innocent = valueOf(second);
          assert.equal(innocent.fired, true);
          assert.equal(valueOf(third).worker, innocent.worker);
          assert.deepEqual(warnings, []);
        } finally {
          stop();
        }
      });

      it(`'${executor}': ${what}, from the shard running now, kills its worker as before`, async () => {
        const token = `self-${executor}-${how}-${++tokens}`;
        const [first, second] = await settle(executor, 1, [
          { token, leave: how, wait: true },
          { token: `${token}-next` },
        ]);
        const error = reasonOf(first);
        assert.ok(error instanceof ShardError);
        const exit = error.cause;
        assert.ok(exit instanceof WorkerExitError, `expected a WorkerExitError, got ${String(exit)}`);
        assert.deepEqual(exit.shards, [0]);
        if (executor === 'worker') assertLeftError(exit.cause, token);
        else assert.equal(exit.exitCode, 1);
        valueOf(second);
      });

      it(`'${executor}': ${what}, scheduled outside any shard, kills the worker as before`, async () => {
        const token = `outside-${executor}-${how}-${++tokens}`;
        const [first, second] = await settle(executor, 1, [
          { token, leave: how, scope: 'outside', wait: true },
          { token: `${token}-next` },
        ]);
        // The error belongs to no shard: the worker dies, failing the shard it holds.
        const error = reasonOf(first);
        assert.ok(error instanceof ShardError);
        assert.ok(error.cause instanceof WorkerExitError, `expected a WorkerExitError, got ${String(error.cause)}`);
        valueOf(second);
      });
    }

    it(`'${executor}': odd values left behind (a number, an error whose getter throws) fail their shard alone`, async () => {
      const token = `odd-${executor}-${++tokens}`;
      const [number, getter, innocent] = await settle(executor, 3, [
        { token: `${token}-number`, leave: 'throw', odd: 'number' },
        { token, leave: 'reject', odd: 'getter' },
        { token, wait: true },
      ]);
      assert.equal((reasonOf(number) as ShardError).cause, 42);
      const error = (reasonOf(getter) as ShardError).cause as Error & { detail?: unknown };
      assert.equal(error.message, `left behind by ${token}`);
      assert.match(String(error.detail), /^\[not cloneable/);
      assert.equal(valueOf(innocent).fired, true);
    });

    it(`'${executor}': after a call nested in a shard, the shard still knows itself and what it leaves behind`, async () => {
      const token = `nested-${executor}-${++tokens}`;
      const { warnings, stop } = warningsWith('PARAFOR_LEFTOVER_ERROR');
      try {
        const [first, second] = await settle(executor, 1, [
          { token, nested: true, leave: 'throw' },
          { token, wait: true },
        ]);
        assert.equal(valueOf(first).index, 0);
        assert.equal(valueOf(second).fired, true);
        await until(() => warnings.length > 0);
        assert.match(warnings[0]?.message ?? '', /^Leftovers\.run: Shard 0 left/);
      } finally {
        stop();
      }
    });

    it(`'${executor}': a module's own uncaughtException listener keeps its worker alive, as before`, async () => {
      const { stdout } = await run(process.execPath, [guardedFixture], {
        timeout: 20_000,
        env: { ...process.env, EXECUTOR: executor },
      });
      assert.deepEqual(JSON.parse(stdout.trim().split('\n').at(-1) ?? ''), {
        statuses: ['fulfilled', 'fulfilled', 'fulfilled'],
        oneWorker: true,
        heard: ['left behind by guarded-throw', 'left behind by guarded-reject'],
      });
    });

    it(`'${executor}': a program whose shards leave errors behind exits by itself; a flood is warned about in part`, async () => {
      const { stdout } = await run(process.execPath, ['--no-warnings', fixture], {
        timeout: 20_000,
        env: { ...process.env, EXECUTOR: executor },
      });
      assert.deepEqual(JSON.parse(stdout.trim().split('\n').at(-1) ?? ''), {
        sent: ['fulfilled', 'fulfilled'],
        batched: ['rejected', 'fulfilled'],
        warnings: 1,
        flood: 64,
        more: '36',
      });
    });
  }
});
