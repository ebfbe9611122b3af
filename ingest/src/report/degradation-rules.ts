/**
 * When a version counts as degraded — every threshold in one place, shared by the report's table
 * highlighting, its verdicts and its since-when search.
 *
 * A rate (infrastructure failure %, client failure %, quality-issue %) is degraded when, with at least
 * `minCalls` calls in the window, it reaches max(rateFactor × baseline, baseline + ratePoints): the factor
 * catches a jump from a non-trivial base, the points floor stops 0.1 % → 0.3 % from paging anyone.
 * A latency (p95, TTFT p95) is degraded at ≥ latencyFactor × baseline and at least latencyMinDeltaMs more;
 * call latency also needs its median up by latencyMedianFactor (a p95 that rises alone is a few slow
 * calls, usually noise from small samples or a busy caller, not a slower model).
 * Without baseline data (a version new in the window) rates compare against 0 and latency is not judged.
 */
export interface DegradationRules {
  /** Fewest calls in the window before a version is judged at all. @default 20 */
  minCalls: number;
  /** @default 2 */
  rateFactor: number;
  /** Absolute floor as a fraction (0.05 = 5 percentage points). @default 0.05 */
  ratePoints: number;
  /** @default 1.5 */
  latencyFactor: number;
  /** @default 100 */
  latencyMinDeltaMs: number;
  /** p50 must rise by this factor too (call latency only). @default 1.2 */
  latencyMedianFactor: number;
  /** Fewest calls in a time bucket for that bucket to mark "since when". @default 3 */
  minBucketCalls: number;
  /**
   * When at least this share of judged versions, spread over every provider seen (two or more), got slower
   * at once, the slowdown is ours (host load, network, proxy), not the providers': latency signals are
   * then reported once as a local slowdown instead of against each version. @default 0.75
   */
  localSlowdownShare: number;
}

export const DEFAULT_RULES: DegradationRules = {
  minCalls: 20,
  rateFactor: 2,
  ratePoints: 0.05,
  latencyFactor: 1.5,
  latencyMinDeltaMs: 100,
  latencyMedianFactor: 1.2,
  minBucketCalls: 3,
  localSlowdownShare: 0.75,
};

/** Rate (0..1) threshold for a baseline rate; undefined baseline = no history = 0. */
export function rateThreshold(baseline: number | undefined, rules: DegradationRules): number {
  const base = baseline ?? 0;
  return Math.max(rules.rateFactor * base, base + rules.ratePoints);
}

export function rateDegraded(
  current: number,
  baseline: number | undefined,
  rules: DegradationRules,
): boolean {
  return current > 0 && current >= rateThreshold(baseline, rules);
}

export function latencyDegraded(
  currentMs: number | null,
  baselineMs: number | null | undefined,
  rules: DegradationRules,
): boolean {
  if (currentMs === null || baselineMs === null || baselineMs === undefined || baselineMs <= 0) return false;
  return currentMs >= rules.latencyFactor * baselineMs && currentMs - baselineMs >= rules.latencyMinDeltaMs;
}

/** A share that is 0 (not NaN) for an empty denominator. */
export const share = (part: number, whole: number): number => (whole > 0 ? part / whole : 0);
