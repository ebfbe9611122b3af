/**
 * Ingest throughput, in one run (`npm run bench:ingest`, ≤ 2 min):
 *   (a) raw consumption of the topic with kafkajs doing nothing,
 *   (b) raw insert of the same rows into the embedded engine (pre-decoded, pre-encoded, both tables),
 *   (c) the full consumer (decode + normalise + exactly-once inserts + commits) in its own process, so its
 *       peak RSS is the consumer's; (c0) the same consumer writing to a no-op sink (its own share),
 *   (d) gateway requests/s and spans/s, with freshness (gateway ack -> row visible) while (c)'s process
 *       consumes the gateway's topic.
 * Targets: (c) ≥ 50,000 spans/s and ≥ 0.6·min(a, b); peak RSS ≤ 300 MB; p99 freshness ≤ 5 s.
 * Uses KAFKA_BROKERS when set, else starts the project's local broker. BENCH_SPANS scales (a)-(c).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { openClickHouse } from '../../ingest/src/clickhouse/client.js';
import { clickHouseConfigFromEnv } from '../../ingest/src/clickhouse/config.js';
import { ClickHouseSpanWriter } from '../../ingest/src/clickhouse/insert-rows.js';
import { decodeRecord, type DecodedRecord } from '../../ingest/src/consumer/decode-record.js';
import { gatewayConfigFromEnv } from '../../ingest/src/gateway/config.js';
import { startGateway } from '../../ingest/src/gateway/start-gateway.js';
import { startLocalKafka, type LocalKafka } from '../../ingest/src/kafka/local-broker/local-broker.js';
import { silentLogger } from '../../ingest/src/log.js';
import { runMigrations } from '../../ingest/src/migrations/run-migrations.js';
import { TABLE_LLM_CALLS, TABLE_OTEL_TRACES } from '../../ingest/src/names.js';
import type { ChildMessage, MemorySample, ParentMessage } from './consumer-process.js';
import { makeMessages } from './llm-span-messages.js';

const TOTAL_SPANS = Number(process.env.BENCH_SPANS ?? 300_000);
const DISTINCT_MESSAGES = 60;
const PARTITIONS = 6;
const GATEWAY_SECONDS = 10;
const GATEWAY_CLIENTS = 8;
const CONSUMER_PROCESS = fileURLToPath(new URL('./consumer-process.ts', import.meta.url));
/** Node flags for the consumer processes, e.g. BENCH_CONSUMER_NODE_FLAGS='--max-old-space-size=128'. */
const CONSUMER_NODE_FLAGS = (process.env.BENCH_CONSUMER_NODE_FLAGS ?? '')
  .split(/\s+/)
  .filter((f) => f.length > 0);

// ---- helpers ------------------------------------------------------------------------------------------------
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const memoryLine = (m: MemorySample) =>
  `peak RSS ${m.peakRssMb} MB (VmHWM; RssAnon peak ${m.peakAnonMb} MB, RssFile peak ${m.peakFileMb} MB)`;

/** Forks the benchmark's consumer process; resolves messages in arrival order. */
function forkConsumer(args: string[]): {
  child: ChildProcess;
  next: <T extends ChildMessage['type']>(type: T) => Promise<Extract<ChildMessage, { type: T }>>;
} {
  const child = fork(CONSUMER_PROCESS, args, {
    execArgv: ['--conditions=source', '--import', 'tsx', ...CONSUMER_NODE_FLAGS],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const inbox: ChildMessage[] = [];
  const waiters: (() => void)[] = [];
  child.on('message', (message: ChildMessage) => {
    inbox.push(message);
    waiters.splice(0).forEach((wake) => wake());
  });
  let exited = false;
  child.on('exit', () => {
    exited = true;
    waiters.splice(0).forEach((wake) => wake());
  });
  async function next<T extends ChildMessage['type']>(type: T): Promise<Extract<ChildMessage, { type: T }>> {
    for (;;) {
      const index = inbox.findIndex((m) => m.type === type);
      if (index >= 0) return inbox.splice(index, 1)[0] as Extract<ChildMessage, { type: T }>;
      if (exited) throw new Error(`consumer process exited before sending '${type}'`);
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  }
  return { child, next };
}

async function main(): Promise<void> {
  console.log(`load average at start: ${load()} (${'2-core machine shared with other work'})`);
  let localKafka: LocalKafka | undefined;
  let brokers = process.env.KAFKA_BROKERS;
  if (!brokers) {
    localKafka = await startLocalKafka({});
    brokers = localKafka.brokers;
  }
  const kafka = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING, clientId: 'bench' });
  const admin = kafka.admin();
  await admin.connect();
  const run = randomBytes(3).toString('hex');
  const topic = `bench-spans-${run}`;
  const gwTopic = `bench-gateway-${run}`;
  const children: ChildProcess[] = [];

  try {
    // ---- data ----
    let t0 = performance.now();
    const distinct = await makeMessages(
      DISTINCT_MESSAGES,
      ['checkout', 'search', 'support-bot', 'summarizer'],
      Date.now(),
    );
    const spansPerRound = distinct.reduce((n, m) => n + m.spans, 0);
    const rounds = Math.max(1, Math.round(TOTAL_SPANS / spansPerRound));
    const totalSpans = spansPerRound * rounds;
    const totalMessages = DISTINCT_MESSAGES * rounds;
    const avgBytes = distinct.reduce((n, m) => n + m.body.byteLength, 0) / DISTINCT_MESSAGES;
    console.log(
      `data: ${fmt(totalMessages)} messages, ${fmt(totalSpans)} spans (${DISTINCT_MESSAGES} distinct OTLP protobuf requests of 100-500 spans, ` +
        `avg ${fmt(avgBytes / 1024)} KiB), ${PARTITIONS} partitions; generated in ${fmt(performance.now() - t0)} ms`,
    );
    await admin.createTopics({
      topics: [
        {
          topic,
          numPartitions: PARTITIONS,
          configEntries: [{ name: 'max.message.bytes', value: String(8 * 1024 * 1024) }],
        },
      ],
      waitForLeaders: true,
    });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    t0 = performance.now();
    for (let r = 0; r < rounds; r++) {
      await producer.send({
        topic,
        acks: -1,
        messages: distinct.map((m, i) => ({ key: `k${r}-${i}`, value: Buffer.from(m.body) })),
      });
    }
    await producer.disconnect();
    console.log(`produced in ${fmt(performance.now() - t0)} ms`);
    const spansBySize = new Map(distinct.map((m) => [m.body.byteLength, m.spans]));

    // ---- (a) raw consumption ----
    const rawConsumer = kafka.consumer({
      groupId: `bench-raw-${run}`,
      maxBytesPerPartition: 8 * 1024 * 1024,
      maxBytes: 64 * 1024 * 1024,
    });
    await rawConsumer.connect();
    await rawConsumer.subscribe({ topics: [topic], fromBeginning: true });
    let seen = 0;
    let rawSpans = 0;
    t0 = performance.now();
    await new Promise<void>((resolve) => {
      void rawConsumer.run({
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) rawSpans += spansBySize.get(m.value?.byteLength ?? 0) ?? 0;
          seen += batch.messages.length;
          if (seen >= totalMessages) resolve();
        },
      });
    });
    const rawSeconds = (performance.now() - t0) / 1000;
    await rawConsumer.disconnect();
    const a = rawSpans / rawSeconds;
    console.log(
      `(a) raw kafkajs consumption: ${fmt(a)} spans/s (${fmt(seen)} records in ${rawSeconds.toFixed(2)} s)`,
    );

    // ---- (b) raw insert ----
    const dataDir = mkdtempSync(join(tmpdir(), 'mw-bench-'));
    const chConfig = clickHouseConfigFromEnv({ MODELWATCH_DATA_DIR: dataDir });
    const clickhouse = await openClickHouse(chConfig);
    let b: number;
    try {
      await runMigrations(clickhouse, { schema: chConfig });
      const decoded = distinct
        .map((m) => decodeRecord(Buffer.from(m.body), undefined))
        .filter((d): d is DecodedRecord => d.kind === 'rows');
      const writer = new ClickHouseSpanWriter(clickhouse);
      const batchMessages = 40; // ≈ 12k spans per insert, like a consumer batch at this rate
      const jobs: number[] = [];
      for (let i = 0; i < totalMessages; i += batchMessages) jobs.push(i);
      let insertedSpans = 0;
      t0 = performance.now();
      await Promise.all(
        // The consumer keeps up to 2 inserts in flight (MODELWATCH_CONSUMER_MAX_CONCURRENT_INSERTS).
        Array.from({ length: 2 }, async () => {
          for (let job = jobs.shift(); job !== undefined; job = jobs.shift()) {
            const slice = Array.from(
              { length: Math.min(batchMessages, totalMessages - job) },
              (_, k) => decoded[(job + k) % decoded.length] as DecodedRecord,
            );
            await writer.writeEncoded(
              TABLE_OTEL_TRACES,
              slice.map((d) => d.traces),
              `bench-b:${job}:${TABLE_OTEL_TRACES}`,
            );
            await writer.writeEncoded(
              TABLE_LLM_CALLS,
              slice.map((d) => d.llmCalls),
              `bench-b:${job}:${TABLE_LLM_CALLS}`,
            );
            insertedSpans += slice.reduce((n, d) => n + d.traceCount, 0);
          }
        }),
      );
      const insertSeconds = (performance.now() - t0) / 1000;
      b = insertedSpans / insertSeconds;
      console.log(
        `(b) raw insert (pre-encoded JSONCompactEachRow via INSERT … FROM INFILE, otel_traces + llm_calls, 2 in flight): ` +
          `${fmt(b)} spans/s (${insertSeconds.toFixed(2)} s)`,
      );
    } finally {
      await clickhouse.close();
      rmSync(dataDir, { recursive: true, force: true });
    }

    // ---- (c0) consumer alone, no-op sink ----
    const sink = forkConsumer(['sink', brokers, topic, `bench-sink-${run}`]);
    children.push(sink.child);
    const c0 = await sink.next('consumed');
    console.log(
      `(c0) consumer with a no-op sink (own process): ${fmt(c0.spans / c0.seconds)} spans/s (${fmt(c0.spans)} spans in ${c0.seconds.toFixed(2)} s); ` +
        memoryLine(c0.memory),
    );

    // ---- (c) full consumer ----
    const full = forkConsumer(['full', brokers, topic, `bench-consumer-${run}`, gwTopic]);
    children.push(full.child);
    const consumed = await full.next('consumed');
    const c = consumed.spans / consumed.seconds;
    console.log(
      `(c) full consumer (own process, embedded engine): ${fmt(c)} spans/s (${fmt(consumed.spans)} spans, ${fmt(consumed.batches)} batches in ` +
        `${consumed.seconds.toFixed(2)} s, incl. group join); ratio c/min(a,b) = ${(c / Math.min(a, b)).toFixed(2)}; ${memoryLine(consumed.memory)}`,
    );

    // ---- (d) gateway + freshness ----
    const gateway = await startGateway(
      gatewayConfigFromEnv({
        KAFKA_BROKERS: brokers,
        MODELWATCH_TOPIC: gwTopic,
        MODELWATCH_GATEWAY_PORT: '0',
        MODELWATCH_LOG_LEVEL: 'silent',
      }),
      { logger: silentLogger },
    );
    await full.next('gateway-ready');
    const freshServices = Array.from({ length: 200 }, (_, i) => `fresh-${run}-${i}`);
    const probes = await makeMessages(freshServices.length, freshServices, Date.now());
    const gwBodies = distinct.slice(0, 20);
    let requests = 0;
    let gwSpans = 0;
    let failures = 0;
    let probeIndex = 0;
    let lastProbeMs = 0;
    const deadline = performance.now() + GATEWAY_SECONDS * 1000;
    t0 = performance.now();
    await Promise.all(
      Array.from({ length: GATEWAY_CLIENTS }, async (_, w) => {
        for (let i = w; performance.now() < deadline; i += GATEWAY_CLIENTS) {
          const isProbe = performance.now() - lastProbeMs > 50 && probeIndex < probes.length;
          const probe = isProbe ? probeIndex++ : -1;
          if (isProbe) lastProbeMs = performance.now();
          const message = isProbe
            ? (probes[probe] as { body: Uint8Array; spans: number })
            : (gwBodies[i % gwBodies.length] as { body: Uint8Array; spans: number });
          const response = await fetch(`${gateway.url}/v1/traces`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-protobuf' },
            body: message.body,
          });
          await response.arrayBuffer();
          if (response.status !== 200) {
            failures++;
            continue;
          }
          requests++;
          gwSpans += message.spans;
          if (isProbe)
            full.child.send({
              type: 'probe',
              service: freshServices[probe] as string,
              ackEpochMs: Date.now(),
            } satisfies ParentMessage);
        }
      }),
    );
    const gwSeconds = (performance.now() - t0) / 1000;
    await gateway.close();
    full.child.send({ type: 'finish' } satisfies ParentMessage);
    const fresh = await full.next('freshness');
    const freshness = [...fresh.ms].sort((x, y) => x - y);
    const p50 = quantile(freshness, 0.5);
    const p99 = quantile(freshness, 0.99);
    const gwRate = requests / gwSeconds;
    console.log(
      `(d) gateway: ${fmt(gwRate)} requests/s, ${fmt(gwSpans / gwSeconds)} spans/s (${GATEWAY_CLIENTS} concurrent clients, 100-500 spans per request, ` +
        `${failures} non-200; the consumer process runs alongside)`,
    );
    console.log(
      `    freshness (gateway ack -> row visible, ${freshness.length} probes, ${fresh.unseen} never seen): ` +
        `p50 ${fmt(p50)} ms, p99 ${fmt(p99)} ms, max ${fmt(freshness.at(-1) ?? NaN)} ms`,
    );
    console.log(`    consumer process over the whole run: ${memoryLine(fresh.memory)}`);

    const peakRss = Math.max(consumed.memory.peakRssMb, fresh.memory.peakRssMb);
    const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');
    console.log(`load average at end: ${load()}`);
    console.log('targets:');
    console.log(`  ${verdict(c >= 50_000)}  (c) ≥ 50,000 spans/s: ${fmt(c)}`);
    console.log(
      `  ${verdict(c >= 0.6 * Math.min(a, b))}  (c) ≥ 0.6 × min(a, b) = ${fmt(0.6 * Math.min(a, b))}: ratio ${(c / Math.min(a, b)).toFixed(2)}`,
    );
    console.log(
      `  ${verdict(peakRss <= 300)}  consumer peak RSS ≤ 300 MB: ${peakRss} MB ` +
        `(no-op sink: ${c0.memory.peakRssMb} MB; with the engine, RssFile ${fresh.memory.peakFileMb} MB is libchdb.so's mapped code)`,
    );
    console.log(`  ${verdict(p99 <= 5000 && fresh.unseen === 0)}  p99 freshness ≤ 5 s: ${fmt(p99)} ms`);
    console.log(`  info  gateway: ${fmt(gwRate)} requests/s, ${fmt(gwSpans / gwSeconds)} spans/s`);
  } finally {
    // Let consumer processes finish their own clean-up (engine close, data folder removal) before killing.
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        const timer = setTimeout(() => child.kill(), 15_000);
        await exited;
        clearTimeout(timer);
      }),
    );
    await admin.deleteTopics({ topics: [topic, gwTopic] }).catch(() => undefined);
    await admin.disconnect();
    await localKafka?.stop({ removeDataDir: true });
  }
}

await main();
