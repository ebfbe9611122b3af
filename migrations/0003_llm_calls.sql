-- One typed row per LLM call span: what the dashboards, alerts and `modelwatch report` filter and group
-- by. Ordered provider -> model family -> version -> time because every incident question narrows in that
-- order ("which provider, which model, which version, since when").
CREATE TABLE IF NOT EXISTS llm_calls {{ON_CLUSTER}} (
  Timestamp             DateTime64(9) CODEC(Delta(8), ZSTD(1)),
  TraceId               String CODEC(ZSTD(1)),
  SpanId                String CODEC(ZSTD(1)),
  ServiceName           LowCardinality(String),
  Environment           LowCardinality(String),
  Provider              LowCardinality(String),
  Operation             LowCardinality(String),
  RequestModel          LowCardinality(String),
  ResponseModel         LowCardinality(String),
  ModelFamily           LowCardinality(String),
  ModelVersion          LowCardinality(String),
  ModelSnapshot         LowCardinality(String),
  StatusCode            LowCardinality(String),          -- 'Ok' | 'Error' | 'Unset' (span status)
  IsFailure             UInt8,
  FailureClass          LowCardinality(String),          -- '' on success, else modelwatch.failure.class
  FailureOrigin         LowCardinality(String),          -- '' | 'provider' | 'client' | 'network'
  ErrorType             LowCardinality(String),          -- error.type
  HttpStatus            UInt16,                          -- 0 when unknown
  DurationMs            Float64,
  TimeToFirstTokenMs    Float64,                         -- 0 when not measured (non-streaming)
  InputTokens           UInt32,
  OutputTokens          UInt32,
  CacheReadInputTokens  UInt32,
  CacheWriteInputTokens UInt32,
  ReasoningOutputTokens UInt32,
  FinishReasons         Array(LowCardinality(String)),
  Stream                UInt8,
  RetryCount            UInt16,
  ProviderRequestId     String CODEC(ZSTD(1)),
  ServerAddress         LowCardinality(String),
  ScopeName             LowCardinality(String),
  INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1
) ENGINE = {{MERGE_TREE}}
PARTITION BY toDate(Timestamp)
ORDER BY (Provider, ModelFamily, ModelVersion, toStartOfMinute(Timestamp), Timestamp)
TTL toDateTime(Timestamp) + toIntervalDay({{LLM_CALLS_TTL_DAYS}})
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000;
