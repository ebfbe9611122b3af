import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { carryOverBalancedOrders } from '../../bench/instrumentation/arm-schedule.js';

/** How often `after` directly follows `before` across all orders. */
function follows<T>(orders: T[][], before: T, after: T): number {
  let count = 0;
  for (const order of orders)
    for (let i = 1; i < order.length; i++) if (order[i - 1] === before && order[i] === after) count++;
  return count;
}

describe('carryOverBalancedOrders (arm turns within one benchmark process)', () => {
  for (const n of [2, 3, 4, 5, 6]) {
    const items = Array.from({ length: n }, (_, i) => `arm${i}`);
    it(`${n} arms: each directly follows each other equally often, and is first equally often`, () => {
      const orders = carryOverBalancedOrders(items);
      assert.equal(orders.length, n % 2 === 0 ? n : 2 * n);
      for (const order of orders) assert.deepEqual([...order].sort(), [...items].sort());
      const perPair = n % 2 === 0 ? 1 : 2;
      for (const before of items)
        for (const after of items.filter((x) => x !== before))
          assert.equal(follows(orders, before, after), perPair, `${after} after ${before}`);
      for (const item of items)
        assert.equal(orders.filter((order) => order[0] === item).length, orders.length / n, `${item} first`);
    });
  }

  it('4 arms: the textbook Williams square', () => {
    const orders = carryOverBalancedOrders(['a', 'b', 'c', 'd']).map((order) => order.join(''));
    assert.deepEqual(orders, ['abdc', 'bcad', 'cdba', 'dacb']);
  });

  it('the plain rotation it replaced is not balanced (the check can fail)', () => {
    const items = ['a', 'b', 'c', 'd'];
    const rotations = items.map((_, s) => items.map((_, i) => items[(i + s) % items.length]!));
    assert.equal(follows(rotations, 'a', 'b'), 3);
    assert.equal(follows(rotations, 'b', 'a'), 0);
  });
});
