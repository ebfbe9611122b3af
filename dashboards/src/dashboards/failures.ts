/**
 * "Failures": what kind of failures, from whom, and the verdict — is the rise provider-wide or limited to
 * a few versions, and is it the provider's infrastructure, our requests, or a quality signal?
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { CHARTED_FAILURE_CLASSES, INFRA_FAILURE_CLASSES, sqlList } from '../failure-groups.js';
import { PANEL_THRESHOLDS, VERDICT_RULES } from '../thresholds.js';
import { TABLE_LLM_CALLS, TABLE_LLM_CALLS_1M } from '../tables.js';
import { FILTERS, IN_RANGE, SERIES_LABEL, baselineWindow, perSecond } from '../sql-fragments.js';
import { table, timeseries } from '../panel-kit.js';
import { DASHBOARD_UIDS, baseDashboard } from './common.js';
import { rollupSeries } from './overview.js';

/** Failures caused by provider infrastructure or the network, per rollup row. */
export const INFRA_FAILURES_EXPR = `arraySum(mapValues(mapFilter((k, v) -> k IN (${sqlList(INFRA_FAILURE_CLASSES)}), FailuresByClass)))`;
/** Successful calls that still look wrong: cut off by length, stopped by a content filter, or empty. */
export const QUALITY_SIGNALS_EXPR = '(LengthStops + ContentFilterStops + EmptyOutputs)';

const up = (current: string, baseline: string) =>
  `(${current} >= ${VERDICT_RULES.riseMultiple} * ${baseline} AND ${current} - ${baseline} >= ${VERDICT_RULES.minRiseRatio})`;

/**
 * One row per provider. A version is judged when it has enough calls in the range; it is "up" when its
 * failure rate or quality-signal rate rose by the verdict rules (thresholds.ts) against its own baseline.
 * Scope: provider-wide when at least `providerWideShare` of judged versions are up, else version-specific.
 * Kind: whichever of infrastructure / client / quality rose most across the versions that are up.
 */
export const VERDICT_SQL = `SELECT
  provider,
  scope,
  kind,
  versions_up,
  versions_judged,
  rising_versions,
  concat(provider, ': ',
    multiIf(scope = 'no rise', 'no version is failing more than its baseline',
            scope = 'provider-wide', concat('provider-wide rise (', toString(versions_up), ' of ', toString(versions_judged), ' versions up)'),
            concat('version-specific rise in ', rising_versions, ' while ', toString(versions_judged - versions_up), ' sibling version(s) stay flat')),
    if(kind = '', '', concat(' — ', kind))) AS verdict
FROM (
  SELECT
    provider,
    countIf(judged) AS versions_judged,
    countIf(judged AND is_up) AS versions_up,
    arrayStringConcat(arraySort(groupArrayIf(label, judged AND is_up)), ', ') AS rising_versions,
    sumIf(greatest(infra_rate - base_infra_rate, 0), judged AND is_up) AS infra_rise,
    sumIf(greatest(client_rate - base_client_rate, 0), judged AND is_up) AS client_rise,
    sumIf(greatest(quality_rate - base_quality_rate, 0), judged AND is_up) AS quality_rise,
    multiIf(versions_up = 0, 'no rise',
            versions_judged >= 2 AND versions_up >= ${VERDICT_RULES.providerWideShare} * versions_judged, 'provider-wide',
            'version-specific') AS scope,
    multiIf(versions_up = 0, '',
            infra_rise >= client_rise AND infra_rise >= quality_rise, 'provider infrastructure (429/529/5xx, timeouts, connection errors)',
            client_rise >= quality_rise, 'client (our requests: auth, bad request, context length)',
            'quality signal (length or content-filter stops, empty output)') AS kind
  FROM (
    SELECT
      provider, label, calls,
      calls >= ${VERDICT_RULES.minCalls} AS judged,
      failures / calls AS failure_rate, base_failures / greatest(base_calls, 1) AS base_failure_rate,
      infra / calls AS infra_rate, base_infra / greatest(base_calls, 1) AS base_infra_rate,
      client / calls AS client_rate, base_client / greatest(base_calls, 1) AS base_client_rate,
      quality / calls AS quality_rate, base_quality / greatest(base_calls, 1) AS base_quality_rate,
      ${up('failure_rate', 'base_failure_rate')} OR ${up('quality_rate', 'base_quality_rate')} AS is_up
    FROM (
      WITH ${IN_RANGE} AS cur
      SELECT
        Provider AS provider,
        ${SERIES_LABEL} AS label,
        sumIf(Calls, cur) AS calls,
        sumIf(Failures, cur) AS failures,
        sumIf(${INFRA_FAILURES_EXPR}, cur) AS infra,
        sumIf(ClientFailures, cur) AS client,
        sumIf(${QUALITY_SIGNALS_EXPR}, cur) AS quality,
        sumIf(Calls, NOT cur) AS base_calls,
        sumIf(Failures, NOT cur) AS base_failures,
        sumIf(${INFRA_FAILURES_EXPR}, NOT cur) AS base_infra,
        sumIf(ClientFailures, NOT cur) AS base_client,
        sumIf(${QUALITY_SIGNALS_EXPR}, NOT cur) AS base_quality
      FROM ${TABLE_LLM_CALLS_1M}
      WHERE ${baselineWindow(VERDICT_RULES.baselineHours)}
        AND ${FILTERS}
      GROUP BY provider, label
      HAVING calls > 0
    )
  )
  GROUP BY provider
)
ORDER BY versions_up DESC, provider`;

const classColumns = CHARTED_FAILURE_CLASSES.map((c) => `  classes['${c}'] AS ${c}`).join(',\n');

export const FAILURE_CLASSES_BY_VERSION_SQL = `SELECT
  provider, model, version, calls, failure_rate,
${classColumns}
FROM (
  SELECT
    Provider AS provider, ModelFamily AS model, ModelVersion AS version,
    sum(Calls) AS calls,
    sum(Failures) / calls AS failure_rate,
    sumMap(FailuresByClass) AS classes
  FROM ${TABLE_LLM_CALLS_1M}
  WHERE $__timeFilter(Minute)
    AND ${FILTERS}
  GROUP BY provider, model, version
)
ORDER BY failure_rate DESC, calls DESC`;

export function failuresDashboard(): Dashboard {
  const d = baseDashboard(
    DASHBOARD_UIDS.failures,
    'LLM failures',
    'Failures by class, origin, HTTP status and error type, and the verdict: provider-wide or version-specific, infrastructure or quality.',
  );
  d.withRow(new RowBuilder('Verdict'));
  d.withPanel(
    table({
      title: 'Verdict: provider-wide or version-specific? infrastructure or quality?',
      description: `For each selected provider: how many of its model versions (with at least ${VERDICT_RULES.minCalls} calls) fail or show quality signals at ≥ ${VERDICT_RULES.riseMultiple}× and ≥ ${VERDICT_RULES.minRiseRatio * 100} points above their own previous ${VERDICT_RULES.baselineHours} h. "Provider-wide" when at least ${VERDICT_RULES.providerWideShare * 100} % of versions are up; the kind says whether the rise is the provider's infrastructure, our requests, or model output quality.`,
      sql: VERDICT_SQL,
      unit: 'none',
      height: 7,
      columns: {
        verdict: { displayName: 'Verdict' },
        scope: { displayName: 'Scope' },
        kind: { displayName: 'Kind' },
        versions_up: { unit: 'short', displayName: 'Versions up', steps: { warn: 1, critical: 2 } },
        versions_judged: { unit: 'short', displayName: 'Versions judged' },
        rising_versions: { displayName: 'Rising versions' },
      },
    }),
  );
  d.withRow(new RowBuilder('Failures over time'));
  d.withPanel(
    timeseries({
      title: 'Failures per second by class',
      description:
        'Failed calls per second split by failure class: rate limited (429), overloaded (529), server error (5xx), timeout, connection, auth, bad request, content filter, context length.',
      sql: `SELECT
  $__timeInterval(Minute) AS time,
  class AS series,
  ${perSecond('sum(n)')} AS value
FROM ${TABLE_LLM_CALLS_1M}
ARRAY JOIN mapKeys(FailuresByClass) AS class, mapValues(FailuresByClass) AS n
WHERE $__timeFilter(Minute)
  AND ${FILTERS}
  AND class != ''
GROUP BY time, series
HAVING sum(n) > 0
ORDER BY time, series`,
      unit: 'reqps',
      stacked: true,
      bars: true,
      min: 0,
    }),
  );
  d.withPanel(
    timeseries({
      title: 'Failure rate by origin per version',
      description:
        'Share of calls failing, split by origin: provider (their infrastructure), client (our requests), network (in between). Legend: provider/model version · origin.',
      sql: `SELECT
  $__timeInterval(Minute) AS time,
  concat(${SERIES_LABEL}, ' · ', origin.1) AS series,
  sum(origin.2) / sum(Calls) AS value
FROM ${TABLE_LLM_CALLS_1M}
ARRAY JOIN [('provider', ProviderFailures), ('client', ClientFailures), ('network', NetworkFailures)] AS origin
WHERE $__timeFilter(Minute)
  AND ${FILTERS}
GROUP BY time, series
HAVING sum(origin.2) > 0
ORDER BY time, series`,
      unit: 'percentunit',
      min: 0,
      steps: PANEL_THRESHOLDS.failureRate,
    }),
  );
  d.withPanel(
    timeseries({
      title: 'Failed calls by HTTP status',
      description:
        'Failed calls per second by the HTTP status the provider answered ("no response" for timeouts and dropped connections).',
      sql: `SELECT
  $__timeInterval(Timestamp) AS time,
  if(HttpStatus = 0, 'no response', toString(HttpStatus)) AS series,
  ${perSecond('count()')} AS value
FROM ${TABLE_LLM_CALLS}
WHERE $__timeFilter(Timestamp)
  AND IsFailure = 1
  AND ${FILTERS}
GROUP BY time, series
ORDER BY time, series`,
      unit: 'reqps',
      stacked: true,
      bars: true,
      min: 0,
    }),
  );
  d.withPanel(
    timeseries({
      title: 'Retries per second',
      description:
        'SDK-level retries per second by provider/model version. Rising retries with a flat failure rate means the SDK is absorbing trouble (and latency grows).',
      sql: rollupSeries(perSecond('sum(Retries)')),
      unit: 'reqps',
      min: 0,
    }),
  );
  d.withRow(new RowBuilder('Breakdown'));
  d.withPanel(
    table({
      title: 'Failure classes by version',
      description:
        'Failed calls per class for each version in the selected range, most failing version first.',
      sql: FAILURE_CLASSES_BY_VERSION_SQL,
      unit: 'short',
      columns: {
        failure_rate: {
          unit: 'percentunit',
          steps: PANEL_THRESHOLDS.failureRate,
          displayName: 'Failure rate',
        },
      },
    }),
  );
  d.withPanel(
    table({
      title: 'Top error types',
      description:
        'The most frequent error types (error.type) with their class, origin and HTTP status, per version.',
      sql: `SELECT
  Provider AS provider, ModelFamily AS model, ModelVersion AS version,
  FailureClass AS class, FailureOrigin AS origin, ErrorType AS error_type, HttpStatus AS http_status,
  count() AS failures,
  max(Timestamp) AS last_seen
FROM ${TABLE_LLM_CALLS}
WHERE $__timeFilter(Timestamp)
  AND IsFailure = 1
  AND ${FILTERS}
GROUP BY provider, model, version, class, origin, error_type, http_status
ORDER BY failures DESC
LIMIT 25`,
      unit: 'short',
      columns: {
        last_seen: { unit: 'dateTimeAsIso', displayName: 'Last seen' },
        http_status: { unit: 'none' },
      },
    }),
  );
  return d.build();
}
