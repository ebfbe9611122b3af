/**
 * Real spans from the OpenTelemetry JS SDK (tracer + in-memory exporter), serialised by the SDK's own OTLP
 * serializers, so decode tests read exactly what exporters send.
 */
import { context, SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace';

export interface MadeSpans {
  spans: ReadableSpan[];
  proto: Uint8Array;
  json: Uint8Array;
}

/** Time origin of the made spans: 2025-01-02T03:04:05.123456789Z-ish, in [seconds, nanos]. */
export const START_HR: [number, number] = [1_735_787_045, 123_456_789];

/**
 * `count` spans in one trace of service "checkout" (first is the root), LLM-call attributes on every span,
 * an event, a link on the last span, an error status on odd spans.
 */
export async function makeSpans(count: number, extraAttributes: Attributes = {}): Promise<MadeSpans> {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      'service.name': 'checkout',
      'deployment.environment.name': 'test',
      'host.cores': 2,
    }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const tracer = provider.getTracer('@modelwatch/instrumentation', '0.1.0');
  const root = tracer.startSpan('root', { kind: SpanKind.SERVER, startTime: START_HR });
  const rootContext = root.spanContext();
  const parent = { traceId: rootContext.traceId, spanId: rootContext.spanId, traceFlags: 1 };
  const parentCtx = trace.setSpanContext(context.active(), parent);
  for (let i = 1; i < count; i++) {
    const span = tracer.startSpan(
      'chat gpt-4o',
      {
        kind: SpanKind.CLIENT,
        startTime: [START_HR[0] + i, START_HR[1]],
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': 'openai',
          'gen_ai.request.model': 'gpt-4o',
          'gen_ai.response.model': 'gpt-4o-2024-08-06',
          'gen_ai.usage.input_tokens': 100 + i,
          'gen_ai.usage.output_tokens': 20,
          'gen_ai.request.temperature': 0.7,
          'gen_ai.response.finish_reasons': ['stop'],
          'modelwatch.stream': false,
          ...extraAttributes,
        },
        links: i === count - 1 ? [{ context: parent, attributes: { 'link.kind': 'retry-of' } }] : [],
      },
      parentCtx,
    );
    span.addEvent('gen_ai.choice', { index: 0 }, [START_HR[0] + i, START_HR[1] + 500]);
    if (i % 2 === 1) span.setStatus({ code: SpanStatusCode.ERROR, message: 'rate limited' });
    span.end([START_HR[0] + i, START_HR[1] + 250_000_000]);
  }
  root.end([START_HR[0] + count, START_HR[1]]);
  // SimpleSpanProcessor exports asynchronously in SDK 3.x.
  await provider.forceFlush();
  const spans = exporter.getFinishedSpans();
  const proto = ProtobufTraceSerializer.serializeRequest(spans);
  const json = JsonTraceSerializer.serializeRequest(spans);
  if (!proto || !json) throw new Error('serializer returned nothing');
  await provider.shutdown();
  return { spans, proto, json };
}
