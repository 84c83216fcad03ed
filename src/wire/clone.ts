/**
 * Values across the worker boundary. Everything travels as bytes from `v8.serialize` (the
 * structured clone format): serializing first, in parafor's own code, means a value that cannot be
 * cloned is caught here, where it can be named, instead of inside the pool's `postMessage`. Opt-in
 * transfer moves `ArrayBuffer`s and typed arrays instead of copying them.
 * @module
 */
import { deserialize, serialize } from 'node:v8';

/**
 * Serializes a value into bytes that can be sent to a worker (and moved there: the bytes are their
 * own `ArrayBuffer`).
 * @throws the serializer's `DataCloneError` if some part of `value` cannot be cloned
 */
export function pack(value: unknown): Uint8Array {
  return serialize(value);
}

/** Rebuilds a value from {@link pack}'s bytes. */
export function unpack(bytes: Uint8Array): unknown {
  return deserialize(bytes);
}

/** A list of values for a worker: a `Float64Array` when they are all numbers, else {@link pack}'s bytes. */
export type PackedList = Float64Array | Uint8Array;

/**
 * Packs a list of shards or results. A list of numbers (indices, ids, measures: common and often tiny)
 * becomes a `Float64Array`, which costs far less than the serializer both ways.
 * @throws the serializer's `DataCloneError` if some value cannot be cloned
 */
export function packList(values: readonly unknown[]): PackedList {
  for (let i = 0; i < values.length; i++) if (typeof values[i] !== 'number') return pack(values);
  return Float64Array.from(values as readonly number[]);
}

/** Rebuilds a list from {@link packList}. */
export function unpackList(packed: PackedList): unknown[] {
  return packed instanceof Float64Array ? Array.from(packed) : (unpack(packed) as unknown[]);
}

/** Where in a value the part that cannot be cloned is, and what it is. */
export interface Unclonable {
  /** e.g. `this.db.onClose`, `arguments[1]`, `shard.callback`. */
  readonly path: string;
  /** e.g. `a function (onClose)`, `a Socket`, `a symbol`. */
  readonly what: string;
}

/**
 * Finds the first part of `value` that cannot be cloned, naming its path from `root`. Uses the
 * serializer itself to test each part, so it agrees with {@link pack}; only called after a failure.
 *
 * @example
 * ```ts
 * findUnclonable({ a: [1, () => 2] }, 'this'); // { path: 'this.a[1]', what: 'a function' }
 * ```
 */
export function findUnclonable(value: unknown, root: string): Unclonable | undefined {
  return search(value, root, new Set());
}

function search(value: unknown, path: string, seen: Set<object>): Unclonable | undefined {
  if (clonable(value)) return undefined;
  if (typeof value !== 'object' || value === null) return { path, what: describe(value) };
  if (seen.has(value)) return undefined;
  seen.add(value);
  for (const [childPath, child] of children(value, path)) {
    const found = search(child, childPath, seen);
    if (found !== undefined) return found;
  }
  // Every part clones but the whole does not: the object itself has native state (a WeakMap, a
  // Promise, a socket handle…).
  return { path, what: describe(value) };
}

function* children(value: object, path: string): Generator<readonly [string, unknown]> {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) yield [`${path}[${i}]`, value[i]];
  } else if (value instanceof Map) {
    for (const [key, item] of value) {
      yield [`${path} (a key of the Map)`, key];
      yield [`${path}.get(${keyText(key)})`, item];
    }
  } else if (value instanceof Set) {
    let i = 0;
    for (const item of value) yield [`${path} (item ${i++} of the Set)`, item];
  } else {
    for (const key of Object.keys(value)) {
      yield [
        /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`,
        Reflect.get(value, key),
      ];
    }
  }
}

function keyText(key: unknown): string {
  return typeof key === 'string' ? JSON.stringify(key) : typeof key === 'object' && key !== null ? '…' : String(key);
}

/** Whether {@link pack} can send `value`. */
export function clonable(value: unknown): boolean {
  // Primitives always can; skipping the serializer for them keeps the common case cheap.
  if (value === null || (typeof value !== 'object' && typeof value !== 'function' && typeof value !== 'symbol')) {
    return true;
  }
  try {
    serialize(value);
    return true;
  } catch {
    return false;
  }
}

function describe(value: unknown): string {
  if (typeof value === 'function') return `a function${value.name === '' ? '' : ` (${value.name})`}`;
  if (typeof value === 'symbol') return `a symbol (${value.toString()})`;
  if (typeof value === 'object' && value !== null) {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === 'string' && name !== '' ? `a ${name}` : 'an object';
  }
  return `a ${typeof value}`;
}

/**
 * Builds the `TypeError` for a value that cannot travel: what it was (a field, an argument, a
 * shard, a result), where the culprit sits, and what to do.
 */
export function unclonableError(subject: string, value: unknown, root: string, cause: unknown): TypeError {
  const found = findUnclonable(value, root) ?? { path: root, what: describe(value) };
  return new TypeError(
    `${subject} cannot be copied between threads: \`${found.path}\` is ${found.what}. Values reach a worker by ` +
      'structured clone, which cannot copy functions, symbols or objects holding native resources (sockets, ' +
      'streams, handles); send plain data and create such resources inside the worker.',
    { cause },
  );
}

/** Whether `transfer: true` moves this value rather than copying it. */
export function isMovable(value: unknown): value is ArrayBuffer | ArrayBufferView {
  const buffer = value instanceof ArrayBuffer ? value : ArrayBuffer.isView(value) ? value.buffer : undefined;
  // A zero-length buffer may be one already moved away (detached): copying it is the safe choice.
  return buffer instanceof ArrayBuffer && buffer.byteLength > 0;
}

/** The buffers to move for these values, each once. */
export function transferList(values: Iterable<ArrayBuffer | ArrayBufferView>): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const value of values) buffers.add(value instanceof ArrayBuffer ? value : (value.buffer as ArrayBuffer));
  return [...buffers];
}
