/**
 * "LLM overview by model version": is anything failing or slowing down, and which provider/model/version?
 * Reads the per-minute rollup, so it stays fast at any data volume; only the served-model table reads
 * llm_calls (the rollup has no request/response model pair), for the selected range alone.
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { PANEL_THRESHOLDS, VERDICT_RULES } from '../thresholds.js';
import { TABLE_LLM_CALLS, TABLE_LLM_CALLS_1M } from '../tables.js';
import {
  FILTERS,
  IN_RANGE,
  SERIES_LABEL,
  baselineWindow,
  modelWithoutPin,
  perSecond,
} from '../sql-fragments.js';
import { table, timeseries } from '../panel-kit.js';
import { DASHBOARD_UIDS, baseDashboard } from './common.js';

/** `(time, series, value)` over the rollup for the selected range and filters. */
export function rollupSeries(value: string, having = ''): string {
  return `SELECT
  $__timeInterval(Minute) AS time,
  ${SERIES_LABEL} AS series,
  ${value} AS value
FROM ${TABLE_LLM_CALLS_1M}
WHERE $__timeFilter(Minute)
  AND ${FILTERS}
GROUP BY time, series${having ? `\nHAVING ${having}` : ''}
ORDER BY time, series`;
}

const QUANTILES = 'quantilesTDigestMerge(0.5, 0.95, 0.99)';

/**
 * One row per version: the selected range against the baseline hours before it, sorted so the most
 * degraded version is on top. Score: failure-rate change in percentage points plus 10 × (p95 ratio − 1),
 * so +1 pp of failures weighs like +10 % p95.
 */
export const DEGRADATION_TABLE_SQL = `SELECT
  provider, model, version, calls,
  failure_rate, baseline_failure_rate,
  failure_rate - baseline_failure_rate AS failure_rate_change,
  p95_ms, baseline_p95_ms,
  p95_ms / baseline_p95_ms AS p95_vs_baseline,
  round(100 * (failure_rate - ifNull(baseline_failure_rate, failure_rate))
    + 10 * (ifNull(p95_ms / baseline_p95_ms, 1) - 1), 2) AS degradation_score
FROM (
  WITH ${IN_RANGE} AS cur
  SELECT
    Provider AS provider, ModelFamily AS model, ModelVersion AS version,
    sumIf(Calls, cur) AS calls,
    sumIf(Failures, cur) / nullIf(calls, 0) AS failure_rate,
    sumIf(Failures, NOT cur) / nullIf(sumIf(Calls, NOT cur), 0) AS baseline_failure_rate,
    quantilesTDigestMergeIf(0.5, 0.95, 0.99)(DurationQuantiles, cur)[2] AS p95_ms,
    if(sumIf(Calls, NOT cur) = 0, NULL, quantilesTDigestMergeIf(0.5, 0.95, 0.99)(DurationQuantiles, NOT cur)[2]) AS baseline_p95_ms
  FROM ${TABLE_LLM_CALLS_1M}
  WHERE ${baselineWindow(VERDICT_RULES.baselineHours)}
    AND ${FILTERS}
  GROUP BY provider, model, version
  HAVING calls > 0
)
ORDER BY degradation_score DESC, provider, model, version`;

/**
 * Answered calls whose served model (gen_ai.response.model) is not the requested one or a dated pin of it:
 * a provider or gateway routing to another model (a silent downgrade, a deployment pointing elsewhere).
 * `share` is of the requested model's answered calls. Family and version columns follow the served model,
 * so these calls are charted under it everywhere else.
 */
export const SERVED_MODEL_SQL = `SELECT provider, requested, served, calls, calls / answered AS share, failure_rate
FROM (
  SELECT
    Provider AS provider, RequestModel AS requested, ResponseModel AS served,
    count() AS calls,
    countIf(IsFailure = 1) / calls AS failure_rate,
    sum(count()) OVER (PARTITION BY Provider, RequestModel) AS answered
  FROM ${TABLE_LLM_CALLS}
  WHERE $__timeFilter(Timestamp)
    AND ResponseModel != ''
    AND ${FILTERS}
  GROUP BY provider, requested, served
)
WHERE requested != '' AND ${modelWithoutPin('served')} != ${modelWithoutPin('requested')}
ORDER BY calls DESC, provider, requested, served
LIMIT 25`;

export function overviewDashboard(): Dashboard {
  const d = baseDashboard(
    DASHBOARD_UIDS.overview,
    'LLM overview by model version',
    'Traffic, failures, latency and tokens of every LLM call, by provider, model family and version. Start here during an incident.',
  );
  d.withRow(new RowBuilder('Which version is degraded?'));
  d.withPanel(
    table({
      title: 'Versions by degradation (selected range vs previous 24 h)',
      description: `Each model version's failure rate and p95 latency in the selected range next to the same version in the ${VERDICT_RULES.baselineHours} hours before it. The most degraded version is on top (score = failure-rate change in percentage points + 10 × (p95 ratio − 1)).`,
      sql: DEGRADATION_TABLE_SQL,
      unit: 'none',
      height: 9,
      columns: {
        calls: { unit: 'short', displayName: 'Calls' },
        failure_rate: {
          unit: 'percentunit',
          steps: PANEL_THRESHOLDS.failureRate,
          displayName: 'Failure rate',
        },
        baseline_failure_rate: { unit: 'percentunit', displayName: 'Failure rate (baseline)' },
        failure_rate_change: {
          unit: 'percentunit',
          steps: PANEL_THRESHOLDS.failureRate,
          displayName: 'Change',
        },
        p95_ms: { unit: 'ms', steps: PANEL_THRESHOLDS.latencyP95Ms, displayName: 'p95 latency' },
        baseline_p95_ms: { unit: 'ms', displayName: 'p95 latency (baseline)' },
        p95_vs_baseline: { unit: 'x', steps: PANEL_THRESHOLDS.p95VsBaseline, displayName: 'p95 vs baseline' },
        degradation_score: {
          unit: 'none',
          steps: { warn: 2, critical: 5 },
          displayName: 'Degradation score',
        },
      },
    }),
  );
  d.withPanel(
    table({
      title: 'Served model differs from requested',
      description:
        "Answered calls where the provider reports a different model than the one requested (a dated snapshot of the requested alias does not count): routing to another model, a silent downgrade, a deployment pointing elsewhere. Share is of the requested model's answered calls; these calls are charted under the served model.",
      sql: SERVED_MODEL_SQL,
      unit: 'short',
      height: 6,
      columns: {
        provider: { displayName: 'Provider' },
        requested: { displayName: 'Requested model' },
        served: { displayName: 'Served model' },
        calls: { unit: 'short', displayName: 'Calls' },
        share: {
          unit: 'percentunit',
          displayName: 'Share of requested',
          steps: PANEL_THRESHOLDS.servedModelShare,
        },
        failure_rate: {
          unit: 'percentunit',
          steps: PANEL_THRESHOLDS.failureRate,
          displayName: 'Failure rate',
        },
      },
    }),
  );
  d.withRow(new RowBuilder('Traffic and failures'));
  d.withPanel(
    timeseries({
      title: 'Calls per second',
      description:
        'LLM calls started per second, by provider/model version. A drop can mean callers gave up or a circuit breaker opened.',
      sql: rollupSeries(perSecond('sum(Calls)')),
      unit: 'reqps',
      min: 0,
    }),
  );
  d.withPanel(
    timeseries({
      title: 'Failure rate',
      description:
        'Share of calls that failed (any failure class), by provider/model version. Orange and red lines mark the warning level and the alert threshold.',
      sql: rollupSeries('sum(Failures) / sum(Calls)'),
      unit: 'percentunit',
      min: 0,
      steps: PANEL_THRESHOLDS.failureRate,
    }),
  );
  d.withRow(new RowBuilder('Latency'));
  for (const [index, label] of [
    [1, 'p50'],
    [2, 'p95'],
    [3, 'p99'],
  ] as const) {
    d.withPanel(
      timeseries({
        title: `Latency ${label}`,
        description: `${label} of the whole call duration (request sent to last byte), by provider/model version, merged from per-minute t-digests.`,
        sql: rollupSeries(`${QUANTILES}(DurationQuantiles)[${index}]`),
        unit: 'ms',
        min: 0,
        width: 8,
        steps: label === 'p50' ? undefined : PANEL_THRESHOLDS.latencyP95Ms,
      }),
    );
  }
  d.withRow(new RowBuilder('Streaming and tokens'));
  d.withPanel(
    timeseries({
      title: 'Time to first token p95',
      description:
        'p95 time from sending a streaming request to the first content chunk, by provider/model version. Only streaming calls count.',
      sql: rollupSeries(`${QUANTILES}(TtftQuantiles)[2]`, 'sum(StreamCalls) > 0'),
      unit: 'ms',
      min: 0,
      width: 8,
      steps: PANEL_THRESHOLDS.ttftP95Ms,
    }),
  );
  d.withPanel(
    timeseries({
      title: 'Output tokens per second (throughput)',
      description:
        'Output tokens produced per second of wall-clock time across all calls, by provider/model version.',
      sql: rollupSeries(perSecond('sum(OutputTokens)')),
      unit: 'short',
      min: 0,
      width: 8,
    }),
  );
  d.withPanel(
    timeseries({
      title: 'Output tokens per second of call time (speed)',
      description:
        'Output tokens divided by the summed call duration: how fast a version generates. Falls when a provider is saturated.',
      sql: rollupSeries('sum(OutputTokens) * 1000 / nullIf(sum(DurationMsSum), 0)'),
      unit: 'short',
      min: 0,
      width: 8,
    }),
  );
  return d.build();
}
