/**
 * Telling functions apart across threads: two threads that loaded the same file hold two different
 * function objects with the same source.
 * @module
 */

const fingerprints = new WeakMap<object, string>();

/**
 * A short hash (FNV-1a) of a function's source text, equal in every thread that loaded the same file.
 *
 * @example
 * ```ts
 * fingerprint(function square(x: number) { return x * x; }); // e.g. '5f1c2a9b'
 * ```
 */
export function fingerprint(fn: object): string {
  let hash = fingerprints.get(fn);
  if (hash === undefined) {
    const source = Function.prototype.toString.call(fn);
    let h = 0x811c9dc5;
    for (let i = 0; i < source.length; i++) h = Math.imul(h ^ source.charCodeAt(i), 0x01000193);
    hash = (h >>> 0).toString(16);
    fingerprints.set(fn, hash);
  }
  return hash;
}
