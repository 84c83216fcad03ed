/**
 * Finding, inside a worker, the method a call runs: import the module that defined it and look among
 * its exports for the member the decorators recorded. The records are per thread (the worker ran the
 * decorators again when it imported the module), so they are compared by what they say, not by
 * identity.
 * @module
 */
import { fingerprint } from '../wire/fingerprint.js';
import type { MethodRef } from '../wire/protocol.js';
import { reasonOf, refused, say } from '../messages.js';
import { getDistribution, type DistributionRecord } from '../metadata.js';
import { keyName } from '../naming.js';
import { isTypeScript, registerTypeScript } from './typescript.js';

/** The method found: its record in this worker, and the class that holds it (none for a function). */
export interface ResolvedMethod {
  readonly record: DistributionRecord;
  /** The class: the prototype of the rebuilt `this`, or `this` itself for a static method. */
  readonly owner: (abstract new (...args: never[]) => unknown) | undefined;
}

const resolved = new Map<string, Promise<ResolvedMethod>>();

/**
 * Loads the module of `ref` (registering tsx first for a `.ts` module) and finds the method in it.
 * Cached: each worker imports and searches once per method.
 *
 * @throws TypeError saying what to do when no export holds the method
 */
export function resolveMethod(ref: MethodRef): Promise<ResolvedMethod> {
  const key = JSON.stringify(ref);
  let found = resolved.get(key);
  if (found === undefined) {
    found = load(ref);
    resolved.set(key, found);
    // A failure is not cached: the next batch tries again and reports it again.
    found.catch(() => resolved.delete(key));
  }
  return found;
}

async function load(ref: MethodRef): Promise<ResolvedMethod> {
  if (isTypeScript(ref.module)) await registerTypeScript(ref.module, ref.name);
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(ref.module)) as Record<string, unknown>;
  } catch (error) {
    throw new Error(say(ref.name, `importing ${ref.module} in the worker failed: ${reasonOf(error)}`), {
      cause: error,
    });
  }
  const found = candidates(namespace, ref);
  const chosen = choose(found, ref);
  if (chosen === undefined) throw refused(ref.name, otherCode(found, ref) ?? notFound(ref, found.length));
  return chosen;
}

/** Every export that holds a distributed member matching `ref`. */
function candidates(namespace: Record<string, unknown>, ref: MethodRef): ResolvedMethod[] {
  const key = typeof ref.key === 'string' ? ref.key : Symbol.for(ref.key.symbolFor);
  const found: ResolvedMethod[] = [];
  for (const value of exportedValues(namespace)) {
    if (typeof value !== 'function') continue;
    let record: DistributionRecord | undefined;
    if (ref.form === 'function') {
      record = getDistribution(value);
      if (record?.form !== 'function' || record.key !== key) continue;
      found.push({ record, owner: undefined });
      continue;
    }
    const target: unknown = ref.isStatic ? value : (value as { prototype?: unknown }).prototype;
    if (typeof target !== 'object' && typeof target !== 'function') continue;
    if (target === null) continue;
    record = getDistribution(target, key);
    if (record?.form !== 'method' || (record.isStatic === true) !== ref.isStatic) continue;
    found.push({ record, owner: value as ResolvedMethod['owner'] });
  }
  return found.filter(({ record }) => record.kind === ref.kind);
}

/** The module's exports, and the properties of its default export (a CommonJS module's `exports`). */
function* exportedValues(namespace: Record<string, unknown>): Generator<unknown> {
  const seen = new Set<unknown>();
  const fallback = namespace['default'];
  const nested: unknown[] = typeof fallback === 'object' && fallback !== null ? Object.values(fallback) : [];
  for (const value of [...Object.values(namespace), ...nested]) {
    if (seen.has(value)) continue;
    seen.add(value);
    yield value;
  }
}

/**
 * The match: the same source (fingerprint), never merely the same name, so that two anonymous
 * functions of a module are never confused; for a method, also the class of the instance (or the
 * class itself, for a static method), so that two classes with the same method are never confused
 * and an instance of an exported subclass gets its own prototype. An anonymous class has no name to
 * match: it must be the only candidate.
 */
function choose(found: readonly ResolvedMethod[], ref: MethodRef): ResolvedMethod | undefined {
  const same = found.filter(({ record }) => fingerprint(record.original) === ref.fingerprint);
  if (ref.form === 'function') return same[0];
  if (ref.owner !== undefined) return same.find(({ owner }) => owner?.name === ref.owner);
  return same.length === 1 ? same[0] : undefined;
}

/**
 * When the method is there under the same name (and class) but with other source: the worker runs
 * other code than the caller (another version, another build), which must never run in its place.
 */
function otherCode(found: readonly ResolvedMethod[], ref: MethodRef): string | undefined {
  // Anonymous functions all share the empty name: another one is not this one with other code.
  if (ref.form === 'function' && ref.key === '') return undefined;
  const same = found.find(
    ({ owner }) => ref.form === 'function' || ref.owner === undefined || owner?.name === ref.owner,
  );
  if (same === undefined) return undefined;
  const here = fingerprint(same.record.original);
  return (
    `a worker imported ${ref.module} and found the method there, but its code differs from the caller's ` +
    `(fingerprint ${here} in the worker, ${ref.fingerprint} in the caller), so it was not run. Every worker must ` +
    'run the same version of the code as the caller (the same files, built the same way).'
  );
}

function notFound(ref: MethodRef, others: number): string {
  const key = keyName(typeof ref.key === 'string' ? ref.key : Symbol.for(ref.key.symbolFor));
  // Exports with a member of that name and kind, but another source or class: not this one.
  const where = `a worker imported ${ref.module}${others > 0 ? ` (${others} other export${others === 1 ? ' has' : 's have'} a member of that name)` : ''}`;
  if (ref.form === 'function') {
    return (
      `${where} but none of its exports is this function made with ${ref.kind}(). A worker finds ` +
      'the function by reference, so it must be exported from the module where it is made, at module level ' +
      `(\`export const ${key === '' ? 'work' : key} = ${ref.kind}(…)\`). A function made inside another ` +
      "function (a closure) cannot be found; move it to module level and export it, or use executor: 'thread'."
    );
  }
  const owner = ref.owner ?? 'TheClass';
  return (
    `${where} but none of its exports is the class ${ref.owner === undefined ? '' : `\`${owner}\` `}` +
    `with the ${ref.isStatic ? 'static ' : ''}method \`${key}\` decorated with @${ref.kind}. A worker finds the ` +
    `method by reference, so the class must be exported from that module (\`export class ${owner} { … }\`). A ` +
    'class that is not exported, or is made inside a function, cannot be found: export it at module level (a ' +
    "subclass defined elsewhere: pass its module's URL as the `module` option), or use executor: 'thread'."
  );
}
