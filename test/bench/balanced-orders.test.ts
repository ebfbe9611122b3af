import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { balancedOrders } from '../../bench/instrumentation/fork-runner.js';

describe('balancedOrders (the overhead benchmark forks)', () => {
  for (const items of [
    ['baseline', 'modelwatch', 'contrib'],
    ['baseline', 'modelwatch', 'contrib', 'control'],
  ]) {
    it(`${items.length} arms: each in each position, and before each other, equally often`, () => {
      const orders = balancedOrders(items);
      assert.equal(orders.length, 2 * items.length);
      for (const order of orders) assert.deepEqual([...order].sort(), [...items].sort());
      for (const item of items) {
        const positions = orders.map((order) => order.indexOf(item));
        for (let p = 0; p < items.length; p++)
          assert.equal(positions.filter((x) => x === p).length, 2, `${item} in position ${p}`);
        for (const other of items.filter((x) => x !== item)) {
          const before = orders.filter((order) => order.indexOf(item) < order.indexOf(other)).length;
          assert.equal(before, items.length, `${item} before ${other}`);
        }
      }
    });
  }

  it('3 arms: all six orders', () => {
    const orders = balancedOrders(['a', 'b', 'c']).map((order) => order.join(''));
    assert.deepEqual([...orders].sort(), ['abc', 'acb', 'bac', 'bca', 'cab', 'cba']);
  });
});
