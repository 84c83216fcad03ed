/**
 * Values across the worker boundary. Everything travels as bytes from `v8.serialize` (the
 * structured clone format): serializing first, in parafor's own code, means a value that cannot be
 * cloned is caught here, where it can be named, instead of inside the pool's `postMessage`. Opt-in
 * transfer moves `ArrayBuffer`s and typed arrays instead of copying them.
 * @module
 */
import { deserialize, serialize } from 'node:v8';
import * as workerThreads from 'node:worker_threads';
import { describe, say } from '../messages.js';

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
  return packNumbers(values, 0, values.length) ?? pack(values);
}

/**
 * `values[start]` to `values[start + count - 1]` as a `Float64Array` when they are all numbers (what
 * {@link packList} makes of such a list), else `undefined`: a stretch of a longer list packs without
 * being copied out first.
 */
export function packNumbers(values: readonly unknown[], start: number, count: number): Float64Array | undefined {
  for (let i = start; i < start + count; i++) if (typeof values[i] !== 'number') return undefined;
  // A plain loop: Float64Array.from() goes through the array's iterator, element by element.
  const packed = new Float64Array(count);
  for (let i = 0; i < count; i++) packed[i] = values[start + i] as number;
  return packed;
}

/** {@link packLenient}'s answer: the list packed, with the values that could not be left out. */
export interface LenientPack {
  readonly packed: PackedList;
  /** Position of each value that cannot be cloned, and the `TypeError` that names its culprit. */
  readonly unclonable: readonly (readonly [number, TypeError])[];
}

/**
 * Packs a list of shards or results so that a value that cannot be cloned fails alone: when the
 * whole list does not pack, each value is packed by itself to find the culprits, which leave holes.
 *
 * @param values - the list; culprits are replaced by `undefined` in it
 * @param who - the method, for messages
 * @param subject - names the value at a position in messages, e.g. `the result of shard 3`
 * @param root - the path of a value in messages: `shard` or `result`
 * @throws the serializer's error when the values pack one by one but not together (a getter that
 *   changes its answer): nothing in the list can be blamed alone
 */
export function packLenient(
  values: unknown[],
  who: string,
  subject: (position: number) => string,
  root: string,
): LenientPack {
  try {
    return { packed: packList(values), unclonable: [] };
  } catch (error) {
    const unclonable: [number, TypeError][] = [];
    values.forEach((value, position) => {
      try {
        pack(value);
      } catch (failure) {
        unclonable.push([position, unclonableError(who, subject(position), value, root, failure)]);
        values[position] = undefined;
      }
    });
    if (unclonable.length === 0) throw error;
    return { packed: packList(values), unclonable };
  }
}

/** Rebuilds a list from {@link packList}. */
export function unpackList(packed: PackedList): unknown[] {
  if (!(packed instanceof Float64Array)) return unpack(packed) as unknown[];
  // A plain loop, not Array.from(): the numbers land unboxed in a double array, one store each.
  const values = new Array<unknown>(packed.length);
  for (let i = 0; i < packed.length; i++) values[i] = packed[i];
  return values;
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

/** Stands for a property whose getter throws: reading it is what fails. */
const THROWING_GETTER = Symbol('a getter that throws');

function search(value: unknown, path: string, seen: Set<object>): Unclonable | undefined {
  if (value === THROWING_GETTER) return { path, what: 'a getter that throws' };
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
      const childPath = /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
      let child: unknown;
      try {
        child = Reflect.get(value, key);
      } catch {
        // The serializer failed reading it too: the getter is the culprit.
        yield [childPath, THROWING_GETTER];
        continue;
      }
      yield [childPath, child];
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

/**
 * Builds the `TypeError` for a value that cannot travel: what it was (a field, an argument, a
 * shard, a result), where the culprit sits, and what to do.
 */
export function unclonableError(who: string, subject: string, value: unknown, root: string, cause: unknown): TypeError {
  const found = findUnclonable(value, root) ?? { path: root, what: describe(value) };
  return new TypeError(
    say(
      who,
      `${subject} cannot be copied between threads: \`${found.path}\` is ${found.what}. Values reach a worker by `,
    ) +
      'structured clone, which cannot copy functions, symbols or objects holding native resources (sockets, ' +
      'streams, handles); send plain data and create such resources inside the worker.',
    { cause },
  );
}

/** Values that travel as they are, their buffers moved: (position in the list, value). */
export type Moved = [number, ArrayBuffer | ArrayBufferView][];

/**
 * With `transfer: true`: takes out of `values` those to move rather than copy (they leave holes),
 * to travel beside the packed list.
 */
export function takeMovable(values: unknown[]): Moved {
  const moved: Moved = [];
  values.forEach((value, position) => {
    if (!isMovable(value)) return;
    moved.push([position, value]);
    values[position] = undefined;
  });
  return moved;
}

/** The buffers a message moves: the packed list's bytes, and those of the moved values, each once. */
export function buffersToMove(packed: PackedList, moved: Moved): ArrayBuffer[] {
  return transferList([packed.buffer as ArrayBuffer, ...moved.map(([, value]) => value)]);
}

/** Node 21+: whether a buffer is marked as never to be moved (Node's Buffer pool is). */
const untransferable = (workerThreads as { isMarkedAsUntransferable?: (buffer: object) => boolean })
  .isMarkedAsUntransferable;

/**
 * Whether `transfer: true` moves this value rather than copying it. Not a small `Buffer` carved out
 * of Node's shared pool (`Buffer.from('abc')`): moving it would take the whole pool, which Node
 * forbids from version 21 (a `DataCloneError`) and copies whole on 20.
 */
export function isMovable(value: unknown): value is ArrayBuffer | ArrayBufferView {
  const buffer = value instanceof ArrayBuffer ? value : ArrayBuffer.isView(value) ? value.buffer : undefined;
  // A zero-length buffer may be one already moved away (detached): copying it is the safe choice.
  if (!(buffer instanceof ArrayBuffer) || buffer.byteLength === 0) return false;
  if (untransferable !== undefined) return !untransferable(buffer);
  // Node 20 cannot say which buffers are marked: a Buffer over part of its memory is copied, its
  // bytes alone, rather than the memory behind it.
  return !(Buffer.isBuffer(value) && value.byteLength < buffer.byteLength);
}

/** The buffers to move for these values, each once. */
export function transferList(values: Iterable<ArrayBuffer | ArrayBufferView>): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const value of values) buffers.add(value instanceof ArrayBuffer ? value : (value.buffer as ArrayBuffer));
  return [...buffers];
}
