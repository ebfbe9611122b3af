/**
 * Every number that decides "is this bad?" in one place: alert gates, the verdict panel's rules and the
 * colour steps of panels. Change a value here, run `npm run dashboards`, commit the regenerated files.
 */
export const ALERT_THRESHOLDS = {
  /** How often Grafana evaluates the rule group. */
  evaluationInterval: '1m',
  /** Failure rate of one provider/model/version over the window. */
  failureRate: { ratio: 0.05, windowMinutes: 10, forMinutes: 5, minCalls: 30 },
  /** Failures caused by provider infrastructure or the network (429/529/5xx/timeouts/connection). */
  infraFailureRate: { ratio: 0.03, windowMinutes: 10, forMinutes: 5, minCalls: 30 },
  /** p95 latency over the window compared with the same version's p95 over the baseline before it. */
  p95LatencyVsBaseline: { multiple: 2, windowMinutes: 15, baselineHours: 24, forMinutes: 10, minCalls: 30 },
  /** Successful calls cut off by length, stopped by a content filter, or empty. */
  qualitySignalRate: { ratio: 0.15, windowMinutes: 15, forMinutes: 10, minCalls: 30 },
} as const;

/** Rules of the Failures dashboard's verdict panel and the overview's degradation table. */
export const VERDICT_RULES = {
  /** Hours before the selected range that count as "normal". */
  baselineHours: 24,
  /** A signal is "up" when its current rate is at least this multiple of the baseline rate... */
  riseMultiple: 2,
  /** ...and at least this many percentage points (as a ratio) above it. */
  minRiseRatio: 0.02,
  /** Versions with fewer calls in the range are not judged. */
  minCalls: 20,
  /** A rise is provider-wide when at least this share of the provider's judged versions is up. */
  providerWideShare: 0.75,
} as const;

/** Colour steps shared by panels (ratios are 0..1, latency in milliseconds). */
export const PANEL_THRESHOLDS = {
  failureRate: { warn: 0.02, critical: ALERT_THRESHOLDS.failureRate.ratio },
  infraFailureRate: { warn: 0.01, critical: ALERT_THRESHOLDS.infraFailureRate.ratio },
  latencyP95Ms: { warn: 10_000, critical: 30_000 },
  ttftP95Ms: { warn: 2_000, critical: 5_000 },
  p95VsBaseline: { warn: 1.5, critical: ALERT_THRESHOLDS.p95LatencyVsBaseline.multiple },
  /** Share of a requested model's answered calls served by another model. */
  servedModelShare: { warn: 0.01, critical: 0.1 },
} as const;
