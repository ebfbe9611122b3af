-- Per-minute rollup by provider x model family x version x service x environment, fed by a materialized
-- view, so dashboard queries read minutes instead of calls as data grows. Counts are SimpleAggregateFunction
-- sums (plain sum() reads them); latency and TTFT are t-digest states (quantilesTDigestMerge to read).
CREATE TABLE IF NOT EXISTS llm_calls_1m {{ON_CLUSTER}} (
  Minute                DateTime,
  Provider              LowCardinality(String),
  ModelFamily           LowCardinality(String),
  ModelVersion          LowCardinality(String),
  ServiceName           LowCardinality(String),
  Environment           LowCardinality(String),
  Calls                 SimpleAggregateFunction(sum, UInt64),
  Failures              SimpleAggregateFunction(sum, UInt64),
  -- failures by origin: provider infrastructure, our own requests, the network between
  ProviderFailures      SimpleAggregateFunction(sum, UInt64),
  ClientFailures        SimpleAggregateFunction(sum, UInt64),
  NetworkFailures       SimpleAggregateFunction(sum, UInt64),
  -- failures by class (keys are modelwatch.failure.class values)
  FailuresByClass       SimpleAggregateFunction(sumMap, Map(String, UInt64)),
  -- quality signals on successful calls: cut off by length, stopped by a content filter, empty output
  LengthStops           SimpleAggregateFunction(sum, UInt64),
  ContentFilterStops    SimpleAggregateFunction(sum, UInt64),
  EmptyOutputs          SimpleAggregateFunction(sum, UInt64),
  StreamCalls           SimpleAggregateFunction(sum, UInt64),
  Retries               SimpleAggregateFunction(sum, UInt64),
  InputTokens           SimpleAggregateFunction(sum, UInt64),
  OutputTokens          SimpleAggregateFunction(sum, UInt64),
  DurationMsSum         SimpleAggregateFunction(sum, Float64),
  DurationQuantiles     AggregateFunction(quantilesTDigest(0.5, 0.95, 0.99), Float64),
  TtftQuantiles         AggregateFunction(quantilesTDigest(0.5, 0.95, 0.99), Float64)
) ENGINE = {{AGGREGATING_MERGE_TREE}}
PARTITION BY toDate(Minute)
ORDER BY (Provider, ModelFamily, ModelVersion, ServiceName, Environment, Minute)
TTL Minute + toIntervalDay({{ROLLUP_TTL_DAYS}})
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS llm_calls_1m_mv {{ON_CLUSTER}}
TO llm_calls_1m
AS SELECT
  toStartOfMinute(Timestamp) AS Minute,
  Provider,
  ModelFamily,
  ModelVersion,
  ServiceName,
  Environment,
  count() AS Calls,
  countIf(IsFailure = 1) AS Failures,
  countIf(FailureOrigin = 'provider') AS ProviderFailures,
  countIf(FailureOrigin = 'client') AS ClientFailures,
  countIf(FailureOrigin = 'network') AS NetworkFailures,
  sumMap(map(FailureClass, toUInt64(IsFailure = 1))) AS FailuresByClass,
  countIf(IsFailure = 0 AND has(FinishReasons, 'length')) AS LengthStops,
  countIf(IsFailure = 0 AND has(FinishReasons, 'content_filter')) AS ContentFilterStops,
  countIf(IsFailure = 0 AND c.OutputTokens = 0) AS EmptyOutputs,
  countIf(Stream = 1) AS StreamCalls,
  sum(toUInt64(RetryCount)) AS Retries,
  sum(toUInt64(c.InputTokens)) AS InputTokens,
  sum(toUInt64(c.OutputTokens)) AS OutputTokens,
  sum(DurationMs) AS DurationMsSum,
  quantilesTDigestState(0.5, 0.95, 0.99)(DurationMs) AS DurationQuantiles,
  quantilesTDigestStateIf(0.5, 0.95, 0.99)(TimeToFirstTokenMs, TimeToFirstTokenMs > 0) AS TtftQuantiles
FROM llm_calls AS c -- qualified where a source column shares its name with an output alias
GROUP BY Minute, Provider, ModelFamily, ModelVersion, ServiceName, Environment;
