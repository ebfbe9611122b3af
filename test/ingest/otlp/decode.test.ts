import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IngestError } from '../../../ingest/src/errors.js';
import { decodeTraceRequest, detectEncoding } from '../../../ingest/src/otlp/decode.js';
import { encodeTraceRequest, parseTraceRequest } from '../../../ingest/src/otlp/parse-request.js';
import { ExportTraceServiceRequestType } from '../../../ingest/src/otlp/proto-types.js';
import { makeSpans, START_HR } from './otel-sdk-spans.js';

function hrToNanos([seconds, nanos]: [number, number]): string {
  return (BigInt(seconds) * 1_000_000_000n + BigInt(nanos)).toString();
}

function assertIngestError(fn: () => unknown, code: string, messagePart: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof IngestError, `expected IngestError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, messagePart);
    return true;
  });
}

/** A valid one-span request as protobufjs fromObject input, for hand-made edge cases. */
function oneSpanRequest(span: Record<string, unknown>): Record<string, unknown> {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
        scopeSpans: [
          {
            scope: { name: 'scope' },
            spans: [
              {
                traceId: Buffer.alloc(16, 0xab),
                spanId: Buffer.alloc(8, 0xcd),
                name: 'op',
                kind: 1,
                startTimeUnixNano: '1735787045123456789',
                endTimeUnixNano: '1735787046123456789',
                ...span,
              },
            ],
          },
        ],
      },
    ],
  };
}

describe('decodeTraceRequest (protobuf from the OTel JS serializer)', () => {
  it('decodes ids, times, kinds, status, attributes, events, links, resource and scope', async () => {
    const { spans, proto } = await makeSpans(4);
    const decoded = decodeTraceRequest(proto, 'otlp_proto');
    assert.equal(decoded.spanCount, 4);
    assert.equal(decoded.resourceSpans.length, 1);
    const resourceSpans = decoded.resourceSpans[0]!;
    assert.equal(resourceSpans.resource.attributes['service.name'], 'checkout');
    assert.equal(resourceSpans.resource.attributes['host.cores'], 2);
    const scopeSpans = resourceSpans.scopeSpans[0]!;
    assert.deepEqual(
      [scopeSpans.scope.name, scopeSpans.scope.version],
      ['@modelwatch/instrumentation', '0.1.0'],
    );

    for (const sdkSpan of spans) {
      const span = scopeSpans.spans.find((s) => s.spanId === sdkSpan.spanContext().spanId);
      assert.ok(span, `span ${sdkSpan.spanContext().spanId} decoded`);
      assert.equal(span.traceId, sdkSpan.spanContext().traceId);
      assert.match(span.traceId, /^[0-9a-f]{32}$/);
      assert.equal(span.parentSpanId, sdkSpan.parentSpanContext?.spanId ?? '');
      assert.equal(span.name, sdkSpan.name);
      assert.equal(span.kind, sdkSpan.kind + 1); // API SpanKind is 0-based INTERNAL; OTLP adds UNSPECIFIED = 0
      assert.equal(span.startTimeUnixNano, hrToNanos(sdkSpan.startTime));
      assert.equal(span.endTimeUnixNano, hrToNanos(sdkSpan.endTime));
      assert.equal(BigInt(span.durationNs), BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano));
      assert.equal(span.status.code, sdkSpan.status.code);
      assert.equal(span.status.message, sdkSpan.status.message ?? '');
    }
    const child = scopeSpans.spans.find((s) => s.name === 'chat gpt-4o' && s.status.code === 2)!;
    assert.equal(child.status.message, 'rate limited');
    assert.equal(child.attributes['gen_ai.usage.output_tokens'], 20);
    assert.equal(child.attributes['gen_ai.request.temperature'], 0.7);
    assert.deepEqual(child.attributes['gen_ai.response.finish_reasons'], ['stop']);
    assert.equal(child.attributes['modelwatch.stream'], false);
    assert.equal(child.events[0]!.name, 'gen_ai.choice');
    assert.equal(child.events[0]!.attributes.index, 0);
    const root = scopeSpans.spans.find((s) => s.name === 'root')!;
    assert.equal(root.startTimeUnixNano, hrToNanos(START_HR));
    const linked = scopeSpans.spans.find((s) => s.links.length > 0)!;
    assert.deepEqual(linked.links[0], {
      traceId: root.traceId,
      spanId: root.spanId,
      traceState: '',
      attributes: { 'link.kind': 'retry-of' },
    });
  });

  it('decodes the OTLP/JSON of the same spans (hex ids, string int64, integer enums) to the same result', async () => {
    const { proto, json } = await makeSpans(5);
    assert.deepEqual(decodeTraceRequest(json, 'otlp_json'), decodeTraceRequest(proto, 'otlp_proto'));
  });

  it('keeps int64 attributes beyond 2^53 exact (bigint) and int64 as JSON numbers or strings', () => {
    const body = Buffer.from(
      JSON.stringify({
        resourceSpans: [
          {
            scopeSpans: [
              {
                spans: [
                  {
                    traceId: '0102030405060708090A0B0C0D0E0F10',
                    spanId: '0102030405060708',
                    name: 'x',
                    kind: 3,
                    // A JSON number is exact only where the double is (multiples of 256 ns here).
                    startTimeUnixNano: 1735787045000000000,
                    endTimeUnixNano: '1735787045000000100',
                    attributes: [
                      { key: 'big', value: { intValue: '9007199254740993' } },
                      { key: 'negative', value: { intValue: -5 } },
                      { key: 'bytes', value: { bytesValue: Buffer.from('hi').toString('base64') } },
                      {
                        key: 'map',
                        value: { kvlistValue: { values: [{ key: 'a', value: { boolValue: true } }] } },
                      },
                    ],
                  },
                ],
              },
            ],
          },
        ],
      }),
    );
    const span = decodeTraceRequest(body, 'otlp_json').resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    assert.equal(span.traceId, '0102030405060708090a0b0c0d0e0f10'); // lower-cased
    assert.equal(span.attributes.big, 9007199254740993n);
    assert.equal(span.attributes.negative, -5);
    assert.deepEqual(Buffer.from(span.attributes.bytes as Uint8Array).toString(), 'hi');
    assert.deepEqual(span.attributes.map, { a: true });
    assert.equal(span.startTimeUnixNano, '1735787045000000000');
    assert.equal(span.durationNs, 100);
  });
});

describe('decodeTraceRequest errors', () => {
  it('rejects garbage bytes as protobuf', () => {
    assertIngestError(
      () => decodeTraceRequest(Buffer.from('not a protobuf message \u00ff\u00ff'), 'otlp_proto'),
      'OTLP_DECODE_FAILED',
      /not a protobuf/,
    );
  });

  it('rejects a truncated protobuf message', async () => {
    const { proto } = await makeSpans(3);
    assertIngestError(
      () => decodeTraceRequest(proto.subarray(0, proto.length - 7), 'otlp_proto'),
      'OTLP_DECODE_FAILED',
      /index out of range|invalid/i,
    );
  });

  it('rejects invalid JSON and JSON of the wrong shape', () => {
    assertIngestError(
      () => decodeTraceRequest(Buffer.from('{"resourceSpans": ['), 'otlp_json'),
      'OTLP_DECODE_FAILED',
      /not valid JSON/,
    );
    assertIngestError(
      () => decodeTraceRequest(Buffer.from('[1,2]'), 'otlp_json'),
      'OTLP_INVALID',
      /must be an object/,
    );
    assertIngestError(
      () => decodeTraceRequest(Buffer.from('{"resourceSpans": 3}'), 'otlp_json'),
      'OTLP_INVALID',
      /resourceSpans must be an array/,
    );
  });

  it('rejects ids that are not hex in OTLP/JSON, naming the span', () => {
    const body = (traceId: string) =>
      Buffer.from(
        JSON.stringify({
          resourceSpans: [
            { scopeSpans: [{ spans: [{ traceId, spanId: '0102030405060708', startTimeUnixNano: '1' }] }] },
          ],
        }),
      );
    assertIngestError(
      () => decodeTraceRequest(body('zz02030405060708090a0b0c0d0e0f10'), 'otlp_json'),
      'OTLP_INVALID',
      /span 0 trace id "zz0.*not a hex string/,
    );
    // base64 (what a proto3-JSON encoder not following OTLP would write) is not hex either
    assertIngestError(
      () => decodeTraceRequest(body('AQIDBAUGBwgJCgsMDQ4PEA=='), 'otlp_json'),
      'OTLP_INVALID',
      /not a hex string/,
    );
  });

  it('rejects wrong id lengths with the byte count', () => {
    const json = Buffer.from(
      JSON.stringify({
        resourceSpans: [
          {
            scopeSpans: [
              { spans: [{ traceId: '01020304050607', spanId: '0102030405060708', startTimeUnixNano: '1' }] },
            ],
          },
        ],
      }),
    );
    assertIngestError(
      () => decodeTraceRequest(json, 'otlp_json'),
      'OTLP_INVALID',
      /span 0 trace id is 7 bytes, expected 16/,
    );
    const proto = encodeTraceRequest(
      parseTraceRequestFromObject(oneSpanRequest({ spanId: Buffer.alloc(4, 1) })),
    );
    assertIngestError(
      () => decodeTraceRequest(proto, 'otlp_proto'),
      'OTLP_INVALID',
      /span 0 \("op"\) span id is 4 bytes, expected 8/,
    );
    const zero = encodeTraceRequest(
      parseTraceRequestFromObject(oneSpanRequest({ traceId: Buffer.alloc(16) })),
    );
    assertIngestError(() => decodeTraceRequest(zero, 'otlp_proto'), 'OTLP_INVALID', /trace id is all zeroes/);
    const missing = encodeTraceRequest(parseTraceRequestFromObject(oneSpanRequest({ spanId: undefined })));
    assertIngestError(() => decodeTraceRequest(missing, 'otlp_proto'), 'OTLP_INVALID', /span id is missing/);
  });

  it('rejects a span that ends before it starts, or has no start', () => {
    const backwards = encodeTraceRequest(
      parseTraceRequestFromObject(oneSpanRequest({ endTimeUnixNano: '1735787044000000000' })),
    );
    assertIngestError(
      () => decodeTraceRequest(backwards, 'otlp_proto'),
      'OTLP_INVALID',
      /ends before it starts \(start 1735787045123456789 ns, end 1735787044000000000 ns\)/,
    );
    const noStart = encodeTraceRequest(
      parseTraceRequestFromObject(oneSpanRequest({ startTimeUnixNano: undefined })),
    );
    assertIngestError(() => decodeTraceRequest(noStart, 'otlp_proto'), 'OTLP_INVALID', /has no start time/);
  });

  it('accepts an empty request', () => {
    assert.deepEqual(decodeTraceRequest(new Uint8Array(), 'otlp_proto'), { resourceSpans: [], spanCount: 0 });
    assert.deepEqual(decodeTraceRequest(Buffer.from('{}'), 'otlp_json'), { resourceSpans: [], spanCount: 0 });
  });
});

/** A hand-made request (Buffers as bytes) through the vendored .proto encoder and back. */
function parseTraceRequestFromObject(object: Record<string, unknown>) {
  return parseTraceRequest(encodeFromObject(object), 'otlp_proto');
}

function encodeFromObject(object: Record<string, unknown>): Uint8Array {
  return ExportTraceServiceRequestType.encode(ExportTraceServiceRequestType.fromObject(object)).finish();
}

describe('detectEncoding', () => {
  it('uses the modelwatch-encoding header when present (string or bytes)', () => {
    assert.equal(detectEncoding(Buffer.from('{}'), 'otlp_proto'), 'otlp_proto');
    assert.equal(detectEncoding(Buffer.from([0x0a]), Buffer.from('otlp_json')), 'otlp_json');
    assertIngestError(
      () => detectEncoding(Buffer.from('{}'), 'jaeger_proto'),
      'OTLP_DECODE_FAILED',
      /unsupported encoding "jaeger_proto"/,
    );
  });

  it('sniffs JSON by its first non-space byte, else protobuf', async () => {
    const { proto, json } = await makeSpans(2);
    assert.equal(detectEncoding(json), 'otlp_json');
    assert.equal(detectEncoding(Buffer.from(' \n\t{"resourceSpans":[]}')), 'otlp_json');
    assert.equal(detectEncoding(Buffer.from('\ufeff{}')), 'otlp_json');
    assert.equal(detectEncoding(proto), 'otlp_proto');
    assert.equal(detectEncoding(new Uint8Array()), 'otlp_proto');
  });
});
