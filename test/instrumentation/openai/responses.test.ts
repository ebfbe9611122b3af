/** The Responses API and embeddings through the real `openai` 7 client against the local simulator. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { SpanStatusCode } from '@opentelemetry/api';
import OpenAI from 'openai';
import * as openaiModule from 'openai';
import {
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_REQUEST_MAX_TOKENS,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_ID,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_MODELWATCH_FAILURE_CLASS,
  ATTR_MODELWATCH_FAILURE_ORIGIN,
  ATTR_MODELWATCH_MODEL_VERSION,
  ATTR_MODELWATCH_STREAM,
  ATTR_MODELWATCH_TIME_TO_FIRST_TOKEN_MS,
  OpenAIInstrumentation,
} from '@modelwatch/instrumentation';
import { startOpenAISimulator } from '../../../ingest/src/simulators/openai-server.js';
import { onlySpan, TEST_API_KEY, useSimulatedSdk } from '../test-support/sdk-test-harness.js';

describe('OpenAI Responses API and embeddings (openai 7)', () => {
  const sdk = useSimulatedSdk({
    instrumentation: new OpenAIInstrumentation(),
    modules: [openaiModule],
    startSimulator: startOpenAISimulator,
  });
  const { tracing } = sdk;
  let client: OpenAI;
  before(() => {
    client = new OpenAI({ baseURL: sdk.sim.baseURL, apiKey: TEST_API_KEY, maxRetries: 0 });
  });

  it('records responses.create', async () => {
    sdk.scenario = () => ({ kind: 'success', model: 'gpt-4.1-2025-04-14', inputTokens: 17, outputTokens: 5 });
    const response = await client.responses.create({
      model: 'gpt-4.1',
      input: 'hello',
      max_output_tokens: 50,
    });
    assert.equal(response.output_text, 'The quick brown fox jumps over the lazy dog.');
    const span = await onlySpan(tracing);
    const a = span.attributes;
    assert.equal(span.name, 'chat gpt-4.1');
    assert.equal(a[ATTR_GEN_AI_OPERATION_NAME], 'chat');
    assert.equal(a[ATTR_GEN_AI_REQUEST_MAX_TOKENS], 50);
    assert.equal(a[ATTR_GEN_AI_RESPONSE_ID], response.id);
    assert.equal(a[ATTR_GEN_AI_RESPONSE_MODEL], 'gpt-4.1-2025-04-14');
    assert.equal(a[ATTR_MODELWATCH_MODEL_VERSION], '4.1');
    assert.deepEqual(a[ATTR_GEN_AI_RESPONSE_FINISH_REASONS], ['stop']);
    assert.equal(a[ATTR_GEN_AI_USAGE_INPUT_TOKENS], 17);
    assert.equal(a[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS], 5);
  });

  it('records a streamed response (create with stream: true) with TTFT and usage', async () => {
    sdk.scenario = () => ({
      kind: 'stream',
      firstTokenDelayMs: 25,
      chunks: 3,
      inputTokens: 8,
      outputTokens: 4,
    });
    const stream = await client.responses.create({ model: 'gpt-4.1', input: 'hello', stream: true });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    assert.equal(types.at(-1), 'response.completed');
    const span = await onlySpan(tracing);
    assert.equal(span.attributes[ATTR_MODELWATCH_STREAM], true);
    assert.ok((span.attributes[ATTR_MODELWATCH_TIME_TO_FIRST_TOKEN_MS] as number) >= 20);
    assert.equal(span.attributes[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS], 4);
    assert.deepEqual(span.attributes[ATTR_GEN_AI_RESPONSE_FINISH_REASONS], ['stop']);
  });

  it('records the responses.stream() helper, which derives its own APIPromise', async () => {
    sdk.scenario = () => ({ kind: 'stream', chunks: 2, finishReason: 'length' });
    const final = await client.responses.stream({ model: 'gpt-4.1', input: 'hello' }).finalResponse();
    assert.equal(final.status, 'incomplete');
    const span = await onlySpan(tracing);
    assert.deepEqual(span.attributes[ATTR_GEN_AI_RESPONSE_FINISH_REASONS], ['max_output_tokens']);
    assert.ok((span.attributes[ATTR_MODELWATCH_TIME_TO_FIRST_TOKEN_MS] as number) > 0);
  });

  it('records a mid-stream error event as a failure', async () => {
    sdk.scenario = () => ({ kind: 'stream', chunks: 3, errorAfterChunks: 1 });
    const stream = await client.responses.create({ model: 'gpt-4.1', input: 'hello', stream: true });
    await assert.rejects(async () => {
      for await (const _event of stream) {
        // read until the error event
      }
    }, OpenAI.APIError);
    const span = await onlySpan(tracing);
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    // The `error` event has no HTTP status; its code (server_error) and message ("overloaded") decide.
    assert.equal(span.attributes[ATTR_MODELWATCH_FAILURE_CLASS], 'overloaded');
    assert.equal(span.attributes[ATTR_MODELWATCH_FAILURE_ORIGIN], 'provider');
  });

  it('classifies a server_error event mid-stream as server_error/provider', async () => {
    sdk.scenario = () => ({ kind: 'stream', chunks: 3, errorAfterChunks: 1, errorType: 'server' });
    const stream = await client.responses.create({ model: 'gpt-4.1', input: 'hello', stream: true });
    await assert.rejects(async () => {
      for await (const _event of stream) {
        // read until the error event
      }
    }, OpenAI.APIError);
    const span = await onlySpan(tracing);
    assert.equal(span.attributes[ATTR_MODELWATCH_FAILURE_CLASS], 'server_error');
    assert.equal(span.attributes[ATTR_MODELWATCH_FAILURE_ORIGIN], 'provider');
  });

  it('records embeddings with their token usage', async () => {
    sdk.scenario = () => ({ kind: 'success', inputTokens: 6 });
    const result = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] });
    assert.equal(result.data.length, 2);
    const span = await onlySpan(tracing);
    assert.equal(span.name, 'embeddings text-embedding-3-small');
    assert.equal(span.attributes[ATTR_GEN_AI_OPERATION_NAME], 'embeddings');
    assert.equal(span.attributes[ATTR_GEN_AI_USAGE_INPUT_TOKENS], 6);
    assert.equal(span.attributes[ATTR_MODELWATCH_FAILURE_CLASS], undefined);
  });
});
