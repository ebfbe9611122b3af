/**
 * "Traces": the most recent failed LLM calls, each linking to its whole trace rendered by the plugin's
 * trace view (format 3 over otel_traces, narrowed by the trace-id lookup table as the plugin does).
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { RowBuilder, TextBoxVariableBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as TracesPanelBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { ClickHouseQueryBuilder, DATASOURCE, QueryFormat } from '../datasource.js';
import { TABLE_LLM_CALLS, TABLE_OTEL_TRACES, TABLE_OTEL_TRACES_TRACE_ID_TS } from '../tables.js';
import { FILTERS, SERIES_LABEL, perSecond } from '../sql-fragments.js';
import { table, timeseries } from '../panel-kit.js';
import { DASHBOARD_UIDS, baseDashboard } from './common.js';

export const TRACE_ID_VARIABLE = 'trace_id' as const;

export const RECENT_FAILURES_SQL = `SELECT
  Timestamp AS time,
  ${SERIES_LABEL} AS version,
  FailureClass AS class,
  FailureOrigin AS origin,
  ErrorType AS error_type,
  HttpStatus AS http_status,
  DurationMs AS duration_ms,
  RetryCount AS retries,
  ServiceName AS service,
  ProviderRequestId AS provider_request_id,
  TraceId AS trace_id
FROM ${TABLE_LLM_CALLS}
WHERE $__timeFilter(Timestamp)
  AND IsFailure = 1
  AND ${FILTERS}
ORDER BY Timestamp DESC
LIMIT 200`;

/** The columns Grafana's trace view reads, as the plugin's own trace-id query produces them. */
export const TRACE_VIEW_SQL = `WITH
  \${${TRACE_ID_VARIABLE}:singlequote} AS trace_id,
  (SELECT min(Start) FROM ${TABLE_OTEL_TRACES_TRACE_ID_TS} WHERE TraceId = trace_id) AS trace_start,
  (SELECT max(End) + 1 FROM ${TABLE_OTEL_TRACES_TRACE_ID_TS} WHERE TraceId = trace_id) AS trace_end
SELECT
  TraceId AS traceID,
  SpanId AS spanID,
  ParentSpanId AS parentSpanID,
  ServiceName AS serviceName,
  SpanName AS operationName,
  multiply(toUnixTimestamp64Nano(Timestamp), 0.000001) AS startTime,
  multiply(Duration, 0.000001) AS duration,
  arrayMap(key -> map('key', key, 'value', SpanAttributes[key]), mapKeys(SpanAttributes)) AS tags,
  arrayMap(key -> map('key', key, 'value', ResourceAttributes[key]), mapKeys(ResourceAttributes)) AS serviceTags,
  if(StatusCode IN ('Error', 'STATUS_CODE_ERROR'), 2, 0) AS statusCode,
  StatusMessage AS statusMessage,
  SpanKind AS kind
FROM ${TABLE_OTEL_TRACES}
WHERE TraceId = trace_id
  AND Timestamp >= trace_start
  AND Timestamp <= trace_end
ORDER BY startTime ASC`;

export function tracesDashboard(): Dashboard {
  const d = baseDashboard(
    DASHBOARD_UIDS.traces,
    'LLM failed calls and traces',
    'The most recent failed LLM calls; click a trace id to open the whole trace below.',
  );
  d.withVariable(
    new TextBoxVariableBuilder(TRACE_ID_VARIABLE)
      .label('Trace id')
      .description('Set by clicking a trace id in the table.')
      .defaultValue(''),
  );
  d.withPanel(
    timeseries({
      title: 'Failed calls per second',
      description:
        'Failed LLM calls per second by provider/model version (from the per-call table, so every failure in the list below is counted).',
      sql: `SELECT
  $__timeInterval(Timestamp) AS time,
  ${SERIES_LABEL} AS series,
  ${perSecond('count()')} AS value
FROM ${TABLE_LLM_CALLS}
WHERE $__timeFilter(Timestamp)
  AND IsFailure = 1
  AND ${FILTERS}
GROUP BY time, series
ORDER BY time, series`,
      unit: 'reqps',
      min: 0,
      width: 24,
      height: 6,
      bars: true,
      stacked: true,
    }),
  );
  d.withPanel(
    table({
      title: 'Recent failed LLM calls',
      description:
        'Newest first, at most 200. The trace id opens the call’s trace in the panel below; the provider request id is what the provider’s support asks for.',
      sql: RECENT_FAILURES_SQL,
      unit: 'none',
      height: 10,
      columns: {
        time: { unit: 'dateTimeAsIso', displayName: 'Time' },
        duration_ms: { unit: 'ms', displayName: 'Duration' },
        trace_id: {
          displayName: 'Trace id',
          link: {
            title: 'Open trace',
            url: `/d/${DASHBOARD_UIDS.traces}?\${__url_time_range}&\${__all_variables}&var-${TRACE_ID_VARIABLE}=\${__value.raw}`,
          },
        },
      },
    }),
  );
  d.withRow(new RowBuilder('Trace'));
  const tracePanel = new TracesPanelBuilder()
    .title('Trace of the selected call ($trace_id)')
    .description(
      'All spans of the selected trace from otel_traces, drawn by Grafana’s trace view; the LLM span carries gen_ai.* and modelwatch.* attributes.',
    )
    .datasource(DATASOURCE)
    .withTarget(new ClickHouseQueryBuilder(TRACE_VIEW_SQL, QueryFormat.Traces))
    .unit('ms')
    .span(24)
    .height(14)
    .build();
  // The foundation SDK 0.0.21 has no builder for the core `traces` panel; it is a plain panel type with no options.
  d.withPanel({
    build: () => ({
      ...tracePanel,
      type: 'traces',
      fieldConfig: { defaults: {}, overrides: [] },
      options: {},
    }),
  });
  return d.build();
}
