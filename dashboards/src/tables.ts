/**
 * The ClickHouse tables the dashboards and alert rules read. `@modelwatch/ingest` owns the names
 * (ingest/src/names.ts) but depends on this package, so the few names needed here are declared again and a
 * test asserts they still match ingest's.
 */
export const TABLE_LLM_CALLS = 'llm_calls' as const;
export const TABLE_LLM_CALLS_1M = 'llm_calls_1m' as const;
export const TABLE_OTEL_TRACES = 'otel_traces' as const;
export const TABLE_OTEL_TRACES_TRACE_ID_TS = 'otel_traces_trace_id_ts' as const;
/** The database the provisioned data source defaults to; panel SQL leaves tables unqualified. */
export const DEFAULT_DATABASE = 'otel' as const;
