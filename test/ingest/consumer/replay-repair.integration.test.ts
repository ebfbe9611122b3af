/**
 * Replays after a crash that the embedded engine survived with a token but without its rows
 * (replay-repair.ts). The crash is reproduced in the engine's own terms: a range is written, then rows of it
 * are deleted — from otel_traces, llm_calls, the trace-window view's table and the rollup, as a SIGKILL
 * between the token and the part leaves them — while the tokens stay in the engine's deduplication logs,
 * and the state row is put back to 'before'. A new worker then replays the range with its tokens, as after a
 * restart. Without the repair the engine drops that replay as a duplicate (the first test shows it, so the
 * simulation is the real failure); with it every row is back exactly once and the rollup matches llm_calls.
 * Real engine, real OTLP records from the OpenTelemetry SDK; no Kafka (the worker takes records directly).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ClickHouseSpanWriter } from '../../../ingest/src/clickhouse/insert-rows.js';
import { ConsumerMetrics } from '../../../ingest/src/consumer/consumer-metrics.js';
import { gateLlmCallInserts, InsertGate } from '../../../ingest/src/consumer/insert-gate.js';
import {
  ClickHouseInsertedRangeStore,
  TABLE_CONSUMER_STATE,
} from '../../../ingest/src/consumer/inserted-range-store.js';
import { MemoryBudget } from '../../../ingest/src/consumer/memory-budget.js';
import { PartitionWorker, type ConsumedRecord } from '../../../ingest/src/consumer/partition-worker.js';
import {
  clientStatements,
  EmbeddedReplayRepair,
  type ReplayRepair,
  type ReplayRepairResult,
} from '../../../ingest/src/consumer/replay-repair.js';
import { silentLogger } from '../../../ingest/src/log.js';
import { openMigratedStore, type TestStore } from '../fixtures/embedded-store.js';
import { makeTraceRequests, type TraceRequest } from './llm-span-fixtures.js';

const RECORDS = 12;
const SPANS_PER_RECORD = 5;
const SPANS = RECORDS * SPANS_PER_RECORD;
const GROUP = 'replay-repair';

let store: TestStore;

before(async () => {
  store = await openMigratedStore('modelwatch-replay-repair-');
});
after(async () => {
  await store?.close();
});

async function rows<T>(query: string, params: Record<string, unknown> = {}): Promise<T[]> {
  const result = await store.handle.client.query({ query, query_params: params, format: 'JSONEachRow' });
  return result.json<T>();
}

async function count(query: string, params: Record<string, unknown>): Promise<number> {
  const [row] = await rows<{ n: string }>(query, params);
  return Number(row?.n);
}

async function mutate(query: string, params: Record<string, unknown>): Promise<void> {
  await store.handle.client.command({
    query,
    query_params: params,
    clickhouse_settings: { mutations_sync: '1' },
  });
}

interface Run {
  worker: PartitionWorker;
  commits: number[];
  repairs: ReplayRepairResult[];
}

/** A worker on the real engine for partition `partition` of a run-unique topic. */
function startWorker(topic: string, withRepair: boolean): Run {
  const gate = new InsertGate();
  const writer = gateLlmCallInserts(new ClickHouseSpanWriter(store.handle), gate);
  const repairs: ReplayRepairResult[] = [];
  const engineRepair = new EmbeddedReplayRepair({
    statements: clientStatements(store.handle.client),
    writer,
    gate,
    logger: silentLogger,
  });
  const replayRepair: ReplayRepair | undefined = withRepair
    ? {
        repair: async (...args) => {
          const result = await engineRepair.repair(...args);
          repairs.push(result);
          return result;
        },
      }
    : undefined;
  const commits: number[] = [];
  const budget = new MemoryBudget(1 << 30);
  const worker = new PartitionWorker({
    key: { groupId: GROUP, topic, partition: 0 },
    writer,
    store: new ClickHouseInsertedRangeStore(store.handle),
    replayRepair,
    budget,
    metrics: new ConsumerMetrics({ lag: () => [], bufferedBytes: () => 0, pausedPartitions: () => 0 }),
    logger: silentLogger,
    // One batch holds every record: it is full at exactly SPANS spans.
    limits: { maxSpans: SPANS, maxBytes: 1 << 30, maxWaitMs: 60_000, minSpansWhenIdle: 0 },
    backoff: { minMs: 1, maxMs: 10 },
    sendToDlq: async () => undefined,
    commit: async (nextOffset) => void commits.push(nextOffset),
    pause: () => undefined,
    resume: () => undefined,
  });
  return { worker, commits, repairs };
}

async function writeAll(run: Run, records: readonly ConsumedRecord[]): Promise<void> {
  assert.ok(await run.worker.prepare());
  assert.equal(run.worker.take(records), records.length);
  const deadline = Date.now() + 30_000;
  while (!run.commits.includes(RECORDS)) {
    assert.ok(Date.now() < deadline, `range not committed; commits ${JSON.stringify(run.commits)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await run.worker.close();
}

const toRecords = (requests: readonly TraceRequest[]): ConsumedRecord[] =>
  requests.map((request, offset) => ({
    offset,
    key: null,
    value: Buffer.from(request.proto),
    headers: undefined,
  }));

/**
 * What a SIGKILL inside the engine's window leaves: some rows of the range gone with their tokens kept, and
 * the state row 'before' (the consumer never saw the inserts acknowledged).
 */
async function loseRowsOfTheRange(
  topic: string,
  requests: readonly TraceRequest[],
  service: string,
): Promise<void> {
  const tracesLost = requests.slice(0, 3).map((r) => r.traceId);
  const callsLost = requests.slice(3, 5).map((r) => r.traceId);
  await mutate('ALTER TABLE otel_traces DELETE WHERE TraceId IN {ids:Array(String)}', { ids: tracesLost });
  await mutate('ALTER TABLE otel_traces_trace_id_ts DELETE WHERE TraceId IN {ids:Array(String)}', {
    ids: tracesLost,
  });
  await mutate('ALTER TABLE llm_calls DELETE WHERE TraceId IN {ids:Array(String)}', { ids: callsLost });
  // The rollup part of llm_calls' insert lost too: every rollup row of this run's service.
  await mutate('ALTER TABLE llm_calls_1m DELETE WHERE ServiceName = {service:String}', { service });
  await recordRangeBefore(topic);
}

/**
 * The state row as the crash left it: the range recorded 'before'. (Deleting the 'after' row is not enough:
 * a merge may already have folded 'before' into it.)
 */
async function recordRangeBefore(topic: string): Promise<void> {
  await mutate(`ALTER TABLE ${TABLE_CONSUMER_STATE} DELETE WHERE Topic = {topic:String}`, { topic });
  await new ClickHouseInsertedRangeStore(store.handle).save(
    { groupId: GROUP, topic, partition: 0 },
    { from: 0, to: RECORDS - 1, phase: 'before' },
  );
}

interface Totals {
  traces: number;
  distinctTraceKeys: number;
  calls: number;
  distinctCallKeys: number;
  traceWindows: number;
  rollupCalls: number;
}

/** Every span once in each table, every trace's window, every call in the rollup. */
const COMPLETE: Totals = {
  traces: SPANS,
  distinctTraceKeys: SPANS,
  calls: SPANS,
  distinctCallKeys: SPANS,
  traceWindows: RECORDS,
  rollupCalls: SPANS,
};

async function totals(service: string, traceIds: readonly string[]): Promise<Totals> {
  const p = { service, ids: traceIds };
  return {
    traces: await count('SELECT count() AS n FROM otel_traces WHERE ServiceName = {service:String}', p),
    distinctTraceKeys: await count(
      'SELECT uniqExact(TraceId, SpanId) AS n FROM otel_traces WHERE ServiceName = {service:String}',
      p,
    ),
    calls: await count('SELECT count() AS n FROM llm_calls WHERE ServiceName = {service:String}', p),
    distinctCallKeys: await count(
      'SELECT uniqExact(TraceId, SpanId) AS n FROM llm_calls WHERE ServiceName = {service:String}',
      p,
    ),
    traceWindows: await count(
      'SELECT uniqExact(TraceId) AS n FROM otel_traces_trace_id_ts WHERE TraceId IN {ids:Array(String)}',
      p,
    ),
    rollupCalls: await count(
      'SELECT sum(Calls) AS n FROM llm_calls_1m WHERE ServiceName = {service:String}',
      p,
    ),
  };
}

/** The rollup per group, as dashboards read it, next to the same figures computed from llm_calls. */
async function rollupVersusCalls(service: string) {
  const rollup = await rows<Record<string, string>>(
    `SELECT Minute, Provider, ModelFamily, ModelVersion, sum(Calls) AS calls, sum(Failures) AS failures,
            sum(InputTokens) AS input, sum(OutputTokens) AS output
     FROM llm_calls_1m WHERE ServiceName = {service:String}
     GROUP BY Minute, Provider, ModelFamily, ModelVersion ORDER BY Minute, Provider, ModelFamily, ModelVersion`,
    { service },
  );
  const fromCalls = await rows<Record<string, string>>(
    `SELECT toStartOfMinute(Timestamp) AS Minute, Provider, ModelFamily, ModelVersion, count() AS calls,
            countIf(IsFailure = 1) AS failures, sum(toUInt64(InputTokens)) AS input,
            sum(toUInt64(OutputTokens)) AS output
     FROM llm_calls WHERE ServiceName = {service:String}
     GROUP BY Minute, Provider, ModelFamily, ModelVersion ORDER BY Minute, Provider, ModelFamily, ModelVersion`,
    { service },
  );
  return { rollup, fromCalls };
}

async function scenario(name: string, withRepair: boolean) {
  const topic = `replay-repair-${name}-${Date.now()}`;
  const service = `svc-${name}-${Date.now()}`;
  const requests = await makeTraceRequests(service, RECORDS, SPANS_PER_RECORD);
  const traceIds = requests.map((r) => r.traceId);
  await writeAll(startWorker(topic, withRepair), toRecords(requests));
  const written = await totals(service, traceIds);
  assert.deepEqual(written, COMPLETE, 'the first write');
  await loseRowsOfTheRange(topic, requests, service);
  const replay = startWorker(topic, withRepair);
  await writeAll(replay, toRecords(requests));
  return { service, traceIds, replay, after: await totals(service, traceIds) };
}

describe('replaying a range the embedded engine lost rows of (replay-repair.ts)', () => {
  it('without the repair, the replay is dropped as a duplicate: the rows stay lost', async () => {
    const { after: lost } = await scenario('control', false);
    assert.equal(lost.traces, SPANS - 3 * SPANS_PER_RECORD);
    assert.equal(lost.calls, SPANS - 2 * SPANS_PER_RECORD);
    assert.equal(lost.traceWindows, RECORDS - 3);
    assert.equal(lost.rollupCalls, 0);
  });

  it('with it, every row is back exactly once and the rollup matches llm_calls', async () => {
    const { service, replay, after: repaired } = await scenario('repaired', true);
    assert.deepEqual(repaired, COMPLETE);
    assert.equal(replay.repairs.length, 1);
    const [result] = replay.repairs;
    assert.deepEqual(result?.rowsRestored, {
      otel_traces: 3 * SPANS_PER_RECORD,
      llm_calls: 2 * SPANS_PER_RECORD,
    });
    assert.ok((result?.rollupGroupsRebuilt ?? 0) > 0, 'rollup groups rebuilt');
    const { rollup, fromCalls } = await rollupVersusCalls(service);
    assert.deepEqual(rollup, fromCalls);
  });

  it('a replay that lost nothing writes nothing more', async () => {
    const topic = `replay-repair-intact-${Date.now()}`;
    const service = `svc-intact-${Date.now()}`;
    const requests = await makeTraceRequests(service, RECORDS, SPANS_PER_RECORD);
    await writeAll(startWorker(topic, true), toRecords(requests));
    await recordRangeBefore(topic);
    const replay = startWorker(topic, true);
    await writeAll(replay, toRecords(requests));
    assert.deepEqual(replay.repairs, [
      { rowsRestored: { otel_traces: 0, llm_calls: 0 }, rollupGroupsRebuilt: 0 },
    ]);
    const { rollup, fromCalls } = await rollupVersusCalls(service);
    assert.deepEqual(rollup, fromCalls);
    assert.equal(
      (
        await totals(
          service,
          requests.map((r) => r.traceId),
        )
      ).calls,
      SPANS,
      'no row written twice',
    );
  });
});
