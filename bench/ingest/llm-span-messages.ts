/**
 * The ingest benchmarks' data: OTLP protobuf requests of realistic LLM call spans (100-500 per request,
 * ~10 traces per request, like a Collector batch), built with the real OpenTelemetry SDK and serialiser.
 */
import { context, SpanKind, trace } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace';

const MODELS = [
  ['openai', 'gpt-4o', 'gpt-4o-2024-08-06'],
  ['openai', 'gpt-4o-mini', 'gpt-4o-mini-2024-07-18'],
  ['anthropic', 'claude-sonnet-4-5', 'claude-sonnet-4-5-20250929'],
  ['anthropic', 'claude-3-5-haiku-20241022', 'claude-3-5-haiku-20241022'],
  ['gcp.gemini', 'gemini-2.5-flash', 'gemini-2.5-flash'],
  ['aws.bedrock', 'us.anthropic.claude-sonnet-4-20250514-v1:0', 'us.anthropic.claude-sonnet-4-20250514-v1:0'],
] as const;
const FAILURES = [
  ['rate_limited', 'provider', '429'],
  ['overloaded', 'provider', '529'],
  ['timeout', 'network', '0'],
  ['bad_request', 'client', '400'],
] as const;

export async function makeMessages(
  count: number,
  services: string[],
  startMs: number,
): Promise<{ body: Uint8Array; spans: number }[]> {
  const messages: { body: Uint8Array; spans: number }[] = [];
  let n = 0;
  for (let m = 0; m < count; m++) {
    const exporter = new InMemorySpanExporter();
    const service = services[m % services.length] as string;
    const provider = new TracerProvider({
      resource: resourceFromAttributes({
        'service.name': service,
        'deployment.environment.name': 'prod',
        'service.version': '1.4.2',
      }),
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    const tracer = provider.getTracer('@modelwatch/instrumentation', '0.1.0');
    const spanCount = 100 + ((m * 97) % 401);
    const tracesInMessage = 10;
    for (let t = 0; t < tracesInMessage; t++) {
      const root = tracer.startSpan('POST /v1/answer', { kind: SpanKind.SERVER, startTime: startMs });
      const ctx = trace.setSpan(context.active(), root);
      for (let s = 1; s < spanCount / tracesInMessage; s++) {
        const [prov, requestModel, responseModel] = MODELS[n % MODELS.length] as (typeof MODELS)[number];
        const failed = n % 23 === 0 ? FAILURES[n % FAILURES.length] : undefined;
        const span = tracer.startSpan(
          `chat ${requestModel}`,
          {
            kind: SpanKind.CLIENT,
            startTime: startMs + s,
            attributes: {
              'gen_ai.operation.name': 'chat',
              'gen_ai.provider.name': prov,
              'gen_ai.request.model': requestModel,
              'gen_ai.response.model': responseModel,
              'gen_ai.request.max_tokens': 1024,
              'gen_ai.request.temperature': 0.2,
              'gen_ai.usage.input_tokens': 200 + (n % 3000),
              'gen_ai.usage.output_tokens': 50 + (n % 800),
              'gen_ai.response.finish_reasons': [n % 17 === 0 ? 'length' : 'stop'],
              'gen_ai.response.id': `resp_${n.toString(36)}`,
              'server.address': 'api.example.com',
              'server.port': 443,
              'modelwatch.stream': n % 3 === 0,
              ...(n % 3 === 0 ? { 'modelwatch.time_to_first_token_ms': 150 + (n % 700) } : {}),
              ...(failed
                ? {
                    'error.type': failed[0],
                    'modelwatch.failure.class': failed[0],
                    'modelwatch.failure.origin': failed[1],
                    'http.response.status_code': Number(failed[2]),
                  }
                : { 'http.response.status_code': 200 }),
            },
          },
          ctx,
        );
        span.end(startMs + s + 300 + (n % 5000));
        n++;
      }
      root.end(startMs + 6000);
    }
    await provider.forceFlush();
    const spans: ReadableSpan[] = exporter.getFinishedSpans();
    const body = ProtobufTraceSerializer.serializeRequest(spans);
    if (!body) throw new Error('serializer returned nothing');
    messages.push({ body, spans: spans.length });
    await provider.shutdown();
  }
  return messages;
}
