import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixed64Difference, int64ToValue, uint64ToDecimal } from '../../../ingest/src/otlp/int64.js';

function halves(value: bigint): { high: number; low: number } {
  return { high: Number(value >> 32n) | 0, low: Number(value & 0xffffffffn) | 0 };
}

describe('int64 helpers', () => {
  it('uint64ToDecimal matches BigInt across the range', () => {
    const samples = [
      0n,
      1n,
      999_999n,
      2n ** 32n - 1n,
      2n ** 53n - 1n,
      2n ** 53n,
      2n ** 53n + 1n,
      1_735_787_045_123_456_789n,
      2n ** 63n,
      2n ** 64n - 1n,
    ];
    for (let i = 0; i < 200; i++)
      samples.push(
        BigInt(Math.floor(Math.random() * 2 ** 32)) * 2n ** 32n + BigInt(Math.floor(Math.random() * 2 ** 32)),
      );
    for (const value of samples) {
      const { high, low } = halves(value);
      assert.equal(uint64ToDecimal(high, low), value.toString(), `for ${value}`);
    }
  });

  it('fixed64Difference is exact for span durations', () => {
    const start = 1_735_787_045_123_456_789n;
    const end = start + 4_294_967_297n; // crosses the 32-bit boundary
    const a = { ...halves(start), unsigned: true, toNumber: () => 0 };
    const b = { ...halves(end), unsigned: true, toNumber: () => 0 };
    assert.equal(fixed64Difference(a, b), 4_294_967_297);
    assert.equal(fixed64Difference(b, a), -4_294_967_297);
  });

  it('int64ToValue gives numbers when exact, bigint otherwise, honouring the sign', () => {
    const long = (value: bigint, unsigned = false) => ({
      ...halves(BigInt.asUintN(64, value)),
      unsigned,
      toNumber: () => 0,
    });
    assert.equal(int64ToValue(long(-5n)), -5);
    assert.equal(int64ToValue(long(2n ** 53n - 1n)), 2 ** 53 - 1);
    assert.equal(int64ToValue(long(2n ** 53n + 1n)), 2n ** 53n + 1n);
    assert.equal(int64ToValue(long(-(2n ** 60n))), -(2n ** 60n));
  });
});
