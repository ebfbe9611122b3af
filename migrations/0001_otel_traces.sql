-- Spans, all of them, in the OpenTelemetry Collector ClickHouse exporter's schema (same columns, types,
-- codecs and order), so the Grafana ClickHouse plugin's trace views and existing Collector deployments
-- work against this table. Differences, both additive: a TTL (configurable) and the deduplication window
-- that makes the consumer's token-carrying inserts idempotent on a non-replicated MergeTree.
CREATE TABLE IF NOT EXISTS otel_traces {{ON_CLUSTER}} (
  Timestamp          DateTime64(9) CODEC(Delta(8), ZSTD(1)),
  TraceId            String CODEC(ZSTD(1)),
  SpanId             String CODEC(ZSTD(1)),
  ParentSpanId       String CODEC(ZSTD(1)),
  TraceState         String CODEC(ZSTD(1)),
  SpanName           LowCardinality(String) CODEC(ZSTD(1)),
  SpanKind           LowCardinality(String) CODEC(ZSTD(1)),
  ServiceName        LowCardinality(String) CODEC(ZSTD(1)),
  ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
  ScopeName          String CODEC(ZSTD(1)),
  ScopeVersion       String CODEC(ZSTD(1)),
  SpanAttributes     Map(LowCardinality(String), String) CODEC(ZSTD(1)),
  Duration           UInt64 CODEC(T64, ZSTD(1)),
  StatusCode         LowCardinality(String) CODEC(ZSTD(1)),
  StatusMessage      String CODEC(ZSTD(1)),
  Events Nested (
    Timestamp DateTime64(9),
    Name LowCardinality(String),
    Attributes Map(LowCardinality(String), String)
  ) CODEC(ZSTD(1)),
  Links Nested (
    TraceId String,
    SpanId String,
    TraceState String,
    Attributes Map(LowCardinality(String), String)
  ) CODEC(ZSTD(1)),
  INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
  INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_span_attr_key mapKeys(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_span_attr_value mapValues(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_duration Duration TYPE minmax GRANULARITY 1,
  INDEX idx_lower_span_name lower(SpanName) TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8
) ENGINE = {{MERGE_TREE}}
PARTITION BY toDate(Timestamp)
PRIMARY KEY (ServiceName, SpanName, toDateTime(Timestamp))
ORDER BY (ServiceName, SpanName, toDateTime(Timestamp), Timestamp)
TTL toDateTime(Timestamp) + toIntervalDay({{TRACES_TTL_DAYS}})
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000;
