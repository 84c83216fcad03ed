import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { distribute, type Executor } from '../../src/index.js';
import { range, settleWithin, sleep } from '../helpers.js';

describe("the caller's signal", () => {
  it('many calls sharing one signal add one listener to it, and none once they are over (no MaxListenersExceededWarning)', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const controller = new AbortController();
      const run = distribute(
        async (i: number) => {
          await sleep(20);
          return i;
        },
        { signal: controller.signal },
      );
      const calls = range(25).map((i) => run([i]));
      await sleep(5);
      assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
      assert.deepEqual(
        await Promise.all(calls),
        range(25).map((i) => [i]),
      );
      assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
      // Sequential calls leave nothing behind either.
      for (let i = 0; i < 15; i++) await run([i]);
      assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
      await sleep(1);
      assert.deepEqual(
        warnings.filter((w) => w.name === 'MaxListenersExceededWarning'),
        [],
      );
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('aborting a signal shared by many calls stops every one of them', async () => {
    const controller = new AbortController();
    const run = distribute(() => sleep(60_000), { signal: controller.signal });
    const calls = range(15).map(() => settleWithin(run([0]), 2000));
    await sleep(5);
    const reason = new Error('all of them');
    controller.abort(reason);
    for (const outcome of await Promise.all(calls)) assert.ok('error' in outcome && outcome.error === reason);
  });
});

describe("an executor's open()", () => {
  it('that never settles is abandoned when the call is aborted, which rejects with the reason', async () => {
    const stuck: Executor = { name: 'stuck', defaultConcurrency: () => 1, open: () => new Promise(() => undefined) };
    const controller = new AbortController();
    const call = distribute((x: number) => x, { executor: stuck, signal: controller.signal })([1]);
    await sleep(10);
    const reason = new Error('gave up');
    controller.abort(reason);
    const outcome = await settleWithin(call, 2000);
    assert.ok('error' in outcome && outcome.error === reason);
  });

  it('whose session arrives after the call stopped waiting has that session closed', async () => {
    let closed = 0;
    let arrive!: () => void;
    const late: Executor = {
      name: 'late',
      defaultConcurrency: () => 1,
      open: () =>
        new Promise((resolve) => {
          arrive = () => resolve({ run: async () => 'never', close: () => void closed++ });
        }),
    };
    const controller = new AbortController();
    const stream = distribute((x: number) => x, { executor: late, signal: controller.signal, as: 'completed' })([1]);
    const first = settleWithin(stream.next(), 2000);
    await sleep(10);
    controller.abort(new Error('gave up'));
    assert.ok('error' in (await first));
    arrive();
    await sleep(10);
    assert.equal(closed, 1);
  });

  it('that throws at once fails the call with what it threw', async () => {
    const broken: Executor = {
      name: 'broken',
      defaultConcurrency: () => 1,
      open: () => {
        throw new RangeError('no backend');
      },
    };
    await assert.rejects(distribute((x: number) => x, { executor: broken })([1]), /no backend/);
  });
});
