/**
 * Shared by the gateway integration tests: a real kafkajs consumer that records everything on a topic,
 * and small HTTP helpers. Kafka comes from KAFKA_BROKERS (started by scripts/run-tests.mjs).
 */
import { Kafka, logLevel, type Consumer, type KafkaMessage } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';

export const uniqueName = (prefix: string): string =>
  `${prefix}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;

export function requireBrokers(): string {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers)
    throw new Error('KAFKA_BROKERS is not set: run through `node scripts/run-tests.mjs`, which starts Kafka');
  return brokers;
}

export interface RecordedMessage {
  partition: number;
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

export interface TopicRecorder {
  messages: RecordedMessage[];
  /** Resolves once `predicate` holds for the recorded messages, or throws after `timeoutMs`. */
  waitFor(
    predicate: (messages: RecordedMessage[]) => boolean,
    timeoutMs?: number,
  ): Promise<RecordedMessage[]>;
  stop(): Promise<void>;
}

function toRecorded(partition: number, message: KafkaMessage): RecordedMessage {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    if (value !== undefined) headers[name] = Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
  }
  return {
    partition,
    key: message.key?.toString('utf8') ?? '',
    value: message.value ?? Buffer.alloc(0),
    headers,
  };
}

/** Subscribes from the beginning of `topic` (which must exist) and records every message. */
export async function recordTopic(brokers: string, topic: string): Promise<TopicRecorder> {
  const kafka = new Kafka({
    clientId: 'gateway-test-reader',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
  });
  const consumer: Consumer = kafka.consumer({
    groupId: uniqueName('gateway-test'),
    maxWaitTimeInMs: 100,
    heartbeatInterval: 500,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const messages: RecordedMessage[] = [];
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      messages.push(toRecorded(partition, message));
    },
  });
  return {
    messages,
    async waitFor(predicate, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(messages)) {
        if (Date.now() > deadline)
          throw new Error(`condition not met within ${timeoutMs} ms; ${messages.length} messages recorded`);
        await sleep(50);
      }
      return messages;
    },
    stop: () => consumer.disconnect(),
  };
}
