// The local broker is the Kafka every integration test runs against, so this proves two things:
// kafkajs 2.2.4 (the pipeline's client) works against the Kafka version pom.xml pins — topics, idempotent
// produce with acks=all, consumer groups and offset commits — and startLocalKafka's own lifecycle:
// stop, restart on the same ports and data dir with messages kept, and no orphan JVM when Node is killed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, Partitioners, type Consumer, type KafkaMessage } from 'kafkajs';
import { startLocalKafka, type LocalKafka } from '../../../ingest/src/kafka/local-broker/local-broker.js';
import { LocalKafkaError } from '../../../ingest/src/kafka/local-broker/local-kafka-error.js';

const PARTITIONS = 3;

function kafkaClient(brokers: string, options: { retries?: number } = {}): Kafka {
  return new Kafka({
    clientId: 'local-broker-test',
    brokers: [brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2_000,
    retry: { retries: options.retries ?? 5, initialRetryTime: 100 },
  });
}

const uniqueName = (prefix: string): string => `${prefix}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;

/**
 * Creates a topic and waits until every partition has a leader. Not `waitForLeaders: true`: on KRaft the
 * broker's metadata can lag the controller for a moment, answering UNKNOWN_TOPIC_OR_PARTITION, which
 * kafkajs 2.2.4 does not retry there (it only retries LEADER_NOT_AVAILABLE; tulios/kafkajs#1563).
 */
async function createTopic(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    assert.equal(
      await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: false }),
      true,
    );
    for (let attempt = 0; ; attempt += 1) {
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
      const partitions = metadata?.topics[0]?.partitions ?? [];
      if (partitions.length === PARTITIONS && partitions.every((p) => p.leader >= 0)) return;
      if (attempt >= 100) throw new Error(`topic ${topic} has no leaders after 10 s`);
      await sleep(100);
    }
  } finally {
    await admin.disconnect();
  }
}

/** The pipeline's producer settings: idempotent, one request in flight, acks from all in-sync replicas. */
async function produce(kafka: Kafka, topic: string, values: string[]): Promise<void> {
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  try {
    await producer.send({
      topic,
      acks: -1,
      messages: values.map((value) => ({ key: `key-${value}`, value })),
    });
  } finally {
    await producer.disconnect();
  }
}

/**
 * Joins `groupId`, reads until `count` messages arrived, committing each offset by hand (autoCommit off)
 * so the test sees commits work rather than trusting kafkajs' background commit.
 */
async function consume(
  kafka: Kafka,
  options: { groupId: string; topic: string; count: number },
): Promise<KafkaMessage[]> {
  const consumer: Consumer = kafka.consumer({
    groupId: options.groupId,
    sessionTimeout: 10_000,
    heartbeatInterval: 500,
    maxWaitTimeInMs: 100,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: options.topic, fromBeginning: true });
    const received: KafkaMessage[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`got ${received.length}/${options.count} messages in 30 s`)),
        30_000,
      );
      void consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ topic, partition, message }) => {
            received.push(message);
            await consumer.commitOffsets([
              { topic, partition, offset: (BigInt(message.offset) + 1n).toString() },
            ]);
            if (received.length >= options.count) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
    return received;
  } finally {
    await consumer.disconnect();
  }
}

const values = (messages: KafkaMessage[]): string[] => messages.map((m) => m.value?.toString() ?? '').sort();

describe('kafkajs 2.2.4 against the local broker', { timeout: 120_000 }, () => {
  // The broker `npm test` started (KAFKA_BROKERS); a private one when this file runs on its own.
  let own: LocalKafka | undefined;
  let kafka: Kafka;

  before(async () => {
    let brokers = process.env.KAFKA_BROKERS;
    if (!brokers) {
      own = await startLocalKafka();
      brokers = own.brokers;
    }
    kafka = kafkaClient(brokers);
  });
  after(async () => own?.stop({ removeDataDir: true }));

  test('creates a 3-partition topic, produces idempotently with acks=all, consumes and commits in a group', async () => {
    const topic = uniqueName('local-broker-roundtrip');
    const groupId = uniqueName('local-broker-group');
    await createTopic(kafka, topic);
    const sent = Array.from({ length: 30 }, (_, i) => `message-${String(i).padStart(2, '0')}`);
    await produce(kafka, topic, sent);

    const admin = kafka.admin();
    await admin.connect();
    try {
      const highWatermarks = await admin.fetchTopicOffsets(topic);
      assert.equal(highWatermarks.length, PARTITIONS);
      assert.ok(
        highWatermarks.every((p) => Number(p.high) > 0),
        'keys spread over all 3 partitions',
      );

      assert.deepEqual(values(await consume(kafka, { groupId, topic, count: sent.length })), sent);

      // Committed offsets are the next offset to read, i.e. each partition's high watermark.
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const byPartition = (list: { partition: number; offset: string }[]) =>
        Object.fromEntries(list.map((p) => [p.partition, p.offset]));
      assert.deepEqual(byPartition(committed?.partitions ?? []), byPartition(highWatermarks));

      // A new member of the same group resumes after the commits: it sees only what came later.
      await produce(kafka, topic, ['after-commit']);
      assert.deepEqual(values(await consume(kafka, { groupId, topic, count: 1 })), ['after-commit']);
    } finally {
      await admin.disconnect();
    }
  });
});

describe('startLocalKafka', { timeout: 120_000 }, () => {
  let broker: LocalKafka | undefined;
  after(async () => broker?.stop({ removeDataDir: true }));

  test('stops, refuses clients while down, and restarts on the same ports and data with messages kept', async () => {
    broker = await startLocalKafka();
    const first = broker;
    assert.match(first.brokers, /^127\.0\.0\.1:\d+$/);
    assert.equal(first.brokers, `127.0.0.1:${first.port}`);
    assert.notEqual(first.port, first.controllerPort);
    assert.doesNotThrow(() => process.kill(first.pid, 0), 'broker JVM is running');

    const topic = uniqueName('local-broker-restart');
    await createTopic(kafkaClient(first.brokers), topic);
    const sent = ['before-restart-1', 'before-restart-2', 'before-restart-3'];
    await produce(kafkaClient(first.brokers), topic, sent);

    await first.stop();
    assert.throws(() => process.kill(first.pid, 0), 'broker JVM is gone after stop()');
    // One retry, not zero: kafkajs refuses an idempotent producer without retries, which would also reject.
    await assert.rejects(
      produce(kafkaClient(first.brokers, { retries: 1 }), topic, ['while-down']),
      /ECONNREFUSED|Connection error/,
      'producing fails while stopped',
    );

    broker = await startLocalKafka({
      dataDir: first.dataDir,
      port: first.port,
      controllerPort: first.controllerPort,
    });
    assert.equal(broker.brokers, first.brokers);
    assert.notEqual(broker.pid, first.pid);
    assert.deepEqual(
      values(
        await consume(kafkaClient(broker.brokers), { groupId: uniqueName('restart-group'), topic, count: 3 }),
      ),
      sent,
    );
  });

  test('refuses a port that is already taken, naming it', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const busyPort = (holder.address() as AddressInfo).port;
    try {
      const started = startLocalKafka({ port: busyPort });
      // Never leave a broker behind if the check regresses and the start succeeds.
      started.then(
        (kafka) => kafka.stop({ removeDataDir: true }),
        () => {},
      );
      await assert.rejects(started, (error: unknown) => {
        assert.ok(error instanceof LocalKafkaError);
        assert.equal(error.code, 'PORT_IN_USE');
        assert.match(error.message, new RegExp(String(busyPort)));
        return true;
      });
    } finally {
      holder.close();
    }
  });

  test('refuses a data dir another broker holds, before touching it', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'local-broker-claimed-'));
    try {
      // As a starting broker leaves it: the pid of a live process.
      await writeFile(join(dataDir, 'broker.pid'), String(process.pid));
      await assert.rejects(startLocalKafka({ dataDir }), (error: unknown) => {
        assert.ok(error instanceof LocalKafkaError);
        assert.equal(error.code, 'DATA_DIR_IN_USE');
        return true;
      });
      assert.equal(existsSync(join(dataDir, 'kafka-logs', 'meta.properties')), false, 'not formatted');
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('the broker dies with its Node parent, even on SIGKILL', async () => {
    const moduleUrl = new URL('../../../ingest/src/kafka/local-broker/local-broker.ts', import.meta.url).href;
    const script = `
      const { startLocalKafka } = await import(${JSON.stringify(moduleUrl)});
      const kafka = await startLocalKafka();
      console.log(JSON.stringify({ pid: kafka.pid, dataDir: kafka.dataDir }));
      setInterval(() => {}, 60_000);
    `;
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('../../..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      parent.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0] ?? '');
      });
      parent.once('exit', (code) => reject(new Error(`parent exited early with code ${code}`)));
    });
    const { pid, dataDir } = JSON.parse(line) as { pid: number; dataDir: string };
    try {
      assert.doesNotThrow(() => process.kill(pid, 0), 'broker JVM is running');

      parent.kill('SIGKILL');
      const deadline = Date.now() + 15_000;
      let alive = true;
      while (alive && Date.now() < deadline) {
        await sleep(250);
        try {
          process.kill(pid, 0);
        } catch {
          alive = false;
        }
      }
      assert.equal(alive, false, `broker JVM ${pid} outlived its SIGKILLed parent`);
    } finally {
      parent.kill('SIGKILL');
      // The killed parent could not clean up its temporary data dir (nor, on failure, its JVM).
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone, as expected
      }
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
