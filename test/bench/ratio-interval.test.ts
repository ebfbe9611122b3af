import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bootstrapRatioInterval } from '../../bench/instrumentation/ratio-interval.js';

describe('bootstrapRatioInterval (the overhead benchmark verdicts)', () => {
  it('is a point when every block says the same', () => {
    const fork = { ours: [10, 10, 10, 10], theirs: [40, 40, 40, 40] };
    assert.deepEqual(bootstrapRatioInterval([fork, fork]), { low: 0.25, high: 0.25 });
  });

  it('widens with the spread between forks, not only within them', () => {
    // Within each fork the blocks agree; the forks disagree (a per-process bias).
    const tight = [
      { ours: [20, 20, 20], theirs: [40, 40, 40] },
      { ours: [20, 20, 20], theirs: [40, 40, 40] },
    ];
    const biased = [
      { ours: [10, 10, 10], theirs: [40, 40, 40] },
      { ours: [30, 30, 30], theirs: [40, 40, 40] },
    ];
    const a = bootstrapRatioInterval(tight);
    const b = bootstrapRatioInterval(biased);
    assert.equal(a.high - a.low, 0);
    assert.ok(b.low <= 0.25 && b.high >= 0.75, `biased forks gave ${b.low}-${b.high}`);
  });

  it('reports an unbounded interval when contrib added nothing measurable', () => {
    const interval = bootstrapRatioInterval([{ ours: [5, 6, 7], theirs: [-3, -2, 1] }]);
    assert.equal(interval.high, Infinity);
  });

  it('gives the same interval for the same input (seeded)', () => {
    const forks = [
      { ours: [12, 18, 9, 25], theirs: [50, 61, 44, 70] },
      { ours: [30, 14, 22, 19], theirs: [58, 49, 66, 40] },
    ];
    assert.deepEqual(bootstrapRatioInterval(forks), bootstrapRatioInterval(forks));
  });
});
