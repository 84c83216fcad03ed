/**
 * The CPU-bound work of examples/cpu-primes.ts, in a module of its own: each worker imports this
 * module to run `count` (a worker never imports the entry script, which would run the program
 * again in every worker).
 */
import { distribute } from '../src/index.js';

/** A range of integers `[from, to)`: one shard. */
export type Range = readonly [from: number, to: number];

/** Trial division: slow on purpose, the way real CPU-bound work is. */
function isPrime(n: number): boolean {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

/** The plain one-item function: what a sequential `for` loop calls. */
export function countPrimes([from, to]: Range): number {
  let count = 0;
  for (let n = from; n < to; n++) if (isPrime(n)) count++;
  return count;
}

export class PrimeCounter {
  // Written for ONE range; called with many, it runs them on worker threads. `this.name` is a
  // field copied to the worker; `countPrimes` is this module's own function, imported there.
  constructor(readonly name = 'primes') {}

  @distribute({ executor: 'worker' })
  count(range: Range): number {
    return countPrimes(range);
  }
}

/** `[0, limit)` cut into `pieces` ranges. */
export function ranges(limit: number, pieces: number): Range[] {
  const step = Math.ceil(limit / pieces);
  return Array.from({ length: pieces }, (_, i) => [i * step, Math.min(limit, (i + 1) * step)] as const);
}
