/** Shapes shared by the report's SQL, its verdict logic and its renderers. Times are epoch milliseconds. */

/** One provider × model family × model version: the unit the report compares and flags. */
export interface VersionKey {
  provider: string;
  family: string;
  version: string;
}

/** Aggregates for one version over one time window. */
export interface VersionStats extends VersionKey {
  calls: number;
  failures: number;
  /** Failures whose origin is the provider's infrastructure or the network in between. */
  infraFailures: number;
  providerFailures: number;
  networkFailures: number;
  /** Failures caused by our own requests (400, context length, auth, content policy rejections). */
  clientFailures: number;
  /** failure class → count (e.g. { overloaded: 12, server_error: 3 }); zero entries omitted. */
  failuresByClass: Record<string, number>;
  /** Successful calls, and quality signals among them. */
  successes: number;
  lengthStops: number;
  contentFilterStops: number;
  emptyOutputs: number;
  /** Latency percentiles over all calls (t-digest); null when no calls. */
  p50Ms: number | null;
  p95Ms: number | null;
  /** Time to first token p95 over streaming calls that measured it; null when none. */
  ttftP95Ms: number | null;
  outputTokens: number;
  /** Sum of call durations, the denominator of output tokens per second. */
  durationMsSum: number;
}

/** Per-version counts in one time bucket of the window: used to find when a version crossed a threshold. */
export interface VersionBucket extends VersionKey {
  startMs: number;
  calls: number;
  infraFailures: number;
  clientFailures: number;
  successes: number;
  qualityIssues: number;
  p95Ms: number | null;
}

/** Client-origin failures of one version broken down by the calling service. */
export interface ClientFailureSource extends VersionKey {
  service: string;
  calls: number;
  clientFailures: number;
  /** failure class → count. */
  failuresByClass: Record<string, number>;
}

export interface TimeWindow {
  fromMs: number;
  toMs: number;
}

export interface ReportFilters {
  provider?: string | undefined;
  /** Model family (`claude-opus`), or a model id resolved to family + version (`claude-opus-4-7`). */
  family?: string | undefined;
  version?: string | undefined;
  service?: string | undefined;
  environment?: string | undefined;
}
