/**
 * The work of the CPU benchmarks, in a module of its own: parafor's workers import it by reference,
 * and the hand-written piscina and workerpool workers are generated from the same functions'
 * source (bench/cpu-raw.ts), so every contender runs the very same code.
 * @module
 */
import { distribute } from '../src/index.js';

/** A deterministic CPU loop: `rounds` steps of xorshift32. Its result keeps the loop from being optimized away. */
export function burn(rounds: number): number {
  let x = 2463534242;
  for (let i = 0; i < rounds; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
  }
  return x >>> 0;
}

/**
 * About a microsecond of real work per shard (bench/main-thread.ts): `rounds` xorshift steps seeded
 * by the shard, so every shard computes something of its own.
 */
export function spin(seed: number, rounds: number): number {
  let x = (seed ^ 0x9e3779b9) | 0; // an int32 from the start: the loop stays in int32 arithmetic
  for (let i = 0; i < rounds; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
  }
  return x >>> 0;
}

/** The tiny shard of the throughput benchmark. */
export function square(x: number): number {
  return x * x;
}

/** parafor's `'worker'` executor over `burn`, with every default (concurrency: the cores; batchSize: 'auto'). */
export const parallelBurn = distribute(burn, { executor: 'worker' });

/** parafor's `'worker'` executor over `square`, with every default (auto-batching). */
export const parallelSquare = distribute(square, { executor: 'worker' });

/** parafor's `'worker'` executor over `spin`, with every default. */
export const parallelSpin = distribute(spin, { executor: 'worker' });

/** parafor's `'process'` executor over `burn`. */
export const processBurn = distribute(burn, { executor: 'process' });

/**
 * The same work as methods, for calls that set their own options through `parallel(work, options)`
 * (a concurrency, a batch size) while the workers import this module by reference as for the rest.
 */
export class Work {
  @distribute({ executor: 'worker' })
  burn(rounds: number): number {
    return burn(rounds);
  }

  @distribute({ executor: 'worker' })
  square(x: number): number {
    return square(x);
  }
}

/** The number of `burn` rounds that takes about `targetMs` on this machine (median of 5 timings). */
export function calibrate(targetMs: number): number {
  const probe = 2_000_000;
  burn(probe);
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    burn(probe);
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return Math.round((probe * targetMs) / (samples[2] as number));
}
