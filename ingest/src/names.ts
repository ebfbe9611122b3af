/** Topic, consumer group and table names: defined once, imported by code, dashboards' tests and the CLI. */
export const DEFAULT_TOPIC = 'otlp_spans' as const;
/** Dead-letter topic: `<topic>.dlq`. */
export const dlqTopicFor = (topic: string): string => `${topic}.dlq`;
export const DEFAULT_CONSUMER_GROUP = 'modelwatch-ingest' as const;
export const DEFAULT_DATABASE = 'otel' as const;

export const TABLE_OTEL_TRACES = 'otel_traces' as const;
export const TABLE_OTEL_TRACES_TRACE_ID_TS = 'otel_traces_trace_id_ts' as const;
export const TABLE_LLM_CALLS = 'llm_calls' as const;
export const TABLE_LLM_CALLS_1M = 'llm_calls_1m' as const;
export const TABLE_MIGRATIONS = 'modelwatch_migrations' as const;

/** Kafka record headers the gateway writes and the consumer reads. */
export const HEADER_ENCODING = 'modelwatch-encoding' as const; // 'otlp_proto' | 'otlp_json'
/** Headers on dead-lettered records. */
export const HEADER_DLQ_ERROR_CODE = 'modelwatch-dlq-error-code' as const;
export const HEADER_DLQ_ERROR_MESSAGE = 'modelwatch-dlq-error-message' as const;
export const HEADER_DLQ_SOURCE_TOPIC = 'modelwatch-dlq-source-topic' as const;
export const HEADER_DLQ_SOURCE_PARTITION = 'modelwatch-dlq-source-partition' as const;
export const HEADER_DLQ_SOURCE_OFFSET = 'modelwatch-dlq-source-offset' as const;
/**
 * What the dead letter's value holds: `source-record` (the Kafka record as consumed, its own headers kept) or
 * `clickhouse-rows; table=<table>; format=<ClickHouse input format>` (the rows ClickHouse refused; the source
 * headers point at the original record).
 */
export const HEADER_DLQ_PAYLOAD = 'modelwatch-dlq-payload' as const;

export type OtlpEncoding = 'otlp_proto' | 'otlp_json';
