/**
 * OTLP requests built from real OpenTelemetry SDK spans (tracer + in-memory exporter) and serialised by the
 * SDK's own OTLP serializers — what exporters and the Collector put on the topic. Every span is an LLM call
 * span, so each span becomes one otel_traces row and one llm_calls row; a run-unique service name lets tests
 * sharing one data directory count only their own rows.
 */
import { context, SpanKind, trace } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace';

export interface TraceRequest {
  /** Hex trace id (the Kafka key). */
  traceId: string;
  spanIds: string[];
  proto: Uint8Array;
  json: Uint8Array;
}

const MODELS = [
  ['openai', 'gpt-4o', 'gpt-4o-2024-08-06'],
  ['anthropic', 'claude-3-5-sonnet-20241022', 'claude-3-5-sonnet-20241022'],
  ['gcp.gemini', 'gemini-1.5-flash-002', 'gemini-1.5-flash-002'],
] as const;

function llmAttributes(i: number) {
  const [provider, requestModel, responseModel] = MODELS[i % MODELS.length] as (typeof MODELS)[number];
  return {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': provider,
    'gen_ai.request.model': requestModel,
    'gen_ai.response.model': responseModel,
    'gen_ai.usage.input_tokens': 100 + (i % 900),
    'gen_ai.usage.output_tokens': 20 + (i % 300),
    'gen_ai.response.finish_reasons': ['stop'],
    'gen_ai.response.id': `resp-${i}`,
    'server.address': 'api.example.com',
  };
}

function newProvider(serviceName: string, exporter: InMemorySpanExporter): TracerProvider {
  return new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName, 'deployment.environment.name': 'test' }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
}

function serialize(spans: ReadableSpan[]): { proto: Uint8Array; json: Uint8Array } {
  const proto = ProtobufTraceSerializer.serializeRequest(spans);
  const json = JsonTraceSerializer.serializeRequest(spans);
  if (!proto || !json) throw new Error('OTLP serializer returned nothing');
  return { proto, json };
}

/** `traces` requests, one trace each, `spansPerTrace` LLM spans each (the first is the others' parent). */
export async function makeTraceRequests(
  serviceName: string,
  traces: number,
  spansPerTrace: number,
): Promise<TraceRequest[]> {
  const exporter = new InMemorySpanExporter();
  const provider = newProvider(serviceName, exporter);
  const tracer = provider.getTracer('@modelwatch/instrumentation', '0.1.0');
  const nowMs = Date.now();
  let n = 0;
  for (let t = 0; t < traces; t++) {
    const root = tracer.startSpan('chat', {
      kind: SpanKind.CLIENT,
      startTime: nowMs,
      attributes: llmAttributes(n++),
    });
    const ctx = trace.setSpan(context.active(), root);
    for (let s = 1; s < spansPerTrace; s++) {
      const span = tracer.startSpan(
        'chat',
        { kind: SpanKind.CLIENT, startTime: nowMs, attributes: llmAttributes(n++) },
        ctx,
      );
      span.end(nowMs + 50 + (s % 400));
    }
    root.end(nowMs + 500);
  }
  await provider.forceFlush();
  const byTrace = new Map<string, ReadableSpan[]>();
  for (const span of exporter.getFinishedSpans()) {
    const id = span.spanContext().traceId;
    byTrace.set(id, [...(byTrace.get(id) ?? []), span]);
  }
  await provider.shutdown();
  return [...byTrace.entries()].map(([traceId, spans]) => ({
    traceId,
    spanIds: spans.map((s) => s.spanContext().spanId),
    ...serialize(spans),
  }));
}

/**
 * One request shaped like a Collector batch: 2 resources (services `${serviceName}-a|b`) × 2 scopes each ×
 * `spansPerScope` spans from several traces.
 */
export async function makeCollectorBatch(
  serviceName: string,
  spansPerScope: number,
): Promise<{ proto: Uint8Array; spanCount: number }> {
  const all: ReadableSpan[] = [];
  for (const suffix of ['a', 'b']) {
    const exporter = new InMemorySpanExporter();
    const provider = newProvider(`${serviceName}-${suffix}`, exporter);
    for (const scope of ['scope-one', 'scope-two']) {
      const tracer = provider.getTracer(scope, '1.0.0');
      for (let i = 0; i < spansPerScope; i++) {
        tracer.startSpan('chat', { kind: SpanKind.CLIENT, attributes: llmAttributes(i) }).end();
      }
    }
    await provider.forceFlush();
    all.push(...exporter.getFinishedSpans());
    await provider.shutdown();
  }
  return { proto: serialize(all).proto, spanCount: all.length };
}
