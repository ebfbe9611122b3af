/**
 * The consumer against a real Kafka broker and the real embedded ClickHouse engine (one data directory for
 * this file). Faults are injected only at our own SpanRowWriter interface, never inside Kafka or ClickHouse.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { EncodedChunk, SpanRowWriter, SpanTable } from '../../../ingest/src/clickhouse/insert-rows.js';
import { ClickHouseSpanWriter } from '../../../ingest/src/clickhouse/insert-rows.js';
import {
  ClickHouseInsertedRangeStore,
  type InsertedRangeStore,
} from '../../../ingest/src/consumer/inserted-range-store.js';
import { startConsumer, type RunningConsumer } from '../../../ingest/src/consumer/run-consumer.js';
import { IngestError } from '../../../ingest/src/errors.js';
import { silentLogger } from '../../../ingest/src/log.js';
import {
  HEADER_DLQ_ERROR_CODE,
  HEADER_DLQ_ERROR_MESSAGE,
  HEADER_DLQ_PAYLOAD,
  HEADER_DLQ_SOURCE_OFFSET,
  HEADER_DLQ_SOURCE_PARTITION,
  HEADER_DLQ_SOURCE_TOPIC,
  HEADER_ENCODING,
  TABLE_LLM_CALLS,
  TABLE_OTEL_TRACES,
  dlqTopicFor,
} from '../../../ingest/src/names.js';
import {
  countRows,
  createTopic,
  eventually,
  openEmbeddedStore,
  produce,
  readTopic,
  testConsumerConfig,
  uniqueName,
  type EmbeddedStore,
} from './consumer-test-support.js';
import { makeCollectorBatch, makeTraceRequests } from './llm-span-fixtures.js';

let store: EmbeddedStore;
const running: RunningConsumer[] = [];

before(async () => {
  store = await openEmbeddedStore();
});

after(async () => {
  await Promise.allSettled(running.map((c) => c.stop()));
  await store.close();
});

async function start(
  topic: string,
  groupId: string,
  extra: { writer?: SpanRowWriter; rangeStore?: InsertedRangeStore; env?: Record<string, string> } = {},
) {
  const consumer = await startConsumer(testConsumerConfig(topic, groupId, extra.env), {
    clickhouse: store.handle,
    logger: silentLogger,
    writer: extra.writer,
    rangeStore: extra.rangeStore,
  });
  running.push(consumer);
  return consumer;
}

/** `traces` traces of `spansPerTrace` spans each from `service`, produced as protobuf, keyed by trace id. */
async function produceTraces(topic: string, service: string, traces: number, spansPerTrace: number) {
  const requests = await makeTraceRequests(service, traces, spansPerTrace);
  await produce(
    topic,
    requests.map((r) => ({ key: r.traceId, value: r.proto })),
  );
}

async function counts(serviceName: string) {
  return {
    traces: await countRows(store.handle, TABLE_OTEL_TRACES, 'ServiceName LIKE {s:String}', {
      s: `${serviceName}%`,
    }),
    llmCalls: await countRows(store.handle, TABLE_LLM_CALLS, 'ServiceName LIKE {s:String}', {
      s: `${serviceName}%`,
    }),
  };
}

describe('consumer: Kafka -> ClickHouse', { timeout: 120_000 }, () => {
  test('otlp_proto and otlp_json records (with and without the encoding header) land in otel_traces and llm_calls', async () => {
    const topic = uniqueName('spans');
    const service = uniqueName('svc');
    await createTopic(topic, 3);
    const requests = await makeTraceRequests(service, 12, 5);
    await produce(
      topic,
      requests.map((r, i) => ({
        key: r.traceId,
        value: i % 2 === 0 ? r.proto : r.json,
        // Half of each encoding carries the header, the other half is sniffed.
        headers: i % 4 < 2 ? { [HEADER_ENCODING]: i % 2 === 0 ? 'otlp_proto' : 'otlp_json' } : undefined,
      })),
    );
    const consumer = await start(topic, uniqueName('group'), {
      env: { MODELWATCH_CONSUMER_METRICS_PORT: '0', MODELWATCH_CONSUMER_METRICS_HOST: '127.0.0.1' },
    });
    assert.equal(await consumer.waitUntilCaughtUp(30_000), true);
    assert.deepEqual(await counts(service), {
      traces: { rows: 60, uniqueSpans: 60 },
      llmCalls: { rows: 60, uniqueSpans: 60 },
    });

    const byModel = await store.handle.client.query({
      query: `SELECT Provider, RequestModel, count() AS calls FROM llm_calls WHERE ServiceName = {s:String}
              AND Provider IN ('openai', 'anthropic') GROUP BY Provider, RequestModel ORDER BY Provider`,
      query_params: { s: service },
      format: 'JSONEachRow',
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    });
    assert.deepEqual(await byModel.json(), [
      { Provider: 'anthropic', RequestModel: 'claude-3-5-sonnet-20241022', calls: 20 },
      { Provider: 'openai', RequestModel: 'gpt-4o', calls: 20 },
    ]);

    const stats = consumer.stats();
    assert.equal(stats.totals.tracesWritten, 60);
    assert.equal(stats.totals.dlqRecords, 0);
    const port = stats.metricsPort;
    assert.ok(port);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(health.status, 200);
    const metricsText = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(metricsText, /modelwatch_consumer_rows_written_total\{table="otel_traces"\} 60/);
    assert.match(metricsText, /modelwatch_consumer_lag_records\{topic="[^"]+",partition="\d"\} 0/);
    assert.match(metricsText, /modelwatch_consumer_batch_duration_seconds_bucket/);
    await consumer.stop();
  });

  test('a Collector-style record (several ResourceSpans and ScopeSpans) lands completely', async () => {
    const topic = uniqueName('collector');
    const service = uniqueName('svc');
    await createTopic(topic, 1);
    const batch = await makeCollectorBatch(service, 150);
    assert.equal(batch.spanCount, 600);
    await produce(topic, [{ key: null, value: batch.proto }]);
    const consumer = await start(topic, uniqueName('group'));
    assert.equal(await consumer.waitUntilCaughtUp(30_000), true);
    assert.deepEqual(await counts(service), {
      traces: { rows: 600, uniqueSpans: 600 },
      llmCalls: { rows: 600, uniqueSpans: 600 },
    });
    await consumer.stop();
  });

  test('poison records go to the DLQ with error and source headers; good records around them land', async () => {
    const topic = uniqueName('poison');
    const service = uniqueName('svc');
    await createTopic(topic, 1);
    const good = await makeTraceRequests(service, 3, 4);
    const badIds = Buffer.from(
      JSON.stringify({
        resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'zz', spanId: '01', name: 'x' }] }] }],
      }),
    );
    await produce(topic, [
      { key: good[0]!.traceId, value: good[0]!.proto, partition: 0 },
      { key: 'garbage', value: Buffer.from([0xff, 0xfe, 0x00, 0x13, 0x37, 0x42, 0x99]), partition: 0 },
      { key: good[1]!.traceId, value: good[1]!.json, partition: 0 },
      { key: 'bad-ids', value: badIds, partition: 0 },
      { key: 'empty-object', value: Buffer.from('{}'), partition: 0 },
      { key: good[2]!.traceId, value: good[2]!.proto, partition: 0 },
    ]);
    const consumer = await start(topic, uniqueName('group'));
    assert.equal(await consumer.waitUntilCaughtUp(30_000), true);
    assert.deepEqual(await counts(service), {
      traces: { rows: 12, uniqueSpans: 12 },
      llmCalls: { rows: 12, uniqueSpans: 12 },
    });

    const dead = await readTopic(dlqTopicFor(topic), 2);
    const byOffset = new Map(dead.map((r) => [r.headers[HEADER_DLQ_SOURCE_OFFSET], r]));
    assert.deepEqual([...byOffset.keys()].sort(), ['1', '3']);
    for (const record of dead) {
      assert.equal(record.headers[HEADER_DLQ_SOURCE_TOPIC], topic);
      assert.equal(record.headers[HEADER_DLQ_SOURCE_PARTITION], '0');
      assert.match(record.headers[HEADER_DLQ_ERROR_CODE] ?? '', /^OTLP_(DECODE_FAILED|INVALID)$/);
      assert.ok((record.headers[HEADER_DLQ_ERROR_MESSAGE] ?? '').length > 0);
      assert.equal(record.headers[HEADER_DLQ_PAYLOAD], 'source-record');
    }
    assert.deepEqual(byOffset.get('1')?.value, Buffer.from([0xff, 0xfe, 0x00, 0x13, 0x37, 0x42, 0x99]));
    assert.equal(byOffset.get('3')?.headers[HEADER_DLQ_ERROR_CODE], 'OTLP_INVALID');
    assert.equal(consumer.stats().totals.dlqRecords, 2);
    await consumer.stop();
  });

  test('ClickHouse unavailable: the same batch is retried with its token, nothing lost or duplicated', async () => {
    const topic = uniqueName('outage');
    const service = uniqueName('svc');
    await createTopic(topic, 2);
    await produceTraces(topic, service, 20, 10);

    // Fault injection at our writer interface: the first inserts fail as "ClickHouse unavailable"; one insert
    // of each table *lands and then reports failure* (lost acknowledgement), the nastiest case for dedup.
    const real = new ClickHouseSpanWriter(store.handle);
    const tokens: string[] = [];
    let calls = 0;
    const flaky: SpanRowWriter = {
      async writeEncoded(table: SpanTable, chunks: readonly EncodedChunk[], token: string) {
        calls++;
        tokens.push(token);
        if (calls <= 3) throw new IngestError('CLICKHOUSE_UNAVAILABLE', 'injected: connection refused');
        if (calls <= 5) {
          await real.writeEncoded(table, chunks, token);
          throw new IngestError('CLICKHOUSE_UNAVAILABLE', 'injected: acknowledgement lost');
        }
        await real.writeEncoded(table, chunks, token);
      },
    };
    const consumer = await start(topic, uniqueName('group'), { writer: flaky });
    assert.equal(await consumer.waitUntilCaughtUp(60_000), true);
    assert.deepEqual(await counts(service), {
      traces: { rows: 200, uniqueSpans: 200 },
      llmCalls: { rows: 200, uniqueSpans: 200 },
    });
    assert.ok(consumer.stats().totals.retries >= 5, `retries: ${consumer.stats().totals.retries}`);
    // Retries re-sent the exact same token (same range), never a new cut of the same records.
    for (const failed of tokens.slice(0, 5)) {
      assert.ok(tokens.lastIndexOf(failed) > tokens.indexOf(failed), `${failed} was not re-sent`);
    }
    for (const token of tokens)
      assert.match(token, new RegExp(`^${topic}:\\d:\\d+-\\d+:(otel_traces|llm_calls)$`));
    await consumer.stop();
  });

  test('rows ClickHouse rejects for their content: bisected, exactly the offending record is dead-lettered', async () => {
    const topic = uniqueName('rejects');
    const service = uniqueName('svc');
    await createTopic(topic, 1);
    const requests = await makeTraceRequests(service, 9, 3);
    const poisonTrace = requests[5]!.traceId;
    await produce(
      topic,
      requests.map((r) => ({ key: r.traceId, value: r.proto, partition: 0 })),
    );
    const real = new ClickHouseSpanWriter(store.handle);
    const rejecting: SpanRowWriter = {
      async writeEncoded(table, chunks, token) {
        // Stand-in for a type error in one record's llm_calls rows (the trace id is a string in its block).
        const holdsPoison = (c: EncodedChunk) => Buffer.from(c).toString('latin1').includes(poisonTrace);
        if (table === TABLE_LLM_CALLS && chunks.some(holdsPoison)) {
          throw new IngestError('CLICKHOUSE_REJECTED', 'injected: Cannot parse input: expected UInt32');
        }
        await real.writeEncoded(table, chunks, token);
      },
    };
    const consumer = await start(topic, uniqueName('group'), { writer: rejecting });
    assert.equal(await consumer.waitUntilCaughtUp(30_000), true);
    const c = await counts(service);
    assert.deepEqual(c.llmCalls, { rows: 24, uniqueSpans: 24 });
    assert.deepEqual(c.traces, { rows: 27, uniqueSpans: 27 });
    const [dead] = await readTopic(dlqTopicFor(topic), 1);
    assert.equal(dead?.headers[HEADER_DLQ_SOURCE_OFFSET], '5');
    assert.equal(dead?.headers[HEADER_DLQ_ERROR_CODE], 'CLICKHOUSE_REJECTED');
    assert.match(dead?.headers[HEADER_DLQ_ERROR_MESSAGE] ?? '', /^llm_calls: /);
    assert.equal(dead?.headers[HEADER_DLQ_PAYLOAD], 'clickhouse-rows; table=llm_calls; format=Native');
    await consumer.stop();
  });

  // A partition paused before anything of it was consumed or committed (a fresh group) must resume: kafkajs
  // has had bugs there (tulios/kafkajs#1599). Both ways our worker pauses that early are driven for real.
  test('consumer state unreadable at start: partitions wait paused, then resume and every span lands once', async () => {
    const topic = uniqueName('stateload');
    const service = uniqueName('svc');
    await createTopic(topic, 3);
    await produceTraces(topic, service, 30, 5);
    const real = new ClickHouseInsertedRangeStore(store.handle);
    let failedLoads = 0;
    const unreadableAtFirst: InsertedRangeStore = {
      async load(key) {
        if (failedLoads < 6) {
          failedLoads++;
          throw new IngestError('CLICKHOUSE_UNAVAILABLE', 'injected: state table unreadable');
        }
        return real.load(key);
      },
      save: (key, range) => real.save(key, range),
    };
    const consumer = await start(topic, uniqueName('group'), { rangeStore: unreadableAtFirst });
    await eventually(
      () => consumer.stats().partitions.some((p) => p.pauseReasons.includes('state')),
      30_000,
      'a partition paused while its state cannot be read',
    );
    assert.equal(await consumer.waitUntilCaughtUp(60_000), true);
    assert.equal(failedLoads, 6);
    assert.deepEqual(await counts(service), {
      traces: { rows: 150, uniqueSpans: 150 },
      llmCalls: { rows: 150, uniqueSpans: 150 },
    });
    assert.ok(consumer.stats().partitions.every((p) => !p.paused));
    await consumer.stop();
  });

  test('a memory budget smaller than a few records: partitions pause and resume from the first fetch on, every span lands once', async () => {
    const topic = uniqueName('budget');
    const service = uniqueName('svc');
    await createTopic(topic, 3);
    await produceTraces(topic, service, 60, 5);
    const consumer = await start(topic, uniqueName('group'), {
      env: {
        MODELWATCH_CONSUMER_MAX_BUFFERED_BYTES: '8000',
        MODELWATCH_BATCH_MAX_BYTES: '4000',
        MODELWATCH_BATCH_MAX_SPANS: '10',
      },
    });
    let sawMemoryPause = false;
    const watch = setInterval(() => {
      if (consumer.stats().partitions.some((p) => p.pauseReasons.includes('memory'))) sawMemoryPause = true;
    }, 5);
    try {
      assert.equal(await consumer.waitUntilCaughtUp(60_000), true);
    } finally {
      clearInterval(watch);
    }
    assert.ok(sawMemoryPause, 'the budget paused a partition');
    assert.deepEqual(await counts(service), {
      traces: { rows: 300, uniqueSpans: 300 },
      llmCalls: { rows: 300, uniqueSpans: 300 },
    });
    await consumer.stop();
  });

  test('two consumer instances in one group split the partitions and write every span once', async () => {
    const topic = uniqueName('scaleout');
    const service = uniqueName('svc');
    const groupId = uniqueName('group');
    await createTopic(topic, 4);
    await produceTraces(topic, service, 40, 10);
    const a = await start(topic, groupId);
    const b = await start(topic, groupId);
    // Rebalanced while consuming: produce more after both joined.
    await eventually(
      () => a.stats().assignedPartitions.length > 0 && b.stats().assignedPartitions.length > 0,
      30_000,
      'both instances to own partitions',
    );
    await produceTraces(topic, service, 40, 10);
    assert.equal(await a.waitUntilCaughtUp(60_000), true);
    const owned = [...a.stats().assignedPartitions, ...b.stats().assignedPartitions].sort();
    assert.deepEqual(owned, [0, 1, 2, 3]);
    assert.ok(b.stats().totals.tracesWritten > 0, 'the second instance wrote rows too');
    assert.equal(a.stats().totals.tracesWritten + b.stats().totals.tracesWritten >= 800, true);
    assert.deepEqual(await counts(service), {
      traces: { rows: 800, uniqueSpans: 800 },
      llmCalls: { rows: 800, uniqueSpans: 800 },
    });
    await Promise.all([a.stop(), b.stop()]);
  });
});
