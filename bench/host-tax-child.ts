/**
 * One host-tax measurement, run by bench/host-tax.ts in a fresh process: the program's own
 * promise-heavy code (p-map over 200,000 items, then an `await` loop), timed before any parafor call,
 * after one call ended, while another runs, and last after a call whose shards read `currentShard()`
 * after an `await` (on Node 20 and 22 that needs promise hooks, which tax the program from then on:
 * last, so that it cannot change what the others measure). Prints one JSON line.
 * @module
 */
import pMap from 'p-map';
import { setTimeout as sleep } from 'node:timers/promises';
import { currentShard, distribute } from '../src/index.js';

export interface HostTaxResult {
  readonly node: string;
  /** Best of several runs, in ms. */
  readonly beforeMs: number;
  readonly duringMs: number;
  readonly afterMs: number;
  /** After a call whose shards kept their context across an `await`. */
  readonly afterContextMs: number;
}

async function hostWork(): Promise<number> {
  const start = performance.now();
  await pMap(
    Array.from({ length: 200_000 }, (_, i) => i),
    async (x) => x * 2,
    { concurrency: 8 },
  );
  for (let i = 0; i < 200_000; i++) await Promise.resolve(i);
  return performance.now() - start;
}

async function best(runs = 5): Promise<number> {
  let fastest = Infinity;
  for (let i = 0; i < runs; i++) fastest = Math.min(fastest, await hostWork());
  return fastest;
}

const beforeMs = await best();

// One call, then the program's own work: what the program pays once parafor is done.
await distribute(
  async (i: number) => {
    await sleep(1);
    return i;
  },
  { concurrency: 4 },
)(Array.from({ length: 200 }, (_, i) => i));
const afterMs = await best();

// A call that keeps running (slow I/O-like shards) while the program does its own work.
const controller = new AbortController();
async function* forever(): AsyncGenerator<number> {
  for (let i = 0; ; i++) yield i;
}
const running = distribute(
  async (i: number) => {
    await sleep(20);
    return i;
  },
  { concurrency: 4, signal: controller.signal },
)(forever()).catch(() => undefined);
await sleep(50);
const duringMs = await best();
controller.abort();
await running;

// A call whose shards need their context after an await: the storage behind currentShard() runs.
await distribute(
  async (i: number) => {
    await sleep(1);
    return currentShard()?.index ?? i;
  },
  { concurrency: 4 },
)(Array.from({ length: 200 }, (_, i) => i));
const afterContextMs = await best();

console.log(
  JSON.stringify({ node: process.version, beforeMs, duringMs, afterMs, afterContextMs } satisfies HostTaxResult),
);
