import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  distribute,
  distributeOver,
  getDistribution,
  parallel,
  DISTRIBUTION_KEY,
  type DistributeOptions,
  type DistributionRecord,
} from '../../src/index.js';
import { range, sleep } from '../helpers.js';

class Report {
  constructor(readonly factor = 3) {}

  @distributeOver(range(10), { concurrency: 5 })
  async getSquare(i: number) {
    await sleep(5);
    return i ** 2;
  }

  @distribute({ concurrency: 5 })
  async getCube(i: number, add = 0) {
    await sleep(5);
    return i ** this.factor + add;
  }

  @distribute
  double(i: number) {
    return this.twice(i);
  }

  twice(i: number) {
    return i * 2;
  }

  @distribute()
  static label(i: number, prefix: string) {
    return `${prefix}${this.name}:${i}`;
  }

  @distributeOver(function (this: Report) {
    return range(this.factor);
  })
  own(i: number) {
    return i * this.factor;
  }
}

const decoratorMode = getDistribution(Report.prototype, 'getCube')?.decorators;

describe(`decorators (${decoratorMode} mode)`, () => {
  it('@distributeOver runs over its fixed shards, in input order', async () => {
    assert.deepEqual(await parallel(new Report()).getSquare(), [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
  });

  it('a direct call of a @distributeOver method works too (plain JavaScript style)', async () => {
    const report = new Report() as any;
    assert.deepEqual(
      await report.getSquare(),
      range(10).map((i) => i ** 2),
    );
  });

  it('@distribute takes the shards at call time; `this` is the instance', async () => {
    assert.deepEqual(await parallel(new Report(2)).getCube(range(5)), [0, 1, 4, 9, 16]);
    assert.deepEqual(await (new Report() as any).getCube([1, 2]), [1, 8]);
  });

  it('passes the arguments after the shards to every call', async () => {
    assert.deepEqual(await parallel(new Report()).getCube([1, 2, 3], 100), [101, 108, 127]);
  });

  it('bare @distribute on a sync method; other methods of the class work through `this`', async () => {
    assert.deepEqual(await parallel(new Report()).double(new Set([1, 2, 3])), [2, 4, 6]);
  });

  it('@distribute() on a static method: `this` is the class', async () => {
    assert.deepEqual(await parallel(Report).label(range(2), '#'), ['#Report:0', '#Report:1']);
  });

  it('@distributeOver with a function: called with `this` at each call', async () => {
    assert.deepEqual(await parallel(new Report(2)).own(), [0, 2]);
    assert.deepEqual(await parallel(new Report(4)).own(), [0, 4, 8, 12]);
  });

  it('through parallel(), a @distributeOver method can also be given other shards', async () => {
    assert.deepEqual(await parallel(new Report()).getSquare([7]), [49]);
  });

  it('a @distributeOver iterator serves one call; a second call says why it cannot', async () => {
    function* three() {
      yield* [1, 2, 3];
    }
    class Once {
      @distributeOver(three())
      id(i: number) {
        return i;
      }
    }
    assert.deepEqual(await parallel(new Once()).id(), [1, 2, 3]);
    await assert.rejects(parallel(new Once()).id(), (error: unknown) => {
      assert.ok(error instanceof TypeError);
      assert.match(
        error.message,
        /Once\.id: The @distributeOver shards are an iterator that an earlier call used up.*pass an array, or a function/,
      );
      return true;
    });
  });

  it('keeps the method name and records what it knows in reflect-metadata', () => {
    const record = getDistribution(Report.prototype, 'getCube') as DistributionRecord;
    assert.equal(Report.prototype.getCube.name, 'getCube');
    assert.equal(record.kind, 'distribute');
    assert.equal(record.form, 'method');
    assert.equal(record.key, 'getCube');
    assert.equal(record.isStatic, false);
    assert.deepEqual(record.options, { concurrency: 5 });
    assert.ok(record.decorators === 'standard' || record.decorators === 'legacy');
    assert.match(record.module ?? '', /decorators\.test\.js$/);
    assert.equal(Reflect.getMetadata(DISTRIBUTION_KEY, Reflect.get(Report.prototype, 'getCube') as object), record);
    assert.equal(getDistribution(new Report(), 'getCube'), record, 'readable from an instance');
    assert.equal(getDistribution(Report, 'label')?.isStatic, true);
    assert.deepEqual(getDistribution(Report.prototype, 'getSquare')?.shards, range(10));
    assert.equal(getDistribution(Report.prototype, 'twice'), undefined);
  });

  it('the recorded original runs one item, undistributed', async () => {
    const record = getDistribution(Report.prototype, 'getCube') as DistributionRecord;
    assert.equal(await record.original.call(new Report(), 3), 27);
  });

  it('rejects decorating a field, with a TypeError naming it', () => {
    assert.throws(
      () => {
        class Bad {
          // @ts-expect-error a field is not a method
          @distribute
          value = 1;
        }
        return Bad;
      },
      (error: unknown) =>
        error instanceof TypeError &&
        /@distribute on `value` \(decorators\.test\.js:\d+\): Only a method can be decorated, but `value` is a field/.test(
          error.message,
        ),
    );
  });

  it('rejects decorating a getter, with a TypeError naming it', () => {
    assert.throws(
      () => {
        class Bad {
          // @ts-expect-error a getter is not a method
          @distribute({ concurrency: 2 })
          get value() {
            return 1;
          }
        }
        return Bad;
      },
      (error: unknown) =>
        error instanceof TypeError &&
        /@distribute on `value` \(decorators\.test\.js:\d+\): Only a method can be decorated, but `value` is an? (getter|accessor)/.test(
          error.message,
        ),
    );
  });

  it('rejects invalid options when the class is defined, naming the method and the option', () => {
    const cases: [unknown, RegExp][] = [
      [
        { concurrency: 0 },
        /@distribute on `run` \(decorators\.test\.js:\d+\): Expected `concurrency` to be an integer from 1 and up, or Infinity, got `0` \(number\)/,
      ],
      [{ concurrency: Number.NaN }, /`concurrency`.*got `NaN` \(number\)/],
      [{ concurrency: 2.5 }, /`concurrency`.*got `2.5`/],
      [{ as: 'list' }, /`as` to be one of 'array', 'completed', 'ordered', got `'list'` \(string\)/],
      [{ executor: 'gpu' }, /`executor` to be one of 'thread', 'worker', 'process' or an object.*got `'gpu'`/],
      [{ executor: {} }, /`executor`/],
      [{ timeout: -1 }, /`timeout` to be a number of milliseconds from above 0/],
      [{ timeout: 2 ** 31 }, /`timeout`.*2147483647.*got `2147483648`/],
      [{ results: 'all' }, /`results`/],
      [{ stopOnError: 'yes' }, /`stopOnError` to be a boolean/],
      [{ signal: {} }, /`signal` to be an AbortSignal/],
      [{ onProgress: 1 }, /`onProgress` to be a function/],
      [{ progress: 'yes' }, /`progress` to be a boolean, got `'yes'` \(string\)/],
      [{ progress: 1 }, /`progress` to be a boolean, got `1` \(number\)/],
      [{ onStats: true }, /`onStats` to be a function, got `true` \(boolean\)/],
      [{ onStats: {} }, /`onStats` to be a function/],
      [{ onStat: () => {} }, /did you mean `onStats`\?/],
      [{ bufferSize: -1 }, /`bufferSize`/],
      [{ concurency: 2 }, /Unknown option `concurency`; did you mean `concurrency`\? The options are `executor`, /],
      [{ onProgres: () => {} }, /did you mean `onProgress`\?/],
      [{ speed: 2 }, /Unknown option `speed`\. The options are `executor`, `concurrency`/],
      [{ batchSize: 0 }, /`batchSize` to be 'auto' or an integer from 1 and up/],
      [{ executor: 'worker', batchSize: 10, timeout: 100 }, /`batchSize: 10` cannot be combined with `timeout`/],
      [{ transfer: 'yes' }, /`transfer` to be a boolean/],
      [{ module: 'relative/path.js' }, /`module` to be a file URL/],
      ['fast', /Expected the options to be an object, got `'fast'` \(string\)/],
    ];
    for (const [options, message] of cases) {
      assert.throws(
        () => {
          class Bad {
            @distribute(options as DistributeOptions)
            run(i: number) {
              return i;
            }
          }
          return Bad;
        },
        (error: unknown) => error instanceof TypeError && message.test(error.message),
        `options ${JSON.stringify(options)}`,
      );
    }
  });

  it('rejects @distributeOver shards that are not iterable, at once', () => {
    assert.throws(
      () => distributeOver(42 as never),
      /Expected the shards to be an array, an Iterable, an AsyncIterable or a function returning one, got `42` \(number\)/,
    );
    assert.throws(() => distributeOver('abc' as never), TypeError);
  });

  it('the function form refuses at once a first argument that is not a function, when options follow', () => {
    const asFunctionForm = distribute as unknown as (...args: unknown[]) => unknown;
    for (const notAFunction of [undefined, null, 5, 'cube', { concurrency: 2 }]) {
      assert.throws(
        () => asFunctionForm(notAFunction, { concurrency: 0 }),
        (error: unknown) =>
          error instanceof TypeError &&
          /^distribute\(\): Expected a function to distribute \(then its options\), got /.test(error.message),
      );
    }
    // One argument is the decorator factory's form: `@distribute(options)`, `@distribute()`.
    assert.equal(typeof asFunctionForm({ concurrency: 2 }), 'function');
    assert.equal(typeof asFunctionForm(undefined), 'function');
  });

  it('rejects non-iterable shards at call time, naming the method, before any shard runs', async () => {
    await assert.rejects(
      (new Report() as any).getCube(5),
      /Report\.getCube: Expected the shards \(first argument\) to be an array, an Iterable or an AsyncIterable, got `5` \(number\)/,
    );
    await assert.rejects((new Report() as any).getCube('123'), /got `'123'` \(string\)/);
    await assert.rejects((new Report() as any).getCube(), /got `undefined` \(undefined\)/);
  });

  it('a function returning non-iterable shards is reported at the call', async () => {
    class Lazy {
      @distributeOver((() => 7) as unknown as () => number[])
      run(i: number) {
        return i;
      }
    }
    await assert.rejects(parallel(new Lazy()).run(), /Lazy\.run: Expected the shards.*got `7`/);
  });
});
