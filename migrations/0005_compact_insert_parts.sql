-- Parts written by the consumer's inserts stay Compact (one data file for all columns) instead of Wide (a file
-- per column and sub-column, a dozen skip-index files, and a write buffer per stream) until merges make them
-- larger than 64 MiB. A consumer batch of otel_traces is ~10-25 MB uncompressed, just above the 10 MB default,
-- so every insert used to create a Wide part of ~100 files. Measured on the embedded engine (2-core box,
-- 12k spans, merges stopped): ~170 ms instead of ~260 ms per otel_traces + llm_calls insert, same CPU drop;
-- merged parts above the threshold are Wide as before, so reads of large parts are unchanged. Storage settings
-- only: columns, types and order stay the Collector exporter's.
ALTER TABLE otel_traces {{ON_CLUSTER}} MODIFY SETTING min_bytes_for_wide_part = 67108864;
ALTER TABLE llm_calls {{ON_CLUSTER}} MODIFY SETTING min_bytes_for_wide_part = 67108864;
