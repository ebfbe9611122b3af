import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { decodeTraceRequest } from '../../../ingest/src/otlp/decode.js';
import { encodeTraceRequest, parseTraceRequest } from '../../../ingest/src/otlp/parse-request.js';
import { ExportTraceServiceRequestType } from '../../../ingest/src/otlp/proto-types.js';
import { splitByTraceId } from '../../../ingest/src/otlp/split-by-trace.js';
import { splitWireRequest } from '../../../ingest/src/otlp/split-wire-request.js';
import { makeSpans } from './otel-sdk-spans.js';

function encode(object: Record<string, unknown>): Uint8Array {
  return ExportTraceServiceRequestType.encode(ExportTraceServiceRequestType.fromObject(object)).finish();
}

/** splitWireRequest's slices decode exactly like splitByTraceId's re-encoded ones, in the same order. */
function assertSplitLikeReference(body: Uint8Array): void {
  const split = splitWireRequest(body);
  assert.ok(split !== undefined, 'expected the wire path to take this request');
  const reference = splitByTraceId(parseTraceRequest(body, 'otlp_proto'));
  assert.deepEqual(
    split.slices.map((s) => [s.traceId, s.spanCount]),
    reference.map((s) => [s.traceId, s.spanCount]),
  );
  assert.equal(
    split.spanCount,
    reference.reduce((n, s) => n + s.spanCount, 0),
  );
  split.slices.forEach((slice, i) => {
    assert.deepEqual(
      decodeTraceRequest(slice.value, 'otlp_proto'),
      decodeTraceRequest(encodeTraceRequest(reference[i]!.request), 'otlp_proto'),
    );
  });
}

let nextSpanId = 1;
function span(traceByte: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const spanId = Buffer.alloc(8);
  spanId.writeUInt32BE(nextSpanId++, 4);
  return {
    traceId: Buffer.alloc(16, traceByte),
    spanId,
    name: 'op',
    startTimeUnixNano: '1735787045123456789',
    endTimeUnixNano: '1735787046123456789',
    attributes: [{ key: 'k', value: { arrayValue: { values: [{ stringValue: 'v' }, { intValue: 3 }] } } }],
    ...extra,
  };
}

describe('splitWireRequest', () => {
  it('splits a mixed request by trace id like splitByTraceId, keeping resources, scopes and schema urls', async () => {
    const first = await makeSpans(3);
    const second = await makeSpans(2);
    assertSplitLikeReference(ProtobufTraceSerializer.serializeRequest([...first.spans, ...second.spans])!);
    assertSplitLikeReference(
      encode({
        resourceSpans: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'a' } }] },
            scopeSpans: [
              { scope: { name: 's1', version: '1' }, spans: [span(1), span(2), span(1)], schemaUrl: 'u1' },
              { spans: [span(2, { links: [{ traceId: Buffer.alloc(16, 7), spanId: Buffer.alloc(8, 7) }] })] },
            ],
            schemaUrl: 'r1',
          },
          { scopeSpans: [{ scope: { name: 's2' }, spans: [span(3), span(1, { status: { code: 2 } })] }] },
        ],
      }),
    );
  });

  it('forwards a single-trace request as received', async () => {
    const { proto } = await makeSpans(3);
    const split = splitWireRequest(proto);
    assert.equal(split?.slices.length, 1);
    assert.equal(split?.slices[0]?.value, proto);
    assert.equal(split?.spanCount, 3);
  });

  it('leaves invalid spans and non-canonical forms to the reference path', () => {
    const one = (extra: Record<string, unknown>) =>
      encode({ resourceSpans: [{ scopeSpans: [{ spans: [span(1, extra)] }] }] });
    for (const body of [
      one({ traceId: Buffer.alloc(16) }),
      one({ spanId: Buffer.alloc(3, 1) }),
      one({ parentSpanId: Buffer.alloc(4, 1) }),
      one({ startTimeUnixNano: '0' }),
      one({ endTimeUnixNano: '1' }),
      one({ links: [{ traceId: Buffer.alloc(16, 1), spanId: Buffer.alloc(8) }] }),
      one({ name: 'replacement \uFFFD' }),
      one({}).subarray(0, 30),
      Buffer.from([0x0a, 0x04, 0x12, 0x02, 0x12, 0x00, 0x0b]), // a group wire type
    ]) {
      assert.equal(splitWireRequest(body), undefined);
    }
    assert.deepEqual(splitWireRequest(new Uint8Array()), { slices: [], spanCount: 0 });
  });
});
