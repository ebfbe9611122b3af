/**
 * The report's SQL. Window aggregates come from the per-minute rollup `llm_calls_1m` when both windows
 * fall on whole minutes (what `--since` produces), otherwise from `llm_calls` (the demo's phase windows
 * are seconds long). Since-when buckets and the per-service client breakdown always read `llm_calls`.
 * Times travel as epoch milliseconds (Int64 query parameters), so the server's time zone never matters.
 */
import type { ClickHouseHandle } from '../clickhouse/client.js';
import { toIngestError } from '../clickhouse/errors.js';
import { TABLE_LLM_CALLS, TABLE_LLM_CALLS_1M } from '../names.js';
import type { ClientFailureSource, ReportFilters, TimeWindow, VersionBucket, VersionStats } from './types.js';

export type StatsSource = 'rollup' | 'raw';

const MINUTE_MS = 60_000;

/** The rollup can answer only when every boundary is a whole minute. */
export function chooseSource(...windows: TimeWindow[]): StatsSource {
  return windows.every((w) => w.fromMs % MINUTE_MS === 0 && w.toMs % MINUTE_MS === 0) ? 'rollup' : 'raw';
}

interface Sql {
  where: string;
  params: Record<string, unknown>;
}

/** WHERE clause for the filters + window on either table (`timeExpr` is the table's time column in ms). */
function whereClause(filters: ReportFilters, window: TimeWindow, timeCol: 'Timestamp' | 'Minute'): Sql {
  const conds: string[] =
    timeCol === 'Timestamp'
      ? [
          'Timestamp >= fromUnixTimestamp64Milli({fromMs:Int64})',
          'Timestamp < fromUnixTimestamp64Milli({toMs:Int64})',
        ]
      : [
          'Minute >= toDateTime(intDiv({fromMs:Int64}, 1000))',
          'Minute < toDateTime(intDiv({toMs:Int64}, 1000))',
        ];
  const params: Record<string, unknown> = { fromMs: window.fromMs, toMs: window.toMs };
  const add = (column: string, name: string, value: string | undefined): void => {
    if (value === undefined) return;
    conds.push(`${column} = {${name}:String}`);
    params[name] = value;
  };
  add('Provider', 'provider', filters.provider);
  add('ModelFamily', 'family', filters.family);
  add('ModelVersion', 'version', filters.version);
  add('ServiceName', 'service', filters.service);
  add('Environment', 'environment', filters.environment);
  return { where: conds.join(' AND '), params };
}

// Same output columns from both sources, so one row mapper serves both.
const ROLLUP_STATS = `
SELECT Provider, ModelFamily, ModelVersion,
  sum(Calls) AS calls, sum(Failures) AS failures,
  sum(ProviderFailures) AS providerFailures, sum(NetworkFailures) AS networkFailures, sum(ClientFailures) AS clientFailures,
  sumMap(FailuresByClass) AS failuresByClass,
  sum(LengthStops) AS lengthStops, sum(ContentFilterStops) AS contentFilterStops, sum(EmptyOutputs) AS emptyOutputs,
  sum(OutputTokens) AS outputTokens, sum(DurationMsSum) AS durationMsSum,
  quantilesTDigestMerge(0.5, 0.95, 0.99)(DurationQuantiles) AS duration,
  quantilesTDigestMerge(0.5, 0.95, 0.99)(TtftQuantiles) AS ttft
FROM ${TABLE_LLM_CALLS_1M}`;

const RAW_STATS = `
SELECT Provider, ModelFamily, ModelVersion,
  count() AS calls, countIf(IsFailure = 1) AS failures,
  countIf(FailureOrigin = 'provider') AS providerFailures, countIf(FailureOrigin = 'network') AS networkFailures,
  countIf(FailureOrigin = 'client') AS clientFailures,
  sumMap(map(FailureClass, toUInt64(IsFailure = 1))) AS failuresByClass,
  countIf(IsFailure = 0 AND has(FinishReasons, 'length')) AS lengthStops,
  countIf(IsFailure = 0 AND has(FinishReasons, 'content_filter')) AS contentFilterStops,
  countIf(IsFailure = 0 AND OutputTokens = 0) AS emptyOutputs,
  sum(toUInt64(OutputTokens)) AS outputTokens, sum(DurationMs) AS durationMsSum,
  quantilesTDigest(0.5, 0.95, 0.99)(DurationMs) AS duration,
  quantilesTDigestIf(0.5, 0.95, 0.99)(TimeToFirstTokenMs, TimeToFirstTokenMs > 0) AS ttft
FROM ${TABLE_LLM_CALLS}`;

interface StatsRow {
  Provider: string;
  ModelFamily: string;
  ModelVersion: string;
  calls: string | number;
  failures: string | number;
  providerFailures: string | number;
  networkFailures: string | number;
  clientFailures: string | number;
  failuresByClass: Record<string, string | number>;
  lengthStops: string | number;
  contentFilterStops: string | number;
  emptyOutputs: string | number;
  outputTokens: string | number;
  durationMsSum: string | number;
  duration: (number | string | null)[];
  ttft: (number | string | null)[];
}

/** UInt64 arrives as a string in JSON (output_format_json_quote_64bit_integers); NaN quantiles as null/'nan'. */
const num = (v: string | number | null | undefined): number =>
  v === null || v === undefined ? 0 : Number(v);
const quantile = (v: number | string | null | undefined): number | null => {
  const n = v === null || v === undefined ? Number.NaN : Number(v);
  return Number.isFinite(n) ? n : null;
};

function toStats(r: StatsRow): VersionStats {
  const calls = num(r.calls);
  const failures = num(r.failures);
  const providerFailures = num(r.providerFailures);
  const networkFailures = num(r.networkFailures);
  const failuresByClass = Object.fromEntries(
    Object.entries(r.failuresByClass)
      .map(([k, v]) => [k, num(v)] as const)
      .filter(([k, v]) => k !== '' && v > 0),
  );
  return {
    provider: r.Provider,
    family: r.ModelFamily,
    version: r.ModelVersion,
    calls,
    failures,
    providerFailures,
    networkFailures,
    infraFailures: providerFailures + networkFailures,
    clientFailures: num(r.clientFailures),
    failuresByClass,
    successes: calls - failures,
    lengthStops: num(r.lengthStops),
    contentFilterStops: num(r.contentFilterStops),
    emptyOutputs: num(r.emptyOutputs),
    outputTokens: num(r.outputTokens),
    durationMsSum: num(r.durationMsSum),
    p50Ms: calls > 0 ? quantile(r.duration[0]) : null,
    p95Ms: calls > 0 ? quantile(r.duration[1]) : null,
    ttftP95Ms: quantile(r.ttft[1]),
  };
}

async function select<T>(
  ch: ClickHouseHandle,
  query: string,
  params: Record<string, unknown>,
  what: string,
): Promise<T[]> {
  try {
    const result = await ch.client.query({ query, query_params: params, format: 'JSONEachRow' });
    return await result.json<T>();
  } catch (error) {
    throw toIngestError(error, `report: ${what}`);
  }
}

/** Per-version aggregates for one window. */
export async function queryVersionStats(
  ch: ClickHouseHandle,
  window: TimeWindow,
  filters: ReportFilters,
  source: StatsSource,
): Promise<VersionStats[]> {
  const { where, params } = whereClause(filters, window, source === 'rollup' ? 'Minute' : 'Timestamp');
  const query = `${source === 'rollup' ? ROLLUP_STATS : RAW_STATS}\nWHERE ${where}\nGROUP BY Provider, ModelFamily, ModelVersion\nORDER BY Provider, ModelFamily, ModelVersion`;
  const rows = await select<StatsRow>(
    ch,
    query,
    params,
    `reading ${source === 'rollup' ? TABLE_LLM_CALLS_1M : TABLE_LLM_CALLS}`,
  );
  return rows.map(toStats);
}

interface BucketRow {
  Provider: string;
  ModelFamily: string;
  ModelVersion: string;
  startS: string | number;
  calls: string | number;
  infraFailures: string | number;
  clientFailures: string | number;
  successes: string | number;
  qualityIssues: string | number;
  p95: number | string | null;
}

/** Per-version counts in `bucketMs` buckets of the window (since-when detail), from llm_calls. */
export async function queryVersionBuckets(
  ch: ClickHouseHandle,
  window: TimeWindow,
  filters: ReportFilters,
  bucketMs: number,
): Promise<VersionBucket[]> {
  const { where, params } = whereClause(filters, window, 'Timestamp');
  const query = `
SELECT Provider, ModelFamily, ModelVersion,
  toUnixTimestamp(toStartOfInterval(Timestamp, toIntervalSecond({bucketS:UInt32}))) AS startS,
  count() AS calls,
  countIf(FailureOrigin IN ('provider', 'network')) AS infraFailures,
  countIf(FailureOrigin = 'client') AS clientFailures,
  countIf(IsFailure = 0) AS successes,
  countIf(IsFailure = 0 AND (has(FinishReasons, 'length') OR has(FinishReasons, 'content_filter') OR OutputTokens = 0)) AS qualityIssues,
  quantileTDigest(0.95)(DurationMs) AS p95
FROM ${TABLE_LLM_CALLS}
WHERE ${where}
GROUP BY Provider, ModelFamily, ModelVersion, startS
ORDER BY startS`;
  const rows = await select<BucketRow>(
    ch,
    query,
    { ...params, bucketS: Math.max(1, Math.round(bucketMs / 1000)) },
    'reading since-when buckets',
  );
  return rows.map((r) => ({
    provider: r.Provider,
    family: r.ModelFamily,
    version: r.ModelVersion,
    // A bucket can start before the window (buckets are aligned to the epoch): never date a change before it.
    startMs: Math.max(num(r.startS) * 1000, window.fromMs),
    calls: num(r.calls),
    infraFailures: num(r.infraFailures),
    clientFailures: num(r.clientFailures),
    successes: num(r.successes),
    qualityIssues: num(r.qualityIssues),
    p95Ms: quantile(r.p95),
  }));
}

interface ClientRow {
  Provider: string;
  ModelFamily: string;
  ModelVersion: string;
  ServiceName: string;
  calls: string | number;
  clientFailures: string | number;
  failuresByClass: Record<string, string | number>;
}

/** Client-origin failures per version × calling service (only pairs that had any). */
export async function queryClientFailureSources(
  ch: ClickHouseHandle,
  window: TimeWindow,
  filters: ReportFilters,
): Promise<ClientFailureSource[]> {
  const { where, params } = whereClause(filters, window, 'Timestamp');
  const query = `
SELECT Provider, ModelFamily, ModelVersion, ServiceName,
  count() AS calls,
  countIf(FailureOrigin = 'client') AS clientFailures,
  sumMap(map(FailureClass, toUInt64(FailureOrigin = 'client'))) AS failuresByClass
FROM ${TABLE_LLM_CALLS}
WHERE ${where}
GROUP BY Provider, ModelFamily, ModelVersion, ServiceName
HAVING clientFailures > 0`;
  const rows = await select<ClientRow>(ch, query, params, 'reading client failures by service');
  return rows.map((r) => ({
    provider: r.Provider,
    family: r.ModelFamily,
    version: r.ModelVersion,
    service: r.ServiceName,
    calls: num(r.calls),
    clientFailures: num(r.clientFailures),
    failuresByClass: Object.fromEntries(
      Object.entries(r.failuresByClass)
        .map(([k, v]) => [k, num(v)] as const)
        .filter(([k, v]) => k !== '' && v > 0),
    ),
  }));
}

/** Distinct known values of a filter column over [sinceMs, now], for "unknown filter" notes. */
export async function queryKnownValues(
  ch: ClickHouseHandle,
  column: 'Provider' | 'ModelFamily' | 'ModelVersion' | 'ServiceName' | 'Environment',
  window: TimeWindow,
): Promise<string[]> {
  const query = `SELECT DISTINCT ${column} AS value FROM ${TABLE_LLM_CALLS_1M}
WHERE Minute >= toDateTime(intDiv({fromMs:Int64}, 1000)) AND Minute < toDateTime(intDiv({toMs:Int64}, 1000)) + 60
ORDER BY value LIMIT 50`;
  const rows = await select<{ value: string }>(
    ch,
    query,
    { fromMs: window.fromMs, toMs: window.toMs },
    `listing ${column} values`,
  );
  return rows.map((r) => r.value);
}
