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

/**
 * Everything a call gives: its array, or the items of its stream, each counted with `onItem`. The
 * call is made inside, so that a throw from it is a rejection too.
 */
export async function collect(
  call: () => Promise<unknown[]> | AsyncGenerator<unknown>,
  onItem: () => void = () => undefined,
): Promise<unknown[]> {
  const result = call();
  if (result instanceof Promise) return result;
  const items: unknown[] = [];
  for await (const item of result) {
    onItem();
    items.push(item);
  }
  return items;
}

/** How `promise` settled, or a rejection after `ms`: a call that never settles fails the test instead of hanging it. */
export async function settleWithin<T>(promise: Promise<T>, ms = 10_000): Promise<{ value: T } | { error: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('the call never settled')), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Collects the rejections nobody handles while it is listening (which also keeps them from ending
 * the test process, so a test can say which); `stop()` ends it.
 */
export function unhandledRejections(): { readonly reasons: unknown[]; readonly stop: () => void } {
  const reasons: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void reasons.push(reason);
  process.on('unhandledRejection', onUnhandled);
  return { reasons, stop: () => process.off('unhandledRejection', onUnhandled) };
}
