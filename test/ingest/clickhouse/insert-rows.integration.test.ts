/**
 * The span writer on the real embedded engine: bodies go through a spool file and INSERT … FROM INFILE, and
 * insert_deduplication_token must dedup an identical retry there exactly as it does for an inline body —
 * in both tables and in their materialized views — or the consumer's exactly-once guarantee breaks.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ClickHouseHandle } from '../../../ingest/src/clickhouse/client.js';
import { ClickHouseSpanWriter } from '../../../ingest/src/clickhouse/insert-rows.js';
import { decodeRecord } from '../../../ingest/src/consumer/decode-record.js';
import { IngestError } from '../../../ingest/src/errors.js';
import { makeTraceRequests } from '../consumer/llm-span-fixtures.js';
import { openMigratedStore, type TestStore } from '../fixtures/embedded-store.js';

let store: TestStore;
let ch: ClickHouseHandle;
let dataDir: string;

before(async () => {
  store = await openMigratedStore('mw-insert-rows-');
  ({ handle: ch, dataDir } = store);
});
after(async () => {
  await store.close();
});

async function count(sql: string, service: string): Promise<number> {
  const result = await ch.client.query({ query: sql, query_params: { service }, format: 'JSONEachRow' });
  const [row] = await result.json<{ n: string | number }>();
  return Number(row?.n ?? 0);
}

async function countsFor(service: string): Promise<number[]> {
  return [
    await count('SELECT count() AS n FROM otel_traces WHERE ServiceName = {service:String}', service),
    await count(
      `SELECT count() AS n FROM otel_traces_trace_id_ts
       WHERE TraceId IN (SELECT TraceId FROM otel_traces WHERE ServiceName = {service:String})`,
      service,
    ),
    await count('SELECT count() AS n FROM llm_calls WHERE ServiceName = {service:String}', service),
    await count('SELECT sum(Calls) AS n FROM llm_calls_1m WHERE ServiceName = {service:String}', service),
  ];
}

async function encodedRows(
  service: string,
): Promise<{ traces: Buffer[]; llmCalls: Buffer[]; spans: number }> {
  const requests = await makeTraceRequests(service, 4, 5);
  const traces: Buffer[] = [];
  const llmCalls: Buffer[] = [];
  let spans = 0;
  for (const request of requests) {
    const decoded = decodeRecord(Buffer.from(request.proto), undefined);
    assert.equal(decoded.kind, 'rows');
    if (decoded.kind !== 'rows') continue;
    traces.push(decoded.traces);
    llmCalls.push(decoded.llmCalls);
    spans += decoded.traceCount;
  }
  return { traces, llmCalls, spans };
}

test('the embedded handle spools inserts to files and an identical retry with the same token writes nothing', async () => {
  assert.equal(ch.mode, 'embedded');
  assert.ok(ch.insertSpoolDir?.startsWith(dataDir), 'the spool folder lives in the data folder');
  const writer = new ClickHouseSpanWriter(ch);
  const service = `dedup-${Date.now()}`;
  const { traces, llmCalls, spans } = await encodedRows(service);

  await writer.writeEncoded('otel_traces', traces, 'test:0:0-3:otel_traces');
  await writer.writeEncoded('llm_calls', llmCalls, 'test:0:0-3:llm_calls');
  const first = await countsFor(service);
  assert.deepEqual(first, [spans, 4, spans, spans]);

  // A crash after the insert, before the commit: the same range is re-sent with the same tokens.
  await writer.writeEncoded('otel_traces', traces, 'test:0:0-3:otel_traces');
  await writer.writeEncoded('llm_calls', llmCalls, 'test:0:0-3:llm_calls');
  assert.deepEqual(await countsFor(service), first, 'same token: tables and materialized views unchanged');

  // A different token is a different block: it lands (so the dedup above was the token's doing).
  await writer.writeEncoded('otel_traces', traces, 'test:0:4-7:otel_traces');
  assert.equal((await countsFor(service))[0], 2 * spans);

  assert.deepEqual(readdirSync(ch.insertSpoolDir ?? ''), [], 'spool files are removed after each insert');
});

test('rows the engine refuses are a non-retriable rejection (the consumer bisects and dead-letters them)', async () => {
  const writer = new ClickHouseSpanWriter(ch);
  await assert.rejects(
    // A row cut short: a timestamp, then a TraceId whose length says 40 bytes where 3 follow.
    writer.writeEncoded(
      'otel_traces',
      [Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 40, 0x61, 0x62, 0x63])],
      'test:bad:0-0:otel_traces',
    ),
    (error: unknown) =>
      error instanceof IngestError && error.code === 'CLICKHOUSE_REJECTED' && !error.retriable,
  );
  assert.deepEqual(readdirSync(ch.insertSpoolDir ?? ''), []);
});

test('a spool folder that cannot be written is retriable, never a rejection of the rows', async () => {
  const writer = new ClickHouseSpanWriter({
    client: ch.client,
    insertSpoolDir: join(dataDir, 'missing', 'spool'),
  });
  const { traces } = await encodedRows(`nospool-${Date.now()}`);
  await assert.rejects(
    writer.writeEncoded('otel_traces', traces, 'test:nospool:0-3:otel_traces'),
    (error: unknown) =>
      error instanceof IngestError && error.code === 'CLICKHOUSE_UNAVAILABLE' && error.retriable,
  );
});
