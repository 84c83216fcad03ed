import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { closest, describe as describeValue, invalid, reasonOf, refused, say } from '../src/messages.js';
import { keyName, ownerName } from '../src/naming.js';

describe('messages', () => {
  it('say() puts who speaks first and starts the sentence with a capital', () => {
    assert.equal(say('Report.cube', 'shard 3 timed out'), 'Report.cube: Shard 3 timed out');
    assert.equal(say('parallel()', '`x` is not a method'), 'parallel(): `x` is not a method');
    assert.equal(invalid('f()', 'a number', 'a').message, "f(): Expected a number, got `'a'` (string)");
    assert.ok(invalid('f()', 'a number', 'a') instanceof TypeError);
    const cause = new Error('root');
    assert.equal(refused('f()', 'no', cause).cause, cause);
  });

  it('describe() shows a value with its type, short and on one line', () => {
    assert.equal(describeValue(0), '`0` (number)');
    assert.equal(describeValue(null), '`null` (null)');
    assert.equal(describeValue([1, 2]), '`[ 1, 2 ]` (array)');
    assert.equal(describeValue({ a: { b: { c: 1 } } }), '`{ a: { b: [Object] } }` (object)');
    assert.ok(describeValue('x'.repeat(500)).length < 100);
  });

  it('describe() runs none of the value’s own code and never throws', () => {
    let ran = false;
    const custom = {
      [inspect.custom]() {
        ran = true;
        throw new Error('custom inspect');
      },
    };
    const getter = Object.defineProperty({}, 'boom', {
      enumerable: true,
      get() {
        ran = true;
        throw new Error('getter');
      },
    });
    const trap = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error('trap');
        },
      },
    );
    const { proxy: revoked, revoke } = Proxy.revocable({}, {});
    revoke();
    for (const value of [custom, getter, trap, revoked]) assert.match(describeValue(value), /\((object|function)\)$/);
    assert.equal(ran, false);
  });

  it('reasonOf() reads an error that cannot describe itself without throwing', () => {
    assert.equal(reasonOf(new TypeError('bad')), 'TypeError: bad');
    assert.equal(reasonOf(new Error('')), 'Error');
    assert.equal(reasonOf(7), 'threw `7` (number)');
    const hostile = Object.defineProperty(new Error('x'), 'message', {
      get() {
        throw new Error('no');
      },
    });
    assert.match(reasonOf(hostile), /^threw /);
  });

  it('closest() suggests the known name a typo meant, and nothing for a word that is far from all', () => {
    const names = ['executor', 'concurrency', 'bufferSize', 'timeout', 'onProgress'];
    assert.equal(closest('concurency', names), 'concurrency');
    assert.equal(closest('Concurrency', names), 'concurrency');
    assert.equal(closest('timoeut', names), 'timeout');
    assert.equal(closest('buffersize', names), 'bufferSize');
    assert.equal(closest('onProgres', names), 'onProgress');
    assert.equal(closest('speed', names), undefined);
    assert.equal(closest('x', names), undefined);
  });
});

describe('naming', () => {
  it('names the class of `this`, or nothing, without ever throwing', () => {
    class Report {}
    assert.equal(ownerName(new Report(), false), 'Report');
    assert.equal(ownerName(Report, true), 'Report');
    assert.equal(ownerName(Object.create(null), false), undefined);
    assert.equal(ownerName(undefined, false), undefined);
    const hostile = Object.defineProperty({}, 'constructor', {
      get() {
        throw new Error('no');
      },
    });
    assert.equal(ownerName(hostile, false), undefined);
    assert.equal(keyName(Symbol('id')), '[id]');
    assert.equal(keyName('getCube'), 'getCube');
  });
});
