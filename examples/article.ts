/**
 * The article "A parallel 'for' loop in Python using decorators", ported to TypeScript.
 *
 * Ten items, each taking one second (a stand-in for a query or a request). A plain `for` loop
 * takes about ten seconds; the same method, decorated, runs five items at a time and takes about two.
 *
 * With `progress: true`, each parallel call draws a live line on stderr while it runs (shards done,
 * rate, ETA) and ends as a one-line summary with the speed-up over the summed shard time. `onStats`
 * gives the same figures to the program.
 *
 * Run it: `npm run demo` (or `npx tsx examples/article.ts`).
 */
import { distribute, distributeOver, parallel, type CallStats } from '../src/index.js';

// Python's `range(10)` and `time.sleep(1)`.
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// Seconds since `start`, for printing.
const since = (start: number): number => (performance.now() - start) / 1000;

// ---------------------------------------------------------------------------------------------
// 1. Where the article starts: a sequential `for` loop over ten slow items.
// ---------------------------------------------------------------------------------------------
async function square(i: number): Promise<number> {
  await sleep(1000);
  return i ** 2;
}

console.log('Sequential for loop over range(10): 10 one-second queries, one after another, about 10 s...');
let start = performance.now();
const sequential: number[] = [];
for (const i of range(10)) {
  sequential.push(await square(i));
}
const sequentialTime = since(start);
console.log(`  ${sequentialTime.toFixed(2)} s  ${JSON.stringify(sequential)}\n`);

// ---------------------------------------------------------------------------------------------
// 2. The same work, parallel. Each method is still written for ONE item; the decorator runs it
//    over many, at most `concurrency` at a time (the article's `threads=5`).
// ---------------------------------------------------------------------------------------------
//    `progress: true` draws the call's line on stderr; stdout keeps only what the program prints.
class Report {
  // Static: the shards are fixed where the method is defined (the article's `distribute_over`).
  // Call it with no arguments.
  @distributeOver(range(10), { concurrency: 5, progress: true })
  async getSquare(i: number): Promise<number> {
    await sleep(1000);
    return i ** 2;
  }

  // Dynamic: the shards are given at call time (the article's `distribute`).
  @distribute({ concurrency: 5, progress: true })
  async getCube(i: number): Promise<number> {
    await sleep(1000);
    return i ** 3;
  }
}

const report = new Report();

// TypeScript cannot change a decorated method's type, so `report.getCube` is still typed for one
// item. `parallel(report)` is a typed view of the same methods: `getCube` takes the shards there
// and returns `Promise<number[]>`. (Called directly, `report.getCube(range(10))` does the same at run
// time: from JavaScript that uses this class once compiled, or from TypeScript with a cast.)
console.log('In parallel, 5 at a time: about 2 s per call.');
console.log('@distributeOver(range(10), { concurrency: 5 })  getSquare()...');
start = performance.now();
const squares = await parallel(report).getSquare();
const staticTime = since(start);
console.log(`  ${staticTime.toFixed(2)} s  ${JSON.stringify(squares)}\n`);

console.log('@distribute({ concurrency: 5 })  getCube(range(10)), with onStats...');
start = performance.now();
// `onStats` is called once when the call ends, with figures to tune `concurrency` by.
let stats: CallStats | undefined;
const cubes = await parallel(report, { onStats: (s) => (stats = s) }).getCube(range(10));
const dynamicTime = since(start);
console.log(`  ${dynamicTime.toFixed(2)} s  ${JSON.stringify(cubes)}`);
if (stats !== undefined) {
  const { shards, busyMs, wallMs, speedup, utilization, shardMs } = stats;
  console.log(
    `  onStats: ${shards} shards, ${(busyMs / 1000).toFixed(1)} s of shard time in ${(wallMs / 1000).toFixed(2)} s: ` +
      `${speedup.toFixed(1)}x, ${(utilization * 100).toFixed(0)}% of the 5 slots busy, each shard ${shardMs.median.toFixed(0)} ms (median)\n`,
  );
}

// ---------------------------------------------------------------------------------------------
// 3. The comparison. Same results, in the same order, in a fifth of the time.
// ---------------------------------------------------------------------------------------------
const same = JSON.stringify(squares) === JSON.stringify(sequential);
console.log(`sequential: ${sequentialTime.toFixed(2)} s`);
console.log(`parallel:   ${staticTime.toFixed(2)} s (static), ${dynamicTime.toFixed(2)} s (dynamic)`);
console.log(`speed-up:   ${(sequentialTime / staticTime).toFixed(1)}x, results identical: ${same}`);
