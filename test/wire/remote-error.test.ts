/**
 * Errors across the worker boundary: what encodeThrown keeps, that its result always survives
 * structured clone, and what decodeThrown rebuilds from it on the other side.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serialize } from 'node:v8';
import { decodeThrown, encodeThrown, type EncodedThrown } from '../../src/wire/remote-error.js';

/** Encodes, sends through structured clone (as a worker's reply would travel), and decodes. */
function roundTrip(thrown: unknown): any {
  const encoded = encodeThrown(thrown);
  assertCloneable(encoded);
  return decodeThrown(structuredClone(encoded));
}

function assertCloneable(encoded: EncodedThrown): void {
  assert.doesNotThrow(() => serialize(encoded), 'v8.serialize accepts the encoded value');
  assert.doesNotThrow(() => structuredClone(encoded), 'structuredClone accepts the encoded value');
}

function assertNonEnumerable(error: object, key: string): void {
  const descriptor = Object.getOwnPropertyDescriptor(error, key);
  assert.ok(descriptor !== undefined, `${key} is an own property`);
  assert.equal(descriptor.enumerable, false, `${key} is not enumerable`);
}

class NamedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NamedError';
  }
}

class UnnamedError extends Error {}

describe('encodeThrown / decodeThrown: built-in error classes', () => {
  for (const Class of [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError]) {
    it(`${Class.name} comes back as itself, with its message and stack`, () => {
      const original = new Class('bad input');
      const decoded = roundTrip(original);
      assert.ok(decoded instanceof Class);
      assert.equal(decoded.constructor, Class);
      assert.equal(decoded.name, Class.name);
      assert.equal(decoded.message, 'bad input');
      assert.equal(decoded.stack, original.stack);
    });
  }

  it('an AggregateError comes back with its errors, each decoded (errors and non-errors)', () => {
    const original = new AggregateError([new TypeError('first'), 'second', 3, new RangeError('fourth')], 'several');
    const decoded = roundTrip(original);
    assert.ok(decoded instanceof AggregateError);
    assert.equal(decoded.message, 'several');
    assert.equal(decoded.stack, original.stack);
    assert.equal(decoded.errors.length, 4);
    assert.ok(decoded.errors[0] instanceof TypeError);
    assert.equal(decoded.errors[0].message, 'first');
    assert.equal(decoded.errors[1], 'second');
    assert.equal(decoded.errors[2], 3);
    assert.ok(decoded.errors[3] instanceof RangeError);
    assert.equal(decoded.errors[3].stack, (original.errors[3] as Error).stack);
    assertNonEnumerable(decoded, 'errors');
  });

  it('an empty AggregateError keeps an empty errors list', () => {
    const decoded = roundTrip(new AggregateError([], 'none'));
    assert.ok(decoded instanceof AggregateError);
    assert.deepEqual(decoded.errors, []);
  });

  it('a DOMException comes back as a DOMException with its name (and so its code)', () => {
    const original = new DOMException('the operation was aborted', 'AbortError');
    const decoded = roundTrip(original);
    assert.ok(decoded instanceof DOMException);
    assert.equal(decoded.name, 'AbortError');
    assert.equal(decoded.message, 'the operation was aborted');
    assert.equal(decoded.code, original.code);
    assert.equal(decoded.stack, original.stack);
  });

  it('a DOMException of another name (DataCloneError) keeps that name', () => {
    const decoded = roundTrip(new DOMException('cannot clone', 'DataCloneError'));
    assert.ok(decoded instanceof DOMException);
    assert.equal(decoded.name, 'DataCloneError');
    assert.equal(decoded.code, 25);
  });
});

describe('encodeThrown / decodeThrown: custom classes', () => {
  it('a custom class that sets this.name comes back as an Error of that name, message and stack', () => {
    const original = new NamedError('custom');
    const decoded = roundTrip(original);
    assert.ok(decoded instanceof Error);
    assert.equal(decoded.name, 'NamedError');
    assert.equal(decoded.message, 'custom');
    assert.equal(decoded.stack, original.stack);
    assert.match(String(decoded), /^NamedError: custom$/);
  });

  it('a custom class that does not set this.name comes back as an Error named Error', () => {
    const original = new UnnamedError('plain');
    const decoded = roundTrip(original);
    assert.ok(decoded instanceof Error);
    assert.equal(decoded.name, 'Error');
    assert.equal(decoded.message, 'plain');
    assert.equal(decoded.stack, original.stack);
  });

  it('the encoded form names the constructor, the decoded one does not pretend to be it', () => {
    const encoded = encodeThrown(new UnnamedError('x'));
    assert.ok('error' in encoded);
    assert.equal(encoded.error.constructorName, 'UnnamedError');
    assert.ok(!(decodeThrown(encoded) instanceof UnnamedError));
  });

  it('a class field name (override readonly name = …) is kept', () => {
    class FieldNamed extends Error {
      override readonly name = 'FieldNamed';
    }
    assert.equal(roundTrip(new FieldNamed('f')).name, 'FieldNamed');
  });

  it('a subclass of a built-in (TypeError) comes back with its name', () => {
    class BadShape extends TypeError {
      override name = 'BadShape';
    }
    const decoded = roundTrip(new BadShape('wrong'));
    assert.equal(decoded.name, 'BadShape');
    assert.equal(decoded.message, 'wrong');
  });
});

describe('encodeThrown / decodeThrown: own properties', () => {
  it('keeps code, status and nested data', () => {
    const data = { ids: [1, 2, 3], when: new Date(0), tags: new Set(['a']), map: new Map([['k', { deep: true }]]) };
    const original = Object.assign(new Error('request failed'), { code: 'E_HTTP', status: 503, data });
    const decoded = roundTrip(original);
    assert.equal(decoded.code, 'E_HTTP');
    assert.equal(decoded.status, 503);
    assert.deepEqual(decoded.data, data);
    assert.notEqual(decoded.data, data, 'a copy, not the same object');
  });

  it('keeps own properties of a DOMException and of an AggregateError', () => {
    const dom = roundTrip(Object.assign(new DOMException('m', 'AbortError'), { extra: 1 }));
    assert.equal(dom.extra, 1);
    const aggregate = roundTrip(Object.assign(new AggregateError([1], 'm'), { code: 'E_MANY' }));
    assert.equal(aggregate.code, 'E_MANY');
  });

  it('own properties stay enumerable, as they were', () => {
    const decoded = roundTrip(Object.assign(new Error('x'), { code: 'E_X' }));
    assert.deepEqual(Object.keys(decoded), ['code']);
  });

  it('an own property that cannot be cloned becomes a text saying what it was; the others survive', () => {
    const { port1, port2 } = new MessageChannel();
    try {
      const original = Object.assign(new Error('with a callback'), {
        callback: function onDone() {},
        port: port1,
        code: 'E_CB',
      });
      const encoded = encodeThrown(original);
      assertCloneable(encoded);
      const decoded = decodeThrown(structuredClone(encoded)) as Record<string, unknown>;
      assert.equal(typeof decoded['callback'], 'string');
      assert.match(decoded['callback'] as string, /function/);
      assert.match(decoded['callback'] as string, /onDone/);
      assert.match(decoded['callback'] as string, /clon/i);
      assert.equal(typeof decoded['port'], 'string');
      assert.match(decoded['port'] as string, /MessagePort/);
      assert.equal(decoded['code'], 'E_CB');
    } finally {
      port1.close();
      port2.close();
    }
  });

  it('an own property holding a symbol or an object with a function inside becomes a text', () => {
    const original = Object.assign(new Error('x'), { tag: Symbol('t'), options: { onRetry: () => 1 } });
    const decoded = roundTrip(original);
    assert.match(decoded.tag, /symbol/);
    assert.match(decoded.options, /object/);
  });

  // A validation error commonly carries `errors` (a list of what failed) without being an
  // AggregateError: it is an own property like `code`.
  it('an own `errors` property of an error that is not an AggregateError survives', () => {
    class ValidationError extends Error {
      override name = 'ValidationError';
      errors = [{ field: 'email', problem: 'missing' }];
    }
    const decoded = roundTrip(new ValidationError('invalid'));
    assert.deepEqual(decoded.errors, [{ field: 'email', problem: 'missing' }]);
  });
});

describe('encodeThrown / decodeThrown: cause', () => {
  it('a nested chain of causes comes back, each with its class, message and stack', () => {
    const root = new RangeError('root');
    const middle = new TypeError('middle', { cause: root });
    const original = new Error('top', { cause: middle });
    const decoded = roundTrip(original);
    assert.equal(decoded.message, 'top');
    assert.ok(decoded.cause instanceof TypeError);
    assert.equal(decoded.cause.message, 'middle');
    assert.equal(decoded.cause.stack, middle.stack);
    assert.ok(decoded.cause.cause instanceof RangeError);
    assert.equal(decoded.cause.cause.message, 'root');
    assert.equal(decoded.cause.cause.stack, root.stack);
    assert.ok(!('cause' in decoded.cause.cause), 'the root had no cause, and has none');
  });

  it('a non-error cause comes back as it was', () => {
    assert.deepEqual(roundTrip(new Error('x', { cause: { retryIn: 5, reasons: ['busy'] } })).cause, {
      retryIn: 5,
      reasons: ['busy'],
    });
    assert.equal(roundTrip(new Error('x', { cause: 'text' })).cause, 'text');
  });

  it('an explicit undefined cause stays an own cause of undefined', () => {
    const decoded = roundTrip(new Error('x', { cause: undefined }));
    assert.ok(Object.hasOwn(decoded, 'cause'));
    assert.equal(decoded.cause, undefined);
  });

  it('an error without a cause has no cause property', () => {
    assert.ok(!('cause' in roundTrip(new Error('x'))));
  });

  it('a cause that cannot be cloned (a function) becomes an error saying so', () => {
    const decoded = roundTrip(new Error('x', { cause: function later() {} }));
    assert.ok(decoded.cause instanceof Error);
    assert.match(decoded.cause.message, /function/);
  });

  it('a cause set by assignment is treated as the cause, not as an own property', () => {
    const original = Object.assign(new Error('x'), { cause: new TypeError('because') });
    const decoded = roundTrip(original);
    assert.ok(decoded.cause instanceof TypeError);
    assert.deepEqual(Object.keys(decoded), []);
  });

  // A cycle travels as a reference back to the error met earlier in the chain, and is rebuilt as
  // the same cycle: v8 cannot deserialize an error whose cause is itself, so it must never travel raw.
  it('a cyclic cause (e.cause = e) comes back as the same cycle, through structured clone', () => {
    const original: Error & { cause?: unknown } = new Error('loop');
    original.cause = original;
    const decoded = decodeThrown(structuredClone(encodeThrown(original))) as Error;
    assert.equal(decoded.message, 'loop');
    assert.equal(decoded.cause, decoded);
  });

  it('a two-error cycle (a.cause = b, b.cause = a) comes back as the same cycle', () => {
    const a: Error & { cause?: unknown } = new Error('a');
    const b = new Error('b', { cause: a });
    a.cause = b;
    const decoded = decodeThrown(structuredClone(encodeThrown(a))) as Error;
    assert.equal((decoded.cause as Error).message, 'b');
    assert.equal((decoded.cause as Error).cause, decoded);
  });

  it('an AggregateError listing itself among its errors comes back the same way', () => {
    const aggregate = new AggregateError([new Error('inner')], 'agg');
    (aggregate.errors as unknown[]).push(aggregate);
    const decoded = decodeThrown(structuredClone(encodeThrown(aggregate))) as AggregateError;
    assert.equal((decoded.errors[0] as Error).message, 'inner');
    assert.equal(decoded.errors[1], decoded);
  });

  it('getters that throw (message, an own property, cause) are reported in their place, never thrown', () => {
    const hostile = new Error('x');
    for (const key of ['message', 'code', 'cause']) {
      Object.defineProperty(hostile, key, {
        enumerable: key === 'code',
        get() {
          throw new Error('no');
        },
      });
    }
    const decoded = decodeThrown(structuredClone(encodeThrown(hostile))) as Error & { code: unknown };
    assert.match(decoded.message, /a getter that throws/);
    assert.match(String(decoded.code), /a getter that throws/);
    assert.match(String(decoded.cause), /a getter that throws/);
  });

  it('a long, acyclic chain of causes (20 deep) is cut without throwing and stays cloneable', () => {
    let error = new Error('0');
    for (let i = 1; i < 20; i++) error = new Error(String(i), { cause: error });
    const decoded = roundTrip(error);
    assert.equal(decoded.message, '19');
    assert.equal(decoded.cause.message, '18');
  });

  it('an AggregateError nested in a cause keeps its errors', () => {
    const decoded = roundTrip(new Error('top', { cause: new AggregateError([new Error('inner')], 'agg') }));
    assert.ok(decoded.cause instanceof AggregateError);
    assert.equal(decoded.cause.errors[0].message, 'inner');
  });
});

describe('encodeThrown / decodeThrown: native-like property attributes', () => {
  it('name, stack and cause of a decoded error are non-enumerable, like a native error', () => {
    const decoded = roundTrip(new NamedError('x'));
    assertNonEnumerable(decoded, 'stack');
    assertNonEnumerable(decoded, 'name');
    const withCause = roundTrip(new TypeError('x', { cause: new Error('y') }));
    assertNonEnumerable(withCause, 'stack');
    assertNonEnumerable(withCause, 'cause');
    assert.deepEqual(Object.keys(withCause), []);
  });

  it('the decoded error prints (util.inspect) with its original stack', async () => {
    const { inspect } = await import('node:util');
    const original = new RangeError('shown');
    const printed = inspect(roundTrip(original));
    assert.match(printed, /RangeError: shown/);
    assert.ok(printed.includes(original.stack!.split('\n')[1]!.trim()), 'the first stack frame is there');
  });

  it('an error without a stack (stack deleted) decodes without one', () => {
    const original = new Error('no stack');
    delete (original as { stack?: string }).stack;
    const encoded = encodeThrown(original);
    assert.ok('error' in encoded);
    assert.equal(encoded.error.stack, undefined);
    assert.equal(roundTrip(original).message, 'no stack');
  });
});

describe('encodeThrown / decodeThrown: thrown values that are not errors', () => {
  for (const [label, value] of [
    ['a string', 'oops'],
    ['a number', 42],
    ['undefined', undefined],
    ['null', null],
    ['a bigint', 10n],
    ['a plain object', { code: 'E_OBJ', list: [1, 2] }],
  ] as const) {
    it(`${label} comes back as the same value`, () => {
      assert.deepEqual(roundTrip(value), value);
    });
  }

  it('undefined is kept as a value (not lost as a missing key) through structured clone', () => {
    const encoded = encodeThrown(undefined);
    assert.ok('value' in structuredClone(encoded));
  });

  it('a symbol becomes an Error saying a symbol was thrown', () => {
    const decoded = roundTrip(Symbol('s'));
    assert.ok(decoded instanceof Error);
    assert.match(decoded.message, /symbol/);
  });

  it('a function becomes an Error saying a function was thrown, with its name', () => {
    const decoded = roundTrip(function namedThrower() {});
    assert.ok(decoded instanceof Error);
    assert.match(decoded.message, /function/);
    assert.match(decoded.message, /namedThrower/);
  });

  it('an object holding a function becomes an Error naming what it is', () => {
    class Handle {
      close = () => undefined;
    }
    const decoded = roundTrip(new Handle());
    assert.ok(decoded instanceof Error);
    assert.match(decoded.message, /Handle/);
  });
});

describe('encodeThrown: the result is structured-cloneable (cycles aside, see above)', () => {
  const { port1, port2 } = new MessageChannel();
  port1.close();
  port2.close();
  const throwables: readonly unknown[] = [
    new Error('e'),
    new AggregateError([() => 1, Symbol('x'), new Error('in')], 'agg'),
    new DOMException('d', 'NotFoundError'),
    Object.assign(new Error('props'), { fn: () => 1, port: port1, weak: new WeakMap(), promise: Promise.resolve() }),
    new Error('cause', { cause: () => 1 }),
    new Error('cause', { cause: new WeakMap() }),
    Symbol('s'),
    () => 1,
    { fn: () => 1 },
    new WeakMap(),
    Promise.resolve(),
    port1,
    'text',
    undefined,
  ];
  throwables.forEach((thrown, i) => {
    it(`throwable #${i} (${typeof thrown === 'symbol' ? 'symbol' : Object.prototype.toString.call(thrown)})`, () => {
      const encoded = encodeThrown(thrown);
      assertCloneable(encoded);
      assert.doesNotThrow(() => decodeThrown(structuredClone(encoded)));
    });
  });
});
