/**
 * CPU-bound work: counting the primes below 8,000,000 in 48 ranges, four ways.
 *
 * - a plain `for` loop;
 * - `executor: 'thread'` (the default): concurrency, not parallelism, for CPU work it is no faster,
 *   like Python's threads under the GIL;
 * - `executor: 'worker'`: worker threads on every core;
 * - `executor: 'process'`: child processes on every core (full isolation, a little more start-up).
 *
 * The method lives in examples/cpu-primes-lib.ts: each worker imports that module and runs the
 * method by reference, no worker file. Run it: `npx tsx examples/cpu-primes.ts`.
 *
 * The first call of `'worker'` or `'process'` also starts its pool, and under tsx every worker loads
 * TypeScript through tsx as it starts (a few tenths of a second each): the first call is timed, then a
 * second, warm one, which is the figure to compare with the loop.
 */
import { availableParallelism } from 'node:os';
import { parallel } from '../src/index.js';
import { countPrimes, PrimeCounter, ranges } from './cpu-primes-lib.js';

const LIMIT = 8_000_000;
const shards = ranges(LIMIT, 48);
const counter = new PrimeCounter();
const sum = (counts: readonly number[]): number => counts.reduce((a, b) => a + b, 0);

async function timed(label: string, run: () => number[] | Promise<number[]>): Promise<number> {
  const start = performance.now();
  const total = sum(await run());
  const seconds = (performance.now() - start) / 1000;
  console.log(`  ${label.padEnd(22)} ${seconds.toFixed(2)} s   ${total} primes`);
  return seconds;
}

console.log(
  `Primes below ${LIMIT.toLocaleString('en')}, in ${shards.length} ranges, on ${availableParallelism()} cores:`,
);
const sequential = await timed('for loop', () => shards.map((range) => countPrimes(range)));
await timed("'thread' (default)", () => parallel(counter, { executor: 'thread' }).count(shards));
// The first call of each executor starts its pool: it is timed apart from the second, warm call.
await timed("'worker', first call", () => parallel(counter).count(shards));
const worker = await timed("'worker', warm", () => parallel(counter).count(shards));
await timed("'process', first call", () => parallel(counter, { executor: 'process' }).count(shards));
const processes = await timed("'process', warm", () => parallel(counter, { executor: 'process' }).count(shards));
console.log(
  `\n  speed-up of the warm calls: ${(sequential / worker).toFixed(2)}x with 'worker', ${(sequential / processes).toFixed(2)}x with 'process'`,
);
// No shutdown() needed: idle pools never keep the program alive.
