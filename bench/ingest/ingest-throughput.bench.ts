/**
 * Ingest throughput, in one run (`npm run bench:ingest`, ≤ 2 min):
 *   (a) raw consumption of the topic with kafkajs doing nothing,
 *   (b) raw insert of the same rows into the embedded engine (pre-decoded, pre-encoded),
 *   (c) the full consumer (decode + normalise + exactly-once inserts + commits),
 *   (d) gateway requests/s, with p99 freshness (gateway ack -> row visible) while a consumer runs.
 * Targets: (c) ≥ 50,000 spans/s and ≥ 0.6·min(a, b); peak RSS ≤ 300 MB; p99 freshness ≤ 5 s.
 * Uses KAFKA_BROKERS when set, else starts the project's local broker. BENCH_SPANS scales (a)-(c).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { openClickHouse } from '../../ingest/src/clickhouse/client.js';
import { clickHouseConfigFromEnv } from '../../ingest/src/clickhouse/config.js';
import { ClickHouseSpanWriter } from '../../ingest/src/clickhouse/insert-rows.js';
import { consumerConfigFromEnv } from '../../ingest/src/consumer/config.js';
import { decodeRecord, type DecodedRecord } from '../../ingest/src/consumer/decode-record.js';
import { startConsumer } from '../../ingest/src/consumer/run-consumer.js';
import { gatewayConfigFromEnv } from '../../ingest/src/gateway/config.js';
import { startGateway } from '../../ingest/src/gateway/start-gateway.js';
import { startLocalKafka, type LocalKafka } from '../../ingest/src/kafka/local-broker/local-broker.js';
import { silentLogger } from '../../ingest/src/log.js';
import { runMigrations } from '../../ingest/src/migrations/run-migrations.js';
import { TABLE_LLM_CALLS, TABLE_OTEL_TRACES } from '../../ingest/src/names.js';

const TOTAL_SPANS = Number(process.env.BENCH_SPANS ?? 300_000);
const DISTINCT_MESSAGES = 60;
const PARTITIONS = 6;
const GATEWAY_SECONDS = 10;

// ---- peak RSS ---------------------------------------------------------------------------------------------
let peakRssBytes = 0;
const rssSampler = setInterval(() => (peakRssBytes = Math.max(peakRssBytes, process.memoryUsage().rss)), 50);
function vmHwmMb(): number | undefined {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return match ? Math.round(Number(match[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

// ---- realistic LLM spans: 100-500 per message, ~10 traces per message (a Collector batch) ----------------
const MODELS = [
  ['openai', 'gpt-4o', 'gpt-4o-2024-08-06'],
  ['openai', 'gpt-4o-mini', 'gpt-4o-mini-2024-07-18'],
  ['anthropic', 'claude-sonnet-4-5', 'claude-sonnet-4-5-20250929'],
  ['anthropic', 'claude-3-5-haiku-20241022', 'claude-3-5-haiku-20241022'],
  ['gcp.gemini', 'gemini-2.5-flash', 'gemini-2.5-flash'],
  ['aws.bedrock', 'us.anthropic.claude-sonnet-4-20250514-v1:0', 'us.anthropic.claude-sonnet-4-20250514-v1:0'],
] as const;
const FAILURES = [
  ['rate_limited', 'provider', '429'],
  ['overloaded', 'provider', '529'],
  ['timeout', 'network', '0'],
  ['bad_request', 'client', '400'],
] as const;

async function makeMessages(count: number, services: string[], startMs: number): Promise<{ body: Uint8Array; spans: number }[]> {
  const messages: { body: Uint8Array; spans: number }[] = [];
  let n = 0;
  for (let m = 0; m < count; m++) {
    const exporter = new InMemorySpanExporter();
    const service = services[m % services.length] as string;
    const provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': service, 'deployment.environment.name': 'prod', 'service.version': '1.4.2' }),
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    const tracer = provider.getTracer('@modelwatch/instrumentation', '0.1.0');
    const spanCount = 100 + ((m * 97) % 401);
    const tracesInMessage = 10;
    for (let t = 0; t < tracesInMessage; t++) {
      const root = tracer.startSpan('POST /v1/answer', { kind: SpanKind.SERVER, startTime: startMs });
      const ctx = trace.setSpan(context.active(), root);
      for (let s = 1; s < spanCount / tracesInMessage; s++) {
        const [prov, requestModel, responseModel] = MODELS[n % MODELS.length] as (typeof MODELS)[number];
        const failed = n % 23 === 0 ? FAILURES[n % FAILURES.length] : undefined;
        const span = tracer.startSpan(
          `chat ${requestModel}`,
          {
            kind: SpanKind.CLIENT,
            startTime: startMs + s,
            attributes: {
              'gen_ai.operation.name': 'chat',
              'gen_ai.provider.name': prov,
              'gen_ai.request.model': requestModel,
              'gen_ai.response.model': responseModel,
              'gen_ai.request.max_tokens': 1024,
              'gen_ai.request.temperature': 0.2,
              'gen_ai.usage.input_tokens': 200 + (n % 3000),
              'gen_ai.usage.output_tokens': 50 + (n % 800),
              'gen_ai.response.finish_reasons': [n % 17 === 0 ? 'length' : 'stop'],
              'gen_ai.response.id': `resp_${n.toString(36)}`,
              'server.address': 'api.example.com',
              'server.port': 443,
              'modelwatch.stream': n % 3 === 0,
              ...(n % 3 === 0 ? { 'modelwatch.time_to_first_token_ms': 150 + (n % 700) } : {}),
              ...(failed
                ? {
                    'error.type': failed[0],
                    'modelwatch.failure.class': failed[0],
                    'modelwatch.failure.origin': failed[1],
                    'http.response.status_code': Number(failed[2]),
                  }
                : { 'http.response.status_code': 200 }),
            },
          },
          ctx,
        );
        span.end(startMs + s + 300 + (n % 5000));
        n++;
      }
      root.end(startMs + 6000);
    }
    await provider.forceFlush();
    const spans: ReadableSpan[] = exporter.getFinishedSpans();
    const body = ProtobufTraceSerializer.serializeRequest(spans);
    if (!body) throw new Error('serializer returned nothing');
    messages.push({ body, spans: spans.length });
    await provider.shutdown();
  }
  return messages;
}

// ---- helpers ------------------------------------------------------------------------------------------------
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const rssMb = () => Math.round(process.memoryUsage().rss / 1024 / 1024);
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

async function caughtUp(admin: Admin, topic: string, groupId: string): Promise<boolean> {
  const [high, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
  const byPartition = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  return high.every((p) => (byPartition.get(p.partition) ?? -1) >= Number(p.high));
}

async function main(): Promise<void> {
  let localKafka: LocalKafka | undefined;
  let brokers = process.env.KAFKA_BROKERS;
  if (!brokers) {
    localKafka = await startLocalKafka({});
    brokers = localKafka.brokers;
  }
  const kafka = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING, clientId: 'bench' });
  const admin = kafka.admin();
  await admin.connect();
  const dataDir = mkdtempSync(join(tmpdir(), 'mw-bench-'));
  const chConfig = clickHouseConfigFromEnv({ MODELWATCH_DATA_DIR: dataDir });
  const clickhouse = await openClickHouse(chConfig);
  await runMigrations(clickhouse, { schema: chConfig });
  const run = randomBytes(3).toString('hex');
  const topic = `bench-spans-${run}`;

  try {
    // ---- data ----
    let t0 = performance.now();
    const distinct = await makeMessages(DISTINCT_MESSAGES, ['checkout', 'search', 'support-bot', 'summarizer'], Date.now());
    const spansPerRound = distinct.reduce((n, m) => n + m.spans, 0);
    const rounds = Math.max(1, Math.round(TOTAL_SPANS / spansPerRound));
    const totalSpans = spansPerRound * rounds;
    const totalMessages = DISTINCT_MESSAGES * rounds;
    const avgBytes = distinct.reduce((n, m) => n + m.body.byteLength, 0) / DISTINCT_MESSAGES;
    console.log(
      `data: ${fmt(totalMessages)} messages, ${fmt(totalSpans)} spans (${DISTINCT_MESSAGES} distinct OTLP protobuf requests of 100-500 spans, ` +
        `avg ${fmt(avgBytes / 1024)} KiB), ${PARTITIONS} partitions; generated in ${fmt(performance.now() - t0)} ms`,
    );
    await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS, configEntries: [{ name: 'max.message.bytes', value: String(8 * 1024 * 1024) }] }], waitForLeaders: true });
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
    const rawConsumer = kafka.consumer({ groupId: `bench-raw-${run}`, maxBytesPerPartition: 8 * 1024 * 1024, maxBytes: 64 * 1024 * 1024 });
    await rawConsumer.connect();
    await rawConsumer.subscribe({ topics: [topic], fromBeginning: true });
    let seen = 0;
    let rawSpans = 0;
    t0 = performance.now();
    const rawDone = new Promise<void>((resolve) => {
      void rawConsumer.run({
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) rawSpans += spansBySize.get(m.value?.byteLength ?? 0) ?? 0;
          seen += batch.messages.length;
          if (seen >= totalMessages) resolve();
        },
      });
    });
    await rawDone;
    const rawSeconds = (performance.now() - t0) / 1000;
    await rawConsumer.disconnect();
    const a = rawSpans / rawSeconds;
    console.log(`    RSS after (a): ${rssMb()} MB`);
    console.log(`(a) raw kafkajs consumption: ${fmt(a)} spans/s (${fmt(seen)} records in ${rawSeconds.toFixed(2)} s)`);

    // ---- (b) raw insert ----
    const decoded = distinct.map((m) => decodeRecord(Buffer.from(m.body), undefined)).filter((d): d is DecodedRecord => d.kind === 'rows');
    const writer = new ClickHouseSpanWriter(clickhouse);
    const batchMessages = 40; // ≈ 12k spans per insert, like a consumer batch at this rate
    const jobs: number[] = [];
    for (let i = 0; i < totalMessages; i += batchMessages) jobs.push(i);
    let insertedSpans = 0;
    t0 = performance.now();
    const workersCount = 2; // the consumer writes partitions concurrently; 2 cores here
    await Promise.all(
      Array.from({ length: workersCount }, async () => {
        for (let job = jobs.shift(); job !== undefined; job = jobs.shift()) {
          const slice = Array.from({ length: Math.min(batchMessages, totalMessages - job) }, (_, k) => decoded[(job + k) % decoded.length] as DecodedRecord);
          await writer.writeEncoded(TABLE_OTEL_TRACES, slice.map((d) => d.traces), `bench-b:${job}:${TABLE_OTEL_TRACES}`);
          await writer.writeEncoded(TABLE_LLM_CALLS, slice.map((d) => d.llmCalls), `bench-b:${job}:${TABLE_LLM_CALLS}`);
          insertedSpans += slice.reduce((n, d) => n + d.traceCount, 0);
        }
      }),
    );
    const insertSeconds = (performance.now() - t0) / 1000;
    const b = insertedSpans / insertSeconds;
    console.log(`(b) raw insert (pre-encoded JSONCompactEachRow, otel_traces + llm_calls, 2 concurrent): ${fmt(b)} spans/s (${insertSeconds.toFixed(2)} s)`);

    console.log(`    RSS after (b): ${rssMb()} MB (the embedded engine keeps its caches)`);
    // ---- (c) full consumer ----
    const groupId = `bench-consumer-${run}`;
    const config = consumerConfigFromEnv({ KAFKA_BROKERS: brokers, MODELWATCH_TOPIC: topic, MODELWATCH_CONSUMER_GROUP: groupId, MODELWATCH_CONSUMER_METRICS_PORT: 'off' });
    peakRssBytes = process.memoryUsage().rss;
    t0 = performance.now();
    const consumer = await startConsumer(config, { clickhouse, logger: silentLogger });
    while (!(await caughtUp(admin, topic, groupId))) await new Promise((resolve) => setTimeout(resolve, 50));
    const consumerSeconds = (performance.now() - t0) / 1000;
    const stats = consumer.stats();
    await consumer.stop();
    const c = stats.totals.tracesWritten / consumerSeconds;
    const rssDuringConsumerMb = Math.round(peakRssBytes / 1024 / 1024);
    console.log(
      `(c) full consumer: ${fmt(c)} spans/s (${fmt(stats.totals.tracesWritten)} spans, ${fmt(stats.totals.batchesWritten)} batches in ${consumerSeconds.toFixed(2)} s, incl. group join); ` +
        `ratio c/min(a,b) = ${(c / Math.min(a, b)).toFixed(2)}; peak RSS ${rssDuringConsumerMb} MB`,
    );

    // ---- (d) gateway + freshness ----
    const gwTopic = `bench-gateway-${run}`;
    const gateway = await startGateway(
      gatewayConfigFromEnv({ KAFKA_BROKERS: brokers, MODELWATCH_TOPIC: gwTopic, MODELWATCH_GATEWAY_PORT: '0', MODELWATCH_LOG_LEVEL: 'silent' }),
      { logger: silentLogger },
    );
    const gwConsumer = await startConsumer(
      consumerConfigFromEnv({ KAFKA_BROKERS: brokers, MODELWATCH_TOPIC: gwTopic, MODELWATCH_CONSUMER_GROUP: `bench-gw-${run}`, MODELWATCH_CONSUMER_METRICS_PORT: 'off' }),
      { clickhouse, logger: silentLogger },
    );
    const freshServices = Array.from({ length: 200 }, (_, i) => `fresh-${run}-${i}`);
    const probes = await makeMessages(freshServices.length, freshServices, Date.now());
    const gwBodies = distinct.slice(0, 20).map((m) => m.body);
    let requests = 0;
    let gwSpans = 0;
    let failures = 0;
    const acks: { service: string; ackMs: number }[] = [];
    const deadline = performance.now() + GATEWAY_SECONDS * 1000;
    t0 = performance.now();
    let probeIndex = 0;
    let lastProbeMs = 0;
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (let i = w; performance.now() < deadline; i += 8) {
          const isProbe = performance.now() - lastProbeMs > 50 && probeIndex < probes.length;
          const probe = isProbe ? probeIndex++ : -1;
          if (isProbe) lastProbeMs = performance.now();
          const body = isProbe ? (probes[probe] as { body: Uint8Array }).body : (gwBodies[i % gwBodies.length] as Uint8Array);
          const response = await fetch(`${gateway.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body });
          await response.arrayBuffer();
          if (response.status !== 200) {
            failures++;
            continue;
          }
          requests++;
          gwSpans += isProbe ? (probes[probe] as { spans: number }).spans : (distinct[i % gwBodies.length] as { spans: number }).spans;
          if (isProbe) acks.push({ service: freshServices[probe] as string, ackMs: performance.now() });
        }
      }),
    );
    const gwSeconds = (performance.now() - t0) / 1000;
    console.log(`(d) gateway: ${fmt(requests / gwSeconds)} requests/s, ${fmt(gwSpans / gwSeconds)} spans/s (8 concurrent clients, ${failures} non-200)`);
    // Freshness: each probe request has its own service name; poll until its rows are visible.
    const freshness: number[] = [];
    const pending = new Map(acks.map((a) => [a.service, a.ackMs]));
    const pollDeadline = performance.now() + 30_000;
    while (pending.size > 0 && performance.now() < pollDeadline) {
      const result = await clickhouse.client.query({
        query: `SELECT DISTINCT ServiceName FROM otel_traces WHERE ServiceName IN {s:Array(String)}`,
        query_params: { s: [...pending.keys()] },
        format: 'JSONEachRow',
      });
      const nowMs = performance.now();
      for (const row of await result.json<{ ServiceName: string }>()) {
        const ackMs = pending.get(row.ServiceName);
        if (ackMs !== undefined) {
          freshness.push(nowMs - ackMs);
          pending.delete(row.ServiceName);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    freshness.sort((x, y) => x - y);
    console.log(
      `    freshness (gateway ack -> row visible, ${freshness.length} probes, ${pending.size} never seen): ` +
        `p50 ${fmt(quantile(freshness, 0.5))} ms, p99 ${fmt(quantile(freshness, 0.99))} ms, max ${fmt(freshness.at(-1) ?? NaN)} ms`,
    );
    await gwConsumer.stop();
    await gateway.close();

    clearInterval(rssSampler);
    const hwm = vmHwmMb();
    console.log(`peak RSS over the whole run: ${hwm ?? Math.round(peakRssBytes / 1024 / 1024)} MB (VmHWM)`);
    const verdict = (ok: boolean) => (ok ? 'ok' : 'MISSED');
    console.log(
      `targets: (c) ≥ 50,000 spans/s: ${verdict(c >= 50_000)}; c ≥ 0.6·min(a,b): ${verdict(c >= 0.6 * Math.min(a, b))}; ` +
        `RSS ≤ 300 MB: ${verdict((hwm ?? rssDuringConsumerMb) <= 300)}; p99 freshness ≤ 5 s: ${verdict(quantile(freshness, 0.99) <= 5000)}`,
    );
  } finally {
    clearInterval(rssSampler);
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
    await clickhouse.close();
    rmSync(dataDir, { recursive: true, force: true });
    await localKafka?.stop({ removeDataDir: true });
  }
}

await main();
