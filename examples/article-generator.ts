/**
 * The article's generator variant: instead of collecting every result into a list, yield each one
 * as soon as it is ready (Python's `yield res` in place of `result.append(res)`).
 *
 * parafor has two streaming orders, chosen with the `as` option:
 * - `as: 'completed'`: results in the order they finish (Python's `as_completed`);
 * - `as: 'ordered'`: results in input order, each as soon as it and all before it are ready.
 * Breaking out of the loop stops the fan-out.
 *
 * Run it: `npx tsx examples/article-generator.ts`.
 */
import { currentShard, distribute, parallel } from '../src/index.js';
import { setTimeout as delay } from 'node:timers/promises';

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

// Node's own sleep: it ends early, rejecting, when the shard is told to stop (its slot is freed at once).
const sleep = (ms: number, signal?: AbortSignal): Promise<void> => delay(ms, undefined, signal ? { signal } : {});

// Milliseconds item i takes, by its last digit.
const DELAYS = [900, 300, 600, 100, 400, 200, 700, 100, 300, 500];

const start = performance.now();
const at = (): string => `${((performance.now() - start) / 1000).toFixed(1)} s`;

class Report {
  started = 0;
  stopped = 0;

  // How long item i takes is DELAYS[i % 10]: uneven on purpose, so items finish out of order.
  @distribute({ concurrency: 5 })
  async getCube(i: number): Promise<number> {
    this.started++;
    const shard = currentShard();
    try {
      await sleep(DELAYS[i % 10]!, shard?.signal);
    } catch (error) {
      this.stopped++;
      throw error;
    }
    return i ** 3;
  }
}

const report = new Report();

// -------------------------------------------------------------------------------------------------
// 1. As they finish. `results: 'entries'` wraps each value in `{ index, shard, value }`, so the loop
//    knows which shard a result belongs to even though they arrive out of order.
// -------------------------------------------------------------------------------------------------
console.log("as: 'completed', results: 'entries'");
for await (const { index, shard, value } of parallel(report, { as: 'completed', results: 'entries' }).getCube(
  range(10),
)) {
  console.log(`  ${at()}  shard #${index} (i = ${shard}) -> ${value}`);
}

// -------------------------------------------------------------------------------------------------
// 2. In input order, as early as possible: the article's generator. Item 0 takes 0.9 s, so nothing
//    comes out before it is ready; then the results that finished meanwhile follow at once.
// -------------------------------------------------------------------------------------------------
console.log("\nas: 'ordered'");
for await (const cube of parallel(report, { as: 'ordered' }).getCube(range(10))) {
  console.log(`  ${at()}  ${cube}`);
}

// -------------------------------------------------------------------------------------------------
// 3. Breaking out early. No new shard starts, the running ones see their signal abort (the sleep
//    above rejects), and the loop ends at once: nothing keeps running in the background.
// -------------------------------------------------------------------------------------------------
console.log("\nas: 'completed', stop at the first cube above 100, over range(1000)");
report.started = 0;
report.stopped = 0;
for await (const cube of parallel(report, { as: 'completed' }).getCube(range(1000))) {
  console.log(`  ${at()}  ${cube}`);
  if (cube > 100) break;
}
await delay(0); // one turn of the event loop: the stopped shards' sleeps reject
console.log(`  started ${report.started} of 1000 shards; ${report.stopped} were running and were told to stop`);

// Generators are lazy too: the shards are read only as fast as the loop consumes results, so an
// endless source is fine as long as the loop breaks out of it.
function* naturals(): Generator<number> {
  for (let i = 0; ; i++) yield i;
}
const firstFive: number[] = [];
for await (const { index, value } of parallel(report, { as: 'ordered', results: 'entries' }).getCube(naturals())) {
  firstFive.push(value);
  if (index === 4) break;
}
console.log(`\nfirst five cubes of an endless generator: ${JSON.stringify(firstFive)} (${at()})`);
