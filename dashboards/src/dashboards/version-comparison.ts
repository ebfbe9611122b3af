/**
 * "Version comparison": two model versions side by side (e.g. claude-opus 4.7 vs 4.8) — latency
 * distribution and heatmaps, failure classes, TTFT, output tokens, finish reasons.
 */
import type { Builder } from '@grafana/grafana-foundation-sdk/cog';
import type { Dashboard, VariableModel } from '@grafana/grafana-foundation-sdk/dashboard';
import {
  QueryVariableBuilder,
  RowBuilder,
  VariableRefresh,
  VariableSort,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DATASOURCE } from '../datasource.js';
import { PANEL_THRESHOLDS } from '../thresholds.js';
import { TABLE_LLM_CALLS, TABLE_LLM_CALLS_1M } from '../tables.js';
import { SERIES_LABEL, VERSION_KEY } from '../sql-fragments.js';
import { barChart, heatmap, timeseries } from '../panel-kit.js';
import { DASHBOARD_UIDS, baseDashboard } from './common.js';

export const COMPARED = ['version_a', 'version_b'] as const;

/** Both compared versions, from variables holding `provider/model/version` keys. */
const BOTH = `${VERSION_KEY} IN (\${version_a:singlequote}, \${version_b:singlequote})`;

/** Upper bounds of the latency buckets, milliseconds; the last bucket is open-ended. */
export const LATENCY_BUCKETS_MS = [250, 500, 1000, 2000, 4000, 8000, 16000, 32000, 64000] as const;
const bucketLabel = (ms: number) => (ms < 1000 ? `≤ ${ms} ms` : `≤ ${ms / 1000} s`);
const BUCKET_LABELS = [...LATENCY_BUCKETS_MS.map(bucketLabel), `> ${LATENCY_BUCKETS_MS.at(-1)! / 1000} s`];
const BUCKET_INDEX = `arrayFirstIndex(b -> DurationMs <= b, [${LATENCY_BUCKETS_MS.join(', ')}, inf])`;

function versionVariable(name: string, label: string): Builder<VariableModel> {
  const sql = `SELECT DISTINCT ${VERSION_KEY}\nFROM ${TABLE_LLM_CALLS_1M}\nWHERE $__timeFilter(Minute)\nORDER BY 1`;
  return new QueryVariableBuilder(name)
    .label(label)
    .description('provider/model family/version')
    .datasource(DATASOURCE)
    .query(sql)
    .definition(sql)
    .multi(false)
    .includeAll(false)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc);
}

/** Share of each compared version's calls falling in each category produced by `category` (one row per category). */
function sharesByCategory(category: string, from: string, extraWhere = ''): string {
  const share = (variable: string) =>
    `countIf(${VERSION_KEY} = \${${variable}:singlequote}) / greatest((SELECT count() FROM ${TABLE_LLM_CALLS} WHERE $__timeFilter(Timestamp) AND ${VERSION_KEY} = \${${variable}:singlequote}), 1) AS \`\${${variable}:raw}\``;
  return `SELECT
  ${category} AS category,
  ${share('version_a')},
  ${share('version_b')}
FROM ${from}
WHERE $__timeFilter(Timestamp)
  AND ${BOTH}${extraWhere}
GROUP BY category
ORDER BY category`;
}

export const LATENCY_DISTRIBUTION_SQL = `SELECT
  [${BUCKET_LABELS.map((l) => `'${l}'`).join(', ')}][bucket] AS latency,
  countIf(${VERSION_KEY} = \${version_a:singlequote}) / greatest(sum(countIf(${VERSION_KEY} = \${version_a:singlequote})) OVER (), 1) AS \`\${version_a:raw}\`,
  countIf(${VERSION_KEY} = \${version_b:singlequote}) / greatest(sum(countIf(${VERSION_KEY} = \${version_b:singlequote})) OVER (), 1) AS \`\${version_b:raw}\`
FROM ${TABLE_LLM_CALLS}
WHERE $__timeFilter(Timestamp)
  AND ${BOTH}
GROUP BY ${BUCKET_INDEX} AS bucket
ORDER BY bucket`;

function latencyHeatmapSql(variable: string): string {
  const columns = [...LATENCY_BUCKETS_MS, Infinity].map((upper, i) => {
    const lower = i === 0 ? undefined : LATENCY_BUCKETS_MS[i - 1];
    const condition = [
      lower === undefined ? '' : `DurationMs > ${lower}`,
      upper === Infinity ? '' : `DurationMs <= ${upper}`,
    ]
      .filter(Boolean)
      .join(' AND ');
    return `  countIf(${condition}) AS \`${upper === Infinity ? `> ${lower! / 1000} s` : bucketLabel(upper)}\``;
  });
  return `SELECT
  $__timeInterval(Timestamp) AS time,
${columns.join(',\n')}
FROM ${TABLE_LLM_CALLS}
WHERE $__timeFilter(Timestamp)
  AND ${VERSION_KEY} = \${${variable}:singlequote}
GROUP BY time
ORDER BY time`;
}

function comparedSeries(value: string, having = ''): string {
  return `SELECT
  $__timeInterval(Minute) AS time,
  ${SERIES_LABEL} AS series,
  ${value} AS value
FROM ${TABLE_LLM_CALLS_1M}
WHERE $__timeFilter(Minute)
  AND ${BOTH}
GROUP BY time, series${having ? `\nHAVING ${having}` : ''}
ORDER BY time, series`;
}

export function versionComparisonDashboard(): Dashboard {
  const d = baseDashboard(
    DASHBOARD_UIDS.versionComparison,
    'LLM version comparison',
    'Two model versions side by side: latency distribution, failure classes, time to first token, output tokens and finish reasons.',
    false,
  );
  d.withVariable(versionVariable('version_a', 'Version A'));
  d.withVariable(versionVariable('version_b', 'Version B'));
  d.withRow(new RowBuilder('Latency'));
  d.withPanel(
    barChart({
      title: 'Latency distribution (share of calls per bucket)',
      description:
        'How the two versions’ call durations are distributed over buckets; a version under stress moves its mass to the right.',
      sql: LATENCY_DISTRIBUTION_SQL,
      unit: 'percentunit',
      xField: 'latency',
    }),
  );
  d.withPanel(
    timeseries({
      title: 'Latency p95, A vs B',
      description: 'p95 call duration per minute bucket for both versions.',
      sql: comparedSeries('quantilesTDigestMerge(0.5, 0.95, 0.99)(DurationQuantiles)[2]'),
      unit: 'ms',
      min: 0,
      steps: PANEL_THRESHOLDS.latencyP95Ms,
    }),
  );
  for (const [variable, label] of [
    ['version_a', 'A'],
    ['version_b', 'B'],
  ] as const) {
    d.withPanel(
      heatmap({
        title: `Latency heatmap, version ${label} ($${variable})`,
        description: `Calls per latency bucket over time for version ${label}. Bright cells high up mean many slow calls.`,
        sql: latencyHeatmapSql(variable),
        unit: 'short',
      }),
    );
  }
  d.withRow(new RowBuilder('Failures and output'));
  d.withPanel(
    barChart({
      title: 'Failure classes, A vs B (share of calls)',
      description: 'Share of each version’s calls that failed with each failure class.',
      sql: sharesByCategory('FailureClass', TABLE_LLM_CALLS, '\n  AND IsFailure = 1'),
      unit: 'percentunit',
      xField: 'category',
    }),
  );
  d.withPanel(
    barChart({
      title: 'Finish reasons, A vs B (share of calls)',
      description:
        'Share of each version’s calls that ended with each finish reason; more "length" or "content_filter" is a quality signal, not an outage.',
      sql: sharesByCategory('reason', `${TABLE_LLM_CALLS}\nARRAY JOIN FinishReasons AS reason`),
      unit: 'percentunit',
      xField: 'category',
    }),
  );
  d.withPanel(
    timeseries({
      title: 'Time to first token p95, A vs B',
      description: 'p95 time to the first streamed content chunk (streaming calls only).',
      sql: comparedSeries('quantilesTDigestMerge(0.5, 0.95, 0.99)(TtftQuantiles)[2]', 'sum(StreamCalls) > 0'),
      unit: 'ms',
      min: 0,
      steps: PANEL_THRESHOLDS.ttftP95Ms,
    }),
  );
  d.withPanel(
    timeseries({
      title: 'Output tokens per call, A vs B',
      description:
        'Average output tokens per call; a sudden drop with more "length" stops or empty outputs points at model output, not infrastructure.',
      sql: comparedSeries('sum(OutputTokens) / sum(Calls)'),
      unit: 'short',
      min: 0,
    }),
  );
  return d.build();
}
