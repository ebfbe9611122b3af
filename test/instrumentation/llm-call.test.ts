import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
  type Sampler,
  type Span as SdkSpan,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import OpenAI from 'openai';
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_INPUT_MESSAGES,
  ATTR_GEN_AI_OUTPUT_MESSAGES,
  ATTR_GEN_AI_REQUEST_STREAM,
  ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
  ATTR_GEN_AI_SYSTEM_INSTRUCTIONS,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_MODELWATCH_FAILURE_CLASS,
  ATTR_MODELWATCH_FAILURE_ORIGIN,
  ATTR_MODELWATCH_MODEL_FAMILY,
  ATTR_MODELWATCH_MODEL_RESOLVED,
  ATTR_MODELWATCH_MODEL_SNAPSHOT,
  ATTR_MODELWATCH_MODEL_VERSION,
  ATTR_MODELWATCH_PROVIDER_REQUEST_ID,
  ATTR_MODELWATCH_RATELIMIT_REMAINING_REQUESTS,
  ATTR_MODELWATCH_RATELIMIT_REMAINING_TOKENS,
  ATTR_MODELWATCH_RETRY_AFTER_S,
  ATTR_MODELWATCH_RETRY_COUNT,
  ATTR_MODELWATCH_STREAM,
  ATTR_MODELWATCH_TIME_TO_FIRST_TOKEN_MS,
  flushPendingLlmSpans,
  resolveInstrumentationConfig,
  startLlmCall,
} from '@modelwatch/instrumentation';
import { setupInMemoryTracing } from './test-support/in-memory-tracing.js';

const tracing = setupInMemoryTracing();
after(() => tracing.shutdown());
beforeEach(() => tracing.reset());

const defaults = resolveInstrumentationConfig({}, {});

function onlySpan() {
  const spans = tracing.spans();
  assert.equal(spans.length, 1, 'exactly one span');
  return spans[0]!;
}

describe('startLlmCall', () => {
  it('names the span, sets request attributes at start, response attributes and model columns at end', () => {
    const call = startLlmCall(tracing.tracer, defaults, {
      provider: 'anthropic',
      operation: 'chat',
      requestModel: 'claude-sonnet-4-20250514',
      serverAddress: 'api.anthropic.com',
      serverPort: 443,
      temperature: 0.2,
      maxTokens: 512,
      stopSequences: ['###'],
      choiceCount: 1,
      stream: true,
    });
    call.firstToken();
    call.firstToken(); // only the first counts
    call.response({
      responseModel: 'claude-sonnet-4-20250514',
      responseId: 'msg_1',
      inputTokens: 10,
      outputTokens: 5,
      cacheWriteInputTokens: 3,
    });
    call.response({ finishReasons: ['end_turn'], outputTokens: 7 }); // merges
    call.http({
      statusCode: 200,
      headers: new Headers({
        'request-id': 'req_abc',
        'anthropic-ratelimit-requests-remaining': '99',
        'anthropic-ratelimit-tokens-remaining': '12345',
      }),
      retryCount: 1,
    });
    call.end();
    call.end();
    call.fail(new Error('late')); // ignored after end

    const span = onlySpan();
    assert.equal(span.name, 'chat claude-sonnet-4-20250514');
    assert.equal(span.kind, SpanKind.CLIENT);
    assert.equal(span.status.code, SpanStatusCode.UNSET);
    const a = span.attributes;
    assert.equal(a['gen_ai.operation.name'], 'chat');
    assert.equal(a['gen_ai.provider.name'], 'anthropic');
    assert.equal(a['gen_ai.request.model'], 'claude-sonnet-4-20250514');
    assert.equal(a['server.address'], 'api.anthropic.com');
    assert.equal(a['server.port'], 443);
    assert.equal(a['gen_ai.request.temperature'], 0.2);
    assert.equal(a['gen_ai.request.max_tokens'], 512);
    assert.deepEqual(a['gen_ai.request.stop_sequences'], ['###']);
    assert.equal(a['gen_ai.request.choice.count'], undefined);
    assert.equal(a[ATTR_GEN_AI_REQUEST_STREAM], true);
    assert.equal(a[ATTR_MODELWATCH_STREAM], true);
    assert.equal(a['gen_ai.response.id'], 'msg_1');
    assert.equal(a['gen_ai.usage.input_tokens'], 10);
    assert.equal(a['gen_ai.usage.output_tokens'], 7);
    assert.equal(a['gen_ai.usage.cache_creation.input_tokens'], 3);
    assert.equal(a['gen_ai.usage.cache_write.input_tokens'], 3);
    assert.deepEqual(a['gen_ai.response.finish_reasons'], ['end_turn']);
    assert.equal(a[ATTR_MODELWATCH_MODEL_FAMILY], 'claude-sonnet');
    assert.equal(a[ATTR_MODELWATCH_MODEL_VERSION], '4');
    assert.equal(a[ATTR_MODELWATCH_MODEL_SNAPSHOT], '20250514');
    assert.equal(a[ATTR_MODELWATCH_MODEL_RESOLVED], 'claude-sonnet-4-20250514');
    assert.equal(typeof a[ATTR_MODELWATCH_TIME_TO_FIRST_TOKEN_MS], 'number');
    assert.ok((a[ATTR_MODELWATCH_TIME_TO_FIRST_TOKEN_MS] as number) >= 0);
    assert.equal(
      a[ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK],
      (a[ATTR_MODELWATCH_TIME_TO_FIRST_TOKEN_MS] as number) / 1000,
    );
    assert.equal(a[ATTR_HTTP_RESPONSE_STATUS_CODE], 200);
    assert.equal(a[ATTR_MODELWATCH_PROVIDER_REQUEST_ID], 'req_abc');
    assert.equal(a[ATTR_MODELWATCH_RATELIMIT_REMAINING_REQUESTS], 99);
    assert.equal(a[ATTR_MODELWATCH_RATELIMIT_REMAINING_TOKENS], 12345);
    assert.equal(a[ATTR_MODELWATCH_RETRY_COUNT], 1);
  });

  it('measures TTFT from startTimeMs when the span starts late', async () => {
    const call = startLlmCall(
      tracing.tracer,
      defaults,
      { provider: 'openai', operation: 'chat', requestModel: 'gpt-4o' },
      { startTimeMs: Date.now() - 50 },
    );
    call.firstToken();
    call.end();
    const ttftMs = onlySpan().attributes[ATTR_MODELWATCH_TIME_TO_FIRST_TOKEN_MS] as number;
    assert.ok(ttftMs >= 49 && ttftMs < 1000, `ttft ${ttftMs}`);
    assert.equal(onlySpan().attributes[ATTR_MODELWATCH_STREAM], false);
  });

  it('keeps the request model for the version columns when the response model is less specific (Azure)', () => {
    const call = startLlmCall(tracing.tracer, defaults, {
      provider: 'azure.ai.openai',
      operation: 'chat',
      requestModel: 'gpt-4-0613',
    });
    call.response({ responseModel: 'gpt-4' });
    call.end();
    const a = onlySpan().attributes;
    assert.equal(a['gen_ai.response.model'], 'gpt-4');
    assert.equal(a['gen_ai.request.model'], 'gpt-4-0613');
    assert.equal(a[ATTR_MODELWATCH_MODEL_SNAPSHOT], '0613');
    assert.equal(a[ATTR_MODELWATCH_MODEL_RESOLVED], 'gpt-4-0613');
  });

  it('uses the response model when it is more specific (alias resolved by the provider)', () => {
    const call = startLlmCall(tracing.tracer, defaults, {
      provider: 'openai',
      operation: 'chat',
      requestModel: 'gpt-4o',
    });
    call.response({ responseModel: 'gpt-4o-2024-08-06' });
    call.end();
    const a = onlySpan().attributes;
    assert.equal(a[ATTR_MODELWATCH_MODEL_SNAPSHOT], '2024-08-06');
    assert.equal(a[ATTR_MODELWATCH_MODEL_RESOLVED], 'gpt-4o-2024-08-06');
  });

  it('fail(): classifies a real SDK error, records status, headers and a message-only exception', () => {
    const call = startLlmCall(tracing.tracer, defaults, {
      provider: 'openai',
      operation: 'chat',
      requestModel: 'gpt-4o-mini',
    });
    const error = OpenAI.APIError.generate(
      429,
      {
        error: { message: 'Rate limit reached for gpt-4o-mini', type: 'tokens', code: 'rate_limit_exceeded' },
      },
      undefined,
      new Headers({
        'x-request-id': 'req_429',
        'retry-after': '3',
        'x-ratelimit-remaining-requests': '0',
        authorization: 'Bearer sk-secret',
      }),
    );
    call.fail(error);
    call.end(); // ignored
    const span = onlySpan();
    const a = span.attributes;
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.match(span.status.message ?? '', /^rate_limited: /);
    assert.equal(a[ATTR_MODELWATCH_FAILURE_CLASS], 'rate_limited');
    assert.equal(a[ATTR_MODELWATCH_FAILURE_ORIGIN], 'provider');
    assert.equal(a[ATTR_ERROR_TYPE], 'rate_limit_exceeded');
    assert.equal(a[ATTR_HTTP_RESPONSE_STATUS_CODE], 429);
    assert.equal(a[ATTR_MODELWATCH_RETRY_AFTER_S], 3);
    assert.equal(a[ATTR_MODELWATCH_PROVIDER_REQUEST_ID], 'req_429');
    assert.equal(a[ATTR_MODELWATCH_RATELIMIT_REMAINING_REQUESTS], 0);
    assert.equal(
      a[ATTR_MODELWATCH_MODEL_FAMILY],
      'gpt-4o-mini',
      'model columns come from the request on failure',
    );
    assert.equal(span.events.length, 1);
    const event = span.events[0]!;
    assert.equal(event.name, 'exception');
    assert.equal(event.attributes?.['exception.type'], 'RateLimitError');
    assert.equal(event.attributes?.['exception.stacktrace'], undefined);
    assert.doesNotMatch(JSON.stringify({ a, e: span.events }), /sk-secret/);
  });

  it('captures no content by default', () => {
    const call = startLlmCall(tracing.tracer, defaults, {
      provider: 'openai',
      operation: 'chat',
      requestModel: 'gpt-4o',
      inputMessages: [{ role: 'user', parts: [{ type: 'text', content: 'secret prompt' }] }],
      systemInstructions: [{ type: 'text', content: 'be nice' }],
    });
    call.response({
      outputMessages: [{ role: 'assistant', parts: [{ type: 'text', content: 'secret answer' }] }],
    });
    call.end();
    const a = onlySpan().attributes;
    assert.equal(a[ATTR_GEN_AI_INPUT_MESSAGES], undefined);
    assert.equal(a[ATTR_GEN_AI_OUTPUT_MESSAGES], undefined);
    assert.equal(a[ATTR_GEN_AI_SYSTEM_INSTRUCTIONS], undefined);
  });

  it('captures content when enabled: redacted first, JSON, truncated to the byte cap', () => {
    const config = resolveInstrumentationConfig(
      {
        captureMessageContent: true,
        maxContentLengthBytes: 64,
        redact: (kind, value) =>
          kind === 'system' ? undefined : JSON.parse(JSON.stringify(value).replaceAll('4111-1111', '[card]')),
      },
      {},
    );
    const call = startLlmCall(tracing.tracer, config, {
      provider: 'openai',
      operation: 'chat',
      requestModel: 'gpt-4o',
      inputMessages: [{ role: 'user', content: 'card 4111-1111' }],
      systemInstructions: 'dropped by the redactor',
    });
    call.response({ outputMessages: [{ role: 'assistant', content: 'é'.repeat(100) }] });
    call.end();
    const a = onlySpan().attributes;
    assert.equal(a[ATTR_GEN_AI_INPUT_MESSAGES], JSON.stringify([{ role: 'user', content: 'card [card]' }]));
    assert.equal(a[ATTR_GEN_AI_SYSTEM_INSTRUCTIONS], undefined);
    const output = a[ATTR_GEN_AI_OUTPUT_MESSAGES] as string;
    assert.ok(Buffer.byteLength(output) <= 64, `${Buffer.byteLength(output)} bytes`);
    assert.match(output, /truncated/);
    assert.doesNotMatch(output, /\uFFFD/);
  });

  it('drops content when the redactor throws (fails closed) and never throws itself', () => {
    const config = resolveInstrumentationConfig(
      {
        captureMessageContent: true,
        redact: () => {
          throw new Error('redactor bug');
        },
      },
      {},
    );
    const call = startLlmCall(tracing.tracer, config, {
      provider: 'openai',
      operation: 'chat',
      inputMessages: ['x'],
    });
    assert.doesNotThrow(() => {
      call.response(undefined as never);
      call.http(undefined as never);
      call.end();
    });
    const span = onlySpan();
    assert.equal(span.name, 'chat');
    assert.equal(span.attributes[ATTR_GEN_AI_INPUT_MESSAGES], undefined);
  });
});

/**
 * The SDK span is created when something needs it while the call runs, else after the call (off the
 * caller's path); either way the exported span is the one an eager start would have made.
 */
describe('startLlmCall: the SDK span, created when first needed', () => {
  /** A provider that also notes the name of every span the SDK starts, in start order. */
  function recordingStarts() {
    const exporter = new InMemorySpanExporter();
    const started: string[] = [];
    const noteStarts: SpanProcessor = {
      onStart: (span: SdkSpan) => void started.push(span.name),
      onEnd: () => undefined,
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
    const provider = new TracerProvider({
      spanProcessors: [noteStarts, new SimpleSpanProcessor({ exporter })],
    });
    const spans = (): ReadableSpan[] => {
      flushPendingLlmSpans();
      return exporter.getFinishedSpans();
    };
    return { tracer: provider.getTracer('test'), started, spans, shutdown: () => provider.shutdown() };
  }
  const request = { provider: 'openai', operation: 'chat', requestModel: 'gpt-4o' };

  it('is not started while nothing needs it, and keeps the start time and parent of the call', async () => {
    const t = recordingStarts();
    const parent = t.tracer.startSpan('parent');
    const call = startLlmCall(t.tracer, defaults, request, {
      parentContext: trace.setSpan(ROOT_CONTEXT, parent),
    });
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.deepEqual(t.started, ['parent'], 'no LLM span started during the call');
    call.end();
    parent.end();
    const span = t.spans().find((s) => s.name === 'chat gpt-4o');
    assert.ok(span, 'the LLM span is exported');
    assert.deepEqual(t.started, ['parent', 'chat gpt-4o']);
    // Started at the call's start, not when the SDK span was created after the call.
    const durationMs = hrTimeToMilliseconds(span.duration);
    assert.ok(durationMs >= 29 && durationMs < 1000, `duration ${durationMs} ms`);
    assert.equal(span.parentSpanContext?.spanId, parent.spanContext().spanId);
    assert.equal(span.spanContext().traceId, parent.spanContext().traceId);
    assert.equal(span.kind, SpanKind.CLIENT);
    assert.equal(span.attributes['gen_ai.request.model'], 'gpt-4o');
    await t.shutdown();
  });

  it('is started as soon as a child span needs it, and the child is its child', async () => {
    const t = recordingStarts();
    const call = startLlmCall(t.tracer, defaults, request);
    // What an HTTP client instrumentation does inside the call: start a span in the active context.
    const child = t.tracer.startSpan('POST', {}, trace.setSpan(ROOT_CONTEXT, call.span));
    assert.deepEqual(t.started, ['chat gpt-4o', 'POST'], 'the LLM span started before its child');
    child.end();
    call.end();
    const llm = t.spans().find((s) => s.name === 'chat gpt-4o');
    const http = t.spans().find((s) => s.name === 'POST');
    assert.ok(llm && http);
    assert.equal(http.parentSpanContext?.spanId, llm.spanContext().spanId);
    assert.equal(http.spanContext().traceId, llm.spanContext().traceId);
    assert.equal(call.span.spanContext().spanId, llm.spanContext().spanId, 'one span, one id');
    await t.shutdown();
  });

  it('passes what the host app writes on the call span through to the SDK span', async () => {
    const t = recordingStarts();
    const call = startLlmCall(t.tracer, defaults, request);
    assert.equal(call.span.isRecording(), true);
    call.span.setAttribute('app.tenant', 'acme').addEvent('app.retrying');
    call.end();
    const [span] = t.spans();
    assert.equal(span?.attributes['app.tenant'], 'acme');
    assert.deepEqual(
      span?.events.map((e) => e.name),
      ['app.retrying'],
    );
    await t.shutdown();
  });
});

describe('startLlmCall: a span the sampler drops', () => {
  it('reads none of the call facts, exports nothing, and still ends', () => {
    const exporter = new InMemorySpanExporter();
    const provider = (sampler: Sampler) =>
      new TracerProvider({ sampler, spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    const request = { provider: 'openai', operation: 'chat', requestModel: 'gpt-4o' };
    let reads = 0;
    const reader = {
      responseInfo: () => {
        reads++;
        return { responseModel: 'gpt-4o-2024-08-06' };
      },
    };

    const dropped = startLlmCall(provider(new AlwaysOffSampler()).getTracer('t'), defaults, request);
    dropped.endWithResult({}, reader);
    flushPendingLlmSpans();
    assert.equal(reads, 0, 'the result of a dropped span is not read');
    assert.equal(exporter.getFinishedSpans().length, 0);

    // The same call with a sampler that keeps it: the reader runs, so the count above means something.
    const kept = startLlmCall(provider(new AlwaysOnSampler()).getTracer('t'), defaults, request);
    kept.endWithResult({}, reader);
    flushPendingLlmSpans();
    assert.equal(reads, 1);
    assert.equal(exporter.getFinishedSpans()[0]?.attributes['gen_ai.response.model'], 'gpt-4o-2024-08-06');
  });
});
