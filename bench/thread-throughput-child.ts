/**
 * One timed run of one contender of bench/thread-throughput.ts, in a fresh process, so that no
 * contender runs in a process another one has shaped (parafor's AsyncLocalStorage turns on promise
 * hooks for every promise of the process; heaps and JIT state differ):
 * `node --expose-gc --import tsx bench/thread-throughput-child.ts <parafor|p-limit|p-map>`.
 * Runs once to warm up, then once timed (wall time, and the main thread's CPU time); prints one JSON line.
 * @module
 */
import { performance } from 'node:perf_hooks';
import pLimit from 'p-limit';
import pMap from 'p-map';
import { cpuClock } from './cpu-clock.js';
import { CONCURRENCY, SHARDS, TIMER_MS, type Contender, type ThroughputResult } from './thread-throughput.js';

const contender = process.argv[2] as Contender;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

const work = (i: number): Promise<number> => new Promise((resolve) => setTimeout(resolve, TIMER_MS, i));
const items = Array.from({ length: SHARDS }, (_, i) => i);

async function contenderRun(): Promise<() => Promise<number[]>> {
  switch (contender) {
    case 'parafor': {
      // Imported only here, so that the other contenders' processes never load parafor.
      const { distribute } = await import('../src/index.js');
      const parafor = distribute(work, { concurrency: CONCURRENCY });
      return () => parafor(items);
    }
    case 'p-limit':
      return () => {
        const limit = pLimit(CONCURRENCY);
        return Promise.all(items.map((i) => limit(() => work(i))));
      };
    case 'p-map':
      return () => pMap(items, work, { concurrency: CONCURRENCY });
    default:
      throw new TypeError(`expected parafor, p-limit or p-map, got ${String(contender)}`);
  }
}

const run = await contenderRun();
const check = (results: readonly number[]): void => {
  if (results.length !== SHARDS || results.some((value, i) => value !== i)) {
    throw new Error(`thread-throughput: ${contender} returned wrong results`);
  }
};
check(await run()); // warm-up: JIT, lazy loading
gc();
const cpu = cpuClock.now();
const start = performance.now();
const results = await run();
const timeMs = performance.now() - start;
const cpuMs = cpuClock.now() - cpu;
check(results);
const result: ThroughputResult = { contender, timeMs, cpuMs };
console.log(JSON.stringify(result));
