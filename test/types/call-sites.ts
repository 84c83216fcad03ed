/**
 * Type tests: compiled (never run) by `npm run build:test` under both decorator modes, so every
 * `expectTypeOf` must hold and every `@ts-expect-error` must be an error in standard AND legacy mode.
 */
import { expectTypeOf } from 'expect-type';
import {
  distribute,
  distributeOver,
  parallel,
  type ShardEntry,
  type ShardOutcome,
  type Shards,
} from '../../src/index.js';

declare const ids: string[];
declare const numbers: AsyncIterable<number>;

class Report {
  @distributeOver([1, 2, 3], { concurrency: 5 })
  async getSquare(i: number) {
    return i ** 2;
  }

  @distribute({ concurrency: 5 })
  async getCube(i: number, add: number = 0) {
    return i ** 3 + add;
  }

  @distribute
  name(id: string): string {
    return id;
  }

  @distribute()
  static label(i: number, prefix: string) {
    return `${prefix}${i}`;
  }

  // The shards must fit the method's item type.
  // @ts-expect-error strings are not numbers
  @distributeOver(['a', 'b'])
  wrongShards(i: number) {
    return i;
  }

  // A function as shards is typed the same way.
  @distributeOver(() => [1, 2])
  fromFunction(i: number) {
    return i;
  }
}

const report = new Report();

// parallel(): typed call sites, no cast.
expectTypeOf(parallel(report).getCube([1, 2])).toEqualTypeOf<Promise<number[]>>();
expectTypeOf(parallel(report).getCube(numbers, 10)).toEqualTypeOf<Promise<number[]>>();
expectTypeOf(parallel(report).name(ids)).toEqualTypeOf<Promise<string[]>>();
expectTypeOf(parallel(report).getSquare()).toEqualTypeOf<Promise<number[]>>();
expectTypeOf(parallel(Report).label([1], '#')).toEqualTypeOf<Promise<string[]>>();
expectTypeOf(parallel(report, { as: 'completed' }).getCube([1])).toEqualTypeOf<
  AsyncGenerator<number, void, undefined>
>();
expectTypeOf(parallel(report, { as: 'ordered', results: 'entries' }).getCube([1])).toEqualTypeOf<
  AsyncGenerator<ShardEntry<number, number>, void, undefined>
>();
expectTypeOf(parallel(report, { results: 'settled' }).getCube([1])).toEqualTypeOf<
  Promise<ShardOutcome<number, number>[]>
>();
expectTypeOf(parallel(report, { signal: AbortSignal.timeout(10), timeout: 5 }).getCube([1])).toEqualTypeOf<
  Promise<number[]>
>();

// @ts-expect-error the shards of getCube are numbers
void parallel(report).getCube(ids);
// @ts-expect-error the argument after the shards is a number
void parallel(report).getCube([1], 'ten');
// @ts-expect-error a number is not shards
void parallel(report).getCube(5);
// @ts-expect-error not an option value
void parallel(report, { as: 'list' });
// @ts-expect-error not an option
void parallel(report, { threads: 5 });

// The function form is typed honestly.
const getCubes = distribute(async (i: number) => i ** 3, { concurrency: 5 });
expectTypeOf(getCubes).toEqualTypeOf<(shards: Shards<number>) => Promise<number[]>>();
const withRest = distribute((i: number, label: string) => `${label}${i}`);
expectTypeOf(withRest).parameters.toEqualTypeOf<[shards: Shards<number>, label: string]>();
expectTypeOf(withRest([1], 'x')).toEqualTypeOf<Promise<string[]>>();
const streamed = distribute(async (i: number) => i, { as: 'completed', results: 'entries' });
expectTypeOf(streamed([1])).toEqualTypeOf<AsyncGenerator<ShardEntry<number, number>, void, undefined>>();
const settled = distribute(async (i: number) => i, { results: 'settled', as: 'ordered' });
expectTypeOf(settled([1])).toEqualTypeOf<AsyncGenerator<ShardOutcome<number, number>, void, undefined>>();
const squares = distributeOver([1, 2, 3])(async (i: number) => i ** 2);
expectTypeOf(squares()).toEqualTypeOf<Promise<number[]>>();

// Options are checked, and callbacks typed from them.
distribute((i: number) => i, {
  onProgress: (progress) => {
    expectTypeOf(progress.done).toEqualTypeOf<number>();
    expectTypeOf(progress.total).toEqualTypeOf<number | undefined>();
  },
});
// @ts-expect-error concurrency is a number
distribute((i: number) => i, { concurrency: '5' });
// @ts-expect-error unknown order
distribute((i: number) => i, { as: 'random' });

// Decorating what is not a method is a type error (and a TypeError at run time).
export class NotMethods {
  // @ts-expect-error a field
  @distribute
  field = 1;

  // @ts-expect-error a getter
  @distribute()
  get getter() {
    return 1;
  }
}
