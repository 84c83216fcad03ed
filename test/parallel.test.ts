import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { currentShard, distribute, distributeOver, parallel, runShard, shutdown, type Executor } from '../src/index.js';
import { range, sleep, until, warningsWith } from './helpers.js';

class Service {
  calls = 0;

  @distribute({ concurrency: 2, as: 'completed' })
  async fetch(id: number) {
    this.calls++;
    await sleep((5 - id) * 3);
    return id * 10;
  }

  @distributeOver([1, 2, 3])
  tag(i: number, prefix = '') {
    return `${prefix}${i}`;
  }

  plain(i: number) {
    return i;
  }
}

describe('parallel()', () => {
  it("decides the shape: an array by default, whatever the decorator's `as`", async () => {
    const service = new Service();
    assert.deepEqual(await parallel(service).fetch(range(5)), [0, 10, 20, 30, 40]);
    assert.equal(service.calls, 5, '`this` is the instance');
  });

  it('streams when asked, and entries say which shard', async () => {
    const seen = [];
    for await (const entry of parallel(new Service(), { as: 'completed', results: 'entries', concurrency: 5 }).fetch(
      range(3),
    )) {
      seen.push(entry.index);
    }
    assert.deepEqual(seen, [2, 1, 0]);
  });

  it('call options override the decorator’s (concurrency, signal…)', async () => {
    let now = 0;
    let max = 0;
    class Counting {
      @distribute({ concurrency: 1 })
      async run(i: number) {
        max = Math.max(max, ++now);
        await sleep(2);
        now--;
        return i;
      }
    }
    await parallel(new Counting(), { concurrency: 4 }).run(range(12));
    assert.equal(max, 4);
    await assert.rejects(parallel(new Counting(), { signal: AbortSignal.abort(new Error('no')) }).run([1]), /no/);
  });

  it('a @distributeOver method runs over its own shards, or given ones, with the rest passed on', async () => {
    const service = new Service();
    assert.deepEqual(await parallel(service).tag(), ['1', '2', '3']);
    assert.deepEqual(await parallel(service).tag(undefined as never, '#'), ['#1', '#2', '#3']);
    assert.deepEqual(await parallel(service).tag([9], '#'), ['#9']);
    assert.deepEqual(await (service as any).tag('>'), ['>1', '>2', '>3'], 'a direct call passes every argument on');
  });

  it('a method that is not distributed throws a TypeError naming it', () => {
    assert.throws(
      () => parallel(new Service()).plain,
      /parallel\(\): `Service\.plain` is not a method decorated with @distribute or @distributeOver/,
    );
  });

  it('rejects what is not an object, and invalid options, at once', () => {
    assert.throws(
      () => parallel(5 as never),
      /parallel\(\): Expected an object or a class whose methods are distributed, got `5` \(number\)/,
    );
    assert.throws(() => parallel(new Service(), { concurrency: 0 }), /parallel\(\): Expected `concurrency`/);
  });
});

describe('custom executors', () => {
  it('plug in through the Executor interface: open per call, run per shard, close at the end', async () => {
    const log: string[] = [];
    const reverse: Executor = {
      name: 'logging',
      defaultConcurrency: () => 2,
      open: (call) => {
        log.push(`open ${call.method.name} ${call.concurrency}`);
        return {
          run: async (task) => {
            task.started();
            log.push(`run ${task.index}`);
            return call.method.fn.call(call.method.thisArg, task.shard, ...task.args);
          },
          close: () => {
            log.push('close');
          },
        };
      },
    };
    const double = distribute(
      function double(x: number, k: number) {
        return x * k;
      },
      { executor: reverse },
    );
    assert.deepEqual(await double([1, 2, 3], 2), [2, 4, 6]);
    assert.deepEqual(log, ['open double 2', 'run 0', 'run 1', 'run 2', 'close']);
  });

  it('an executor whose open() fails rejects the call', async () => {
    const broken: Executor = {
      name: 'broken',
      defaultConcurrency: () => 1,
      open: () => {
        throw new Error('no backend');
      },
    };
    await assert.rejects(distribute((x: number) => x, { executor: broken })([1]), /no backend/);
  });

  it('a call aborted while its executor opens never opens the shards', async () => {
    let opened = false;
    const shards = {
      [Symbol.iterator]() {
        opened = true;
        return [1, 2][Symbol.iterator]();
      },
    };
    const controller = new AbortController();
    const slow: Executor = {
      name: 'slow',
      defaultConcurrency: () => 1,
      open: async ({ method }) => {
        controller.abort(new Error('gave up'));
        await sleep(5);
        return { run: (task) => runShard(method, task), close() {} };
      },
    };
    await assert.rejects(
      distribute((x: number) => x, { executor: slow, signal: controller.signal })(shards),
      /gave up/,
    );
    assert.equal(opened, false);
  });

  it('an executor that never settles a shard cannot hang the call past its timeout', async () => {
    const stuck: Executor = {
      name: 'stuck',
      defaultConcurrency: () => 1,
      open: () => ({
        run: (task) => {
          task.started();
          return new Promise(() => undefined);
        },
        close() {},
      }),
    };
    const outcomes = await distribute((x: number) => x, { executor: stuck, timeout: 10, results: 'settled' })([1, 2]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['rejected', 'rejected'],
    );
  });
});

describe('shutdown() and custom executors', () => {
  /** An in-process executor that counts its shutdowns. */
  const counting = (): Executor & { shutdowns: number } => {
    const executor: Executor & { shutdowns: number } = {
      name: 'counting',
      shutdowns: 0,
      defaultConcurrency: () => 2,
      open: ({ method }) => ({
        run: (task) => {
          task.started();
          return runShard(method, task);
        },
        close() {},
      }),
      shutdown: async () => {
        executor.shutdowns++;
      },
    };
    return executor;
  };

  it('shuts down an executor that opened a call', async () => {
    const executor = counting();
    assert.deepEqual(await distribute((x: number) => x + 1, { executor })([1, 2]), [2, 3]);
    await shutdown();
    assert.equal(executor.shutdowns, 1);
  });

  it('leaves alone an executor named in options that never opened (the call failed first)', async () => {
    const executor = counting();
    await assert.rejects(distribute((x: number) => x, { executor })(5 as unknown as number[]), TypeError);
    await shutdown();
    assert.equal(executor.shutdowns, 0);
  });
});

describe('warnings', () => {
  it('a source whose return() throws on break is a PARAFOR_CLEANUP_FAILED warning; the consumer is not disturbed', async () => {
    const { warnings, stop } = warningsWith('PARAFOR_CLEANUP_FAILED');
    try {
      const source: Iterable<number> = {
        [Symbol.iterator]: () => ({
          next: () => ({ value: 1, done: false }),
          return: () => {
            throw new Error('cannot close');
          },
        }),
      };
      const stream = distribute((x: number) => x, { as: 'completed' })(source);
      for await (const value of stream) {
        assert.equal(value, 1);
        break;
      }
      await until(() => warnings.length === 1);
      assert.match(warnings[0]!.message, /closing the shards of <anonymous function> failed: Error: cannot close/);
    } finally {
      stop();
    }
  });
});

describe('parallel() views and custom executors, details', () => {
  it('a view can be awaited or returned from an async function (it is no thenable)', async () => {
    const service = new Service();
    const view = await (async () => parallel(service))();
    assert.deepEqual(await view.tag(), ['1', '2', '3']);
  });

  it('runShard lets an in-process custom executor set currentShard()', async () => {
    const inline: Executor = {
      name: 'inline',
      defaultConcurrency: () => 1,
      open: ({ method }) => ({
        run: (task) => {
          task.started();
          return runShard(method, task);
        },
        close() {},
      }),
    };
    const where = distribute(
      function where(x: string) {
        return `${currentShard()?.method}#${currentShard()?.index}:${x}`;
      },
      { executor: inline },
    );
    assert.deepEqual(await where(['a', 'b']), ['where#0:a', 'where#1:b']);
  });
});
