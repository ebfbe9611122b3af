/**
 * Ingest throughput, in one run (`npm run bench:ingest`, ≤ 2 min):
 *   (a) raw consumption of the topic with kafkajs doing nothing,
 *   (b) raw insert of the same rows into the embedded engine (pre-decoded, pre-encoded, both tables, with the
 *       consumer's concurrency: 2 inserts in flight, each on its own engine connection),
 *   (c) the full consumer (decode + normalise + exactly-once inserts + commits) in its own process, so its
 *       peak RSS is the consumer's; (c0) the same consumer writing to a no-op sink (its own share),
 *   (d) the gateway's maximum requests/s and spans/s (8 clients posting back to back) while (c)'s process
 *       consumes the gateway's topic; the freshness probes taken meanwhile measure the backlog of an
 *       overloaded pipeline (they grow with how much faster the gateway is than the consumer), so they are
 *       printed as information only, labelled "under saturation",
 *   (e) freshness (gateway ack -> row visible) at a sustained rate: the gateway paced at a constant span rate
 *       below (c)'s capacity, with the same probes, split into before and during the insert.
 * Targets: (c) ≥ 50,000 spans/s and ≥ 0.6·min(a, b); peak RSS ≤ 300 MB; p99 freshness ≤ 5 s, from (e).
 * Uses KAFKA_BROKERS when set, else starts the project's local broker. BENCH_SPANS scales (a)-(c).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { openClickHouse, type ClickHouseClient } from '../../ingest/src/clickhouse/client.js';
import { clickHouseConfigFromEnv } from '../../ingest/src/clickhouse/config.js';
import { openEngineSessions } from '../../ingest/src/clickhouse/engine-sessions.js';
import { ClickHouseSpanWriter } from '../../ingest/src/clickhouse/insert-rows.js';
import { decodeRecord, type DecodedRecord } from '../../ingest/src/consumer/decode-record.js';
import { gatewayConfigFromEnv } from '../../ingest/src/gateway/config.js';
import { startGateway } from '../../ingest/src/gateway/start-gateway.js';
import { startLocalKafka, type LocalKafka } from '../../ingest/src/kafka/local-broker/local-broker.js';
import { silentLogger } from '../../ingest/src/log.js';
import { runMigrations } from '../../ingest/src/migrations/run-migrations.js';
import { TABLE_LLM_CALLS, TABLE_OTEL_TRACES } from '../../ingest/src/names.js';
import type {
  ChildMessage,
  MemorySample,
  ParentMessage,
  ProbeTiming,
  TimelineSample,
} from './consumer-process.js';
import { paceGateway, saturateGateway, type GatewayLoadResult } from './gateway-load.js';
import { makeMessages } from './llm-span-messages.js';

const TOTAL_SPANS = Number(process.env.BENCH_SPANS ?? 300_000);
const DISTINCT_MESSAGES = 60;
const PARTITIONS = 6;
const GATEWAY_SECONDS = 10;
const GATEWAY_CLIENTS = 8;
/**
 * (e) offers this fraction of (c)'s measured spans/s. Freshness is a property of a pipeline running below
 * its capacity: near 100% every burst queues behind the last (waiting time grows like ρ/(1−ρ)), and (c) is
 * an optimistic capacity for (e) — during (c) the parent is idle, during (e) the gateway and the load
 * generator share the same 2 cores with the consumer. Half of capacity is also the headroom a deployment
 * would be sized with, so it is the rate whose freshness a user would see.
 */
const PACED_FRACTION_OF_C = 0.5;
const PACED_SECONDS = 20;
/** Unanswered requests allowed at once in (e); above it sending falls behind schedule (printed as "late"). */
const PACED_MAX_IN_FLIGHT = 16;
/** A probe replaces one request this often; (d) runs half as long, so it probes twice as often. */
const SATURATED_PROBE_EVERY_MS = 50;
const PACED_PROBE_EVERY_MS = 100;
const CONSUMER_PROCESS = fileURLToPath(new URL('./consumer-process.ts', import.meta.url));
/** Node flags for the consumer processes, e.g. BENCH_CONSUMER_NODE_FLAGS='--max-old-space-size=128'. */
const CONSUMER_NODE_FLAGS = (process.env.BENCH_CONSUMER_NODE_FLAGS ?? '')
  .split(/\s+/)
  .filter((f) => f.length > 0);

// ---- helpers ------------------------------------------------------------------------------------------------
/** Waits until the engine runs no background merge (at most 20 s). */
async function mergesSettled(client: ClickHouseClient): Promise<void> {
  for (let waited = 0; waited < 20_000; waited += 100) {
    const result = await client.query({
      query: 'SELECT count() AS n FROM system.merges',
      format: 'JSONEachRow',
    });
    const [row] = await result.json<{ n: string }>();
    if (Number(row?.n ?? 0) === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const msQuantiles = (values: number[]) => {
  const sorted = [...values].sort((x, y) => x - y);
  return `p50 ${fmt(quantile(sorted, 0.5))} ms, p99 ${fmt(quantile(sorted, 0.99))} ms, max ${fmt(sorted.at(-1) ?? NaN)} ms`;
};
const p99VisibleMs = (probes: ProbeTiming[]) =>
  quantile(
    probes.map((p) => p.visibleMs).sort((x, y) => x - y),
    0.99,
  );
const memoryLine = (m: MemorySample) =>
  `peak RSS ${m.peakRssMb} MB (VmHWM; RssAnon peak ${m.peakAnonMb} MB, of it JS heap + Buffers peak ${m.peakJsMb} MB; ` +
  `RssFile peak ${m.peakFileMb} MB)`;
/** CPU per span: on a shared 2-core box, the figure that does not depend on what else runs. */
const cpuLine = (m: { cpuSeconds: number; spans: number; seconds: number }) =>
  `CPU ${m.cpuSeconds.toFixed(2)} s = ${((m.cpuSeconds * 1e6) / m.spans).toFixed(1)} µs/span, ${(m.cpuSeconds / m.seconds).toFixed(2)} cores`;
/** The same CPU split by thread (JS thread, libuv workers running engine inserts, the engine's pools), µs/span. */
const threadLine = (m: { cpuByThread: [string, number][]; spans: number }) =>
  `    CPU µs/span by thread: ${m.cpuByThread.map(([name, seconds]) => `${name} ${((seconds * 1e6) / m.spans).toFixed(1)}`).join(', ')}`;

/**
 * The rate while the consumer is running flat out: from the first sample with ≥ 10 % of the spans written to
 * the first with ≥ 90 %. The whole-run rate also counts the group join and start-up (nothing written yet) and
 * the tail, where the last partitions finish alone; "sustained" in the target means the middle.
 */
function steadyRate(timeline: readonly TimelineSample[], total: number) {
  const from = timeline.find((t) => t.spans >= total * 0.1);
  const to = timeline.find((t) => t.spans >= total * 0.9);
  if (from === undefined || to === undefined || to.ms <= from.ms) return undefined;
  const seconds = (to.ms - from.ms) / 1000;
  return {
    spansPerSecond: (to.spans - from.spans) / seconds,
    cores: (to.cpuSeconds - from.cpuSeconds) / seconds,
    fromS: from.ms / 1000,
    toS: to.ms / 1000,
    firstWriteS: (timeline.find((t) => t.spans > 0)?.ms ?? 0) / 1000,
  };
}
const steadyLine = (m: { timeline: TimelineSample[]; spans: number; seconds: number }) => {
  const steady = steadyRate(m.timeline, m.spans);
  if (steady === undefined) return '    sustained: too few samples';
  return (
    `    sustained (10 % → 90 % of the spans written, ${steady.fromS.toFixed(1)}-${steady.toS.toFixed(1)} s): ` +
    `${fmt(steady.spansPerSecond)} spans/s at ${steady.cores.toFixed(2)} cores; first rows written at ` +
    `${steady.firstWriteS.toFixed(1)} s, last at ${m.seconds.toFixed(1)} s`
  );
};

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
  const gwPacedTopic = `bench-paced-${run}`;
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
    let bEngineUsPerSpan: number;
    try {
      await runMigrations(clickhouse, { schema: chConfig });
      const decoded = distinct
        .map((m) => decodeRecord(Buffer.from(m.body), undefined))
        .filter((d): d is DecodedRecord => d.kind === 'rows');
      // Like the consumer: each of the 2 inserts in flight on an engine session of its own (one chdb
      // connection runs its statements one at a time; see engine-sessions.ts).
      const sessions = await openEngineSessions(clickhouse, 2);
      const writer = new ClickHouseSpanWriter(sessions.sessions);
      const batchMessages = 40; // ≈ 12k spans per insert, like a consumer batch at this rate
      const jobs: number[] = [];
      for (let i = 0; i < totalMessages; i += batchMessages) jobs.push(i);
      let insertedSpans = 0;
      const cpuBefore = process.cpuUsage();
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
      const insertCpu = process.cpuUsage(cpuBefore);
      // The rows' whole cost to the engine includes the background merges their parts cause; most run
      // during the inserts, the rest right after. This process does nothing else meanwhile.
      await mergesSettled(clickhouse.client);
      const engineCpu = process.cpuUsage(cpuBefore);
      await sessions.close();
      b = insertedSpans / insertSeconds;
      bEngineUsPerSpan = (engineCpu.user + engineCpu.system) / insertedSpans;
      console.log(
        `(b) raw insert (pre-encoded rows via INSERT … FROM INFILE: both tables Native blocks, ` +
          `2 in flight on 2 engine sessions): ` +
          `${fmt(b)} spans/s (${insertSeconds.toFixed(2)} s); engine CPU ` +
          `${((insertCpu.user + insertCpu.system) / insertedSpans).toFixed(1)} µs/span during the inserts, ` +
          `${bEngineUsPerSpan.toFixed(1)} µs/span with the merges they caused`,
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
      `(c0) consumer with a no-op sink (own process): ${fmt(c0.spans / c0.seconds)} spans/s (${fmt(c0.spans)} spans in ${c0.seconds.toFixed(2)} s; ${cpuLine(c0)}); ` +
        memoryLine(c0.memory),
    );
    console.log(threadLine(c0));
    console.log(steadyLine(c0));

    // ---- (c) full consumer ----
    const full = forkConsumer(['full', brokers, topic, `bench-consumer-${run}`]);
    children.push(full.child);
    const consumed = await full.next('consumed');
    const c = consumed.spans / consumed.seconds;
    console.log(
      `(c) full consumer (own process, embedded engine): ${fmt(c)} spans/s (${fmt(consumed.spans)} spans, ${fmt(consumed.batches)} batches in ` +
        `${consumed.seconds.toFixed(2)} s, incl. group join; ${cpuLine(consumed)}); ratio c/min(a,b) = ${(c / Math.min(a, b)).toFixed(2)}; ${memoryLine(consumed.memory)}`,
    );
    console.log(threadLine(consumed));
    console.log(steadyLine(consumed));
    const cSustained = steadyRate(consumed.timeline, consumed.spans)?.spansPerSecond ?? c;
    if (process.env.BENCH_THROUGHPUT_ONLY === '1') {
      full.child.send({ type: 'exit' } satisfies ParentMessage);
      return;
    }

    /**
     * Starts a gateway on `gatewayTopic` and the consumer process's watch of it, runs `drive`, then waits for
     * every probe to be seen. Probes are requests of a service of their own (`${probePrefix}<n>`).
     */
    const gatewayBodies = distinct.slice(0, 20);
    async function withGatewayAndProbes<R extends GatewayLoadResult>(
      gatewayTopic: string,
      probePrefix: string,
      drive: (
        url: string,
        probes: { body: Uint8Array; spans: number }[],
        onProbeAck: (probe: number, ackEpochMs: number) => void,
      ) => Promise<R>,
    ): Promise<{ load: R; fresh: Extract<ChildMessage, { type: 'freshness' }> }> {
      const gateway = await startGateway(
        gatewayConfigFromEnv({
          KAFKA_BROKERS: brokers,
          MODELWATCH_TOPIC: gatewayTopic,
          MODELWATCH_GATEWAY_PORT: '0',
          MODELWATCH_LOG_LEVEL: 'silent',
        }),
        { logger: silentLogger },
      );
      let load: R;
      try {
        full.child.send({ type: 'watch', topic: gatewayTopic, probePrefix } satisfies ParentMessage);
        const services = Array.from({ length: 200 }, (_, i) => `${probePrefix}${i}`);
        const probes = await makeMessages(services.length, services, Date.now());
        await full.next('watching');
        load = await drive(gateway.url, probes, (probe, ackEpochMs) =>
          full.child.send({
            type: 'probe',
            service: services[probe] as string,
            ackEpochMs,
          } satisfies ParentMessage),
        );
      } finally {
        await gateway.close();
      }
      full.child.send({ type: 'finish' } satisfies ParentMessage);
      return { load, fresh: await full.next('freshness') };
    }
    type Freshness = Extract<ChildMessage, { type: 'freshness' }>;
    const freshnessLine = (fresh: Freshness) =>
      `freshness (gateway ack -> row visible, ${fresh.probes.length} probes, ${fresh.unseen} never seen): ` +
      msQuantiles(fresh.probes.map((p) => p.visibleMs));
    /** Steady or growing: the median freshness of the probes acknowledged in each quarter of the run. */
    const trendLine = (probes: ProbeTiming[]) => {
      if (probes.length === 0) return 'no probe seen';
      const firstMs = Math.min(...probes.map((p) => p.ackEpochMs));
      const spanMs = Math.max(...probes.map((p) => p.ackEpochMs)) - firstMs + 1;
      const quarters = [0, 1, 2, 3].map((q) =>
        probes
          .filter((p) => Math.min(3, Math.floor(((p.ackEpochMs - firstMs) / spanMs) * 4)) === q)
          .map((p) => p.visibleMs)
          .sort((x, y) => x - y),
      );
      return `freshness p50 by quarter of the run: ${quarters.map((q) => `${fmt(quantile(q, 0.5))} ms`).join(' → ')}`;
    };
    const consumerLine = (fresh: Freshness) =>
      `consumer: ${fmt(fresh.spans)} spans in ${fmt(fresh.batches)} batches (avg ${fmt(fresh.spans / Math.max(1, fresh.batches))} spans/batch); ` +
      `probe queries: ${fresh.probeQueries}, avg ${fmt(fresh.probeQueryMs / Math.max(1, fresh.probeQueries))} ms each (wall time, waiting for the busy engine included)`;

    // ---- (d) gateway at its maximum, freshness under saturation as information ----
    const saturated = await withGatewayAndProbes(gwTopic, `fresh-${run}-`, (url, probes, onProbeAck) =>
      saturateGateway(
        {
          url,
          seconds: GATEWAY_SECONDS,
          bodies: gatewayBodies,
          probes,
          probeEveryMs: SATURATED_PROBE_EVERY_MS,
          onProbeAck,
        },
        GATEWAY_CLIENTS,
      ),
    );
    const gwRate = saturated.load.requests / saturated.load.seconds;
    const gwSpanRate = saturated.load.spans / saturated.load.seconds;
    console.log(
      `(d) gateway maximum: ${fmt(gwRate)} requests/s, ${fmt(gwSpanRate)} spans/s (${GATEWAY_CLIENTS} concurrent clients back to back, ` +
        `100-500 spans per request, ${saturated.load.failures} failed; the consumer process runs alongside); ` +
        `request latency ${msQuantiles(saturated.load.latencyMs)}`,
    );
    console.log(
      `    info, under saturation (the gateway offered ${(gwSpanRate / c).toFixed(1)}× (c)'s rate; includes any backlog the consumer built): ` +
        freshnessLine(saturated.fresh),
    );
    console.log(`    ${trendLine(saturated.fresh.probes)}; ${consumerLine(saturated.fresh)}`);

    // ---- (e) freshness at a sustained rate ----
    const pacedSpansPerSecond = PACED_FRACTION_OF_C * c;
    const paced = await withGatewayAndProbes(gwPacedTopic, `paced-${run}-`, (url, probes, onProbeAck) =>
      paceGateway(
        {
          url,
          seconds: PACED_SECONDS,
          bodies: gatewayBodies,
          probes,
          probeEveryMs: PACED_PROBE_EVERY_MS,
          onProbeAck,
        },
        pacedSpansPerSecond,
        PACED_MAX_IN_FLIGHT,
      ),
    );
    const pacedRate = paced.load.spans / paced.load.seconds;
    console.log(
      `(e) sustained rate: target ${fmt(pacedSpansPerSecond)} spans/s (${PACED_FRACTION_OF_C} × (c)), achieved ${fmt(pacedRate)} spans/s ` +
        `(${fmt(paced.load.requests / paced.load.seconds)} requests/s for ${paced.load.seconds.toFixed(1)} s, ${paced.load.failures} failed, ` +
        `sending at most ${fmt(paced.load.maxLateMs)} ms behind schedule); request latency ${msQuantiles(paced.load.latencyMs)}`,
    );
    console.log(`    ${freshnessLine(paced.fresh)}`);
    console.log(`    ${trendLine(paced.fresh.probes)}; ${consumerLine(paced.fresh)}`);
    const matched = paced.fresh.probes.filter(
      (p): p is Required<ProbeTiming> => p.insertStartMs !== undefined && p.insertAckMs !== undefined,
    );
    console.log(
      `    split (${matched.length} probes matched to their insert; quantiles of each part, they do not add up):\n` +
        `      ack -> its otel_traces insert started (Kafka delivery and fetch, decode, batch window ≤ 1 s by default, queue for an insert slot): ` +
        `${msQuantiles(matched.map((p) => p.insertStartMs))}\n` +
        `      insert started -> acknowledged by the engine: ${msQuantiles(matched.map((p) => p.insertAckMs - p.insertStartMs))}\n` +
        `      acknowledged -> seen by the probe query (polled every 100 ms, PROBE_POLL_MS): ${msQuantiles(matched.map((p) => p.visibleMs - p.insertAckMs))}`,
    );
    full.child.send({ type: 'exit' } satisfies ParentMessage);
    const fresh = paced.fresh;
    console.log(`    consumer process over the whole run: ${memoryLine(fresh.memory)}`);
    const p99 = p99VisibleMs(fresh.probes);

    const peakRss = Math.max(consumed.memory.peakRssMb, fresh.memory.peakRssMb);
    const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');
    console.log(`load average at end: ${load()}`);
    console.log('targets:');
    console.log(
      `  ${verdict(cSustained >= 50_000)}  (c) ≥ 50,000 spans/s sustained: ${fmt(cSustained)} ` +
        `(over the whole run, group join included: ${fmt(c)})`,
    );
    console.log(
      `  ${verdict(cSustained >= 0.6 * Math.min(a, b))}  (c) ≥ 0.6 × min(a, b) = ${fmt(0.6 * Math.min(a, b))}: ` +
        `ratio ${(cSustained / Math.min(a, b)).toFixed(2)} sustained, ${(c / Math.min(a, b)).toFixed(2)} over the whole run`,
    );
    console.log(
      `  ${verdict(peakRss <= 300)}  consumer peak RSS ≤ 300 MB: ${peakRss} MB ` +
        `(no-op sink: ${c0.memory.peakRssMb} MB; with the engine, RssFile ${fresh.memory.peakFileMb} MB is libchdb.so's mapped code)`,
    );
    console.log(
      `  ${verdict(p99 <= 5000 && fresh.unseen === 0)}  p99 freshness ≤ 5 s at a sustained ${fmt(pacedRate)} spans/s (e): ${fmt(p99)} ms`,
    );
    // What bounds (c): the engine's CPU for the rows (b) plus the consumer's own (c0), on the box's cores.
    const jsUsPerSpan = (c0.cpuSeconds * 1e6) / c0.spans;
    console.log(
      `  info  CPU bound for (c) on this box: ${cpus().length} cores / ((c0) ${jsUsPerSpan.toFixed(1)} + (b) ` +
        `${bEngineUsPerSpan.toFixed(1)} µs/span) = ${fmt((cpus().length * 1e6) / (jsUsPerSpan + bEngineUsPerSpan))} spans/s ` +
        `if the consumer had every core (the broker and the load generator share them)`,
    );
    console.log(`  info  gateway maximum (d): ${fmt(gwRate)} requests/s, ${fmt(gwSpanRate)} spans/s`);
    console.log(
      `  info  p99 freshness under saturation (d): ${fmt(p99VisibleMs(saturated.fresh.probes))} ms`,
    );
  } finally {
    // Let consumer processes finish their own clean-up (engine close, data folder removal) before killing.
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        // A consumer process waiting for its next watch exits when the channel closes.
        if (child.connected) child.disconnect();
        const exited = new Promise((resolve) => child.once('exit', resolve));
        const timer = setTimeout(() => child.kill(), 15_000);
        await exited;
        clearTimeout(timer);
      }),
    );
    await admin.deleteTopics({ topics: [topic, gwTopic, gwPacedTopic] }).catch(() => undefined);
    await admin.disconnect();
    await localKafka?.stop({ removeDataDir: true });
  }
}

await main();
