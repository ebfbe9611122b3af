/** Anthropic Messages through the real `@anthropic-ai/sdk` 1.x client (and 0.x via manuallyInstrument). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpanStatusCode } from '@opentelemetry/api';
import Anthropic from '@anthropic-ai/sdk';
import * as anthropicModule from '@anthropic-ai/sdk';
import AnthropicV0 from 'anthropic-sdk-v0';
import * as anthropicV0Module from 'anthropic-sdk-v0';
import {
  AnthropicInstrumentation,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MAX_TOKENS,
  ATTR_GEN_AI_REQUEST_STOP_SEQUENCES,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_MODELWATCH_FAILURE_CLASS,
  ATTR_MODELWATCH_FAILURE_ORIGIN,
  ATTR_MODELWATCH_MODEL_FAMILY,
  ATTR_MODELWATCH_MODEL_VERSION,
  ATTR_MODELWATCH_PROVIDER_REQUEST_ID,
  ATTR_MODELWATCH_RATELIMIT_REMAINING_REQUESTS,
  ATTR_MODELWATCH_RETRY_AFTER_S,
  ATTR_MODELWATCH_RETRY_COUNT,
  ATTR_MODELWATCH_STREAM,
  ATTR_MODELWATCH_TIME_TO_FIRST_TOKEN_MS,
} from '@modelwatch/instrumentation';
import { startAnthropicSimulator } from '../../../ingest/src/simulators/anthropic-server.js';
import { onlySpan, TEST_API_KEY, useSimulatedSdk } from '../test-support/sdk-test-harness.js';

const MODEL = 'claude-opus-4-7';
const messages = [{ role: 'user' as const, content: 'Say hello' }];

describe('Anthropic messages', () => {
  const sdk = useSimulatedSdk({
    instrumentation: new AnthropicInstrumentation(),
    modules: [anthropicModule, anthropicV0Module],
    startSimulator: startAnthropicSimulator,
  });
  const { tracing } = sdk;
  const client = (options?: { maxRetries?: number; timeoutMs?: number }): Anthropic =>
    new Anthropic(sdk.clientOptions(options));

  it('records messages.create with version, usage, request id and rate-limit headers', async () => {
    sdk.scenario = () => ({
      kind: 'success',
      inputTokens: 40,
      outputTokens: 12,
      requestId: 'req_anthropic_1',
      rateLimit: { remainingRequests: 49 },
    });
    const message = await client().messages.create({
      model: MODEL,
      max_tokens: 100,
      stop_sequences: ['END'],
      messages,
    });
    assert.equal(message.stop_reason, 'end_turn');
    const span = await onlySpan(tracing);
    const a = span.attributes;
    assert.equal(span.name, `chat ${MODEL}`);
    assert.equal(a[ATTR_GEN_AI_PROVIDER_NAME], 'anthropic');
    assert.equal(a[ATTR_GEN_AI_REQUEST_MAX_TOKENS], 100);
    assert.deepEqual(a[ATTR_GEN_AI_REQUEST_STOP_SEQUENCES], ['END']);
    assert.equal(a[ATTR_GEN_AI_RESPONSE_MODEL], MODEL);
    assert.equal(a[ATTR_MODELWATCH_MODEL_FAMILY], 'claude-opus');
    assert.equal(a[ATTR_MODELWATCH_MODEL_VERSION], '4.7');
    assert.deepEqual(a[ATTR_GEN_AI_RESPONSE_FINISH_REASONS], ['end_turn']);
    assert.equal(a[ATTR_GEN_AI_USAGE_INPUT_TOKENS], 40);
    assert.equal(a[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS], 12);
    assert.equal(a[ATTR_MODELWATCH_PROVIDER_REQUEST_ID], 'req_anthropic_1');
    assert.equal(a[ATTR_MODELWATCH_RATELIMIT_REMAINING_REQUESTS], 49);
    assert.equal(a[ATTR_HTTP_RESPONSE_STATUS_CODE], 200);
    assert.equal(a[ATTR_MODELWATCH_RETRY_COUNT], 0);
  });

  it('records a raw stream (stream: true) with TTFT, stop reason and output usage', async () => {
    sdk.scenario = () => ({
      kind: 'stream',
      firstTokenDelayMs: 30,
      chunkDelayMs: 3,
      outputTokens: 9,
      finishReason: 'max_tokens',
    });
    const stream = await client().messages.create({ model: MODEL, max_tokens: 9, messages, stream: true });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    assert.equal(types.at(-1), 'message_stop');
    const span = await onlySpan(tracing);
    assert.equal(span.attributes[ATTR_MODELWATCH_STREAM], true);
    assert.ok((span.attributes[ATTR_MODELWATCH_TIME_TO_FIRST_TOKEN_MS] as number) >= 25);
    assert.deepEqual(span.attributes[ATTR_GEN_AI_RESPONSE_FINISH_REASONS], ['max_tokens']);
    assert.equal(span.attributes[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS], 9);
    assert.equal(span.attributes[ATTR_GEN_AI_USAGE_INPUT_TOKENS], 12);
  });

  it('records messages.stream() (MessageStream calls create on the instance) as one span', async () => {
    sdk.scenario = () => ({ kind: 'stream', firstTokenDelayMs: 10, chunks: 3 });
    const final = await client().messages.stream({ model: MODEL, max_tokens: 50, messages }).finalMessage();
    assert.equal(final.stop_reason, 'end_turn');
    const span = await onlySpan(tracing);
    assert.ok((span.attributes[ATTR_MODELWATCH_TIME_TO_FIRST_TOKEN_MS] as number) > 0);
    assert.deepEqual(span.attributes[ATTR_GEN_AI_RESPONSE_FINISH_REASONS], ['end_turn']);
  });

  it('classifies 529 overloaded as overloaded/provider after the SDK retries', async () => {
    sdk.scenario = () => ({ kind: 'error', status: 529, retryAfterMs: 2 });
    const error = await client({ maxRetries: 1 })
      .messages.create({ model: MODEL, max_tokens: 10, messages })
      .catch((e: unknown) => e);
    assert.ok(error instanceof Anthropic.APIError && error.status === 529, String(error));
    const span = await onlySpan(tracing);
    assert.equal(span.attributes[ATTR_MODELWATCH_FAILURE_CLASS], 'overloaded');
    assert.equal(span.attributes[ATTR_MODELWATCH_FAILURE_ORIGIN], 'provider');
    assert.equal(span.attributes[ATTR_MODELWATCH_RETRY_COUNT], 1);
  });

  it('classifies a mid-stream overloaded_error event as overloaded/provider', async () => {
    sdk.scenario = () => ({ kind: 'stream', chunks: 4, errorAfterChunks: 2, errorType: 'overloaded' });
    const stream = await client().messages.create({ model: MODEL, max_tokens: 10, messages, stream: true });
    await assert.rejects(async () => {
      for await (const _event of stream) {
        // read until the error event
      }
    }, Anthropic.APIError);
    const span = await onlySpan(tracing);
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.attributes[ATTR_MODELWATCH_FAILURE_CLASS], 'overloaded');
    assert.equal(span.attributes[ATTR_MODELWATCH_FAILURE_ORIGIN], 'provider');
  });

  it('classifies a mid-stream api_error event as server_error/provider', async () => {
    sdk.scenario = () => ({ kind: 'stream', chunks: 4, errorAfterChunks: 2, errorType: 'server' });
    const stream = await client().messages.create({ model: MODEL, max_tokens: 10, messages, stream: true });
    await assert.rejects(async () => {
      for await (const _event of stream) {
        // read until the error event
      }
    }, Anthropic.APIError);
    const span = await onlySpan(tracing);
    assert.equal(span.attributes[ATTR_MODELWATCH_FAILURE_CLASS], 'server_error');
    assert.equal(span.attributes[ATTR_MODELWATCH_FAILURE_ORIGIN], 'provider');
    assert.equal(span.attributes[ATTR_HTTP_RESPONSE_STATUS_CODE], 200);
  });

  it('classifies a malformed 200 body as server_error/provider', async () => {
    sdk.scenario = () => ({ kind: 'malformed' });
    const error = await client()
      .messages.create({ model: MODEL, max_tokens: 10, messages })
      .catch((e: unknown) => e);
    assert.ok(error instanceof SyntaxError, String(error));
    const span = await onlySpan(tracing);
    assert.equal(span.attributes[ATTR_HTTP_RESPONSE_STATUS_CODE], 200);
    assert.equal(span.attributes[ATTR_MODELWATCH_FAILURE_CLASS], 'server_error');
    assert.equal(span.attributes[ATTR_MODELWATCH_FAILURE_ORIGIN], 'provider');
  });

  it('classifies a content-filter refusal as content_filter/client, even under a 429', async () => {
    for (const status of [400, 429]) {
      sdk.scenario = () => ({ kind: 'error', status, errorType: 'content_filter' });
      await assert.rejects(
        client().messages.create({ model: MODEL, max_tokens: 10, messages }),
        Anthropic.APIError,
      );
      const span = await onlySpan(tracing);
      assert.equal(span.attributes[ATTR_HTTP_RESPONSE_STATUS_CODE], status);
      assert.equal(span.attributes[ATTR_MODELWATCH_FAILURE_CLASS], 'content_filter', `status ${status}`);
      assert.equal(span.attributes[ATTR_MODELWATCH_FAILURE_ORIGIN], 'client');
      tracing.reset();
    }
  });

  it('classifies 429 with retry-after, context length and timeouts', async () => {
    sdk.scenario = () => ({ kind: 'error', status: 429, retryAfterS: 7 });
    await assert.rejects(
      client().messages.create({ model: MODEL, max_tokens: 10, messages }),
      Anthropic.RateLimitError,
    );
    let span = await onlySpan(tracing);
    assert.equal(span.attributes[ATTR_MODELWATCH_FAILURE_CLASS], 'rate_limited');
    assert.equal(span.attributes[ATTR_MODELWATCH_RETRY_AFTER_S], 7);
    tracing.reset();

    sdk.scenario = () => ({ kind: 'error', status: 400, errorType: 'context_length' });
    await assert.rejects(
      client().messages.create({ model: MODEL, max_tokens: 10, messages }),
      Anthropic.BadRequestError,
    );
    span = await onlySpan(tracing);
    assert.equal(span.attributes[ATTR_MODELWATCH_FAILURE_CLASS], 'context_length');
    tracing.reset();

    sdk.scenario = () => ({ kind: 'hang' });
    await assert.rejects(
      client({ timeoutMs: 120 }).messages.create({ model: MODEL, max_tokens: 10, messages }),
      Anthropic.APIConnectionTimeoutError,
    );
    span = await onlySpan(tracing);
    assert.equal(span.attributes[ATTR_MODELWATCH_FAILURE_CLASS], 'timeout');
  });

  it('instruments the previous major (0.x, alias anthropic-sdk-v0) via manuallyInstrument', async () => {
    sdk.scenario = () => ({ kind: 'stream', firstTokenDelayMs: 5 });
    const v0 = new AnthropicV0({ baseURL: sdk.sim.baseURL, apiKey: TEST_API_KEY, maxRetries: 0 });
    const final = await v0.messages
      .stream({ model: 'claude-3-5-sonnet-20241022', max_tokens: 10, messages })
      .finalMessage();
    assert.equal(final.type, 'message');
    const span = await onlySpan(tracing);
    assert.equal(span.attributes[ATTR_MODELWATCH_MODEL_FAMILY], 'claude-sonnet');
    assert.equal(span.attributes[ATTR_MODELWATCH_MODEL_VERSION], '3.5');
    assert.ok((span.attributes[ATTR_MODELWATCH_TIME_TO_FIRST_TOKEN_MS] as number) > 0);
  });
});
