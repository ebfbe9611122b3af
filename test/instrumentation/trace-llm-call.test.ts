import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import Anthropic from '@anthropic-ai/sdk';
import {
  ATTR_MODELWATCH_FAILURE_CLASS,
  ATTR_MODELWATCH_MODEL_FAMILY,
  ATTR_MODELWATCH_TIME_TO_FIRST_TOKEN_MS,
  INSTRUMENTATION_SCOPE,
  traceLLMCall,
} from '@modelwatch/instrumentation';
import { setupInMemoryTracing } from './test-support/in-memory-tracing.js';

const tracing = setupInMemoryTracing({ registerGlobal: true });
after(() => tracing.shutdown());
beforeEach(() => tracing.reset());

describe('traceLLMCall', () => {
  it('returns the callback result and records one span with what the callback reported', async () => {
    const result = await traceLLMCall(
      { provider: 'anthropic', model: 'claude-opus-4-7', serverAddress: 'api.anthropic.com', stream: true },
      async (call) => {
        call.firstToken();
        call.response({ responseModel: 'claude-opus-4-7', finishReasons: ['end_turn'] });
        call.usage({ inputTokens: 12, outputTokens: 34 });
        call.http({ statusCode: 200, requestId: 'req_m' });
        return 'the answer';
      },
    );
    assert.equal(result, 'the answer');
    const spans = tracing.spans();
    assert.equal(spans.length, 1);
    const span = spans[0]!;
    assert.equal(span.name, 'chat claude-opus-4-7');
    assert.equal(span.instrumentationScope.name, INSTRUMENTATION_SCOPE);
    assert.equal(span.attributes['gen_ai.usage.input_tokens'], 12);
    assert.equal(span.attributes['gen_ai.usage.output_tokens'], 34);
    assert.equal(span.attributes['modelwatch.provider.request_id'], 'req_m');
    assert.equal(span.attributes[ATTR_MODELWATCH_MODEL_FAMILY], 'claude-opus');
    assert.equal(typeof span.attributes[ATTR_MODELWATCH_TIME_TO_FIRST_TOKEN_MS], 'number');
    assert.equal(span.status.code, SpanStatusCode.UNSET);
  });

  it('makes its span the active span inside the callback', async () => {
    let activeSpanId: string | undefined;
    await traceLLMCall({ provider: 'openai', model: 'gpt-4o' }, async (call) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      activeSpanId = trace.getActiveSpan()?.spanContext().spanId;
      assert.equal(activeSpanId, call.span.spanContext().spanId);
    });
    assert.equal(tracing.spans()[0]?.spanContext().spanId, activeSpanId);
  });

  it('rethrows the original error unchanged and records the failure once', async () => {
    const original = Anthropic.APIError.generate(
      529,
      { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
      undefined,
      new Headers(),
    );
    await assert.rejects(
      traceLLMCall({ provider: 'anthropic', model: 'claude-sonnet-4-5', operation: 'chat' }, async () => {
        throw original;
      }),
      (thrown) => thrown === original,
    );
    const spans = tracing.spans();
    assert.equal(spans.length, 1);
    assert.equal(spans[0]!.status.code, SpanStatusCode.ERROR);
    assert.equal(spans[0]!.attributes[ATTR_MODELWATCH_FAILURE_CLASS], 'overloaded');
  });

  it('handles synchronous throws and non-Error values', async () => {
    await assert.rejects(
      traceLLMCall({ provider: 'openai', model: 'gpt-4o' }, () => {
        throw 'plain string';
      }),
      (thrown) => thrown === 'plain string',
    );
    assert.equal(tracing.spans()[0]!.attributes['error.type'], '_OTHER');
  });

  it('works without any SDK registered (no-op tracer)', async () => {
    trace.disable();
    try {
      assert.equal(await traceLLMCall({ provider: 'openai', model: 'gpt-4o' }, async () => 42), 42);
      assert.equal(tracing.spans().length, 0);
    } finally {
      trace.setGlobalTracerProvider(tracing.provider);
    }
  });
});
