/**
 * int64/fixed64 conversions without BigInt on the hot path: span timestamps are ~1.7e18 ns, past 2^53, so
 * they are turned into decimal strings from their two 32-bit halves with exact double arithmetic.
 */
import type { RawInt64 } from './proto-types.js';

const TWO_POW_32 = 4294967296;

/** Exact decimal string of the unsigned 64-bit value high·2^32 + low. */
export function uint64ToDecimal(high: number, low: number): string {
  const hi = high >>> 0;
  const lo = low >>> 0;
  if (hi < 0x200000) return String(hi * TWO_POW_32 + lo); // < 2^53: exact as a double
  // 2^32 = 4294·10^6 + 967296; both partial products stay below 2^53, so every step is exact.
  let millions = hi * 4294;
  let rest = hi * 967296 + lo;
  const carry = Math.floor(rest / 1_000_000);
  millions += carry;
  rest -= carry * 1_000_000;
  return `${millions}${String(rest).padStart(6, '0')}`;
}

/** Unsigned fixed64 (timestamps) as a decimal string. */
export function fixed64ToDecimal(value: RawInt64 | undefined): string {
  if (value === undefined) return '0';
  if (typeof value === 'number')
    return value >= 0 && Number.isSafeInteger(value) ? String(value) : BigInt(Math.trunc(value)).toString();
  return uint64ToDecimal(value.high, value.low);
}

/** b − a for two unsigned fixed64 values, as a number (exact while |b − a| < 2^53). */
export function fixed64Difference(a: RawInt64 | undefined, b: RawInt64 | undefined): number {
  const [aHi, aLo] = halves(a);
  const [bHi, bLo] = halves(b);
  return (bHi - aHi) * TWO_POW_32 + (bLo - aLo);
}

/** 0 when unset. */
export function fixed64IsZero(value: RawInt64 | undefined): boolean {
  if (value === undefined) return true;
  if (typeof value === 'number') return value === 0;
  return value.high === 0 && value.low === 0;
}

function halves(value: RawInt64 | undefined): [number, number] {
  if (value === undefined) return [0, 0];
  if (typeof value === 'number') return [Math.floor(value / TWO_POW_32), value % TWO_POW_32];
  return [value.high >>> 0, value.low >>> 0];
}

/** Signed int64 attribute value: a number when exact, else a bigint. */
export function int64ToValue(value: RawInt64 | undefined): number | bigint {
  if (value === undefined) return 0;
  if (typeof value === 'number') return value;
  return int64HalvesToValue(value.high, value.low, value.unsigned);
}

/** The int64 (or uint64 when `unsigned`) with these 32-bit halves: a number when exact, else a bigint. */
export function int64HalvesToValue(highBits: number, lowBits: number, unsigned: boolean): number | bigint {
  const high = unsigned ? highBits >>> 0 : highBits | 0;
  // Safe-integer range is |v| < 2^53, i.e. high within (-2^21, 2^21).
  if (high < 0x200000 && high >= -0x200000) return high * TWO_POW_32 + (lowBits >>> 0);
  const big = (BigInt(highBits >>> 0) << 32n) | BigInt(lowBits >>> 0);
  return unsigned ? big : BigInt.asIntN(64, big);
}
