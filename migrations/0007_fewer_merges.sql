-- Background merges pick at least 10 parts at once (instead of the merge selector's usual 5 or fewer), so each
-- row is rewritten fewer times on its way to a large part. The consumer inserts one part per table every
-- batch (~10k spans), and merging them cost the embedded engine about as much CPU as parsing the inserts: on
-- the 2-core box, 305k spans through the consumer, merges took ~10.6 µs of CPU per span before and ~5.5 µs
-- after (the MergeMutate threads; bench/ingest). The price is up to ~10 unmerged parts per size level, which
-- reads hardly notice. The materialized views' targets get the same setting: each insert adds a part there
-- too. Storage settings only; columns and order are unchanged. A ClickHouse server must know the setting
-- (recent releases do, as does the embedded engine of chdb 3.4); an older one refuses this migration.
ALTER TABLE otel_traces {{ON_CLUSTER}} MODIFY SETTING min_parts_to_merge_at_once = 10;
ALTER TABLE otel_traces_trace_id_ts {{ON_CLUSTER}} MODIFY SETTING min_parts_to_merge_at_once = 10;
ALTER TABLE llm_calls {{ON_CLUSTER}} MODIFY SETTING min_parts_to_merge_at_once = 10;
ALTER TABLE llm_calls_1m {{ON_CLUSTER}} MODIFY SETTING min_parts_to_merge_at_once = 10;
