/**
 * One memory measurement, run by bench/stream-memory.ts in a fresh process:
 * `node --expose-gc --import tsx bench/stream-memory-child.ts <parafor|eager> <shards> [<concurrency>|default]`.
 * Prints one JSON line: the run's time, its peak RSS growth over a post-GC baseline, and a checksum.
 * @module
 */
import { performance } from 'node:perf_hooks';
import { distribute } from '../src/index.js';

export interface MemoryResult {
  readonly mode: 'parafor' | 'eager';
  readonly shards: number;
  readonly timeMs: number;
  /** Peak RSS during the run minus RSS at the baseline, in bytes. */
  readonly peakGrowth: number;
  /** Heap in use after the run and a full GC, minus the baseline's: what the run left alive. */
  readonly retainedHeap: number;
  readonly checksum: number;
}

const [mode, shardsArg = '1000000', concurrencyArg = 'default'] = process.argv.slice(2);
if (mode !== 'parafor' && mode !== 'eager') throw new TypeError(`expected parafor or eager, got ${mode}`);
const shards = Number(shardsArg);
/** `default`: the option left out, as a user would write the call. */
const concurrency = concurrencyArg === 'default' ? undefined : Number(concurrencyArg);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

/** Trivial async work, the same for both. */
const work = async (i: number): Promise<number> => i + 1;

async function* source(n: number): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) yield i;
}

const streamed = distribute(work, concurrency === undefined ? { as: 'completed' } : { concurrency, as: 'completed' });

gc();
gc();
const baselineRss = process.memoryUsage().rss;
const baselineHeap = process.memoryUsage().heapUsed;
const maxRssBefore = process.resourceUsage().maxRSS * 1024;
let peakRss = baselineRss;
const sample = (): void => {
  const rss = process.memoryUsage().rss;
  if (rss > peakRss) peakRss = rss;
};
// The interval cannot fire while synchronous work blocks the loop; the high-water mark (maxRSS) covers that.
const sampler = setInterval(sample, 5);

const start = performance.now();
let checksum = 0;
if (mode === 'parafor') {
  let count = 0;
  for await (const value of streamed(source(shards))) {
    checksum += value;
    if ((++count & 0x3fff) === 0) sample();
  }
} else {
  const inputs: number[] = [];
  for await (const i of source(shards)) inputs.push(i);
  sample();
  const results = await Promise.all(inputs.map(work));
  sample();
  for (const value of results) checksum += value;
}
const timeMs = performance.now() - start;
clearInterval(sampler);
sample();

// The high-water mark counts only if the run raised it above what start-up had reached.
const maxRssAfter = process.resourceUsage().maxRSS * 1024;
const peak = maxRssAfter > maxRssBefore ? Math.max(peakRss, maxRssAfter) : peakRss;
gc();
gc();
const result: MemoryResult = {
  mode,
  shards,
  timeMs,
  peakGrowth: peak - baselineRss,
  retainedHeap: process.memoryUsage().heapUsed - baselineHeap,
  checksum,
};
console.log(JSON.stringify(result));
