/**
 * Errors across the worker boundary. Structured clone keeps only the message and stack of an error,
 * and workerpool's own conversion keeps less, so errors travel encoded: name, message, stack,
 * `cause`, `errors` (of an `AggregateError`) and own properties, and are rebuilt on the other side.
 * @module
 */
import { describe } from '../messages.js';
import { clonable } from './clone.js';

/** What was thrown, encoded for the trip: an error, or any other value (`throw 'oops'`). */
export type EncodedThrown =
  { readonly error: EncodedError } | { readonly value: unknown } | { readonly unclonable: string };

/** An error, taken apart. */
export interface EncodedError {
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  /** Name of its constructor, to rebuild a built-in class (`TypeError`, `RangeError`, …). */
  readonly constructorName: string;
  readonly cause?: EncodedThrown;
  /** The `errors` of an `AggregateError`. */
  readonly errors?: readonly EncodedThrown[];
  /** Own enumerable properties (`code`, `status`, …); those that cannot be cloned are described as text. */
  readonly properties: Readonly<Record<string, unknown>>;
}

/** Causes nest; a cycle (`a.cause = a`) must not recurse forever. */
const MAX_DEPTH = 8;

/**
 * Encodes what a shard threw, so that {@link decodeThrown} on the other side rebuilds it.
 *
 * @example
 * ```ts
 * const error = Object.assign(new RangeError('too big'), { code: 'E_BIG' });
 * decodeThrown(encodeThrown(error)); // a RangeError 'too big' with code 'E_BIG' and the same stack
 * ```
 */
export function encodeThrown(thrown: unknown, depth = 0): EncodedThrown {
  if (!(thrown instanceof Error) || depth > MAX_DEPTH) {
    return clonable(thrown) ? { value: thrown } : { unclonable: describe(thrown) };
  }
  const properties: Record<string, unknown> = {};
  for (const key of Object.keys(thrown)) {
    if (key === 'cause' || key === 'errors') continue;
    const value = (thrown as unknown as Record<string, unknown>)[key];
    properties[key] = clonable(value) ? value : `[not cloneable: ${describe(value)}]`;
  }
  const encoded: { -readonly [K in keyof EncodedError]: EncodedError[K] } = {
    name: String(thrown.name),
    message: String(thrown.message),
    stack: typeof thrown.stack === 'string' ? thrown.stack : undefined,
    constructorName: typeof thrown.constructor === 'function' ? thrown.constructor.name : 'Error',
    properties,
  };
  if ('cause' in thrown) encoded.cause = encodeThrown(thrown.cause, depth + 1);
  if (thrown instanceof AggregateError && Array.isArray(thrown.errors)) {
    encoded.errors = (thrown.errors as unknown[]).map((error) => encodeThrown(error, depth + 1));
  }
  return { error: encoded };
}

type ErrorClass = new (message?: string) => Error;

const BUILT_IN: Readonly<Record<string, ErrorClass>> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/**
 * Rebuilds what {@link encodeThrown} encoded. A built-in error class comes back as itself; any other
 * class comes back as an `Error` whose `name` is the original's (its prototype cannot travel), with
 * the original message, stack, cause and own properties.
 */
export function decodeThrown(encoded: EncodedThrown): unknown {
  if ('value' in encoded) return encoded.value;
  if ('unclonable' in encoded) return new Error(`Threw ${encoded.unclonable}, which cannot be sent between threads`);
  const { name, message, stack, constructorName, cause, errors, properties } = encoded.error;
  let error: Error;
  if (errors !== undefined) error = new AggregateError(errors.map(decodeThrown), message);
  else if (constructorName === 'DOMException') error = new DOMException(message, name);
  else error = new (BUILT_IN[constructorName] ?? Error)(message);
  if (error.name !== name) define(error, 'name', name);
  define(error, 'stack', stack);
  if (cause !== undefined) define(error, 'cause', decodeThrown(cause));
  Object.assign(error, properties);
  return error;
}

// Non-enumerable, like the properties of a native error, so the rebuilt error prints like the original.
function define(error: Error, key: string, value: unknown): void {
  Object.defineProperty(error, key, { value, writable: true, configurable: true, enumerable: false });
}
