/**
 * Errors across the worker boundary. Structured clone keeps only the message and stack of an error,
 * and workerpool's own conversion keeps less, so errors travel encoded: name, message, stack,
 * `cause`, `errors` (of an `AggregateError`) and own properties, and are rebuilt on the other side.
 * @module
 */
import { describe } from '../messages.js';
import { clonable } from './clone.js';

/**
 * What was thrown, encoded for the trip: an error, any other value (`throw 'oops'`), a description
 * of a value that cannot travel, or a reference back to an error met earlier in the same chain (a
 * cycle of causes, `a.cause = a`).
 */
export type EncodedThrown =
  | { readonly error: EncodedError }
  | { readonly value: unknown }
  | { readonly unclonable: string }
  | { readonly earlier: number };

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

/** How deep causes are followed; below, a chain is cut (its last error keeps no cause). */
const MAX_DEPTH = 32;

/**
 * Encodes what a shard threw, so that {@link decodeThrown} on the other side rebuilds it. Never
 * throws: a getter that throws is reported as a text in its place, a cycle of causes as a reference.
 *
 * @example
 * ```ts
 * const error = Object.assign(new RangeError('too big'), { code: 'E_BIG' });
 * decodeThrown(encodeThrown(error)); // a RangeError 'too big' with code 'E_BIG' and the same stack
 * ```
 */
export function encodeThrown(thrown: unknown): EncodedThrown {
  return encode(thrown, 0, new Map());
}

/** `seen`: each error of this chain met so far, numbered in the order they are encoded. */
function encode(thrown: unknown, depth: number, seen: Map<Error, number>): EncodedThrown {
  if (!(thrown instanceof Error)) return clonable(thrown) ? { value: thrown } : { unclonable: describe(thrown) };
  const earlier = seen.get(thrown);
  if (earlier !== undefined) return { earlier };
  seen.set(thrown, seen.size);
  const isAggregate = thrown instanceof AggregateError;
  const properties: Record<string, unknown> = {};
  for (const key of ownKeys(thrown)) {
    if (key === 'cause' || (isAggregate && key === 'errors')) continue;
    const value = read(thrown, key);
    properties[key] = value.ok && clonable(value.value) ? value.value : `[not cloneable: ${describeRead(value)}]`;
  }
  const name = read(thrown, 'name');
  const message = read(thrown, 'message');
  const stack = read(thrown, 'stack');
  const constructor = read(thrown, 'constructor');
  const encoded: { -readonly [K in keyof EncodedError]: EncodedError[K] } = {
    name: name.ok ? String(name.value) : 'Error',
    message: message.ok ? String(message.value) : `[${describeRead(message)}]`,
    stack: stack.ok && typeof stack.value === 'string' ? stack.value : undefined,
    constructorName:
      constructor.ok && typeof constructor.value === 'function'
        ? (constructor.value as { name: string }).name
        : 'Error',
    properties,
  };
  if (depth < MAX_DEPTH) {
    const cause = hasKey(thrown, 'cause') ? read(thrown, 'cause') : undefined;
    if (cause !== undefined)
      encoded.cause = cause.ok ? encode(cause.value, depth + 1, seen) : { value: describeRead(cause) };
    const errors = isAggregate ? read(thrown, 'errors') : undefined;
    if (errors?.ok === true && Array.isArray(errors.value)) {
      encoded.errors = (errors.value as unknown[]).map((error) => encode(error, depth + 1, seen));
    }
  }
  return { error: encoded };
}

type Read = { readonly ok: true; readonly value: unknown } | { readonly ok: false };

/** Reads a property of a user's error, whose getters may throw. */
function read(object: object, key: string): Read {
  try {
    return { ok: true, value: Reflect.get(object, key) };
  } catch {
    return { ok: false };
  }
}

function describeRead(read: Read): string {
  return read.ok ? describe(read.value) : 'a getter that throws';
}

function ownKeys(error: Error): string[] {
  try {
    return Object.keys(error);
  } catch {
    return [];
  }
}

function hasKey(error: Error, key: string): boolean {
  try {
    return key in error;
  } catch {
    return false;
  }
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
  return decode(encoded, []);
}

/** `rebuilt`: the errors of this chain rebuilt so far, in the order they were encoded. */
function decode(encoded: EncodedThrown, rebuilt: Error[]): unknown {
  if ('value' in encoded) return encoded.value;
  if ('earlier' in encoded) return rebuilt[encoded.earlier];
  if ('unclonable' in encoded) return new Error(`Threw ${encoded.unclonable}, which cannot be sent between threads`);
  const { name, message, stack, constructorName, cause, errors, properties } = encoded.error;
  let error: Error;
  // An AggregateError's errors are set once it is numbered, so that they may refer back to it.
  if (errors !== undefined) error = new AggregateError([], message);
  else if (constructorName === 'DOMException') error = new DOMException(message, name);
  else error = new (BUILT_IN[constructorName] ?? Error)(message);
  rebuilt.push(error);
  if (error.name !== name) define(error, 'name', name);
  define(error, 'stack', stack);
  if (cause !== undefined) define(error, 'cause', decode(cause, rebuilt));
  if (errors !== undefined)
    define(
      error,
      'errors',
      errors.map((inner) => decode(inner, rebuilt)),
    );
  Object.assign(error, properties);
  return error;
}

// Non-enumerable, like the properties of a native error, so the rebuilt error prints like the original.
function define(error: Error, key: string, value: unknown): void {
  Object.defineProperty(error, key, { value, writable: true, configurable: true, enumerable: false });
}
