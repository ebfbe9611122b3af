/**
 * The order the arms take turns in, within one process of the overhead benchmark.
 *
 * What an arm leaves behind runs into the turn after it: span work it deferred, the garbage its calls made
 * (collected during whoever runs next), its span processor's export timer. So the arm that runs after an
 * instrumentation pays for part of it, and a schedule that always puts the same arm after the same other
 * arm turns that carry-over into a bias. The plain rotation the benchmark used until session 11 did exactly
 * that (arms[(round + k) % n]: each arm always followed the same one; with [baseline, modelwatch, contrib,
 * control], modelwatch always ran after the baseline and the control after contrib, and the control, with no
 * instrumentation at all, "added" +48-65 µs of latency in the in-flight modes).
 *
 * A Williams design (E. J. Williams, 1949, the standard crossover design against first-order carry-over)
 * fixes it: a set of orders in which every arm directly follows every other arm equally often, and every
 * arm is first equally often. Between two orders the last arm of one would precede the first of the next,
 * an unbalanced pair; the benchmark therefore starts each order with an uncounted lead-in turn of its first
 * arm, so every arm's counted turns follow each other arm equally often and its own lead-in the rest.
 */

/**
 * Orders of `items` such that each item directly follows each other item equally often and each item is
 * first equally often: n orders for an even n, 2n for an odd n (the n orders and their reverses).
 * Construction: the sequence 0, 1, n−1, 2, n−2, 3, … shifted by each i (mod n).
 */
export function carryOverBalancedOrders<T>(items: readonly T[]): T[][] {
  const n = items.length;
  const base = williamsBase(n);
  const orders = items.map((_, shift) => base.map((index) => items[(index + shift) % n]!));
  return n % 2 === 0 ? orders : [...orders, ...orders.map((order) => [...order].reverse())];
}

/** 0, 1, n−1, 2, n−2, 3, …: for an even n, each difference between neighbours (mod n) occurs once. */
function williamsBase(n: number): number[] {
  const base: number[] = n > 0 ? [0] : [];
  for (let low = 1, high = n - 1; base.length < n;) {
    base.push(low++);
    if (base.length < n) base.push(high--);
  }
  return base;
}
