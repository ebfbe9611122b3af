/**
 * The benchmark's consumer, in its own process so its peak RSS is the consumer's and nothing else's (the
 * parent holds the generated data, raw consumers and its own engine for (b)). Forked by
 * ingest-throughput.bench.ts with IPC; one mode per process:
 *   sink  — the real consumer (decode, normalise, encode, batching, commits) writing to a no-op sink with
 *           an in-memory range store: the consumer's own CPU and memory, without the engine.
 *   full  — the real consumer on the embedded engine (fresh data folder); then, for each 'watch' the parent
 *           sends, a consumer on that gateway topic while the parent posts OTLP requests: it watches for the
 *           probe services the parent names and reports gateway-ack -> row-visible times, split at the
 *           moment the otel_traces insert holding the probe started and when it was acknowledged.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseHandle } from '../../ingest/src/clickhouse/client.js';
import { clickHouseConfigFromEnv } from '../../ingest/src/clickhouse/config.js';
import { openEngineSessions } from '../../ingest/src/clickhouse/engine-sessions.js';
import { ClickHouseSpanWriter, type SpanRowWriter } from '../../ingest/src/clickhouse/insert-rows.js';
import { TABLE_OTEL_TRACES } from '../../ingest/src/names.js';
import { consumerConfigFromEnv } from '../../ingest/src/consumer/config.js';
import type { InsertedRange, InsertedRangeStore } from '../../ingest/src/consumer/inserted-range-store.js';
import { startConsumer, type RunningConsumer } from '../../ingest/src/consumer/run-consumer.js';
import { silentLogger } from '../../ingest/src/log.js';

export type ParentMessage =
  /** Start consuming `topic` and watch for services named `${probePrefix}<n>`. */
  | { type: 'watch'; topic: string; probePrefix: string }
  | { type: 'probe'; service: string; ackEpochMs: number }
  /** No more probes for this watch: report once the pending ones are seen (or 30 s pass). */
  | { type: 'finish' }
  /** No more watches: close the engine and exit. */
  | { type: 'exit' };
export type ChildMessage =
  | {
      type: 'consumed';
      spans: number;
      batches: number;
      seconds: number;
      /** CPU time of the whole process (all threads: JS, libuv, engine) while consuming. */
      cpuSeconds: number;
      /** Of it, per thread name (see cpuByThreadName), largest first. */
      cpuByThread: [name: string, seconds: number][];
      memory: MemorySample;
      /** Samples every TIMELINE_MS from the start: spans written so far and process CPU seconds so far. */
      timeline: TimelineSample[];
    }
  /** The watch's consumer has joined its group: probes sent from now on do not wait for a group join. */
  | { type: 'watching' }
  | {
      type: 'freshness';
      probes: ProbeTiming[];
      unseen: number;
      /** What this watch's consumer wrote, and the probe queries' share of the engine. */
      batches: number;
      spans: number;
      probeQueries: number;
      probeQueryMs: number;
      memory: MemorySample;
    };

export interface TimelineSample {
  ms: number;
  spans: number;
  cpuSeconds: number;
}

/** One probe: when the gateway acknowledged it, and the rest in ms after that. */
export interface ProbeTiming {
  ackEpochMs: number;
  /** The probe query (every PROBE_POLL_MS) first saw one of its rows in otel_traces. */
  visibleMs: number;
  /**
   * The first acknowledged otel_traces insert holding the probe's rows: when it started (the consumer had
   * fetched, decoded and batched the record and got an insert slot) and when the engine acknowledged it.
   * Undefined if no insert was matched (should not happen).
   */
  insertStartMs?: number;
  insertAckMs?: number;
}

export interface MemorySample {
  /** VmHWM: peak resident set of this process since it started. */
  peakRssMb: number;
  /** Peak of RssAnon (heap, engine allocations) and of RssFile (mapped code, mostly libchdb.so), sampled. */
  peakAnonMb: number;
  peakFileMb: number;
  /** Peak of V8's heap (heapTotal) plus Buffers and other memory V8 tracks (external): the JS share of RssAnon. */
  peakJsMb: number;
}

const [mode, brokers, topic, groupId] = process.argv.slice(2) as [string, string, string, string];

function send(message: ChildMessage): void {
  process.send?.(message);
}

// Messages are queued from the start: the parent may send before this process is ready for them.
const inbox: ParentMessage[] = [];
let parentGone = false;
let wake: (() => void) | undefined;
process.on('message', (message: ParentMessage) => {
  inbox.push(message);
  wake?.();
});
process.on('disconnect', () => {
  parentGone = true;
  wake?.();
});
/** The next message from the parent; undefined once the parent is gone. */
async function nextMessage(): Promise<ParentMessage | undefined> {
  while (inbox.length === 0 && !parentGone) await new Promise<void>((resolve) => (wake = resolve));
  return inbox.shift();
}

const peaks = { anonKb: 0, fileKb: 0, jsBytes: 0 };
function statusKb(field: string, text: string): number {
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(text)?.[1] ?? 0);
}
const sampler = setInterval(() => {
  const text = readFileSync('/proc/self/status', 'utf8');
  peaks.anonKb = Math.max(peaks.anonKb, statusKb('RssAnon', text));
  peaks.fileKb = Math.max(peaks.fileKb, statusKb('RssFile', text));
  const { heapTotal, external } = process.memoryUsage();
  peaks.jsBytes = Math.max(peaks.jsBytes, heapTotal + external);
}, 20);
function memory(): MemorySample {
  const text = readFileSync('/proc/self/status', 'utf8');
  return {
    peakRssMb: Math.round(statusKb('VmHWM', text) / 1024),
    peakAnonMb: Math.round(Math.max(peaks.anonKb, statusKb('RssAnon', text)) / 1024),
    peakFileMb: Math.round(Math.max(peaks.fileKb, statusKb('RssFile', text)) / 1024),
    peakJsMb: Math.round(peaks.jsBytes / 1024 / 1024),
  };
}

/** The consumer's settings: the defaults, or MODELWATCH_BATCH_* / MODELWATCH_CONSUMER_* from the bench's environment. */
function envFor(consumerTopic: string, consumerGroup: string) {
  const tuning = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => name.startsWith('MODELWATCH_BATCH_') || name.startsWith('MODELWATCH_CONSUMER_'),
    ),
  );
  return consumerConfigFromEnv({
    ...tuning,
    KAFKA_BROKERS: brokers,
    MODELWATCH_TOPIC: consumerTopic,
    MODELWATCH_CONSUMER_GROUP: consumerGroup,
    MODELWATCH_CONSUMER_METRICS_PORT: 'off',
  });
}

/** How often consumeAll samples progress and CPU. */
const TIMELINE_MS = 100;

/** USER_HZ: the unit of /proc's utime and stime (100 on Linux everywhere in practice). */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU seconds so far per thread name of this process's live threads (trailing digits dropped: pools number
 * their threads). The engine names its threads by role (e.g. MergeMutate for background merges), so this
 * splits the process's CPU between the JS thread, libuv workers (inserts run there) and the engine's pools.
 */
function cpuByThreadName(): Map<string, number> {
  const byName = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      let name = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8')
        .trim()
        .replace(/[\d:.]+$/, '');
      // V8's helper threads (concurrent GC) and libuv's workers keep the process's name.
      if (name === 'node') name = Number(tid) === process.pid ? 'JS thread' : 'other node threads';
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]); // utime and stime (fields 14 and 15)
      byName.set(name, (byName.get(name) ?? 0) + ticks / CLOCK_TICKS_PER_SECOND);
    } catch {
      // the thread exited meanwhile
    }
  }
  return byName;
}

function cpuSplit(before: Map<string, number>, totalSeconds: number): [string, number][] {
  const split: [string, number][] = [];
  let live = 0;
  for (const [name, seconds] of cpuByThreadName()) {
    const used = seconds - (before.get(name) ?? 0);
    live += used;
    if (used >= 0.05) split.push([name, used]);
  }
  // Threads that ended during the run took their counters with them.
  if (totalSeconds - live >= 0.05) split.push(['(exited threads)', totalSeconds - live]);
  return split.sort((x, y) => y[1] - x[1]);
}

async function consumeAll(
  consumer: RunningConsumer,
  startedMs: number,
  startedCpu: NodeJS.CpuUsage,
  startedThreads: Map<string, number>,
): Promise<void> {
  // The rate over the whole run includes the group join and the last partitions' tail; the samples let the
  // parent also report the rate in between (see steadyRate in ingest-throughput.bench.ts).
  const cpuSince = () => ((cpu) => (cpu.user + cpu.system) / 1e6)(process.cpuUsage(startedCpu));
  const timeline: TimelineSample[] = [];
  const sample = () =>
    timeline.push({
      ms: performance.now() - startedMs,
      spans: consumer.stats().totals.tracesWritten,
      cpuSeconds: cpuSince(),
    });
  const sampler = setInterval(sample, TIMELINE_MS);
  const caughtUp = await consumer.waitUntilCaughtUp(110_000);
  clearInterval(sampler);
  sample();
  if (!caughtUp) {
    // What each partition was doing when it stalled, so a rare stall can be told apart (paused, stuck
    // writing, or simply not fetched) from the one run that shows it.
    const { partitions, bufferedBytes, totals } = consumer.stats();
    throw new Error(
      `consumer did not catch up in time: ${JSON.stringify({ partitions, bufferedBytes, totals })}`,
    );
  }
  const { totals } = consumer.stats();
  const cpuSeconds = cpuSince();
  send({
    type: 'consumed',
    spans: totals.tracesWritten,
    batches: totals.batchesWritten,
    seconds: (performance.now() - startedMs) / 1000,
    cpuSeconds,
    cpuByThread: cpuSplit(startedThreads, cpuSeconds),
    memory: memory(),
    timeline,
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
  const startedThreads = cpuByThreadName();
  const startedMs = performance.now();
  const startedCpu = process.cpuUsage();
  const consumer = await startConsumer(envFor(topic, groupId), {
    logger: silentLogger,
    writer: sink,
    rangeStore: new InMemoryRangeStore(),
  });
  await consumeAll(consumer, startedMs, startedCpu, startedThreads);
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
    const startedThreads = cpuByThreadName();
    const startedMs = performance.now();
    const startedCpu = process.cpuUsage();
    const consumer = await startConsumer(envFor(topic, groupId), { clickhouse, logger: silentLogger });
    await consumeAll(consumer, startedMs, startedCpu, startedThreads);
    await consumer.stop();
    for (let watch = 0; ; watch++) {
      const message = await nextMessage();
      if (message === undefined || message.type === 'exit') break;
      if (message.type !== 'watch') throw new Error(`unexpected '${message.type}' between watches`);
      await watchFreshness(clickhouse, message.topic, message.probePrefix, `${groupId}-watch${watch}`);
    }
  } finally {
    await clickhouse?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * Pause between probe queries. The query costs ~10 ms on an idle engine but runs in this process's engine
 * beside the consumer's inserts on a 2-core box, so polling flat out would slow what it measures; 100 ms
 * is still fine resolution for a 5 s target.
 */
const PROBE_POLL_MS = 100;

/**
 * The probe service named in an otel_traces chunk, if any. A chunk is one Kafka record's rows, and a record
 * holds one resource's spans (the gateway splits requests by trace), so a probe's chunk holds only its
 * service's name. Searched as bytes (a native search, no string of the whole chunk).
 */
function probeServiceIn(chunk: Uint8Array, probePrefix: string): string | undefined {
  const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  const at = bytes.indexOf(probePrefix, 0, 'latin1');
  // The first hit is a ServiceName value (the column precedes every other holding it): an encoded String,
  // so the byte before it is its length (probe names are far shorter than 128 bytes).
  if (at < 1) return undefined;
  return bytes.toString('latin1', at, at + (bytes[at - 1] as number));
}

/** Consumes a gateway topic and reports, per probe service the parent names, ack -> visible times. */
async function watchFreshness(
  clickhouse: ClickHouseHandle,
  consumerTopic: string,
  probePrefix: string,
  consumerGroup: string,
): Promise<void> {
  // Each insert slot on an engine session of its own, as the consumer does with its own writer
  // (engine-sessions.ts): one session would run the inserts one after another.
  const config = envFor(consumerTopic, consumerGroup);
  const sessions = await openEngineSessions(clickhouse, config.maxConcurrentInserts);
  const engineWriter = new ClickHouseSpanWriter(sessions.sessions);
  const inserted = new Map<string, { startEpochMs: number; ackEpochMs: number }>();
  // The consumer's own writer, timed. startConsumer wraps it in its insert-slot limiter, so the start time
  // here is when the insert really began (waiting for a slot counts as time before it).
  const timedWriter: SpanRowWriter = {
    async writeEncoded(table, chunks, token) {
      const startEpochMs = Date.now();
      await engineWriter.writeEncoded(table, chunks, token);
      if (table !== TABLE_OTEL_TRACES) return;
      const ackEpochMs = Date.now();
      for (const chunk of chunks) {
        const service = probeServiceIn(chunk, probePrefix);
        if (service !== undefined && !inserted.has(service))
          inserted.set(service, { startEpochMs, ackEpochMs });
      }
    },
  };
  const consumer = await startConsumer(config, {
    clickhouse,
    logger: silentLogger,
    writer: timedWriter,
  });
  // Freshness is about records arriving at a running consumer, not about its first group join.
  const joinDeadline = Date.now() + 30_000;
  while (consumer.stats().assignedPartitions.length === 0 && Date.now() < joinDeadline)
    await new Promise((resolve) => setTimeout(resolve, 20));
  send({ type: 'watching' });

  const pending = new Map<string, number>();
  const seen: { service: string; ackEpochMs: number; visibleEpochMs: number }[] = [];
  let probeQueries = 0;
  let probeQueryMs = 0;
  let finishing = false;
  let deadline = Number.POSITIVE_INFINITY;
  while (!finishing || (pending.size > 0 && Date.now() < deadline)) {
    for (let message = inbox.shift(); message !== undefined; message = inbox.shift()) {
      if (message.type === 'probe') pending.set(message.service, message.ackEpochMs);
      else if (message.type === 'finish') finishing = true;
      else throw new Error(`unexpected '${message.type}' during a watch`);
    }
    if (parentGone) finishing = true;
    if (finishing && deadline === Number.POSITIVE_INFINITY) deadline = Date.now() + 30_000;
    if (pending.size > 0) {
      const queryStartMs = performance.now();
      const result = await clickhouse.client.query({
        query: 'SELECT DISTINCT ServiceName FROM otel_traces WHERE ServiceName IN {s:Array(String)}',
        query_params: { s: [...pending.keys()] },
        format: 'JSONEachRow',
      });
      const rows = await result.json<{ ServiceName: string }>();
      probeQueries++;
      probeQueryMs += performance.now() - queryStartMs;
      const nowMs = Date.now();
      for (const row of rows) {
        const ackEpochMs = pending.get(row.ServiceName);
        if (ackEpochMs === undefined) continue;
        seen.push({ service: row.ServiceName, ackEpochMs, visibleEpochMs: nowMs });
        pending.delete(row.ServiceName);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, PROBE_POLL_MS));
  }
  await consumer.stop();
  await sessions.close();
  // Matched only now: a probe's rows can be visible before its insert's promise has resolved.
  const probes = seen.map(({ service, ackEpochMs, visibleEpochMs }): ProbeTiming => {
    const insert = inserted.get(service);
    return {
      ackEpochMs,
      visibleMs: visibleEpochMs - ackEpochMs,
      insertStartMs: insert && insert.startEpochMs - ackEpochMs,
      insertAckMs: insert && insert.ackEpochMs - ackEpochMs,
    };
  });
  const { totals } = consumer.stats();
  send({
    type: 'freshness',
    probes,
    unseen: pending.size,
    batches: totals.batchesWritten,
    spans: totals.tracesWritten,
    probeQueries,
    probeQueryMs,
    memory: memory(),
  });
}

try {
  if (mode === 'sink') await runSink();
  else if (mode === 'full') await runFull();
  else throw new Error(`unknown mode ${mode}`);
} finally {
  clearInterval(sampler);
  if (process.connected) process.disconnect();
}
