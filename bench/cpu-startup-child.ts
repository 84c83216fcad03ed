/**
 * One start-up measurement, run by bench/cpu-startup.ts in a fresh process:
 * `node --import tsx bench/cpu-startup-child.ts <worker|process|none>`. Prints one JSON line the
 * moment its work is done, then simply ends: the parent times how long the process takes to exit.
 * @module
 */
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { burn, parallelBurn, processBurn } from './cpu-work.js';

export interface StartupResult {
  /** The first call, which starts the pool: workers boot and import the method's module. */
  readonly firstMs: number;
  /**
   * Right after that one-shard call (a user's warm-up), a call of CPU-bound shards, two per core,
   * against the same shards run one after another in this process: the speed-up a user who warms
   * up and then times sees.
   */
  readonly afterWarmUpSpeedup: number;
  /** A one-shard call on the warm pool. */
  readonly secondMs: number;
}

const mode = process.argv[2];
const call = mode === 'worker' ? parallelBurn : mode === 'process' ? processBurn : undefined;
let result: StartupResult = { firstMs: 0, afterWarmUpSpeedup: 0, secondMs: 0 };
if (call !== undefined) {
  let start = performance.now();
  await call([1000]);
  const firstMs = performance.now() - start;
  const rounds = roundsFor(50);
  const shards = Array.from({ length: 2 * availableParallelism() }, () => rounds);
  start = performance.now();
  await call(shards);
  const parallelMs = performance.now() - start;
  start = performance.now();
  for (const shard of shards) burn(shard);
  const sequentialMs = performance.now() - start;
  start = performance.now();
  await call([1000]);
  result = { firstMs, afterWarmUpSpeedup: sequentialMs / parallelMs, secondMs: performance.now() - start };
}
console.log(JSON.stringify(result));

/** How many rounds of `burn` take about `ms` here. */
function roundsFor(ms: number): number {
  const probe = 1_000_000;
  const start = performance.now();
  burn(probe);
  return Math.round((probe * ms) / Math.max(performance.now() - start, 0.01));
}
