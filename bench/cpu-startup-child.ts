/**
 * One start-up measurement, run by bench/cpu-startup.ts in a fresh process:
 * `node --import tsx bench/cpu-startup-child.ts <worker|process|none>`. Prints one JSON line the
 * moment its work is done, then simply ends: the parent times how long the process takes to exit.
 * @module
 */
import { performance } from 'node:perf_hooks';
import { parallelBurn, processBurn } from './cpu-work.js';

export interface StartupResult {
  /** The first call, which starts the pool: workers boot and import the method's module. */
  readonly firstMs: number;
  /** A second call, on the warm pool. */
  readonly secondMs: number;
}

const mode = process.argv[2];
const call = mode === 'worker' ? parallelBurn : mode === 'process' ? processBurn : undefined;
let result: StartupResult = { firstMs: 0, secondMs: 0 };
if (call !== undefined) {
  let start = performance.now();
  await call([1000]);
  const firstMs = performance.now() - start;
  start = performance.now();
  await call([1000]);
  result = { firstMs, secondMs: performance.now() - start };
}
console.log(JSON.stringify(result));
