/**
 * Rows as Native blocks (one per encoder call, several per insert), through the real embedded engine, must
 * read back exactly as the same rows inserted by an independent encoder (@clickhouse/client's JSONEachRow): llm_calls (Int64 nanoseconds, String and
 * LowCardinality(String), UInt8/16/32 at their limits, Float64, Array(LowCardinality(String))) and otel_traces
 * (DateTime64(9), UInt64, Map(LowCardinality(String), String), the Nested Events and Links columns), both as
 * the reference encoder writes them and as the consumer's protobuf walk does. A wrong byte anywhere shifts
 * every later column, so a mismatch cannot hide.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ClickHouseHandle } from '../../../ingest/src/clickhouse/client.js';
import {
  ClickHouseSpanWriter,
  encodeLlmCallRows,
  encodeTraceRows,
  LLM_CALLS_COLUMNS,
  OTEL_TRACES_COLUMNS,
} from '../../../ingest/src/clickhouse/insert-rows.js';
import type { LlmCallRow, OtelTraceRow } from '../../../ingest/src/clickhouse/rows.js';
import { IngestError } from '../../../ingest/src/errors.js';
import { encodeWireRows } from '../../../ingest/src/consumer/encode-wire-rows.js';
import { spanToRows } from '../../../ingest/src/consumer/span-to-row.js';
import { decodeTraceRequest } from '../../../ingest/src/otlp/decode.js';
import { ExportTraceServiceRequestType } from '../../../ingest/src/otlp/proto-types.js';
import { openMigratedStore, type TestStore } from '../fixtures/embedded-store.js';

let store: TestStore;
let ch: ClickHouseHandle;

before(async () => {
  store = await openMigratedStore('mw-row-binary-');
  ch = store.handle;
  // The JSON side of the otel_traces comparisons: same columns, types and codecs, no materialized views.
  await ch.client.command({ query: 'CREATE TABLE otel_traces_json AS otel_traces' });
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

test('llm_calls Native blocks read back exactly like the same rows inserted as JSON', async () => {
  const stamp = Date.now();
  const viaNative = `nb-${stamp}`;
  const viaJson = `json-${stamp}`;

  // The same rows (same timestamps) under two service names. Split into two chunks, as a batch of two Kafka
  // records is.
  const sample = rows('');
  const [first, ...rest] = sample.map((row) => ({ ...row, ServiceName: viaNative }));
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
  assert.deepEqual(await readBack(viaNative), expected);
  const edge = expected.find((row) => row.IsFailure === 1);
  assert.equal(
    edge?.InputTokens,
    4_294_967_295,
    'the JSON side kept the limits (the comparison means something)',
  );
  assert.equal(edge?.ProviderRequestId, 'x'.repeat(300));
});

test('records of one-trace blocks land as one insert; a chunk that is not a block is refused as rows', async () => {
  const service = `blocks-${Date.now()}`;
  const all = rows(service);
  // One block per row, as the gateway's per-trace records give them.
  await new ClickHouseSpanWriter(ch).writeEncoded(
    'llm_calls',
    all.map((row) => encodeLlmCallRows([row])),
    `blocks:${service}`,
  );
  assert.equal((await readBack(service)).length, all.length);
  await assert.rejects(
    new ClickHouseSpanWriter(ch).writeEncoded(
      'llm_calls',
      [encodeLlmCallRows(all), Buffer.from('not a block')],
      `garbage:${service}`,
    ),
    (error: unknown) =>
      error instanceof IngestError && error.code === 'CLICKHOUSE_REJECTED' && !error.retriable,
  );
  assert.equal((await readBack(service)).length, all.length, 'nothing of the refused insert landed');
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

/** otel_traces rows with every column type at its edges. */
function traceRows(): OtelTraceRow[] {
  const base: OtelTraceRow = {
    Timestamp: nanos(0),
    TraceId: '0af7651916cd43dd8448eb211c80319c',
    SpanId: 'b7ad6b7169203331',
    ParentSpanId: '00f067aa0ba902b7',
    TraceState: '',
    SpanName: 'chat gpt-4o',
    SpanKind: 'Client',
    ServiceName: 'checkout',
    ResourceAttributes: { 'service.name': 'checkout', 'deployment.environment.name': 'prod' },
    ScopeName: '@modelwatch/instrumentation',
    ScopeVersion: '0.1.0',
    SpanAttributes: { 'gen_ai.provider.name': 'openai', 'gen_ai.usage.input_tokens': '1200' },
    Duration: '1250000000',
    StatusCode: 'Ok',
    StatusMessage: '',
    'Events.Timestamp': [],
    'Events.Name': [],
    'Events.Attributes': [],
    'Links.TraceId': [],
    'Links.SpanId': [],
    'Links.TraceState': [],
    'Links.Attributes': [],
  };
  const manyAttributes = Object.fromEntries(
    Array.from({ length: 200 }, (_, i) => [`app.key.${i}`, i % 2 === 0 ? `v${i}` : '']),
  );
  return [
    base,
    {
      // Lengths and counts past one LEB128 byte (≥ 128), multi-byte and astral UTF-8, quotes and control
      // characters, the UInt64 limit, an empty map, two events (one without attributes) and a link.
      ...base,
      Timestamp: nanos(1),
      SpanId: 'ffffffffffffffff',
      ParentSpanId: '',
      TraceState: `vendor=${'t'.repeat(300)}`,
      SpanName: `ünïcödé 模型 🤖 "quoted" \\ back\nslash ${'é'.repeat(70)}`,
      SpanKind: 'Unspecified',
      ResourceAttributes: manyAttributes,
      ScopeVersion: '',
      SpanAttributes: {},
      Duration: '18446744073709551615',
      StatusCode: 'Error',
      StatusMessage: 'boom: \t tab, \u0001 control',
      'Events.Timestamp': [nanos(2), nanos(3)],
      'Events.Name': ['exception', 'retry'],
      'Events.Attributes': [{ 'exception.type': 'RateLimitError', 'exception.message': 'x'.repeat(500) }, {}],
      'Links.TraceId': ['4bf92f3577b34da6a3ce929d0e0e4736'],
      'Links.SpanId': ['00f067aa0ba902b7'],
      'Links.TraceState': ['a=b'],
      'Links.Attributes': [{ 'link.kind': 'follows' }],
    },
    { ...base, Timestamp: nanos(-3_600_000), Duration: '9007199254740993', SpanId: '0000000000000001' },
  ];
}

async function readTraces(table: string, service: string): Promise<Record<string, unknown>[]> {
  const result = await ch.client.query({
    query: `SELECT * FROM {table:Identifier} WHERE ServiceName = {service:String} ORDER BY Timestamp, SpanId`,
    query_params: { table, service },
    format: 'JSONEachRow',
    // UInt64 as exact strings: as JSON numbers they would compare equal after rounding.
    clickhouse_settings: { output_format_json_quote_64bit_integers: 1 },
  });
  return result.json<Record<string, unknown>>();
}

async function insertTracesAsJson(rows: readonly OtelTraceRow[]): Promise<void> {
  await ch.client.insert({
    table: 'otel_traces_json',
    values: [...rows],
    format: 'JSONEachRow',
    columns: [...OTEL_TRACES_COLUMNS] as [string, ...string[]],
  });
}

test('otel_traces Native blocks read back exactly like the same rows inserted as JSON', async () => {
  const service = `traces-rb-${Date.now()}`;
  const sample = traceRows().map((row) => ({ ...row, ServiceName: service }));
  const [first, ...rest] = sample;
  await new ClickHouseSpanWriter(ch).writeEncoded(
    'otel_traces',
    [encodeTraceRows([first as OtelTraceRow]), encodeTraceRows(rest)],
    `traces-rb:${service}`,
  );
  await insertTracesAsJson(sample);

  const expected = await readTraces('otel_traces_json', service);
  assert.equal(expected.length, 3);
  assert.deepEqual(await readTraces('otel_traces', service), expected);
  const edge = expected.find((row) => row.StatusCode === 'Error');
  assert.equal(edge?.Duration, '18446744073709551615', 'the JSON side kept the limits');
  assert.equal(Object.keys(edge?.ResourceAttributes as object).length, 200);
  assert.equal(encodeTraceRows([]).length, 0);
});

test("the consumer's protobuf walk writes otel_traces rows the engine reads as the reference rows", async () => {
  const service = `traces-wire-${Date.now()}`;
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  const at = (offsetMs: number) => String(nowNs + BigInt(offsetMs) * 1_000_000n + 789n);
  const id = (length: number, fill: number) => Buffer.alloc(length, fill);
  const body = ExportTraceServiceRequestType.encode(
    ExportTraceServiceRequestType.fromObject({
      resourceSpans: [
        {
          resource: {
            attributes: [
              { key: 'service.name', value: { stringValue: service } },
              { key: 'host.name', value: { stringValue: 'höst-🤖' } },
            ],
          },
          scopeSpans: [
            {
              scope: { name: '@modelwatch/instrumentation', version: '0.1.0' },
              spans: [
                {
                  traceId: id(16, 0xab),
                  spanId: id(8, 1),
                  parentSpanId: id(8, 2),
                  traceState: 'k=v',
                  name: `chat ${'m'.repeat(200)}`,
                  kind: 3,
                  startTimeUnixNano: at(0),
                  endTimeUnixNano: at(1250),
                  attributes: [
                    { key: 'gen_ai.provider.name', value: { stringValue: 'openai' } },
                    { key: 'gen_ai.request.model', value: { stringValue: 'gpt-4o' } },
                    { key: 'gen_ai.usage.input_tokens', value: { intValue: 1200 } },
                    { key: 'gen_ai.request.temperature', value: { doubleValue: 0.2 } },
                    { key: 'modelwatch.stream', value: { boolValue: true } },
                    {
                      key: 'gen_ai.response.finish_reasons',
                      value: { arrayValue: { values: [{ stringValue: 'stop' }] } },
                    },
                    { key: 'note', value: { stringValue: `ünïcödé "q" \n ${'x'.repeat(300)}` } },
                    ...Array.from({ length: 130 }, (_, i) => ({
                      key: `app.k${i}`,
                      value: { stringValue: `${i}` },
                    })),
                  ],
                  events: [
                    {
                      timeUnixNano: at(100),
                      name: 'exception',
                      attributes: [{ key: 'exception.type', value: { stringValue: 'RateLimitError' } }],
                    },
                    { timeUnixNano: at(200), name: 'retry' },
                  ],
                  links: [{ traceId: id(16, 3), spanId: id(8, 4), traceState: 'a=b', attributes: [] }],
                  status: { code: 2, message: 'rate limited' },
                },
                {
                  traceId: id(16, 0xab),
                  spanId: id(8, 5),
                  name: 'plain',
                  kind: 1,
                  startTimeUnixNano: at(10),
                  endTimeUnixNano: at(10),
                },
              ],
            },
          ],
        },
      ],
    }),
  ).finish();

  const wire = encodeWireRows(body);
  assert.ok(wire !== undefined && wire.traceCount === 2, 'the wire path takes this request');
  await new ClickHouseSpanWriter(ch).writeEncoded('otel_traces', [wire.traces], `traces-wire:${service}`);
  await insertTracesAsJson(spanToRows(decodeTraceRequest(body, 'otlp_proto')).traces);

  const expected = await readTraces('otel_traces_json', service);
  assert.equal(expected.length, 2);
  assert.deepEqual(await readTraces('otel_traces', service), expected);
  assert.equal((expected[0]?.['Events.Name'] as string[]).join(), 'exception,retry');
});
