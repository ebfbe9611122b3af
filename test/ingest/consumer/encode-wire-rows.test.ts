import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeLlmCallRows, encodeTraceRows } from '../../../ingest/src/clickhouse/insert-rows.js';
import { decodeRecord } from '../../../ingest/src/consumer/decode-record.js';
import { encodeWireRows } from '../../../ingest/src/consumer/encode-wire-rows.js';
import { spanToRows } from '../../../ingest/src/consumer/span-to-row.js';
import { IngestError } from '../../../ingest/src/errors.js';
import { decodeTraceRequest } from '../../../ingest/src/otlp/decode.js';
import { ExportTraceServiceRequestType } from '../../../ingest/src/otlp/proto-types.js';
import { makeSpans } from '../otlp/otel-sdk-spans.js';
import { makeTraceRequests } from './llm-span-fixtures.js';

/**
 * The reference path: protobufjs messages -> row objects -> the encoders (the Native encoders themselves are
 * proven against the real engine in test/ingest/clickhouse/span-blocks.integration.test.ts).
 */
function reference(body: Uint8Array) {
  const rows = spanToRows(decodeTraceRequest(body, 'otlp_proto'));
  return {
    traces: encodeTraceRows(rows.traces),
    traceCount: rows.traces.length,
    llmCalls: encodeLlmCallRows(rows.llmCalls),
    llmCallCount: rows.llmCalls.length,
  };
}

function assertSameAsReference(body: Uint8Array): void {
  const fast = encodeWireRows(body);
  assert.ok(fast !== undefined, 'expected the wire path to take this request');
  assert.deepEqual(fast, reference(body));
}

function encode(object: Record<string, unknown>): Uint8Array {
  return ExportTraceServiceRequestType.encode(ExportTraceServiceRequestType.fromObject(object)).finish();
}

const TRACE = Buffer.alloc(16, 0xab);
const LLM = [
  { key: 'gen_ai.provider.name', value: { stringValue: 'openai' } },
  { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
  { key: 'gen_ai.request.model', value: { stringValue: 'gpt-4o' } },
];

function request(spans: Record<string, unknown>[], resource: unknown[] = [], scope: unknown = { name: 's' }) {
  return encode({
    resourceSpans: [{ resource: { attributes: resource }, scopeSpans: [{ scope, spans }] }],
  });
}

let nextSpanId = 1;
function span(extra: Record<string, unknown>): Record<string, unknown> {
  const spanId = Buffer.alloc(8);
  spanId.writeUInt32BE(nextSpanId++, 4);
  return {
    traceId: TRACE,
    spanId,
    name: 'chat gpt-4o',
    kind: 3,
    startTimeUnixNano: '1735787045123456789',
    endTimeUnixNano: '1735787046373456789',
    ...extra,
  };
}

describe('encodeWireRows: byte-identical to decodeTraceRequest -> spanToRows -> encode', () => {
  it('for real OTel SDK requests (events, links, error statuses, arrays)', async () => {
    assertSameAsReference((await makeSpans(6, { 'app.flags': [true, false], 'app.ratio': 0.25 })).proto);
    for (const fixture of await makeTraceRequests('svc', 3, 4)) assertSameAsReference(fixture.proto);
  });

  it('for every attribute value type and strings that need escaping', () => {
    const values = [
      { key: 'q', value: { stringValue: 'say "hi" \\ <b>&amp;</b> \n\t\u0001 é ✓ 😀 \u2028' } },
      { key: 'key with "quotes"', value: { stringValue: '' } },
      { key: 'b', value: { boolValue: true } },
      { key: 'i', value: { intValue: -42 } },
      { key: 'big', value: { intValue: '9223372036854775807' } },
      { key: 'neg', value: { intValue: '-9007199254740993' } },
      { key: 'd', value: { doubleValue: 1e-7 } },
      { key: 'whole', value: { doubleValue: 3 } },
      { key: 'huge', value: { doubleValue: 1e21 } },
      { key: 'nan', value: { doubleValue: Number.NaN } },
      { key: 'bytes', value: { bytesValue: Buffer.from([0, 1, 2, 250]) } },
      { key: 'empty', value: {} },
      { key: 'missing' },
      {
        key: 'list',
        value: {
          arrayValue: {
            values: [
              { stringValue: '<x>' },
              { intValue: 7 },
              { kvlistValue: { values: [{ key: 'z', value: { boolValue: false } }] } },
            ],
          },
        },
      },
      {
        key: 'map',
        value: {
          kvlistValue: {
            values: [
              { key: 'b', value: { doubleValue: 0.5 } },
              { key: '2', value: { stringValue: 'two' } },
              { key: 'b', value: { stringValue: 'last wins inside a map' } },
            ],
          },
        },
      },
      { key: 'gen_ai.response.finish_reasons', value: { arrayValue: { values: [{ stringValue: 'stop' }] } } },
      { key: 'gen_ai.usage.input_tokens', value: { stringValue: '12' } },
      { key: 'gen_ai.usage.output_tokens', value: { doubleValue: 5.9 } },
      { key: 'modelwatch.stream', value: { boolValue: true } },
      { key: 'gen_ai.response.time_to_first_chunk', value: { doubleValue: 0.125 } },
    ];
    assertSameAsReference(
      request(
        [span({ attributes: [...LLM, ...values], traceState: 'a=1', flags: 257 })],
        [
          { key: 'service.name', value: { intValue: 5 } },
          { key: 'deployment.environment', value: { stringValue: 'staging "old"' } },
        ],
        { name: 'scope "x"', version: '1.0', attributes: [{ key: 'k', value: { stringValue: 'v' } }] },
      ),
    );
  });

  it('for failures, exception events, links, kinds, statuses and several resources and scopes', () => {
    const failing = span({
      kind: 9, // out of range: 'Unspecified' like the reference
      status: { code: 2, message: 'boom "quoted"' },
      attributes: [...LLM, { key: 'http.response.status_code', value: { intValue: 429 } }],
      events: [
        { timeUnixNano: '1735787045200000000', name: 'retry', attributes: [] },
        {
          timeUnixNano: '1735787045300000000',
          name: 'exception',
          attributes: [
            { key: 'exception.type', value: { stringValue: 'RateLimitError' } },
            { key: 'exception.message', value: { stringValue: 'slow down' } },
          ],
        },
      ],
      links: [
        { traceId: Buffer.alloc(16, 1), spanId: Buffer.alloc(8, 2), traceState: 'x=y', attributes: LLM },
        { traceId: Buffer.alloc(16, 3), spanId: Buffer.alloc(8, 4) },
      ],
      parentSpanId: Buffer.alloc(8, 9),
    });
    const plain = span({
      kind: 2,
      status: { code: 1 },
      attributes: [{ key: 'http.route', value: { stringValue: '/x' } }],
    });
    const body = encode({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'a' } }] },
          scopeSpans: [
            { scope: { name: 'one' }, spans: [failing, plain] },
            { spans: [span({ attributes: LLM, endTimeUnixNano: '1735787045123456789' })] },
          ],
          schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
        },
        { scopeSpans: [{ scope: { name: 'two', version: '2' }, spans: [span({ attributes: LLM })] }] },
      ],
    });
    assertSameAsReference(body);
    assert.equal(encodeWireRows(new Uint8Array())?.traceCount, 0);
  });

  it('for lengths and counts past one LEB128 byte, and UTF-8 copied from the request as it is', () => {
    const long = `ünïcödé 模型 🤖 ${'é'.repeat(80)} "q" \\ \n`;
    const many = Array.from({ length: 300 }, (_, i) => ({
      key: i % 3 === 0 ? `ключ.${i}` : `app.k${i}`,
      value: { stringValue: i % 2 === 0 ? long : `${i}` },
    }));
    assertSameAsReference(
      request(
        [
          span({
            name: `chat ${'n'.repeat(200)}`,
            traceState: `v=${'t'.repeat(200)}`,
            attributes: [...LLM, ...many],
            status: { code: 2, message: long.repeat(3) },
            events: [
              { timeUnixNano: '1735787045200000000', name: long, attributes: many.slice(0, 140) },
              ...Array.from({ length: 130 }, (_, i) => ({
                timeUnixNano: String(1735787045200000000n + BigInt(i)),
                name: `e${i}`,
              })),
            ],
            links: [
              {
                traceId: Buffer.alloc(16, 1),
                spanId: Buffer.alloc(8, 2),
                traceState: long,
                attributes: many,
              },
            ],
          }),
          span({ name: '', attributes: [{ key: '', value: { stringValue: '' } }] }),
        ],
        many,
        { name: long, version: long },
      ),
    );
  });

  it('leaves to the reference path what could come out differently, and decodeRecord still gives its result', () => {
    const cases: Array<[string, Uint8Array]> = [
      ['a repeated key', request([span({ attributes: [...LLM, LLM[0]] })])],
      [
        'an array-index key (a JS object puts it first)',
        request([span({ attributes: [...LLM, { key: '7', value: { intValue: 1 } }] })]),
      ],
      [
        'a __proto__ key',
        request([span({ attributes: [{ key: '__proto__', value: { stringValue: 'x' } }] })]),
      ],
      ['a genuine U+FFFD', request([span({ name: 'bad \uFFFD' })])],
      [
        'a genuine U+FFFD in an attribute value',
        request([span({ attributes: [{ key: 'k', value: { stringValue: 'x\uFFFD' } }] })]),
      ],
    ];
    for (const [what, body] of cases) {
      assert.equal(encodeWireRows(body), undefined, what);
      const decoded = decodeRecord(Buffer.from(body), undefined);
      assert.equal(decoded.kind, 'rows', what);
      if (decoded.kind === 'rows')
        assert.deepEqual({ ...decoded, kind: undefined }, { ...reference(body), kind: undefined }, what);
    }
  });

  it('leaves times past Int64 (DateTime64 columns) to the reference path, which dead-letters the record', () => {
    for (const body of [
      request([span({ startTimeUnixNano: '9300000000000000000', endTimeUnixNano: '9300000000000000001' })]),
      request([span({ events: [{ timeUnixNano: '18446744073709551615', name: 'late' }] })]),
    ]) {
      assert.equal(encodeWireRows(body), undefined);
      const decoded = decodeRecord(Buffer.from(body), undefined);
      assert.equal(decoded.kind, 'poison');
      assert.throws(() => reference(body), RangeError);
    }
  });

  it("dead-letters invalid and malformed requests with the reference path's message", () => {
    const cases: Uint8Array[] = [
      request([span({ traceId: Buffer.alloc(16) })]),
      request([span({ spanId: Buffer.alloc(4, 1) })]),
      request([span({ endTimeUnixNano: '1' })]),
      request([span({ links: [{ traceId: Buffer.alloc(16, 1) }] })]),
      request([span({ attributes: LLM })]).subarray(0, 40),
      Buffer.from([0x0a, 0x05, 0x12, 0x03, 0xff, 0xfe, 0xfd]), // invalid UTF-8 inside
    ];
    for (const body of cases) {
      assert.equal(encodeWireRows(body), undefined);
      const decoded = decodeRecord(Buffer.from(body), undefined);
      assert.equal(decoded.kind, 'poison');
      assert.throws(
        () => decodeTraceRequest(body, 'otlp_proto'),
        (error: unknown) =>
          error instanceof IngestError &&
          decoded.kind === 'poison' &&
          error.message === decoded.error.message,
      );
    }
  });
});
