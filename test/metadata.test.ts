import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { distribute, getDistribution, parallel } from '../src/index.js';

const mode = import.meta.url.includes('/legacy/') ? 'legacy' : 'standard';

class Base {
  @distribute
  cube(x: number) {
    return x ** 3;
  }
}

class Undecorated extends Base {
  override cube(x: number) {
    return -x;
  }
}

class Redecorated extends Base {
  @distribute
  override cube(x: number) {
    return x * 10;
  }
}

class Inherits extends Base {}

describe(`getDistribution() and subclasses (${mode} mode)`, () => {
  it('an undecorated override is not distributed, in both decorator modes', () => {
    assert.equal(getDistribution(Undecorated.prototype, 'cube'), undefined);
    assert.throws(
      () => parallel(new Undecorated()).cube([1, 2]),
      /parallel\(\): `Undecorated\.cube` is not a method decorated with @distribute or @distributeOver/,
    );
  });

  it('a redecorated override runs its own method; an inherited one runs the parent’s', async () => {
    assert.deepEqual(await parallel(new Redecorated()).cube([1, 2]), [10, 20]);
    assert.deepEqual(await parallel(new Inherits()).cube([1, 2]), [1, 8]);
    assert.equal(getDistribution(Inherits.prototype, 'cube'), getDistribution(Base.prototype, 'cube'));
  });
});
