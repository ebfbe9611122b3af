-- Trace id -> time window lookup, as the Collector's exporter creates it. The Grafana ClickHouse plugin
-- reads `<traces table>_trace_id_ts` (TraceId, Start, End) to narrow a trace lookup to its time range.
CREATE TABLE IF NOT EXISTS otel_traces_trace_id_ts {{ON_CLUSTER}} (
  TraceId String CODEC(ZSTD(1)),
  Start   SimpleAggregateFunction(min, DateTime) CODEC(ZSTD(1)),
  End     SimpleAggregateFunction(max, DateTime) CODEC(ZSTD(1))
) ENGINE = {{AGGREGATING_MERGE_TREE}}
PARTITION BY toStartOfWeek(Start)
ORDER BY (TraceId)
TTL Start + toIntervalDay({{TRACES_TTL_DAYS}})
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS otel_traces_trace_id_ts_mv {{ON_CLUSTER}}
TO otel_traces_trace_id_ts
AS SELECT
  TraceId,
  min(toDateTime(Timestamp)) AS Start,
  max(toDateTime(Timestamp)) AS End
FROM otel_traces
WHERE TraceId != ''
GROUP BY TraceId;
