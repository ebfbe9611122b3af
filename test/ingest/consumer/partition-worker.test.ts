/**
 * When a partition worker cuts a batch early (pending-batches.ts): only while an insert slot would otherwise
 * idle, never while batches wait for the engine. The writer and range store are the worker's own injection
 * points (SpanRowWriter, InsertedRangeStore): here they record what the worker asks of them and hold inserts
 * until the test lets them finish. Records are real OTLP protobuf requests from the OpenTelemetry SDK.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SpanRowWriter } from '../../../ingest/src/clickhouse/insert-rows.js';
import { ConsumerMetrics } from '../../../ingest/src/consumer/consumer-metrics.js';
import type { InsertedRange, InsertedRangeStore } from '../../../ingest/src/consumer/inserted-range-store.js';
import { MemoryBudget } from '../../../ingest/src/consumer/memory-budget.js';
import { PartitionWorker, type ConsumedRecord } from '../../../ingest/src/consumer/partition-worker.js';
import { PendingBatches } from '../../../ingest/src/consumer/pending-batches.js';
import { silentLogger } from '../../../ingest/src/log.js';
import { makeTraceRequests } from './llm-span-fixtures.js';

const SPANS_PER_RECORD = 50;

/** A writer whose otel_traces inserts finish only when the test releases them, in order. */
function heldWriter() {
  const tokens: string[] = [];
  const held: (() => void)[] = [];
  const writer: SpanRowWriter = {
    async writeEncoded(table, _chunks, token) {
      if (table !== 'otel_traces') return;
      tokens.push(token);
      await new Promise<void>((resolve) => held.push(resolve));
    },
  };
  return {
    writer,
    tokens,
    releaseNext: () => held.shift()?.(),
  };
}

async function records(count: number): Promise<ConsumedRecord[]> {
  const requests = await makeTraceRequests(`pw-${Date.now()}`, count, SPANS_PER_RECORD);
  return requests.map((request, offset) => ({
    offset,
    key: null,
    value: Buffer.from(request.proto),
    headers: undefined,
  }));
}

function worker(writer: SpanRowWriter, pending: PendingBatches | undefined, recorded?: InsertedRange) {
  const ranges = new Map<number, InsertedRange>(recorded ? [[0, recorded]] : []);
  const store: InsertedRangeStore = {
    load: async (key) => ranges.get(key.partition) ?? null,
    save: async (key, range) => void ranges.set(key.partition, range),
  };
  const budget = new MemoryBudget(1 << 30);
  const commits: number[] = [];
  const partitionWorker = new PartitionWorker({
    key: { groupId: 'g', topic: 't', partition: 0 },
    writer,
    store,
    budget,
    pending,
    metrics: new ConsumerMetrics({ lag: () => [], bufferedBytes: () => 0, pausedPartitions: () => 0 }),
    logger: silentLogger,
    // Early cuts from 200 spans (4 records); full at 1000; the timer never fires during the test.
    limits: { maxSpans: 1000, maxBytes: 1 << 30, maxWaitMs: 60_000, minSpansWhenIdle: 200 },
    backoff: { minMs: 1, maxMs: 10 },
    sendToDlq: async () => undefined,
    commit: async (nextOffset) => void commits.push(nextOffset),
    pause: () => undefined,
    resume: () => undefined,
  });
  budget.onRelease(() => partitionWorker.checkResume());
  return { partitionWorker, commits, ranges };
}

/** A writer that records each otel_traces token and acknowledges at once. */
function recordingWriter() {
  const tokens: string[] = [];
  const writer: SpanRowWriter = {
    async writeEncoded(table, _chunks, token) {
      if (table === 'otel_traces') tokens.push(token);
    },
  };
  return { writer, tokens };
}

/** Lets the worker's promise chains (state write, insert call) run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('PartitionWorker: early batch cuts', () => {
  it('cuts a batch at minSpansWhenIdle while an insert slot is free, and not while batches wait', async () => {
    const input = await records(12);
    const { writer, tokens, releaseNext } = heldWriter();
    const pending = new PendingBatches(1);
    const { partitionWorker, commits } = worker(writer, pending);
    assert.equal(await partitionWorker.prepare(), true);

    // 4 records = 200 spans: the one insert slot is free, so the batch goes now instead of at 1000 spans.
    assert.equal(partitionWorker.take(input.slice(0, 4)), 4);
    await settle();
    assert.deepEqual(tokens, ['t:0:0-3:otel_traces']);
    assert.equal(pending.count, 1);

    // The slot is busy: 6 more records (300 spans) stay in the open batch.
    assert.equal(partitionWorker.take(input.slice(4, 10)), 6);
    await settle();
    assert.equal(tokens.length, 1, 'no early cut while a batch waits for the slot');

    // The insert finishes: the slot would idle, so the open batch is cut at once.
    releaseNext();
    await settle();
    assert.deepEqual(tokens, ['t:0:0-3:otel_traces', 't:0:4-9:otel_traces']);
    assert.deepEqual(commits, [4]);

    releaseNext();
    await settle();
    assert.deepEqual(commits, [4, 10]);
    assert.equal(pending.count, 0);
    await partitionWorker.close();
  });

  it('without the shared count, batches are cut only when full (or by their timer)', async () => {
    const input = await records(12);
    const { writer, tokens, releaseNext } = heldWriter();
    const { partitionWorker } = worker(writer, undefined);
    assert.equal(await partitionWorker.prepare(), true);
    assert.equal(partitionWorker.take(input.slice(0, 10)), 10);
    await settle();
    assert.deepEqual(tokens, []);
    // 20 records × 50 spans reach maxSpans (1000) at the 20th: 12 are not enough, so nothing is cut.
    assert.equal(partitionWorker.take(input.slice(10)), 2);
    await settle();
    assert.deepEqual(tokens, []);
    releaseNext();
    await partitionWorker.close();
  });

  it('close() gives back the count of every batch it drops', async () => {
    const input = await records(8);
    const { writer } = heldWriter();
    const pending = new PendingBatches(1);
    const { partitionWorker } = worker(writer, pending);
    assert.equal(await partitionWorker.prepare(), true);
    partitionWorker.take(input.slice(0, 4));
    await settle();
    assert.equal(pending.count, 1);
    await Promise.race([partitionWorker.close(), settle()]);
    assert.equal(pending.count, 0);
  });
});

describe('PartitionWorker: the range recorded by an earlier owner', () => {
  it('starting at a range recorded before its inserts: re-sends exactly that range with its token', async () => {
    const input = await records(12);
    const { writer, tokens } = recordingWriter();
    const { partitionWorker, commits } = worker(writer, undefined, { from: 3, to: 6, phase: 'before' });
    assert.equal(await partitionWorker.prepare(), true);
    assert.equal(partitionWorker.take(input.slice(3)), 9);
    await partitionWorker.flush();
    assert.deepEqual(tokens, ['t:0:3-6:otel_traces', 't:0:7-11:otel_traces']);
    assert.deepEqual(commits, [7, 12]);
  });

  it('starting inside a range recorded before its inserts (an earlier owner wrote it late): writes every record from there', async () => {
    // The committed offset (5) is inside the recorded range [0, 9]: the next owner had cut and committed
    // its own ranges up to 4 before the earlier owner's late row landed. Nothing says 5..9 were written.
    const input = await records(12);
    const { writer, tokens } = recordingWriter();
    const { partitionWorker, commits } = worker(writer, undefined, { from: 0, to: 9, phase: 'before' });
    assert.equal(await partitionWorker.prepare(), true);
    assert.equal(partitionWorker.take(input.slice(5)), 7);
    await partitionWorker.flush();
    assert.deepEqual(tokens, ['t:0:5-11:otel_traces'], 'records 5..9 are written, not skipped');
    assert.deepEqual(commits, [12]);
  });
});
