/**
 * llm_calls rows in RowBinary, through the real embedded engine: every column type (Int64 nanoseconds,
 * String and LowCardinality(String), UInt8/16/32 at their limits, Float64, Array(LowCardinality(String)))
 * must read back exactly as the same rows inserted by an independent encoder (@clickhouse/client's
 * JSONEachRow). A wrong byte anywhere shifts every later column, so a mismatch cannot hide.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ClickHouseHandle } from '../../../ingest/src/clickhouse/client.js';
import {
  ClickHouseSpanWriter,
  encodeLlmCallRows,
  LLM_CALLS_COLUMNS,
} from '../../../ingest/src/clickhouse/insert-rows.js';
import type { LlmCallRow } from '../../../ingest/src/clickhouse/rows.js';
import { openMigratedStore, type TestStore } from '../fixtures/embedded-store.js';

let store: TestStore;
let ch: ClickHouseHandle;

before(async () => {
  store = await openMigratedStore('mw-row-binary-');
  ch = store.handle;
});
after(async () => {
  await store.close();
});

/** Nanoseconds since the epoch, `offsetMs` from now (the tables' TTL drops rows that are too old). */
const nanos = (offsetMs: number) => `${BigInt(Date.now() + offsetMs) * 1_000_000n + 123_456n}`;

function rows(service: string): LlmCallRow[] {
  const base: LlmCallRow = {
    Timestamp: nanos(0),
    TraceId: '0af7651916cd43dd8448eb211c80319c',
    SpanId: 'b7ad6b7169203331',
    ServiceName: service,
    Environment: 'prod',
    Provider: 'anthropic',
    Operation: 'chat',
    RequestModel: 'claude-sonnet-4-5',
    ResponseModel: 'claude-sonnet-4-5-20250929',
    ModelFamily: 'claude-sonnet',
    ModelVersion: '4.5',
    ModelSnapshot: '20250929',
    StatusCode: 'Ok',
    IsFailure: 0,
    FailureClass: '',
    FailureOrigin: '',
    ErrorType: '',
    HttpStatus: 200,
    DurationMs: 1234.5678,
    TimeToFirstTokenMs: 0.25,
    InputTokens: 1200,
    OutputTokens: 345,
    CacheReadInputTokens: 0,
    CacheWriteInputTokens: 7,
    ReasoningOutputTokens: 0,
    FinishReasons: ['stop'],
    Stream: 1,
    RetryCount: 0,
    ProviderRequestId: 'req_011CSHoEeqs5C3ZP3AUr',
    ServerAddress: 'api.anthropic.com',
    ScopeName: '@modelwatch/instrumentation',
  };
  return [
    base,
    {
      ...base,
      // Largest values of each type, a failure, strings past the one-byte length prefix (≥ 128 bytes),
      // multi-byte and astral UTF-8, quotes and control characters, an empty and a two-item array.
      Timestamp: nanos(1),
      SpanId: 'ffffffffffffffff',
      StatusCode: 'Error',
      IsFailure: 1,
      FailureClass: 'rate_limited',
      FailureOrigin: 'provider',
      ErrorType: '429',
      HttpStatus: 65_535,
      DurationMs: 1e-9,
      TimeToFirstTokenMs: 123_456_789.125,
      InputTokens: 4_294_967_295,
      OutputTokens: 1,
      CacheReadInputTokens: 4_294_967_295,
      ReasoningOutputTokens: 99,
      FinishReasons: [],
      Stream: 0,
      RetryCount: 65_535,
      ProviderRequestId: 'x'.repeat(300),
      ServerAddress: 'ünïcödé-模型-🤖.example',
      ModelSnapshot: `quote " backslash \\ newline \n tab \t ${'é'.repeat(70)}`,
    },
    {
      ...base,
      Timestamp: nanos(-3_600_000),
      FinishReasons: ['length', 'content_filter'],
      Operation: '',
      Provider: '',
    },
  ];
}

async function readBack(service: string): Promise<Record<string, unknown>[]> {
  const result = await ch.client.query({
    query: `SELECT * EXCEPT ServiceName FROM llm_calls WHERE ServiceName = {service:String}
            ORDER BY Timestamp, SpanId, Provider`,
    query_params: { service },
    format: 'JSONEachRow',
  });
  return result.json<Record<string, unknown>>();
}

test('llm_calls RowBinary rows read back exactly like the same rows inserted as JSON', async () => {
  const stamp = Date.now();
  const viaRowBinary = `rb-${stamp}`;
  const viaJson = `json-${stamp}`;

  // The same rows (same timestamps) under two service names. Split into two chunks, as a batch of two Kafka
  // records is.
  const sample = rows('');
  const [first, ...rest] = sample.map((row) => ({ ...row, ServiceName: viaRowBinary }));
  const writer = new ClickHouseSpanWriter(ch);
  await writer.writeEncoded(
    'llm_calls',
    [encodeLlmCallRows([first as LlmCallRow]), encodeLlmCallRows(rest)],
    `row-binary:${stamp}`,
  );
  await ch.client.insert({
    table: 'llm_calls',
    values: sample.map((row) => ({ ...row, ServiceName: viaJson })),
    format: 'JSONEachRow',
    columns: [...LLM_CALLS_COLUMNS] as [string, ...string[]],
  });

  const expected = await readBack(viaJson);
  assert.equal(expected.length, 3);
  assert.deepEqual(await readBack(viaRowBinary), expected);
  const edge = expected.find((row) => row.IsFailure === 1);
  assert.equal(
    edge?.InputTokens,
    4_294_967_295,
    'the JSON side kept the limits (the comparison means something)',
  );
  assert.equal(edge?.ProviderRequestId, 'x'.repeat(300));
});

test('no rows encode to no bytes; rows larger than the writer’s first buffer still read back whole', async () => {
  assert.equal(encodeLlmCallRows([]).length, 0);
  const service = `grow-${Date.now()}`;
  const long = rows(service).map((row) => ({ ...row, ProviderRequestId: 'y'.repeat(5000) }));
  await new ClickHouseSpanWriter(ch).writeEncoded('llm_calls', [encodeLlmCallRows(long)], `grow:${service}`);
  const back = await readBack(service);
  assert.equal(back.length, long.length);
  assert.ok(back.every((row) => row.ProviderRequestId === 'y'.repeat(5000)));
});
