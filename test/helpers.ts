/** Small tools the tests share. */
import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

/** `[0, 1, …, n - 1]`, the article's `range(n)`. */
export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** Counts how many calls are inside a section at once, and the most there ever were. */
export class InFlight {
  now = 0;
  max = 0;
  async around<T>(work: () => Promise<T>): Promise<T> {
    this.now++;
    this.max = Math.max(this.max, this.now);
    try {
      return await work();
    } finally {
      this.now--;
    }
  }
}

/** A promise with its resolve function outside, to let a test decide when something finishes. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** An async generator over `0, 1, 2, …` (endless unless `limit` is given) that records how far it was read and whether it was closed. */
export function countingSource(limit = Infinity): AsyncGenerator<number> & { read: number; closed: boolean } {
  const state = { read: 0, closed: false };
  async function* generate(): AsyncGenerator<number> {
    try {
      for (let i = 0; i < limit; i++) {
        state.read = i + 1;
        yield i;
      }
    } finally {
      state.closed = true;
    }
  }
  const generator = generate();
  return Object.defineProperties(generator, {
    read: { get: () => state.read },
    closed: { get: () => state.closed },
  }) as AsyncGenerator<number> & { read: number; closed: boolean };
}

/** Resolves once `condition()` holds, polling every few ms; gives up (rejects) after `tries` polls so a broken feature fails instead of hanging. */
export async function until(condition: () => boolean, tries = 5000): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (condition()) return;
    await sleep(2);
  }
  throw new Error('condition never held');
}

/**
 * Collects the process warnings with `code` emitted while it is listening; `stop()` ends it. Use
 * with `try … finally` so a failing test does not leave the listener behind.
 */
export function warningsWith(code: string): { readonly warnings: Error[]; readonly stop: () => void } {
  const warnings: Error[] = [];
  const onWarning = (warning: Error): void => {
    if ((warning as { code?: unknown }).code === code) warnings.push(warning);
  };
  process.on('warning', onWarning);
  return { warnings, stop: () => process.off('warning', onWarning) };
}
