import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeTraceRequest } from '../../../ingest/src/otlp/decode.js';
import { encodeTraceRequest, parseTraceRequest } from '../../../ingest/src/otlp/parse-request.js';
import { splitByTraceId } from '../../../ingest/src/otlp/split-by-trace.js';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { makeSpans } from './otel-sdk-spans.js';

describe('splitByTraceId', () => {
  it('gives one request per trace, each with its spans, resource and scope, losslessly re-encodable', async () => {
    const first = await makeSpans(3);
    const second = await makeSpans(2);
    // One export holding two traces, as a batching exporter would send it.
    const mixed = JsonTraceSerializer.serializeRequest([...first.spans, ...second.spans])!;
    const slices = splitByTraceId(parseTraceRequest(mixed, 'otlp_json'));
    assert.equal(slices.length, 2);
    const byTrace = new Map(slices.map((slice) => [slice.traceId, slice]));
    for (const { spans } of [first, second]) {
      const traceId = spans[0]!.spanContext().traceId;
      const slice = byTrace.get(traceId)!;
      assert.equal(slice.spanCount, spans.length);
      const decoded = decodeTraceRequest(encodeTraceRequest(slice.request), 'otlp_proto');
      assert.equal(decoded.spanCount, spans.length);
      const allSpans = decoded.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
      assert.ok(allSpans.every((span) => span.traceId === traceId));
      assert.equal(decoded.resourceSpans[0]!.resource.attributes['service.name'], 'checkout');
      assert.equal(decoded.resourceSpans[0]!.scopeSpans[0]!.scope.name, '@modelwatch/instrumentation');
      assert.deepEqual(allSpans.map((s) => s.spanId).sort(), spans.map((s) => s.spanContext().spanId).sort());
    }
  });
});
