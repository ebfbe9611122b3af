/**
 * The benchmark's consumer, in its own process so its peak RSS is the consumer's and nothing else's (the
 * parent holds the generated data, raw consumers and its own engine for (b)). Forked by
 * ingest-throughput.bench.ts with IPC; one mode per process:
 *   sink  — the real consumer (decode, normalise, encode, batching, commits) writing to a no-op sink with
 *           an in-memory range store: the consumer's own CPU and memory, without the engine.
 *   full  — the real consumer on the embedded engine (fresh data folder), then a second consumer on the
 *           gateway topic while the parent posts OTLP requests; it watches for the probe services the
 *           parent names and reports gateway-ack -> row-visible times.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseHandle } from '../../ingest/src/clickhouse/client.js';
import { clickHouseConfigFromEnv } from '../../ingest/src/clickhouse/config.js';
import type { SpanRowWriter } from '../../ingest/src/clickhouse/insert-rows.js';
import { consumerConfigFromEnv } from '../../ingest/src/consumer/config.js';
import type { InsertedRange, InsertedRangeStore } from '../../ingest/src/consumer/inserted-range-store.js';
import { startConsumer, type RunningConsumer } from '../../ingest/src/consumer/run-consumer.js';
import { silentLogger } from '../../ingest/src/log.js';

export type ParentMessage = { type: 'probe'; service: string; ackEpochMs: number } | { type: 'finish' };
export type ChildMessage =
  | { type: 'consumed'; spans: number; batches: number; seconds: number; memory: MemorySample }
  | { type: 'gateway-ready' }
  | { type: 'freshness'; ms: number[]; unseen: number; memory: MemorySample };

export interface MemorySample {
  /** VmHWM: peak resident set of this process since it started. */
  peakRssMb: number;
  /** Peak of RssAnon (heap, engine allocations) and of RssFile (mapped code, mostly libchdb.so), sampled. */
  peakAnonMb: number;
  peakFileMb: number;
}

const [mode, brokers, topic, groupId, gatewayTopic] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string?,
];

function send(message: ChildMessage): void {
  process.send?.(message);
}

const peaks = { anonKb: 0, fileKb: 0 };
function statusKb(field: string, text: string): number {
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(text)?.[1] ?? 0);
}
const sampler = setInterval(() => {
  const text = readFileSync('/proc/self/status', 'utf8');
  peaks.anonKb = Math.max(peaks.anonKb, statusKb('RssAnon', text));
  peaks.fileKb = Math.max(peaks.fileKb, statusKb('RssFile', text));
}, 20);
function memory(): MemorySample {
  const text = readFileSync('/proc/self/status', 'utf8');
  return {
    peakRssMb: Math.round(statusKb('VmHWM', text) / 1024),
    peakAnonMb: Math.round(Math.max(peaks.anonKb, statusKb('RssAnon', text)) / 1024),
    peakFileMb: Math.round(Math.max(peaks.fileKb, statusKb('RssFile', text)) / 1024),
  };
}

function envFor(consumerTopic: string, consumerGroup: string) {
  return consumerConfigFromEnv({
    KAFKA_BROKERS: brokers,
    MODELWATCH_TOPIC: consumerTopic,
    MODELWATCH_CONSUMER_GROUP: consumerGroup,
    MODELWATCH_CONSUMER_METRICS_PORT: 'off',
  });
}

async function consumeAll(consumer: RunningConsumer, startedMs: number): Promise<void> {
  if (!(await consumer.waitUntilCaughtUp(110_000))) throw new Error('consumer did not catch up in time');
  const { totals } = consumer.stats();
  send({
    type: 'consumed',
    spans: totals.tracesWritten,
    batches: totals.batchesWritten,
    seconds: (performance.now() - startedMs) / 1000,
    memory: memory(),
  });
}

class InMemoryRangeStore implements InsertedRangeStore {
  readonly #ranges = new Map<string, InsertedRange>();
  async load(key: { topic: string; partition: number }): Promise<InsertedRange | null> {
    return this.#ranges.get(`${key.topic}:${key.partition}`) ?? null;
  }
  async save(key: { topic: string; partition: number }, range: InsertedRange): Promise<void> {
    this.#ranges.set(`${key.topic}:${key.partition}`, range);
  }
}

async function runSink(): Promise<void> {
  const sink: SpanRowWriter = { writeEncoded: async () => undefined };
  const startedMs = performance.now();
  const consumer = await startConsumer(envFor(topic, groupId), {
    logger: silentLogger,
    writer: sink,
    rangeStore: new InMemoryRangeStore(),
  });
  await consumeAll(consumer, startedMs);
  await consumer.stop();
}

async function runFull(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mw-bench-consumer-'));
  let clickhouse: ClickHouseHandle | undefined;
  try {
    // Imported here so the sink process never maps libchdb.so (its RSS is the consumer's alone).
    const { openClickHouse } = await import('../../ingest/src/clickhouse/client.js');
    const { runMigrations } = await import('../../ingest/src/migrations/run-migrations.js');
    const chConfig = clickHouseConfigFromEnv({ MODELWATCH_DATA_DIR: dataDir });
    clickhouse = await openClickHouse(chConfig);
    await runMigrations(clickhouse, { schema: chConfig });
    const startedMs = performance.now();
    const consumer = await startConsumer(envFor(topic, groupId), { clickhouse, logger: silentLogger });
    await consumeAll(consumer, startedMs);
    await consumer.stop();
    if (gatewayTopic !== undefined) await watchFreshness(clickhouse, gatewayTopic);
  } finally {
    await clickhouse?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Consumes the gateway topic and reports, per probe service the parent names, ack -> visible time. */
async function watchFreshness(clickhouse: ClickHouseHandle, consumerTopic: string): Promise<void> {
  const consumer = await startConsumer(envFor(consumerTopic, `${groupId}-gw`), {
    clickhouse,
    logger: silentLogger,
  });
  const pending = new Map<string, number>();
  const freshness: number[] = [];
  let finishing = false;
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'probe') pending.set(message.service, message.ackEpochMs);
    else finishing = true;
  });
  send({ type: 'gateway-ready' });
  let deadline = Number.POSITIVE_INFINITY;
  while (!finishing || (pending.size > 0 && Date.now() < deadline)) {
    if (finishing && deadline === Number.POSITIVE_INFINITY) deadline = Date.now() + 30_000;
    if (pending.size > 0) {
      const result = await clickhouse.client.query({
        query: 'SELECT DISTINCT ServiceName FROM otel_traces WHERE ServiceName IN {s:Array(String)}',
        query_params: { s: [...pending.keys()] },
        format: 'JSONEachRow',
      });
      const nowMs = Date.now();
      for (const row of await result.json<{ ServiceName: string }>()) {
        const ackMs = pending.get(row.ServiceName);
        if (ackMs === undefined) continue;
        freshness.push(nowMs - ackMs);
        pending.delete(row.ServiceName);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  await consumer.stop();
  send({ type: 'freshness', ms: freshness, unseen: pending.size, memory: memory() });
}

try {
  if (mode === 'sink') await runSink();
  else if (mode === 'full') await runFull();
  else throw new Error(`unknown mode ${mode}`);
} finally {
  clearInterval(sampler);
  process.disconnect?.();
}
