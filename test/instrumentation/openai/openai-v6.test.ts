/**
 * The previous major (`openai` 6, installed as the npm alias `openai-v6`). The require/import hooks match
 * the package name `openai`, so an alias is instrumented with manuallyInstrument — as a bundled app would.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpanStatusCode } from '@opentelemetry/api';
import { isWrapped } from '@opentelemetry/instrumentation';
import OpenAIv6 from 'openai-v6';
import * as openaiV6Module from 'openai-v6';
import {
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_MODELWATCH_FAILURE_CLASS,
  ATTR_MODELWATCH_MODEL_VERSION,
  ATTR_MODELWATCH_PROVIDER_REQUEST_ID,
  ATTR_MODELWATCH_RETRY_COUNT,
  ATTR_MODELWATCH_TIME_TO_FIRST_TOKEN_MS,
  OpenAIInstrumentation,
} from '@modelwatch/instrumentation';
import { startOpenAISimulator } from '../../../ingest/src/simulators/openai-server.js';
import { onlySpan, TEST_API_KEY, useSimulatedSdk } from '../test-support/sdk-test-harness.js';

describe('openai 6 via manuallyInstrument', () => {
  const sdk = useSimulatedSdk({
    instrumentation: new OpenAIInstrumentation(),
    modules: [openaiV6Module],
    startSimulator: startOpenAISimulator,
  });
  const { tracing } = sdk;

  it('records a call, keeps withResponse and counts retries', async () => {
    let calls = 0;
    sdk.scenario = () =>
      ++calls === 1
        ? { kind: 'error', status: 500, retryAfterMs: 1 }
        : { kind: 'success', requestId: 'req_v6' };
    const client = new OpenAIv6({ baseURL: sdk.sim.baseURL, apiKey: TEST_API_KEY, maxRetries: 2 });
    const { data, request_id } = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    assert.equal(data.object, 'chat.completion');
    assert.equal(request_id, 'req_v6');
    const span = await onlySpan(tracing);
    assert.equal(span.attributes[ATTR_MODELWATCH_RETRY_COUNT], 1);
    assert.equal(span.attributes[ATTR_MODELWATCH_PROVIDER_REQUEST_ID], 'req_v6');
  });

  it('records a stream and a failure', async () => {
    sdk.scenario = () => ({ kind: 'stream', firstTokenDelayMs: 10, outputTokens: 3 });
    const client = new OpenAIv6({ baseURL: sdk.sim.baseURL, apiKey: TEST_API_KEY, maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const _chunk of stream) {
      // drain
    }
    const span = await onlySpan(tracing);
    assert.ok((span.attributes[ATTR_MODELWATCH_TIME_TO_FIRST_TOKEN_MS] as number) > 0);
    assert.deepEqual(span.attributes[ATTR_GEN_AI_RESPONSE_FINISH_REASONS], ['stop']);
    assert.equal(span.attributes[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS], 3);
    tracing.reset();

    sdk.scenario = () => ({ kind: 'error', status: 429 });
    await assert.rejects(
      client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
      OpenAIv6.RateLimitError,
    );
    const failed = await onlySpan(tracing);
    assert.equal(failed.status.code, SpanStatusCode.ERROR);
    assert.equal(failed.attributes[ATTR_MODELWATCH_FAILURE_CLASS], 'rate_limited');
  });

  it('sees results and parse errors of derived helpers (chat.completions.parse) through the prototype hooks', async () => {
    const client = new OpenAIv6({ baseURL: sdk.sim.baseURL, apiKey: TEST_API_KEY, maxRetries: 0 });
    sdk.scenario = () => ({ kind: 'success', model: 'gpt-4o-2024-11-20' });
    const parsed = await client.chat.completions.parse({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(parsed.object, 'chat.completion');
    const span = await onlySpan(tracing);
    assert.equal(span.attributes[ATTR_MODELWATCH_MODEL_VERSION], '4o');
    assert.equal(span.attributes[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS], 9);
    tracing.reset();

    sdk.scenario = () => ({ kind: 'malformed' });
    await assert.rejects(
      client.chat.completions.parse({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
      SyntaxError,
    );
    const failed = await onlySpan(tracing);
    assert.equal(failed.status.code, SpanStatusCode.ERROR);
    assert.equal(failed.attributes[ATTR_MODELWATCH_FAILURE_CLASS], 'server_error');
  });
});

describe('openai 6 from a module object without its APIPromise export', () => {
  // A bundle may expose the client class alone. The promise's class is then not hooked: the call must still
  // get its span (ending with the HTTP response), and must never be parsed twice by us.
  const sdk = useSimulatedSdk({
    instrumentation: new OpenAIInstrumentation(),
    modules: [{ OpenAI: OpenAIv6 }],
    startSimulator: startOpenAISimulator,
  });
  const { tracing } = sdk;

  it('records the call from the HTTP response and keeps the body for the caller', async () => {
    assert.ok(!isWrapped((openaiV6Module.APIPromise.prototype as unknown as { parse: unknown }).parse));
    sdk.scenario = () => ({ kind: 'success', requestId: 'req_unhooked' });
    const client = new OpenAIv6({ baseURL: sdk.sim.baseURL, apiKey: TEST_API_KEY, maxRetries: 0 });
    const parsed = await client.chat.completions.parse({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(parsed.object, 'chat.completion');
    const span = await onlySpan(tracing);
    assert.equal(span.status.code, SpanStatusCode.UNSET);
    assert.equal(span.attributes[ATTR_HTTP_RESPONSE_STATUS_CODE], 200);
    assert.equal(span.attributes[ATTR_MODELWATCH_PROVIDER_REQUEST_ID], 'req_unhooked');
    assert.equal(span.attributes[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS], undefined);
    tracing.reset();

    sdk.scenario = () => ({ kind: 'error', status: 503 });
    await assert.rejects(
      client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
      OpenAIv6.InternalServerError,
    );
    const failed = await onlySpan(tracing);
    assert.equal(failed.attributes[ATTR_MODELWATCH_FAILURE_CLASS], 'overloaded');
  });
});
