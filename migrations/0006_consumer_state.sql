-- The consumer's exactly-once state: per (group, topic, partition) the last offset range sent to ClickHouse and
-- whether its inserts were acknowledged ('before' / 'after'), the role Keeper plays for ClickHouse Kafka
-- Connect (see ingest/src/consumer/inserted-range-store.ts). Versions grow with the range, so the newest row
-- wins without clocks; readers take ORDER BY Version DESC LIMIT 1 and never wait for merges. Consumers before
-- this migration created the same table themselves, hence IF NOT EXISTS.
CREATE TABLE IF NOT EXISTS modelwatch_consumer_state {{ON_CLUSTER}} (
  ConsumerGroup String,
  Topic         String,
  Partition     UInt32,
  RangeFrom     Int64,
  RangeTo       Int64,
  Phase         Enum8('before' = 1, 'after' = 2),
  Version       UInt64,
  UpdatedAt     DateTime64(3) DEFAULT now64(3)
) ENGINE = {{REPLACING_MERGE_TREE}}(Version)
ORDER BY (ConsumerGroup, Topic, Partition);
