/**
 * Listening to a signal that many calls share. Each `addEventListener` on a signal counts toward
 * its listener limit, so eleven calls given one signal would print a MaxListenersExceededWarning
 * about the user's signal, which parafor must neither cause nor silence (by raising the limit of a
 * signal it does not own). Here a signal has one listener of parafor's while any call listens.
 * @module
 */

interface Listening {
  readonly listeners: Set<() => void>;
  readonly onAbort: () => void;
}

const bySignal = new WeakMap<AbortSignal, Listening>();

/**
 * Calls `listener` once when `signal` aborts. Returns the function that stops listening; the last
 * one to stop removes parafor's listener from the signal.
 */
export function onAbort(signal: AbortSignal, listener: () => void): () => void {
  let listening = bySignal.get(signal);
  if (listening === undefined) {
    const listeners = new Set<() => void>();
    const abort = (): void => {
      bySignal.delete(signal);
      for (const each of listeners) each();
    };
    listening = { listeners, onAbort: abort };
    bySignal.set(signal, listening);
    signal.addEventListener('abort', abort, { once: true });
  }
  // A wrapper, so the same function given twice is two listeners.
  const entry = (): void => listener();
  const { listeners } = listening;
  listeners.add(entry);
  const current = listening;
  return () => {
    if (!listeners.delete(entry) || listeners.size > 0 || bySignal.get(signal) !== current) return;
    bySignal.delete(signal);
    signal.removeEventListener('abort', current.onAbort);
  };
}
