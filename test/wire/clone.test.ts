/**
 * Values across the worker boundary: where in a value the part that cannot be cloned is, lists of
 * shards and results packed for the trip, and which values `transfer: true` moves.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import {
  clonable,
  findUnclonable,
  isMovable,
  pack,
  packList,
  takeMovable,
  transferList,
  unpack,
  unpackList,
} from '../../src/wire/clone.js';

/** Ports opened by the tests, closed at the end so the process can exit. */
const ports: { close(): void }[] = [];
function openPort(): MessagePort {
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  return port1 as unknown as MessagePort;
}
after(() => ports.forEach((port) => port.close()));

/** A buffer that has been moved away (detached). */
function detached(): ArrayBuffer {
  const buffer = new ArrayBuffer(16);
  structuredClone(buffer, { transfer: [buffer] });
  return buffer;
}

describe('findUnclonable: the path to the part that cannot be cloned', () => {
  it('returns undefined for a value that clones', () => {
    assert.equal(findUnclonable({ a: [1, 'two', { three: new Map([[3, new Date(0)]]) }] }, 'this'), undefined);
    assert.equal(findUnclonable(42, 'this'), undefined);
    assert.equal(findUnclonable(undefined, 'arguments[0]'), undefined);
  });

  it('names an array index: this.a[1]', () => {
    const found = findUnclonable({ a: [1, () => 2] }, 'this');
    assert.equal(found?.path, 'this.a[1]');
    assert.match(found?.what ?? '', /function/);
  });

  it('names a function by its name', () => {
    const found = findUnclonable({ db: { onClose: function onClose() {} } }, 'this');
    assert.equal(found?.path, 'this.db.onClose');
    assert.match(found?.what ?? '', /function/);
    assert.match(found?.what ?? '', /onClose/);
  });

  it('names nested objects with dots', () => {
    const found = findUnclonable({ a: { b: { c: { d: Symbol('deep') } } } }, 'shard');
    assert.equal(found?.path, 'shard.a.b.c.d');
    assert.match(found?.what ?? '', /symbol/);
    assert.match(found?.what ?? '', /deep/);
  });

  it('puts keys that are not identifiers in brackets: this["a-b"], this["0"], this["has space"]', () => {
    assert.equal(findUnclonable({ 'a-b': () => 1 }, 'this')?.path, 'this["a-b"]');
    assert.equal(findUnclonable({ 0: () => 1 }, 'this')?.path, 'this["0"]');
    assert.equal(findUnclonable({ 'has space': { inner: () => 1 } }, 'this')?.path, 'this["has space"].inner');
    assert.equal(findUnclonable({ $ok_1: () => 1 }, 'this')?.path, 'this.$ok_1');
  });

  it('names a Map key that cannot be cloned', () => {
    const found = findUnclonable({ m: new Map<unknown, unknown>([[() => 1, 'value']]) }, 'this');
    assert.ok(found !== undefined);
    assert.match(found.path, /^this\.m\b/);
    assert.match(found.path, /key/);
    assert.match(found.what, /function/);
  });

  it('names a Map value by its key: this.m.get("k"), this.m.get(7)', () => {
    const byString = findUnclonable({ m: new Map([['k', () => 1]]) }, 'this');
    assert.equal(byString?.path, 'this.m.get("k")');
    const byNumber = findUnclonable({ m: new Map([[7, { fn: () => 1 }]]) }, 'this');
    assert.equal(byNumber?.path, 'this.m.get(7).fn');
  });

  it('names a Map value whose key is an object without printing the object', () => {
    const found = findUnclonable({ m: new Map([[{ id: 1 }, () => 1]]) }, 'this');
    assert.ok(found !== undefined);
    assert.match(found.path, /^this\.m\.get\(/);
    assert.doesNotMatch(found.path, /id/);
  });

  it('names a Set item by its position', () => {
    const found = findUnclonable({ s: new Set<unknown>(['ok', 2, Symbol('bad')]) }, 'this');
    assert.ok(found !== undefined);
    assert.match(found.path, /^this\.s\b/);
    assert.match(found.path, /\b2\b/);
    assert.match(found.path, /Set/);
    assert.match(found.what, /symbol/);
  });

  it('the root itself: a function, a symbol', () => {
    assert.deepEqual(findUnclonable(() => 1, 'arguments[1]')?.path, 'arguments[1]');
    const symbol = findUnclonable(Symbol('s'), 'shard');
    assert.equal(symbol?.path, 'shard');
    assert.match(symbol?.what ?? '', /symbol/);
  });

  it('a MessagePort (native state) is named as such, inside a class instance', () => {
    class Connection {
      readonly host = 'localhost';
      readonly port = openPort();
    }
    const found = findUnclonable({ connection: new Connection() }, 'this');
    assert.equal(found?.path, 'this.connection.port');
    assert.match(found?.what ?? '', /MessagePort/);
  });

  it('a WeakMap, a WeakRef and a Promise are named, each at its own path', () => {
    class Cache {
      readonly entries = new WeakMap<object, number>();
    }
    const weakMap = findUnclonable({ cache: new Cache() }, 'this');
    assert.equal(weakMap?.path, 'this.cache.entries');
    assert.match(weakMap?.what ?? '', /WeakMap/);
    const weakRef = findUnclonable({ list: [1, new WeakRef({})] }, 'this');
    assert.equal(weakRef?.path, 'this.list[1]');
    assert.match(weakRef?.what ?? '', /WeakRef/);
    const promise = findUnclonable({ pending: Promise.resolve(1) }, 'result');
    assert.equal(promise?.path, 'result.pending');
    assert.match(promise?.what ?? '', /Promise/);
  });

  it('an object whose parts all clone but the whole does not (a Proxy) is named at its own path', () => {
    const found = findUnclonable({ wrapped: new Proxy({ a: 1 }, {}) }, 'this');
    assert.equal(found?.path, 'this.wrapped');
  });

  it('returns the first culprit in key order', () => {
    assert.equal(findUnclonable({ a: 1, b: () => 1, c: () => 2 }, 'this')?.path, 'this.b');
  });

  it('does not loop on a cycle', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic['self'] = cyclic;
    assert.equal(findUnclonable(cyclic, 'this'), undefined);
    cyclic['callback'] = () => 1;
    assert.equal(findUnclonable(cyclic, 'this')?.path, 'this.callback');
  });

  it('agrees with pack: whatever it finds nothing in, pack accepts', () => {
    for (const value of [{ a: 1 }, [new Uint8Array(2)], new Map([[1, new Set([2])]]), new Error('e')]) {
      assert.equal(findUnclonable(value, 'this'), undefined);
      assert.doesNotThrow(() => pack(value));
    }
  });
});

describe('pack / unpack', () => {
  it('round-trips structured-clone values', () => {
    const value = { n: 1, list: [1, 'a', null], map: new Map([['k', new Set([1])]]), date: new Date(5), big: 7n };
    assert.deepEqual(unpack(pack(value)), value);
  });

  it('gives bytes that own their whole ArrayBuffer (so moving them moves nothing else)', () => {
    const bytes = pack({ a: 1 });
    assert.equal(bytes.byteOffset, 0);
    assert.equal(bytes.buffer.byteLength, bytes.byteLength);
  });

  it('throws for a value that cannot be cloned', () => {
    assert.throws(() => pack({ fn: () => 1 }));
  });
});

describe('packList / unpackList', () => {
  it('a list of numbers becomes a Float64Array and comes back equal', () => {
    const values = [0, 1, -1, 2.5, 1e300, Number.MIN_VALUE, Number.MAX_SAFE_INTEGER];
    const packed = packList(values);
    assert.ok(packed instanceof Float64Array);
    assert.equal(packed.length, values.length);
    assert.deepEqual(unpackList(packed), values);
  });

  it('-0, NaN, Infinity and -Infinity survive the Float64Array', () => {
    const packed = packList([-0, NaN, Infinity, -Infinity, 0]);
    assert.ok(packed instanceof Float64Array);
    const back = unpackList(packed);
    assert.ok(Object.is(back[0], -0), '-0 stays -0');
    assert.ok(Number.isNaN(back[1]));
    assert.equal(back[2], Infinity);
    assert.equal(back[3], -Infinity);
    assert.ok(Object.is(back[4], 0), '0 stays +0');
  });

  it('an empty list comes back empty', () => {
    assert.deepEqual(unpackList(packList([])), []);
  });

  it('a mixed list becomes bytes (not a Float64Array) and comes back equal, -0 and NaN included', () => {
    const values = [1, 'two', { three: 3 }, -0, NaN, null, undefined, [4]];
    const packed = packList(values);
    assert.ok(!(packed instanceof Float64Array));
    assert.ok(packed instanceof Uint8Array);
    const back = unpackList(packed);
    assert.deepEqual(back, values);
    assert.ok(Object.is(back[3], -0));
  });

  it('a list of bigints or of numeric strings is not taken for numbers', () => {
    assert.ok(!(packList([1n, 2n]) instanceof Float64Array));
    assert.deepEqual(unpackList(packList([1n, 2n])), [1n, 2n]);
    assert.deepEqual(unpackList(packList(['1', '2'])), ['1', '2']);
  });

  it('a list with holes keeps its length and undefined entries', () => {
    const values = [1, undefined, 3];
    assert.deepEqual(unpackList(packList(values)), values);
  });

  it('a list with a value that cannot be cloned throws', () => {
    assert.throws(() => packList([1, () => 2]));
  });

  it('typed arrays in a mixed list come back as typed arrays', () => {
    const back = unpackList(packList([new Uint8Array([1, 2]), new Float32Array([0.5])]));
    assert.ok(back[0] instanceof Uint8Array);
    assert.deepEqual([...back[0]], [1, 2]);
    assert.ok(back[1] instanceof Float32Array);
  });
});

describe('clonable', () => {
  for (const [label, value] of [
    ['a number', 1],
    ['a string', 's'],
    ['undefined', undefined],
    ['null', null],
    ['a bigint', 1n],
    ['a boolean', false],
    ['a plain object', { a: [1] }],
    ['a Map', new Map([[1, 2]])],
    ['a Date', new Date()],
    ['an Error', new Error('e')],
    ['a typed array', new Uint8Array(3)],
    [
      'a class instance with plain fields',
      new (class Point {
        x = 1;
        y = 2;
      })(),
    ],
  ] as const) {
    it(`true for ${label}`, () => assert.equal(clonable(value), true));
  }

  for (const [label, value] of [
    ['a symbol', Symbol('s')],
    ['a function', () => 1],
    ['an object holding a function', { fn: () => 1 }],
    ['a WeakMap', new WeakMap()],
    ['a Promise', Promise.resolve()],
  ] as const) {
    it(`false for ${label}`, () => assert.equal(clonable(value), false));
  }

  it('false for a MessagePort (it can only be transferred)', () => {
    assert.equal(clonable(openPort()), false);
  });
});

describe('isMovable', () => {
  it('true for a non-empty ArrayBuffer, typed array and DataView', () => {
    assert.equal(isMovable(new ArrayBuffer(8)), true);
    assert.equal(isMovable(new Uint8Array(4)), true);
    assert.equal(isMovable(new Float64Array(1)), true);
    assert.equal(isMovable(new DataView(new ArrayBuffer(2))), true);
    assert.equal(isMovable(new Uint8Array(new ArrayBuffer(8), 4, 0)), true, 'an empty view over a non-empty buffer');
  });

  it('false for an empty buffer and for a view over one', () => {
    assert.equal(isMovable(new ArrayBuffer(0)), false);
    assert.equal(isMovable(new Uint8Array(0)), false);
  });

  it('false for a detached buffer and for a view over one', () => {
    const buffer = new ArrayBuffer(8);
    const view = new Uint8Array(buffer);
    structuredClone(buffer, { transfer: [buffer] });
    assert.equal(buffer.byteLength, 0, 'the buffer was detached');
    assert.equal(isMovable(buffer), false);
    assert.equal(isMovable(view), false);
    assert.equal(isMovable(detached()), false);
  });

  it('false for a SharedArrayBuffer and views over one (shared, never moved)', () => {
    const shared = new SharedArrayBuffer(8);
    assert.equal(isMovable(shared), false);
    assert.equal(isMovable(new Int32Array(shared)), false);
  });

  it('false for values that are not buffers', () => {
    const values: unknown[] = [1, 'bytes', null, undefined, {}, [1, 2], { buffer: new ArrayBuffer(8) }];
    values.forEach((value, i) => assert.equal(isMovable(value), false, `value #${i}`));
  });

  // Node carves small Buffers (Buffer.from('abc'), Buffer.allocUnsafe(10)) out of one shared 8 KiB
  // pool and marks that pool's ArrayBuffer untransferable: listing it to transfer copies the whole
  // pool on Node 20, and throws a DataCloneError from Node 21 on.
  it("false for a small Buffer sharing Node's buffer pool", () => {
    for (const pooled of [Buffer.from('abc'), Buffer.allocUnsafe(10), Buffer.from([1, 2, 3])]) {
      assert.ok(pooled.buffer.byteLength > pooled.byteLength, 'this Buffer is a slice of a larger pool');
      assert.equal(isMovable(pooled), false);
    }
  });

  it('true for a Buffer that owns its whole ArrayBuffer', () => {
    assert.equal(isMovable(Buffer.alloc(16)), true);
    assert.equal(isMovable(Buffer.allocUnsafeSlow(16)), true);
  });

  it('a pooled Buffer moved with its neighbours copies, and leaves the pool usable', () => {
    const pooled = Buffer.from('small');
    const neighbour = Buffer.from('neighbour');
    const moved = takeMovable([pooled, new Uint8Array(4)]);
    assert.deepEqual(
      moved.map(([position]) => position),
      [1],
      'only the buffer of its own is moved',
    );
    // Listing what is moved never names the pool: structuredClone would throw (Node 21+) or copy it.
    const list = transferList(moved.map(([, value]) => value as Uint8Array));
    assert.doesNotThrow(() => structuredClone(list, { transfer: list }));
    assert.equal(neighbour.toString(), 'neighbour', 'the pool still holds its bytes');
    assert.equal(pooled.toString(), 'small');
  });
});

describe('transferList', () => {
  it('lists each buffer once, whether given as itself or through views', () => {
    const shared = new ArrayBuffer(32);
    const other = new ArrayBuffer(8);
    const list = transferList([new Uint8Array(shared, 0, 8), new Float64Array(shared, 8, 2), shared, other]);
    assert.equal(list.length, 2);
    assert.ok(list.includes(shared));
    assert.ok(list.includes(other));
  });

  it('keeps the order in which buffers are first seen', () => {
    const a = new ArrayBuffer(1);
    const b = new ArrayBuffer(1);
    assert.deepEqual(transferList([new Uint8Array(b), a, new DataView(b)]), [b, a]);
  });

  it('is empty for no values, and accepts any iterable', () => {
    assert.deepEqual(transferList([]), []);
    const buffer = new ArrayBuffer(4);
    assert.deepEqual(
      transferList(
        (function* () {
          yield buffer;
          yield new Uint8Array(buffer);
        })(),
      ),
      [buffer],
    );
  });

  it('the list it gives is accepted by structured clone, and moves the buffers', () => {
    const buffer = new ArrayBuffer(16);
    const views = [new Uint8Array(buffer, 0, 4), new Uint8Array(buffer, 4, 4)];
    const copy = structuredClone(views, { transfer: transferList(views) });
    assert.equal(buffer.byteLength, 0, 'moved');
    assert.equal(copy[0]!.buffer, copy[1]!.buffer, 'the views still share one buffer on the other side');
  });
});
