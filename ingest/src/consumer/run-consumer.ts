/**
 * The only Kafka consumer: topic `otlp_spans` (OTLP requests, proto or JSON) -> otel_traces + llm_calls,
 * exactly once.
 *
 * EXACTLY-ONCE DESIGN (the same idea as ClickHouse Kafka Connect's exactly-once mode, with a ClickHouse
 * table in place of Keeper):
 * - Offsets are committed only after ClickHouse acknowledged every row before them (autoCommit off,
 *   eachBatchAutoResolve off; resolveOffset only moves kafkajs' fetch position, commitOffsets is explicit).
 * - Every insert carries insert_deduplication_token = `${topic}:${partition}:${from}-${to}:${table}`, where
 *   [from, to] is the batch's offset range; the MergeTree tables keep a deduplication window and the
 *   materialized views deduplicate too, so re-sending a range with its token writes nothing new.
 * - That only helps if a range is cut the same way after a crash, restart or rebalance. Batches are cut by
 *   size and time, which does not reproduce, so the cut is recorded: before inserting [from, to] the
 *   partition's row in `modelwatch_consumer_state` becomes {from, to, 'before'}, after the inserts
 *   {from, to, 'after'}, then the offset to+1 is committed. Batches of one partition are written strictly in
 *   order, one at a time, so every range below the recorded one is known to be written.
 * - A worker taking over a partition (new process, or another group member) reads that row first, then for
 *   each record fetched from the committed offset: below `from` -> already written, skip; inside [from, to]
 *   with 'after' -> skip; inside with 'before' -> collect exactly [from, to] again and insert it with the
 *   same token (ClickHouse drops whatever had landed); above `to` -> new batches as usual. Skipped ranges
 *   get their offsets committed. A crash at any point therefore loses nothing and duplicates nothing.
 *   (Starting strictly inside a 'before' range cannot follow from one owner's writes, which commit only at
 *   range ends; it follows from the residual window below, and the records are written again as new ones.)
 * - Rebalances: kafkajs' REBALANCING event fences every worker (the step in flight finishes, no new range
 *   is started), GROUP_JOIN closes workers of revoked partitions (their unwritten records are dropped, the
 *   new owner reads them again) and unfences the rest. The one residual window: an old owner that passed
 *   its fence check and is writing the 'before' row (milliseconds) while the group rebalances, the new owner
 *   syncs and fetches; it needs a rebalance faster than one small insert. That late row can name a range the
 *   new owner cut differently and outrank the new owner's rows (Version follows `to`); an owner starting
 *   inside it later writes those records again rather than skip them (session 8: skipping could lose records
 *   the new owner had not written; writing again may duplicate some it had). Closing the window for good
 *   needs the group generation in the state row, ahead of `to` in the version: not done.
 * - Poison records (undecodable / invalid OTLP) go to `<topic>.dlq` with the error and source coordinates,
 *   acknowledged by Kafka before the range's offsets are committed. Rows ClickHouse rejects for their
 *   content are found by bisecting the batch (halves get their own range tokens, reproducible because the
 *   rejection is a property of the data); exactly those records are dead-lettered, the rest land.
 * - Back-pressure: a failing step (ClickHouse or Kafka down) is retried with exponential backoff + jitter on
 *   the SAME batch and token while the partition is paused; each partition holds at most one open and two
 *   sealed batches, and all partitions together at most `maxBufferedBytes` of records. eachBatch never
 *   blocks on ClickHouse, so kafkajs keeps heartbeating.
 */
import { Kafka, type Admin, type Consumer, type EachBatchPayload, type Producer } from 'kafkajs';
import type { ClickHouseHandle } from '../clickhouse/client.js';
import { openEngineSessions, type EngineSession } from '../clickhouse/engine-sessions.js';
import { ClickHouseSpanWriter, type SpanRowWriter } from '../clickhouse/insert-rows.js';
import { errorMessage, IngestError } from '../errors.js';
import { kafkaClientConfig, kafkaErrorType } from '../kafka/kafka-client.js';
import type { Logger } from '../log.js';
import {
  HEADER_DLQ_ERROR_CODE,
  HEADER_DLQ_ERROR_MESSAGE,
  HEADER_DLQ_SOURCE_OFFSET,
  HEADER_DLQ_SOURCE_PARTITION,
  HEADER_DLQ_SOURCE_TOPIC,
  dlqTopicFor,
} from '../names.js';
import type { ConsumerConfig } from './config.js';
import { ConsumerMetrics, type ConsumerTotals } from './consumer-metrics.js';
import { ClickHouseInsertedRangeStore, type InsertedRangeStore } from './inserted-range-store.js';
import { gateLlmCallInserts, InsertGate } from './insert-gate.js';
import { clientStatements, EmbeddedReplayRepair, type ReplayRepair } from './replay-repair.js';
import { MemoryBudget } from './memory-budget.js';
import { PendingBatches } from './pending-batches.js';
import { startMetricsServer, type MetricsServer } from './metrics-server.js';
import { PartitionWorker, type DeadLetter, type PartitionStats } from './partition-worker.js';
import { KillWhenEngineIdle } from './test-kill-hooks.js';

export type { PartitionStats } from './partition-worker.js';

export interface ConsumerStats {
  topic: string;
  groupId: string;
  /** True from the first group join until stop() or a crash kafkajs does not restart from. */
  running: boolean;
  /** Partitions the group assigned to this instance at its last join. */
  assignedPartitions: number[];
  /** Per partition this instance has taken records from since its last join. */
  partitions: PartitionStats[];
  totals: ConsumerTotals;
  bufferedBytes: number;
  /** The bound metrics port, when the server runs. */
  metricsPort: number | undefined;
}

export interface StartConsumerOptions {
  /** Required unless both `writer` and `rangeStore` are given (e.g. a benchmark's no-op sink). */
  clickhouse?: ClickHouseHandle;
  logger: Logger;
  /** Where rows go. @default new ClickHouseSpanWriter(clickhouse). Tests wrap it to inject faults. */
  writer?: SpanRowWriter;
  /** Where written ranges are recorded. @default ClickHouseInsertedRangeStore on `clickhouse`. */
  rangeStore?: InsertedRangeStore;
  /** Also export Node process metrics (memory, event loop) on /metrics. @default false */
  processMetrics?: boolean;
}

export interface RunningConsumer {
  /** Graceful: stop taking records, write and commit what was taken (bounded by shutdownTimeoutMs), leave. */
  stop(): Promise<void>;
  stats(): ConsumerStats;
  /**
   * Resolves true once the group's committed offsets reach the topic's high watermarks on every partition
   * (everything produced so far is in ClickHouse), false after `timeoutMs`.
   */
  waitUntilCaughtUp(timeoutMs: number): Promise<boolean>;
  /** Resolves when the consumer stops for good: after stop(), or a crash kafkajs does not restart from. */
  readonly done: Promise<void>;
}

const MAX_HEADER_MESSAGE_CHARS = 1000;

/** At most `limit` writeEncoded calls in flight; the rest wait in arrival order. */
function limitConcurrency(writer: SpanRowWriter, limit: number): SpanRowWriter {
  let active = 0;
  const waiting: (() => void)[] = [];
  return {
    async writeEncoded(table, chunks, token) {
      if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
      active++;
      try {
        await writer.writeEncoded(table, chunks, token);
      } finally {
        active--;
        waiting.shift()?.();
      }
    },
  };
}

export async function startConsumer(
  config: ConsumerConfig,
  options: StartConsumerOptions,
): Promise<RunningConsumer> {
  const { logger } = options;
  const log = logger.child({ topic: config.topic, groupId: config.groupId });
  const { clickhouse } = options;
  if (clickhouse === undefined && (options.writer === undefined || options.rangeStore === undefined)) {
    throw new IngestError(
      'CONFIG_INVALID',
      'startConsumer needs a ClickHouse handle unless a writer and a range store are given',
    );
  }
  // The embedded engine runs one statement at a time per connection: each insert slot gets a session of
  // its own, and the state writes one more, so they never wait behind an insert (engine-sessions.ts).
  const sessions =
    clickhouse !== undefined && (options.writer === undefined || options.rangeStore === undefined)
      ? await openEngineSessions(clickhouse, config.maxConcurrentInserts + 1)
      : undefined;
  const [stateSession, ...insertSessions] = sessions?.sessions ?? [];
  // TEST ONLY (the kill tests): crashes wait until no engine statement runs (test-kill-hooks.ts).
  const killer =
    config.testCrashAfterInsert !== undefined || config.testKillOnSigusr2
      ? new KillWhenEngineIdle()
      : undefined;
  const engineWriter = options.writer ?? new ClickHouseSpanWriter(insertSessions);
  const limitedWriter = limitConcurrency(
    killer ? killer.writer(engineWriter) : engineWriter,
    config.maxConcurrentInserts,
  );
  // The embedded engine can lose a crashed insert's rows while keeping its token: replays are checked
  // (replay-repair.ts), and the rollup check needs llm_calls inserts gated (insert-gate.ts).
  const repairsReplays =
    clickhouse?.mode === 'embedded' && options.writer === undefined && stateSession !== undefined;
  const gate = repairsReplays ? new InsertGate() : undefined;
  const writer = gate ? gateLlmCallInserts(limitedWriter, gate) : limitedWriter;
  let store = options.rangeStore;
  if (store === undefined) {
    const clickHouseStore = new ClickHouseInsertedRangeStore(stateSession as EngineSession);
    try {
      await clickHouseStore.checkTable();
    } catch (error) {
      await sessions?.close();
      throw error;
    }
    store = clickHouseStore;
  }
  const rangeStore = killer ? killer.store(store) : store;
  if (killer && config.testKillOnSigusr2)
    process.on('SIGUSR2', () =>
      config.testKillInsideInserts ? killer.requestInsideNextInsert() : killer.request(),
    );
  const dlqTopic = dlqTopicFor(config.topic);
  const workers = new Map<number, PartitionWorker>();
  const budget = new MemoryBudget(config.maxBufferedBytes);
  const pending = new PendingBatches(config.maxConcurrentInserts);
  const metrics = new ConsumerMetrics(
    {
      lag: () =>
        [...workers.values()].map((w) => {
          const s = w.stats();
          return {
            topic: s.topic,
            partition: s.partition,
            lag:
              s.highWatermark >= 0 && s.committedOffset >= 0
                ? Math.max(0, s.highWatermark - s.committedOffset)
                : -1,
          };
        }),
      bufferedBytes: () => budget.usedBytes,
      pausedPartitions: () => [...workers.values()].filter((w) => w.stats().paused).length,
    },
    { defaultMetrics: options.processMetrics ?? false },
  );
  budget.onRelease(() => {
    for (const worker of workers.values()) worker.checkResume();
  });
  const replayRepair: ReplayRepair | undefined =
    gate && stateSession
      ? new EmbeddedReplayRepair({
          statements: killer
            ? killer.statements(clientStatements(stateSession.client))
            : clientStatements(stateSession.client),
          writer,
          gate,
          logger: log,
          metrics,
        })
      : undefined;

  const kafka = new Kafka(
    kafkaClientConfig(
      { clientId: config.clientId, brokers: config.brokers, logger: log, level: 'warn' },
      { retry: { initialRetryTime: config.retryMinMs, maxRetryTime: config.retryMaxMs, retries: 8 } },
    ),
  );
  const consumer: Consumer = kafka.consumer({
    groupId: config.groupId,
    sessionTimeout: config.sessionTimeoutMs,
    heartbeatInterval: Math.min(3000, Math.floor(config.sessionTimeoutMs / 3)),
    // Records are whole OTLP requests (often 100s of KB). Fetch responses stay in memory while decoded (and
    // kafkajs holds a socket buffer and the concatenated response), so they are sized against our memory
    // bound, not for raw speed. Measured (bench/ingest, no-op sink): 16 MiB / 4 MiB per partition peaked at
    // ~95 MB of Buffers, 4 MiB / 1 MiB at ~46 MB at the same spans/s. A record larger than the limit still
    // comes whole (the broker always returns at least one batch).
    maxBytesPerPartition: Math.min(config.batchMaxBytes, 1024 * 1024),
    maxBytes: Math.max(1024 * 1024, Math.min(Math.floor(config.maxBufferedBytes / 16), 4 * 1024 * 1024)),
    maxWaitTimeInMs: Math.min(500, config.batchMaxWaitMs),
    allowAutoTopicCreation: false,
    retry: { initialRetryTime: config.retryMinMs, maxRetryTime: config.retryMaxMs, retries: 10 },
  });
  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: true,
  });
  const admin: Admin = kafka.admin();

  let running = false;
  let assignedPartitions: number[] = [];
  let stopping = false;
  let insertsSeen = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));

  async function sendToDlq(partition: number, letters: readonly DeadLetter[]): Promise<void> {
    const toMessage = (letter: DeadLetter, withValue: boolean) => ({
      key: letter.key,
      value: withValue ? letter.value : null,
      headers: {
        ...letter.headers,
        [HEADER_DLQ_ERROR_CODE]: letter.error.code,
        [HEADER_DLQ_ERROR_MESSAGE]: letter.error.message.slice(0, MAX_HEADER_MESSAGE_CHARS),
        [HEADER_DLQ_SOURCE_TOPIC]: config.topic,
        [HEADER_DLQ_SOURCE_PARTITION]: String(partition),
        [HEADER_DLQ_SOURCE_OFFSET]: String(letter.offset),
      },
    });
    try {
      await producer.send({ topic: dlqTopic, acks: -1, messages: letters.map((l) => toMessage(l, true)) });
    } catch (error) {
      const type = kafkaErrorType(error);
      if (type !== 'MESSAGE_TOO_LARGE' && type !== 'RECORD_LIST_TOO_LARGE') {
        throw new IngestError('KAFKA_UNAVAILABLE', `dead-lettering to ${dlqTopic}: ${errorMessage(error)}`, {
          cause: error,
        });
      }
      // The DLQ topic refuses the original value: keep the error and coordinates (the value is still in the
      // source topic at that offset) rather than block the partition on a record that can never be sent.
      for (const letter of letters) {
        await producer
          .send({ topic: dlqTopic, acks: -1, messages: [toMessage(letter, false)] })
          .catch(async (inner: unknown) => {
            const innerType = kafkaErrorType(inner);
            if (innerType !== 'MESSAGE_TOO_LARGE' && innerType !== 'RECORD_LIST_TOO_LARGE') throw inner;
            await producer.send({
              topic: dlqTopic,
              acks: -1,
              messages: [{ ...toMessage(letter, false), key: null }],
            });
          });
      }
    }
  }

  function workerFor(partition: number): PartitionWorker {
    let worker = workers.get(partition);
    if (worker === undefined) {
      const topicPartitions = [{ topic: config.topic, partitions: [partition] }];
      worker = new PartitionWorker({
        key: { groupId: config.groupId, topic: config.topic, partition },
        writer,
        store: rangeStore,
        replayRepair,
        budget,
        pending,
        metrics,
        logger: log.child({ partition }),
        limits: {
          maxSpans: config.batchMaxSpans,
          maxBytes: config.batchMaxBytes,
          maxWaitMs: config.batchMaxWaitMs,
          minSpansWhenIdle: Math.ceil(config.batchMaxSpans / 4),
        },
        backoff: { minMs: config.retryMinMs, maxMs: config.retryMaxMs },
        sendToDlq: (letters) => sendToDlq(partition, letters),
        commit: (nextOffset) =>
          consumer.commitOffsets([{ topic: config.topic, partition, offset: String(nextOffset) }]),
        pause: () => consumer.pause(topicPartitions),
        resume: () => {
          if (!stopping) consumer.resume(topicPartitions);
        },
        afterInsert:
          config.testCrashAfterInsert === undefined || killer === undefined
            ? undefined
            : () => {
                insertsSeen++;
                if (insertsSeen !== config.testCrashAfterInsert) return;
                // TEST ONLY (MODELWATCH_TEST_CRASH_AFTER_INSERT): the worst moment — rows written, nothing
                // committed, state still 'before'. This batch goes no further; the kill follows once the
                // other partitions' statements in flight have finished.
                log.warn({ insertsSeen }, 'test hook: SIGKILL after insert, before commit');
                killer.request();
                return new Promise<never>(() => undefined);
              },
      });
      workers.set(partition, worker);
    }
    return worker;
  }

  async function eachBatch({ batch, resolveOffset }: EachBatchPayload): Promise<void> {
    if (stopping || batch.topic !== config.topic) return;
    const worker = workerFor(batch.partition);
    worker.noteHighWatermark(Number(batch.highWatermark));
    if (!(await worker.prepare())) return;
    const records = batch.messages.map((m) => ({
      offset: Number(m.offset),
      key: m.key ?? null,
      value: m.value,
      headers: m.headers,
    }));
    const taken = worker.take(records);
    const last = batch.messages[taken - 1];
    if (last !== undefined) resolveOffset(last.offset);
  }

  const { REBALANCING, GROUP_JOIN, CRASH } = consumer.events;
  consumer.on(REBALANCING, () => {
    log.info('group rebalancing: fencing partition workers');
    for (const worker of workers.values()) worker.fence();
  });
  consumer.on(GROUP_JOIN, ({ payload }) => {
    const assigned = new Set(payload.memberAssignment[config.topic] ?? []);
    assignedPartitions = [...assigned].sort((a, b) => a - b);
    log.info(
      { partitions: [...assigned].sort((a, b) => a - b), memberId: payload.memberId },
      'joined consumer group',
    );
    running = true;
    for (const [partition, worker] of workers) {
      if (assigned.has(partition)) {
        worker.unfence();
        continue;
      }
      workers.delete(partition);
      void worker.close().then(() => {
        // kafkajs remembers pauses across rebalances; a later owner-again must start unpaused.
        consumer.resume([{ topic: config.topic, partitions: [partition] }]);
      });
    }
  });
  consumer.on(CRASH, ({ payload }) => {
    log.error({ err: errorMessage(payload.error), restart: payload.restart }, 'kafka consumer crashed');
    if (!payload.restart) {
      running = false;
      void sessions?.close();
      resolveDone();
    }
  });

  let metricsServer: MetricsServer | undefined;
  let dlqTopicCreated: Promise<unknown> = Promise.resolve();
  try {
    await Promise.all([consumer.connect(), producer.connect(), admin.connect()]);
    // Off the start-up path (~150 ms with waitForLeaders on a local broker, measured): a dead letter sent
    // before the topic exists is retried like any Kafka outage, or the broker creates the topic.
    dlqTopicCreated = admin
      .createTopics({ topics: [{ topic: dlqTopic, numPartitions: 1 }], waitForLeaders: true })
      .catch((error: unknown) =>
        log.warn(
          { err: errorMessage(error), dlqTopic },
          'cannot create the dead-letter topic; relying on broker auto-creation',
        ),
      );
    await consumer.subscribe({ topics: [config.topic], fromBeginning: config.fromBeginning });
    if (config.metricsPort !== null) {
      metricsServer = await startMetricsServer({
        host: config.metricsHost,
        port: config.metricsPort,
        registry: metrics.registry,
        health: () => ({
          ok: running && !stopping,
          detail: stopping ? 'stopping' : running ? 'consuming' : 'not joined',
        }),
      });
    }
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // Partitions are decoded on this thread anyway; >1 only lets one partition's state read overlap others.
      partitionsConsumedConcurrently: 4,
      eachBatch,
    });
  } catch (error) {
    await dlqTopicCreated;
    await Promise.allSettled([
      consumer.disconnect(),
      producer.disconnect(),
      admin.disconnect(),
      metricsServer?.close(),
    ]);
    await sessions?.close();
    throw new IngestError(
      'KAFKA_UNAVAILABLE',
      `cannot start consuming ${config.topic}: ${errorMessage(error)}`,
      { cause: error },
    );
  }
  log.info({ brokers: config.brokers, metricsPort: metricsServer?.port }, 'consumer started');

  let stopped: Promise<void> | undefined;
  async function stop(): Promise<void> {
    stopped ??= (async () => {
      stopping = true;
      // Stop fetching while the taken records are written (eachBatch also ignores anything still delivered).
      consumer.pause([{ topic: config.topic }]);
      const flushAll = Promise.all([...workers.values()].map((w) => w.flush()));
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        flushAll.then(() => false),
        new Promise<boolean>(
          (resolve) => (timer = setTimeout(() => resolve(true), config.shutdownTimeoutMs)),
        ),
      ]);
      clearTimeout(timer);
      if (timedOut)
        log.warn(
          { timeoutMs: config.shutdownTimeoutMs },
          'shutdown timeout: unwritten batches are left to the next run',
        );
      await Promise.all([...workers.values()].map((w) => w.close()));
      workers.clear();
      await dlqTopicCreated;
      await Promise.allSettled([
        consumer.disconnect(),
        producer.disconnect(),
        admin.disconnect(),
        metricsServer?.close(),
      ]);
      // After the workers closed: no insert or state write is in flight on these sessions any more.
      await sessions?.close();
      running = false;
      log.info(metrics.totals, 'consumer stopped');
      resolveDone();
    })();
    return stopped;
  }

  async function waitUntilCaughtUp(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const [high, committed] = await Promise.all([
          admin.fetchTopicOffsets(config.topic),
          admin.fetchOffsets({ groupId: config.groupId, topics: [config.topic] }),
        ]);
        const committedBy = new Map(
          (committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)] as const),
        );
        const caughtUp = high.every(
          (p) => Number(p.high) === Number(p.low) || (committedBy.get(p.partition) ?? -1) >= Number(p.high),
        );
        if (caughtUp) return true;
      } catch (error) {
        log.debug({ err: errorMessage(error) }, 'waitUntilCaughtUp: offsets not readable yet');
      }
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  return {
    stop,
    waitUntilCaughtUp,
    done,
    stats: () => ({
      topic: config.topic,
      groupId: config.groupId,
      running: running && !stopping,
      assignedPartitions: [...assignedPartitions],
      partitions: [...workers.values()].map((w) => w.stats()).sort((a, b) => a.partition - b.partition),
      totals: { ...metrics.totals },
      bufferedBytes: budget.usedBytes,
      metricsPort: metricsServer?.port,
    }),
  };
}
