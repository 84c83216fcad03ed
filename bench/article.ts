/**
 * The article's case: 10 shards that each sleep 1 s, 5 at a time, through a decorated method.
 * Ideal: 2 waves of 1 s = 2 s. Printed as wall time / 2 s against a limit of 1.00.
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { distribute, getDistribution, parallel } from '../src/index.js';
import { fixed, judge, median, ms, spread, timed, times, type Suite } from './harness.js';

const SHARDS = 10;
const CONCURRENCY = 5;
const SLEEP_MS = 1000;
const IDEAL_MS = (SHARDS / CONCURRENCY) * SLEEP_MS;
const LIMIT = 1;

class Report {
  @distribute({ concurrency: CONCURRENCY })
  async getCubes(i: number): Promise<number> {
    await sleep(SLEEP_MS);
    return i ** 3;
  }
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const expected = range(SHARDS).map((i) => i ** 3);

function check(results: readonly number[]): void {
  if (results.length !== SHARDS || results.some((value, i) => value !== expected[i])) {
    throw new Error(`article: wrong results ${JSON.stringify(results)}`);
  }
}

export const article: Suite = {
  name: 'article',
  title: `The article's case: ${SHARDS} shards x ${SLEEP_MS / 1000} s sleep, concurrency ${CONCURRENCY}, decorated method`,
  async run({ runs = 3, progress }) {
    const report = new Report();
    const parallelRuns: number[] = [];
    for (let run = 0; run < runs; run++) {
      progress(`parallel run ${run + 1}/${runs}`);
      parallelRuns.push(await timed(async () => check(await parallel(report).getCubes(range(SHARDS)))));
    }

    // The same method body, undecorated, in a plain `for` loop: the article's "before".
    progress('sequential run');
    const original = getDistribution(Report.prototype, 'getCubes')?.original;
    if (original === undefined) throw new Error('article: Report.getCubes is not distributed');
    const sequential = await timed(async () => {
      const results: number[] = [];
      for (const i of range(SHARDS)) results.push((await original.call(report, i)) as number);
      check(results);
    });

    const wall = median(parallelRuns);
    const ratio = wall / IDEAL_MS;
    return {
      rows: [
        { measure: 'parallel wall time (median)', value: ms(wall), detail: spread(parallelRuns) },
        {
          measure: `wall time / ${IDEAL_MS / 1000} s`,
          value: times(ratio),
          goal: `<= ${fixed(LIMIT)}`,
          check: judge(ratio, '<=', LIMIT, { pass: 'within limit', fail: 'OVER LIMIT' }),
          detail: `overhead ${ms(wall - IDEAL_MS)} over ${SHARDS / CONCURRENCY} waves x ${SLEEP_MS / 1000} s`,
        },
        {
          measure: 'sequential for loop (context)',
          value: ms(sequential),
          detail: `1 run, same method undecorated; timers fire ${ms((sequential - SHARDS * SLEEP_MS) / SHARDS)} late each`,
        },
        { measure: 'speed-up sequential / parallel', value: times(sequential / wall) },
      ],
      notes: [
        `1.00x is ideal: the ${SHARDS} sleeps cannot finish before ${SHARDS / CONCURRENCY} waves of ${SLEEP_MS} ms.`,
        'A ratio is judged as printed (2 decimals): 1.00 means less than 10 ms of overhead over 2 s.',
      ],
    };
  },
};
