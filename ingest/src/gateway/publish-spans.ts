/**
 * The only Kafka producer: one ExportTraceServiceRequest per record (otlp_proto), keyed by trace id so a
 * trace stays in one partition, acknowledged by all in-sync replicas (acks = -1) with kafkajs' idempotent
 * producer. kafkajs' idempotence needs one in-flight request per broker connection (KIP-98's original
 * rule, and what kafkajs' sequence tracking assumes), so concurrent HTTP requests are coalesced: while one
 * produce request is in flight, new records queue and go out together in the next one.
 */
import { Kafka, Partitioners, type Producer } from 'kafkajs';
import { IngestError, errorMessage } from '../errors.js';
import { kafkaClientConfig, kafkaErrorType } from '../kafka/kafka-client.js';
import type { Logger } from '../log.js';
import { HEADER_ENCODING, dlqTopicFor } from '../names.js';

export interface SpanRecord {
  /** Record key: the trace id (32 hex characters). */
  traceId: string;
  /** A protobuf ExportTraceServiceRequest holding spans of that trace only. */
  value: Uint8Array;
}

export interface SpanPublisherOptions {
  brokers: string[];
  clientId: string;
  topic: string;
  /** Partitions when this publisher creates the topic (it never changes an existing one). */
  topicPartitions: number;
  /** Topic-level max.message.bytes set at creation, so one large OTLP request fits one record. */
  maxRecordBytes: number;
  logger: Logger;
}

export interface SpanPublisher {
  /** Connects and creates the topic (and its .dlq) when missing. Throws KAFKA_UNAVAILABLE. */
  start(): Promise<void>;
  /** Resolves once Kafka acknowledged every record; rejects (KAFKA_UNAVAILABLE / PAYLOAD_TOO_LARGE) otherwise or after `timeoutMs`. */
  publish(records: readonly SpanRecord[], timeoutMs: number): Promise<void>;
  /** True after start() and until a produce request fails or times out for lack of Kafka; true again on the next ack. */
  isConnected(): boolean;
  /** Waits for queued records, then disconnects. */
  close(): Promise<void>;
}

/** Coalesced produce requests stay under this size unless one HTTP request alone is larger. */
const MAX_COALESCED_BYTES = 900 * 1024;
const ENCODING_HEADER = { [HEADER_ENCODING]: 'otlp_proto' };

interface Pending {
  records: readonly SpanRecord[];
  bytes: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

function toIngestError(error: unknown): IngestError {
  if (error instanceof IngestError) return error;
  const type = kafkaErrorType(error);
  if (type === 'MESSAGE_TOO_LARGE' || type === 'RECORD_LIST_TOO_LARGE') {
    return new IngestError('PAYLOAD_TOO_LARGE', `Kafka rejected the record as too large (${type})`, {
      cause: error,
    });
  }
  return new IngestError('KAFKA_UNAVAILABLE', `Kafka did not acknowledge: ${errorMessage(error)}`, {
    cause: error,
  });
}

export function createSpanPublisher(options: SpanPublisherOptions): SpanPublisher {
  const kafka = new Kafka(
    kafkaClientConfig(
      { clientId: options.clientId, brokers: options.brokers, logger: options.logger, level: 'info' },
      { connectionTimeout: 3_000, requestTimeout: 10_000 },
    ),
  );
  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    // Java-compatible murmur2 on the key (also silences kafkajs' partitioner-change warning).
    createPartitioner: Partitioners.DefaultPartitioner,
    // Bounded: the HTTP client retries after a 503 (kafkajs warns this may weaken exactly-once; a retried
    // OTLP export is at-least-once anyway). Unbounded retries would wedge the queue during an outage.
    retry: { initialRetryTime: 200, maxRetryTime: 2_000, retries: 5 },
  });

  const queue: Pending[] = [];
  let sending = false;
  let connected = false;
  let closed = false;
  let idle: Promise<void> = Promise.resolve();
  let markIdle: () => void = () => {};

  async function drainQueue(): Promise<void> {
    sending = true;
    idle = new Promise((resolve) => (markIdle = resolve));
    try {
      while (queue.length > 0) {
        // Take whole HTTP requests until the byte budget is used (always at least one).
        let bytes = 0;
        let take = 0;
        while (take < queue.length && (take === 0 || bytes + queue[take]!.bytes <= MAX_COALESCED_BYTES)) {
          bytes += queue[take]!.bytes;
          take++;
        }
        const batch = queue.splice(0, take);
        try {
          await producer.send({
            topic: options.topic,
            acks: -1,
            messages: batch.flatMap((pending) =>
              pending.records.map((record) => ({
                key: record.traceId,
                value: Buffer.from(record.value.buffer, record.value.byteOffset, record.value.byteLength),
                headers: ENCODING_HEADER,
              })),
            ),
          });
          connected = true;
          for (const pending of batch) pending.resolve();
        } catch (error) {
          const ingestError = toIngestError(error);
          if (ingestError.code === 'KAFKA_UNAVAILABLE') connected = false;
          for (const pending of batch) pending.reject(ingestError);
        }
      }
    } finally {
      sending = false;
      markIdle();
    }
  }

  return {
    async start() {
      const admin = kafka.admin();
      try {
        await producer.connect();
        await admin.connect();
        const created = await admin.createTopics({
          waitForLeaders: true,
          topics: [
            {
              topic: options.topic,
              numPartitions: options.topicPartitions,
              configEntries: [{ name: 'max.message.bytes', value: String(options.maxRecordBytes) }],
            },
            // The consumer dead-letters undecodable records here; created alongside so it always exists.
            {
              topic: dlqTopicFor(options.topic),
              numPartitions: 1,
              configEntries: [{ name: 'max.message.bytes', value: String(options.maxRecordBytes) }],
            },
          ],
        });
        if (created)
          options.logger.info(
            { topic: options.topic, partitions: options.topicPartitions },
            'created Kafka topic',
          );
        connected = true;
      } catch (error) {
        await producer.disconnect().catch(() => undefined);
        throw new IngestError(
          'KAFKA_UNAVAILABLE',
          `cannot reach Kafka at ${options.brokers.join(',')}: ${errorMessage(error)}`,
          {
            cause: error,
          },
        );
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    },

    publish(records, timeoutMs) {
      if (closed) return Promise.reject(new IngestError('KAFKA_UNAVAILABLE', 'the gateway is shutting down'));
      if (records.length === 0) return Promise.resolve();
      let bytes = 0;
      for (const record of records) bytes += record.value.byteLength;
      const acked = new Promise<void>((resolve, reject) => queue.push({ records, bytes, resolve, reject }));
      if (!sending) void drainQueue();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          // Kafka not acknowledging in time is unhealthy too; the next acknowledged send clears it.
          connected = false;
          reject(new IngestError('KAFKA_UNAVAILABLE', `Kafka did not acknowledge within ${timeoutMs} ms`));
        }, timeoutMs);
      });
      return Promise.race([acked, timedOut]).finally(() => clearTimeout(timer));
    },

    isConnected: () => connected,

    async close() {
      closed = true;
      await idle;
      connected = false;
      await producer.disconnect();
    },
  };
}
