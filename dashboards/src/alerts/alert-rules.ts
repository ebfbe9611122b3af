/**
 * Alert rules per model version. Each rule's query returns one row per provider/model/version whose
 * string columns (provider, model, version, origin) become the alert instance's labels and whose single
 * numeric column is compared with the threshold — one alert instance per version, never a global rate.
 *
 * `$` handling (Grafana file provisioning): the rule `data` model and `annotations` are NOT env-interpolated,
 * labels are. So the SQL keeps the plugin macros as `$__timeFilter(...)` (writing `$$__` there would reach the
 * plugin verbatim and break the query), annotations use `{{ $labels.x }}` as-is, and static labels contain no
 * `$` (a test asserts both). Sources: Grafana docs "Template variable interpolation" in alerting file
 * provisioning (grafana/grafana#84106), #54975 (annotations not interpolated), #82774 (model not interpolated).
 * Alert queries run in Grafana's backend: no dashboard variables and no `$__conditionalAll` here.
 */
import { CLICKHOUSE_DATASOURCE_UID } from '../datasource.js';
import { INFRA_FAILURE_CLASSES } from '../failure-groups.js';
import { ALERT_THRESHOLDS } from '../thresholds.js';
import { TABLE_LLM_CALLS_1M } from '../tables.js';
import { INFRA_FAILURES_EXPR, QUALITY_SIGNALS_EXPR } from '../dashboards/failures.js';
import { DASHBOARD_UIDS } from '../dashboards/common.js';
import type { AlertRule, AlertRuleFile } from './alert-rule-file.js';

export const ALERT_FOLDER = 'modelwatch' as const;
export const ALERT_GROUP = 'llm-model-versions' as const;

/** The numeric column each rule compares, and its threshold. */
export interface AlertRuleSpec {
  uid: string;
  title: string;
  sql: string;
  windowMinutes: number;
  forMinutes: number;
  threshold: number;
  valueColumn: string;
  labels: Record<string, string>;
  summary: string;
}

const ORIGIN_OF_FAILURES = `multiIf(sum(Failures) = 0, 'none',
    sum(ClientFailures) > sum(ProviderFailures) + sum(NetworkFailures), 'client',
    sum(NetworkFailures) > sum(ProviderFailures), 'network',
    'provider')`;

const VERSION_COLUMNS = 'Provider AS provider, ModelFamily AS model, ModelVersion AS version';

function failureRateSql(minCalls: number): string {
  return `SELECT
  ${VERSION_COLUMNS},
  ${ORIGIN_OF_FAILURES} AS origin,
  sum(Failures) / sum(Calls) AS failure_rate
FROM ${TABLE_LLM_CALLS_1M}
WHERE $__timeFilter(Minute)
GROUP BY provider, model, version
HAVING sum(Calls) >= ${minCalls}`;
}

function infraFailureRateSql(minCalls: number): string {
  return `SELECT
  ${VERSION_COLUMNS},
  if(sum(NetworkFailures) > sum(ProviderFailures), 'network', 'provider') AS origin,
  sum(${INFRA_FAILURES_EXPR}) / sum(Calls) AS infra_failure_rate
FROM ${TABLE_LLM_CALLS_1M}
WHERE $__timeFilter(Minute)
GROUP BY provider, model, version
HAVING sum(Calls) >= ${minCalls}`;
}

function p95VsBaselineSql(minCalls: number, baselineHours: number): string {
  return `SELECT provider, model, version, 'provider' AS origin, p95_ms / baseline_p95_ms AS p95_vs_baseline
FROM (
  WITH Minute >= ($__fromTime) AS cur
  SELECT
    ${VERSION_COLUMNS},
    sumIf(Calls, cur) AS calls,
    sumIf(Calls, NOT cur) AS baseline_calls,
    quantilesTDigestMergeIf(0.5, 0.95, 0.99)(DurationQuantiles, cur)[2] AS p95_ms,
    quantilesTDigestMergeIf(0.5, 0.95, 0.99)(DurationQuantiles, NOT cur)[2] AS baseline_p95_ms
  FROM ${TABLE_LLM_CALLS_1M}
  WHERE Minute >= subtractHours($__fromTime, ${baselineHours}) AND (Minute <= $__toTime)
  GROUP BY provider, model, version
  HAVING calls >= ${minCalls} AND baseline_calls >= ${minCalls}
)`;
}

function qualitySignalSql(minCalls: number): string {
  return `SELECT
  ${VERSION_COLUMNS},
  'quality' AS origin,
  sum(${QUALITY_SIGNALS_EXPR}) / sum(Calls) AS quality_signal_rate
FROM ${TABLE_LLM_CALLS_1M}
WHERE $__timeFilter(Minute)
GROUP BY provider, model, version
HAVING sum(Calls) >= ${minCalls}`;
}

export function alertRuleSpecs(): AlertRuleSpec[] {
  const t = ALERT_THRESHOLDS;
  return [
    {
      uid: 'modelwatch-failure-rate',
      title: 'LLM version failure rate',
      sql: failureRateSql(t.failureRate.minCalls),
      windowMinutes: t.failureRate.windowMinutes,
      forMinutes: t.failureRate.forMinutes,
      threshold: t.failureRate.ratio,
      valueColumn: 'failure_rate',
      labels: { signal: 'failure_rate', severity: 'critical' },
      summary: `More than ${t.failureRate.ratio * 100} % of calls failed over ${t.failureRate.windowMinutes} min (at least ${t.failureRate.minCalls} calls).`,
    },
    {
      uid: 'modelwatch-infra-failure-rate',
      title: 'LLM version infrastructure failure rate',
      sql: infraFailureRateSql(t.infraFailureRate.minCalls),
      windowMinutes: t.infraFailureRate.windowMinutes,
      forMinutes: t.infraFailureRate.forMinutes,
      threshold: t.infraFailureRate.ratio,
      valueColumn: 'infra_failure_rate',
      labels: { signal: 'infra_failure_rate', severity: 'critical' },
      summary: `More than ${t.infraFailureRate.ratio * 100} % of calls failed with ${INFRA_FAILURE_CLASSES.join(', ')} over ${t.infraFailureRate.windowMinutes} min.`,
    },
    {
      uid: 'modelwatch-p95-latency-vs-baseline',
      title: 'LLM version p95 latency above baseline',
      sql: p95VsBaselineSql(t.p95LatencyVsBaseline.minCalls, t.p95LatencyVsBaseline.baselineHours),
      windowMinutes: t.p95LatencyVsBaseline.windowMinutes,
      forMinutes: t.p95LatencyVsBaseline.forMinutes,
      threshold: t.p95LatencyVsBaseline.multiple,
      valueColumn: 'p95_vs_baseline',
      labels: { signal: 'latency_p95', severity: 'warning' },
      summary: `p95 latency over ${t.p95LatencyVsBaseline.windowMinutes} min is more than ${t.p95LatencyVsBaseline.multiple}× its p95 over the previous ${t.p95LatencyVsBaseline.baselineHours} h.`,
    },
    {
      uid: 'modelwatch-quality-signal-rate',
      title: 'LLM version quality signals',
      sql: qualitySignalSql(t.qualitySignalRate.minCalls),
      windowMinutes: t.qualitySignalRate.windowMinutes,
      forMinutes: t.qualitySignalRate.forMinutes,
      threshold: t.qualitySignalRate.ratio,
      valueColumn: 'quality_signal_rate',
      labels: { signal: 'quality', severity: 'warning' },
      summary: `More than ${t.qualitySignalRate.ratio * 100} % of successful calls were cut off by length, stopped by a content filter, or empty over ${t.qualitySignalRate.windowMinutes} min.`,
    },
  ];
}

/** Plain-words cause from the `origin` label, rendered by Grafana's notification templates. */
const CAUSE_TEMPLATE =
  '{{ if eq $labels.origin "client" }}client: our own requests are being rejected (auth, bad request, context length) — check recent deploys and request sizes, not the provider.' +
  '{{ else if eq $labels.origin "network" }}provider infrastructure (network): timeouts and dropped connections between us and the provider.' +
  '{{ else if eq $labels.origin "quality" }}quality signal: the provider answers, but the model output is cut off, filtered or empty — not an outage.' +
  '{{ else }}provider infrastructure: the provider is rate limiting, overloaded or returning 5xx for this version.{{ end }}';

function toRule(spec: AlertRuleSpec): AlertRule {
  return {
    uid: spec.uid,
    title: spec.title,
    condition: 'B',
    data: [
      {
        refId: 'A',
        datasourceUid: CLICKHOUSE_DATASOURCE_UID,
        relativeTimeRange: { from: spec.windowMinutes * 60, to: 0 },
        model: { refId: 'A', editorType: 'sql', format: 1, queryType: 'table', rawSql: spec.sql },
      },
      {
        refId: 'B',
        datasourceUid: '__expr__',
        model: {
          refId: 'B',
          type: 'threshold',
          expression: 'A',
          datasource: { type: '__expr__', uid: '__expr__' },
          conditions: [{ evaluator: { type: 'gt', params: [spec.threshold] } }],
        },
      },
    ],
    for: `${spec.forMinutes}m`,
    noDataState: 'OK',
    execErrState: 'Error',
    labels: { ...spec.labels, source: 'modelwatch' },
    annotations: {
      summary: `{{ $labels.provider }}/{{ $labels.model }} {{ $labels.version }}: ${spec.summary}`,
      description: `Cause: ${CAUSE_TEMPLATE} Current value: {{ $values.A }}.`,
      __dashboardUid__: DASHBOARD_UIDS.failures,
    },
  };
}

export function alertRuleFile(): AlertRuleFile {
  return {
    apiVersion: 1,
    groups: [
      {
        orgId: 1,
        name: ALERT_GROUP,
        folder: ALERT_FOLDER,
        interval: ALERT_THRESHOLDS.evaluationInterval,
        rules: alertRuleSpecs().map(toRule),
      },
    ],
  };
}
