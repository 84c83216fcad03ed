/**
 * What the caller says about errors a shard left behind in its worker after its result had come
 * back (see worker/leftovers.ts): the same words whichever executor relayed them, `'worker'`,
 * `'process'` or the queue.
 * @module
 */
import { say, warn } from '../../messages.js';
import type { Leftovers } from '../../wire/protocol.js';
import { decodeThrown } from '../../wire/remote-error.js';

/** Warns about each error a shard left behind after its result had come back. */
export function warnLeftovers({ errors, dropped }: Leftovers): void {
  errors.forEach(({ method, index, kind, error }, i) => {
    const left =
      kind === 'uncaught' ? 'code running (a timer, a callback) that threw' : 'a promise that rejected unhandled';
    const more = i === errors.length - 1 && dropped > 0 ? ` (${dropped} more such errors were not kept)` : '';
    const sentence = `shard ${index} left ${left} after its result was sent; no shard failed for it${more}`;
    warn('PARAFOR_LEFTOVER_ERROR', say(method, sentence), decodeThrown(error));
  });
}
