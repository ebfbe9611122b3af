/**
 * Shared set-up for the consumer's integration tests: a real Kafka broker (KAFKA_BROKERS, provided by
 * scripts/run-tests.mjs), the real embedded ClickHouse engine in a temporary directory (one per test FILE:
 * libchdb binds one data directory per process), unique topics/groups/services per test.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, Partitioners, type IHeaders } from 'kafkajs';
import type { ClickHouseHandle } from '../../../ingest/src/clickhouse/client.js';
import { consumerConfigFromEnv, type ConsumerConfig } from '../../../ingest/src/consumer/config.js';
import { openMigratedStoreAt, type TestStore } from '../fixtures/embedded-store.js';

export function kafkaBrokers(): string {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers)
    throw new Error('KAFKA_BROKERS is not set: run integration tests through scripts/run-tests.mjs');
  return brokers;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export function testConsumerConfig(
  topic: string,
  groupId: string,
  env: Record<string, string> = {},
): ConsumerConfig {
  return consumerConfigFromEnv({
    KAFKA_BROKERS: kafkaBrokers(),
    MODELWATCH_TOPIC: topic,
    MODELWATCH_CONSUMER_GROUP: groupId,
    MODELWATCH_CONSUMER_METRICS_PORT: 'off',
    MODELWATCH_BATCH_MAX_WAIT_MS: '200',
    MODELWATCH_CONSUMER_RETRY_MIN_MS: '50',
    MODELWATCH_CONSUMER_RETRY_MAX_MS: '400',
    MODELWATCH_KAFKA_SESSION_TIMEOUT_MS: '10000',
    ...env,
  });
}

export type EmbeddedStore = TestStore;

export function openEmbeddedStore(
  dataDir = mkdtempSync(join(tmpdir(), 'mw-consumer-')),
): Promise<EmbeddedStore> {
  return openMigratedStoreAt(dataDir);
}

export async function createTopic(topic: string, partitions: number): Promise<void> {
  const admin = new Kafka({ brokers: kafkaBrokers().split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

export interface OutgoingRecord {
  key: string | null;
  value: Uint8Array | Buffer | null;
  headers?: IHeaders;
  partition?: number;
}

export async function produce(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
  const producer = new Kafka({ brokers: kafkaBrokers().split(','), logLevel: logLevel.NOTHING }).producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  try {
    // 10 records per request: a partition's record batch must stay under the broker's default 1 MB
    // message.max.bytes, and a 100-span trace request is ~50 KB.
    for (let i = 0; i < records.length; i += 10) {
      await producer.send({
        topic,
        acks: -1,
        messages: records.slice(i, i + 10).map((r) => ({
          key: r.key,
          value:
            r.value === null ? null : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength),
          headers: r.headers,
          partition: r.partition,
        })),
      });
    }
  } finally {
    await producer.disconnect();
  }
}

export interface ReadRecord {
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** Reads `expected` records of `topic` from the beginning (fresh group), or fails after `timeoutMs`. */
export async function readTopic(topic: string, expected: number, timeoutMs = 20_000): Promise<ReadRecord[]> {
  const consumer = new Kafka({ brokers: kafkaBrokers().split(','), logLevel: logLevel.NOTHING }).consumer({
    groupId: uniqueName('reader'),
  });
  const records: ReadRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`read ${records.length}/${expected} records of ${topic}`)),
        timeoutMs,
      );
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(message.headers ?? {}))
            headers[k] = String(Array.isArray(v) ? v[0] : v);
          records.push({
            partition,
            offset: message.offset,
            key: message.key?.toString() ?? null,
            value: message.value,
            headers,
          });
          if (records.length >= expected) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return records;
}

export async function countRows(
  handle: ClickHouseHandle,
  table: string,
  where: string,
  params: Record<string, unknown>,
): Promise<{ rows: number; uniqueSpans: number }> {
  const result = await handle.client.query({
    query: `SELECT count() AS rows, uniqExact(SpanId) AS uniqueSpans FROM ${table} WHERE ${where}`,
    query_params: params,
    format: 'JSONEachRow',
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
  });
  const [row] = await result.json<{ rows: number; uniqueSpans: number }>();
  return { rows: Number(row?.rows ?? 0), uniqueSpans: Number(row?.uniqueSpans ?? 0) };
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
