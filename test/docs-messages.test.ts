/**
 * The messages docs/api.md quotes are the ones parafor throws: every message-shaped code span in the
 * reference has a case here that produces it, and each case's error matches its quote (`…` stands for
 * any text; file names and lines are compared as placeholders).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  distribute,
  distributeOver,
  parallel,
  shutdown,
  WorkerExitError,
  type DistributeOptions,
  type ShardOutcome,
} from '../src/index.js';
import { Report as Crunching } from './fixtures/workers/report.js';
import { sleep, until } from './helpers.js';

const apiMd = fileURLToPath(new URL('../../../docs/api.md', import.meta.url));

/** Who speaks, then a sentence: the shape every parafor message has. */
const MESSAGE =
  /^(@distribute(Over)?( on `[^`]+`( \([^)]+\))?)?|(distribute|distributeOver|parallel)\([^)]*\)|[A-Z]\w*\.\w+): [A-Z0-9`]/;

/** The message-shaped code spans of a markdown text, outside fenced blocks. */
function quotedMessages(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, '');
  const spans = new Set<string>();
  for (const [, , content = ''] of prose.matchAll(/(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/g)) {
    const span = content.startsWith(' ') && content.endsWith(' ') ? content.slice(1, -1) : content;
    if (MESSAGE.test(span)) spans.add(span);
  }
  return [...spans];
}

function normalise(text: string): string {
  return text.replace(/\([\w.-]+\.[cm]?[jt]sx?:\d+\)/g, '(FILE:LINE)').replace(/[\w.-]+\.[cm]?[jt]sx?\b/g, 'FILE');
}

function template(quote: string): RegExp {
  const parts = normalise(quote)
    .split('…')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('[\\s\\S]*')}$`);
}

/** Whatever `produce` throws or rejects with. */
async function errorOf(produce: () => unknown): Promise<Error> {
  try {
    await produce();
  } catch (error) {
    assert.ok(error instanceof Error, `expected an Error, got ${String(error)}`);
    return error;
  }
  assert.fail('expected an error');
}

/** The cause of what `produce` throws: a shard's own error inside its `ShardError`. */
async function causeOf(produce: () => unknown): Promise<Error> {
  const { cause } = await errorOf(produce);
  assert.ok(cause instanceof Error, 'expected an Error as the cause');
  return cause;
}

function decorateWith(options: unknown): void {
  class Report {
    @distribute(options as DistributeOptions)
    getCube(i: number) {
      return i ** 3;
    }
  }
  void Report;
}

class Report {
  db = { onClose() {} };

  @distribute
  getCube(i: number) {
    return i ** 3;
  }

  @distribute({ executor: 'worker', batchSize: 100 })
  cube(i: number) {
    return i ** 3;
  }

  render(): string {
    return '';
  }

  @distributeOver(
    (function* () {
      yield 1;
    })(),
  )
  load(id: number) {
    return id;
  }
}

/** The function form, named like the docs' method, so that messages say `Report.getCube`. */
function getCubeOf(body: (i: number) => unknown, options: DistributeOptions = {}) {
  Object.defineProperty(body, 'name', { value: 'Report.getCube' });
  return distribute(body, options);
}

/** Each quoted message, and how to make parafor say it: each case gives the error that carries it. */
const CASES: Readonly<Record<string, () => Promise<Error>>> = {
  'Report.getCube: Shard 3 `3` (number) failed: Error: boom': () =>
    errorOf(() =>
      getCubeOf((i) => {
        if (i === 3) throw new Error('boom');
        return i;
      })([0, 1, 2, 3]),
    ),
  'Report.getCube: Shard 3 `3` (number) failed after 3 attempts: Error: boom': () =>
    errorOf(() =>
      getCubeOf(
        (i) => {
          if (i === 3) throw new Error('boom');
          return i;
        },
        { retries: { limit: 2, minDelay: 1 } },
      )([0, 1, 2, 3]),
    ),
  'Report.getCube: Shard 4 timed out after 500 ms': () =>
    causeOf(() =>
      getCubeOf(
        async (i) => {
          if (i === 4) await sleep(2000);
          return i;
        },
        { timeout: 500 },
      )([0, 1, 2, 3, 4]),
    ),
  'Report.getCube: Reading shard 2 from the shards failed: Error: disk gone': () =>
    errorOf(() =>
      parallel(new Report()).getCube(
        (function* () {
          yield 0;
          yield 1;
          throw new Error('disk gone');
        })(),
      ),
    ),
  'Report.getCube: 2 shards failed (1, 8)': () =>
    errorOf(() =>
      getCubeOf(
        (i) => {
          if (i === 1 || i === 8) throw new Error(`no ${i}`);
          return i;
        },
        { stopOnError: false },
      )([0, 1, 2, 3, 4, 5, 6, 7, 8]),
    ),
  'Report.crunch: The worker thread died (exit code 3) while it held shard 17': () =>
    errorOf(() => {
      throw new WorkerExitError({
        executor: 'worker',
        method: 'Report.crunch',
        shards: [17],
        exitCode: 3,
        signal: null,
        reason: undefined,
      });
    }),
  "Report.crunch: The 'worker' pool was shut down (shutdown()) before shard 1 finished": async () => {
    let started = false;
    const call = parallel(new Crunching(), {
      results: 'settled',
      onProgress: () => (started = true),
    }).crunch([50, 2000, 2000]);
    await until(() => started);
    await shutdown();
    const outcomes: ShardOutcome<number, number>[] = await call;
    const failed = outcomes.find((outcome) => outcome.status === 'rejected');
    assert.ok(failed?.status === 'rejected', 'no shard failed');
    assert.ok(failed.reason.cause instanceof Error);
    return failed.reason.cause;
  },
  '@distribute on `getCube` (report.ts:12): Expected `concurrency` to be an integer from 1 and up, or Infinity, got `0` (number)':
    () => errorOf(() => decorateWith({ concurrency: 0 })),
  '@distribute on `getCube` (report.ts:12): Expected the options to be an object, got `5` (number)': () =>
    errorOf(() => decorateWith(5)),
  '@distribute on `total` (report.ts:12): Only a method can be decorated, but `total` is a field': () =>
    errorOf(() => {
      class Report {
        // @ts-expect-error a field is not a method
        @distribute
        total = 0;
      }
      return new Report();
    }),
  'distribute(lookUp): Unknown option `concurency`; did you mean `concurrency`? The options are `executor`, `concurrency`, …':
    () =>
      errorOf(() =>
        distribute(
          function lookUp(id: string) {
            return id;
          },
          { concurency: 2 } as DistributeOptions,
        ),
      ),
  'distribute(): Expected a function to distribute (then its options), got `undefined` (undefined)': () =>
    errorOf(() => (distribute as unknown as (...args: unknown[]) => unknown)(undefined, { concurrency: 2 })),
  'distributeOver(): Expected a function to distribute, got `5` (number)': () =>
    errorOf(() => (distributeOver([1]) as unknown as (fn: unknown) => unknown)(5)),
  '@distributeOver: Expected the shards to be an array, an Iterable, an AsyncIterable or a function returning one, got …':
    () => errorOf(() => distributeOver(5 as unknown as number[])),
  'Report.getCube: Expected the shards (first argument) to be an array, an Iterable or an AsyncIterable, got `5` (number)':
    () => errorOf(() => parallel(new Report()).getCube(5 as unknown as number[])),
  'Report.getCube: No shards were given. A @distribute method takes its shards as the first argument; only @distributeOver methods have shards of their own':
    () => errorOf(() => parallel(new Report()).getCube()),
  'Report.load: The @distributeOver shards are an iterator that an earlier call used up (…); pass an array, or a function returning fresh shards':
    () =>
      errorOf(async () => {
        const report = new Report();
        await parallel(report).load();
        return parallel(report).load();
      }),
  'parallel(): Expected an object or a class whose methods are distributed, got `5` (number)': () =>
    errorOf(() => parallel(5 as unknown as object)),
  'parallel(): `Report.render` is not a method decorated with @distribute or @distributeOver': () =>
    errorOf(() => parallel(new Report()).render([])),
  'parallel(): `Report.getCube` is an instance method, but a class was given: pass an instance, `parallel(new Report(…))`. A class gives its static methods':
    () => errorOf(() => (parallel(Report) as unknown as Record<string, unknown>)['getCube']),
  'Report.cube: `batchSize: 100` cannot be combined with `timeout`: a timeout stops the worker of the shard, and with it every shard of its batch. …':
    () => errorOf(() => parallel(new Report(), { timeout: 100 }).cube([1])),
  'Report.cube: `batchSize: 100` cannot be combined with `rateLimit`: …': () =>
    errorOf(() => parallel(new Report(), { rateLimit: { limit: 1, interval: 10 } }).cube([1])),
  // Node runs this test file as its script: a class defined here is in the entry script.
  'Report.cube: The method is defined in the entry script main.ts (the file Node was started with). …': () =>
    errorOf(() => parallel(new Report(), { batchSize: 'auto' }).cube([1])),
  "Report.cube: The instance's fields cannot be copied between threads: `this.db.onClose` is `[Function: onClose]` (function). …":
    () => errorOf(() => parallel(new Report(), { batchSize: 'auto', module: import.meta.url }).cube([1])),
};

describe('the messages docs/api.md quotes', () => {
  it('every quoted message has a case here, and every case is quoted', async () => {
    const quoted = quotedMessages(await readFile(apiMd, 'utf8'));
    assert.ok(quoted.length >= 15, `found only ${quoted.length} quoted messages`);
    assert.deepEqual(
      quoted.filter((quote) => !(quote in CASES)),
      [],
      'messages quoted in docs/api.md with no case in this test',
    );
    assert.deepEqual(
      Object.keys(CASES).filter((quote) => !quoted.includes(quote)),
      [],
      'cases here whose message docs/api.md no longer quotes',
    );
  });

  for (const [quote, produce] of Object.entries(CASES)) {
    it(`is what parafor says: ${quote.slice(0, 70)}`, async () => {
      const { message } = await produce();
      assert.match(normalise(message), template(quote));
    });
  }
});
