/**
 * The FIFO queue of the engine and the worker sessions: order, size, putting items back in front,
 * and the compaction of taken slots (past 1024 of them) never losing or reordering an item.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Fifo } from '../../src/util/fifo.js';
import { range } from '../helpers.js';

/** Takes every item with shift(), checking size and peek() at each step. */
function shiftAll<T>(queue: Fifo<T>): T[] {
  const taken: T[] = [];
  while (queue.size > 0) {
    const size = queue.size;
    const next = queue.peek();
    const item = queue.shift() as T;
    assert.equal(item, next, 'peek() shows what shift() takes');
    assert.equal(queue.size, size - 1);
    taken.push(item);
  }
  return taken;
}

describe('Fifo', () => {
  it('starts empty: size 0, peek and shift give undefined', () => {
    const queue = new Fifo<number>();
    assert.equal(queue.size, 0);
    assert.equal(queue.peek(), undefined);
    assert.equal(queue.shift(), undefined);
    assert.equal(queue.size, 0, 'shift on empty does not make the size negative');
    assert.deepEqual(queue.drain(), []);
  });

  it('gives items back in the order pushed', () => {
    const queue = new Fifo<string>();
    for (const item of ['a', 'b', 'c']) queue.push(item);
    assert.equal(queue.size, 3);
    assert.equal(queue.peek(), 'a');
    assert.equal(queue.peek(), 'a', 'peek does not take');
    assert.deepEqual(shiftAll(queue), ['a', 'b', 'c']);
    assert.equal(queue.shift(), undefined);
  });

  it('shift on an emptied queue gives undefined, and the queue works after', () => {
    const queue = new Fifo<number>();
    queue.push(1);
    assert.equal(queue.shift(), 1);
    assert.equal(queue.shift(), undefined);
    assert.equal(queue.shift(), undefined);
    queue.push(2);
    assert.equal(queue.size, 1);
    assert.equal(queue.shift(), 2);
  });

  it('unshift puts items back in front, to leave first in the order given', () => {
    const queue = new Fifo<number>();
    for (const item of [1, 2, 3, 4]) queue.push(item);
    queue.shift();
    queue.shift();
    queue.unshift([10, 11]);
    assert.equal(queue.size, 4);
    assert.equal(queue.peek(), 10);
    assert.deepEqual(shiftAll(queue), [10, 11, 3, 4]);
  });

  it('unshift on an empty queue, and of nothing', () => {
    const queue = new Fifo<number>();
    queue.unshift([]);
    assert.equal(queue.size, 0);
    queue.unshift([1, 2]);
    queue.unshift([]);
    queue.push(3);
    assert.deepEqual(shiftAll(queue), [1, 2, 3]);
  });

  it('unshift does not keep the caller’s array', () => {
    const queue = new Fifo<number>();
    const items = [1, 2];
    queue.unshift(items);
    items.push(3);
    assert.equal(queue.size, 2);
  });

  it('drain takes every waiting item in order and leaves the queue empty and usable', () => {
    const queue = new Fifo<number>();
    for (const item of range(5)) queue.push(item);
    queue.shift();
    queue.unshift([-1]);
    assert.deepEqual(queue.drain(), [-1, 1, 2, 3, 4]);
    assert.equal(queue.size, 0);
    assert.equal(queue.peek(), undefined);
    assert.equal(queue.shift(), undefined);
    queue.push(9);
    assert.deepEqual(queue.drain(), [9]);
  });

  it('keeps undefined and null items, counted in size', () => {
    const queue = new Fifo<number | undefined | null>();
    queue.push(undefined);
    queue.push(null);
    queue.push(0);
    assert.equal(queue.size, 3);
    assert.equal(queue.shift(), undefined);
    assert.equal(queue.size, 2);
    assert.deepEqual(queue.drain(), [null, 0]);
  });

  it('grows past the 1024-slot compaction threshold without losing or reordering items', () => {
    const queue = new Fifo<number>();
    for (const item of range(5000)) queue.push(item);
    const taken: number[] = [];
    // Take past the threshold (compaction happens when over 1024 slots are taken and they are
    // most of the array), pushing as we go so the queue never empties.
    for (let i = 0; i < 3000; i++) {
      taken.push(queue.shift()!);
      if (i % 3 === 0) queue.push(5000 + i);
    }
    assert.deepEqual(taken, range(3000));
    assert.equal(queue.size, 5000 - 3000 + 1000);
    assert.equal(queue.peek(), 3000);
    const rest = shiftAll(queue);
    assert.deepEqual(
      rest.slice(0, 2000),
      range(2000).map((i) => 3000 + i),
    );
    assert.deepEqual(
      rest.slice(2000),
      range(1000).map((i) => 5000 + i * 3),
    );
  });

  it('unshift interleaved with shifts on both sides of a compaction keeps the order', () => {
    const queue = new Fifo<number>();
    const model: number[] = [];
    const push = (item: number): void => {
      queue.push(item);
      model.push(item);
    };
    const unshift = (items: number[]): void => {
      queue.unshift(items);
      model.unshift(...items);
    };
    const shift = (): void => {
      assert.equal(queue.shift(), model.shift());
      assert.equal(queue.size, model.length);
    };
    for (const item of range(2100)) push(item);
    for (let i = 0; i < 1100; i++) {
      shift();
      // Put some back around the moment the taken slots pass 1024 and most of the array.
      if (i % 100 === 99 || (i >= 1020 && i <= 1030)) unshift([-i, -i - 0.5]);
    }
    for (let i = 0; i < 1050; i++) {
      shift();
      if (i % 7 === 0) push(10_000 + i);
      if (i % 11 === 0) unshift([-10_000 - i]);
    }
    assert.equal(queue.peek(), model[0]);
    assert.deepEqual(queue.drain(), model);
  });

  it('behaves like an array used as a queue, for any sequence of operations', () => {
    type Op = { op: 'push'; item: number } | { op: 'shift' } | { op: 'unshift'; items: number[] } | { op: 'drain' };
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 6, arbitrary: fc.record({ op: fc.constant('push' as const), item: fc.integer() }) },
      { weight: 6, arbitrary: fc.record({ op: fc.constant('shift' as const) }) },
      {
        weight: 2,
        arbitrary: fc.record({ op: fc.constant('unshift' as const), items: fc.array(fc.integer(), { maxLength: 4 }) }),
      },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('drain' as const) }) },
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), fc.nat({ max: 2500 }), (ops, prefill) => {
        const queue = new Fifo<number>();
        const model: number[] = [];
        // A prefill large enough, at times, to cross the compaction threshold during the run.
        for (let i = 0; i < prefill; i++) {
          queue.push(i);
          model.push(i);
        }
        // Enough shifts to take most of the prefill, so compaction happens.
        const all: Op[] = [...range(Math.floor(prefill * 0.9)).map((): Op => ({ op: 'shift' })), ...ops];
        for (const step of all) {
          if (step.op === 'push') {
            queue.push(step.item);
            model.push(step.item);
          } else if (step.op === 'shift') {
            assert.equal(queue.shift(), model.shift());
          } else if (step.op === 'unshift') {
            queue.unshift(step.items);
            model.unshift(...step.items);
          } else {
            assert.deepEqual(queue.drain(), model.splice(0));
          }
          assert.equal(queue.size, model.length);
          assert.equal(queue.peek(), model[0]);
        }
        assert.deepEqual(queue.drain(), model);
      }),
      { numRuns: 150 },
    );
  });

  // The sessions put a whole batch back with unshift when its worker was found dead: the batch
  // size is the user's `batchSize`, with no upper bound.
  it('unshift of a very large list (200 000 items) works', () => {
    const queue = new Fifo<number>();
    queue.push(-1);
    queue.unshift(range(200_000));
    assert.equal(queue.size, 200_001);
    assert.equal(queue.peek(), 0);
  });
});
