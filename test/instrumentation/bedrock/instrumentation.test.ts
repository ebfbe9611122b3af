/**
 * The real `BedrockRuntimeClient` (AWS SDK v3, default HTTP/2 handler) against the local Bedrock
 * wire-format simulator; spans asserted from the in-memory exporter.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import * as bedrock from '@aws-sdk/client-bedrock-runtime';
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MAX_TOKENS,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_REQUEST_TEMPERATURE,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_ID,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_MODELWATCH_FAILURE_CLASS,
  ATTR_MODELWATCH_FAILURE_ORIGIN,
  ATTR_MODELWATCH_MODEL_FAMILY,
  ATTR_MODELWATCH_MODEL_SNAPSHOT,
  ATTR_MODELWATCH_MODEL_VERSION,
  ATTR_MODELWATCH_PROVIDER_REQUEST_ID,
  ATTR_MODELWATCH_RETRY_COUNT,
  ATTR_MODELWATCH_STREAM,
  ATTR_MODELWATCH_TIME_TO_FIRST_TOKEN_MS,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  BedrockRuntimeInstrumentation,
} from '@modelwatch/instrumentation';
import { SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { startBedrockSimulator } from '../../../ingest/src/simulators/bedrock-server.js';
import type { Reply, SimulatedRequest } from '../../../ingest/src/simulators/reply.js';
import { useSimulatedSdk } from '../test-support/sdk-test-harness.js';

const SECRET = 'wJalrXUtnFEMI-test-secret-access-key';
const ACCESS_KEY = 'AKIATESTACCESSKEY01';
const PROFILE_ID = 'us.anthropic.claude-sonnet-4-20250514-v1:0';
const messages = [{ role: 'user' as const, content: [{ text: 'Why is the sky blue?' }] }];

describe('BedrockRuntimeInstrumentation', () => {
  let queue: Reply[] = [];
  let seen: SimulatedRequest[] = [];
  const clients: bedrock.BedrockRuntimeClient[] = [];
  const sdk = useSimulatedSdk({
    instrumentation: new BedrockRuntimeInstrumentation(),
    modules: [bedrock],
    startSimulator: startBedrockSimulator,
    // Open HTTP/2 sessions would keep the simulator from closing.
    beforeClose: () => {
      for (const c of clients) c.destroy();
    },
    afterEachTest: false,
  });
  const { tracing } = sdk;
  sdk.scenario = (request) => {
    seen.push(request);
    return queue.shift() ?? (request.stream ? { kind: 'stream' } : { kind: 'success' });
  };
  beforeEach(() => {
    tracing.reset();
    queue = [];
    seen = [];
  });

  function client(options: Partial<bedrock.BedrockRuntimeClientConfig> = {}): bedrock.BedrockRuntimeClient {
    const c = new bedrock.BedrockRuntimeClient({
      region: 'us-east-1',
      endpoint: sdk.sim.baseURL,
      credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET, sessionToken: 'session-token-secret' },
      maxAttempts: 1,
      ...options,
    });
    clients.push(c);
    return c;
  }

  // Export may complete after a microtask (SimpleSpanProcessor awaits the exporter in sdk-trace 3.x).
  async function finishedSpans(): Promise<ReadableSpan[]> {
    await tracing.provider.forceFlush();
    return tracing.spans();
  }

  async function onlySpan(): Promise<ReadableSpan> {
    const spans = await finishedSpans();
    assert.equal(spans.length, 1, `expected one span, got ${spans.map((s) => s.name).join(', ')}`);
    return spans[0]!;
  }

  async function rejection(
    promise: Promise<unknown>,
  ): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
    try {
      await promise;
    } catch (error) {
      return error as Error;
    }
    assert.fail('expected the call to fail');
  }

  function assertFailure(span: ReadableSpan, failureClass: string, origin: string): void {
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.attributes[ATTR_MODELWATCH_FAILURE_CLASS], failureClass);
    assert.equal(span.attributes[ATTR_MODELWATCH_FAILURE_ORIGIN], origin);
  }

  it('records a Converse call with an inference-profile id: usage, stop reason, request id, parsed version', async () => {
    queue.push({
      kind: 'success',
      inputTokens: 21,
      outputTokens: 8,
      finishReason: 'end_turn',
      requestId: 'req-abc',
    });
    const output = await client().send(
      new bedrock.ConverseCommand({
        modelId: PROFILE_ID,
        messages,
        inferenceConfig: { maxTokens: 256, temperature: 0.3 },
      }),
    );
    assert.equal(output.output?.message?.content?.[0]?.text, 'The quick brown fox jumps over the lazy dog.');
    const span = await onlySpan();
    assert.equal(span.name, `chat ${PROFILE_ID}`);
    assert.equal(span.attributes[ATTR_GEN_AI_PROVIDER_NAME], 'aws.bedrock');
    assert.equal(span.attributes[ATTR_GEN_AI_OPERATION_NAME], 'chat');
    assert.equal(span.attributes[ATTR_GEN_AI_REQUEST_MODEL], PROFILE_ID);
    assert.equal(span.attributes[ATTR_GEN_AI_REQUEST_MAX_TOKENS], 256);
    assert.equal(span.attributes[ATTR_GEN_AI_REQUEST_TEMPERATURE], 0.3);
    assert.deepEqual(span.attributes[ATTR_GEN_AI_RESPONSE_FINISH_REASONS], ['end_turn']);
    assert.equal(span.attributes[ATTR_GEN_AI_USAGE_INPUT_TOKENS], 21);
    assert.equal(span.attributes[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS], 8);
    assert.equal(span.attributes[ATTR_HTTP_RESPONSE_STATUS_CODE], 200);
    assert.equal(span.attributes[ATTR_MODELWATCH_PROVIDER_REQUEST_ID], 'req-abc');
    assert.equal(span.attributes[ATTR_MODELWATCH_RETRY_COUNT], 0);
    assert.equal(span.attributes[ATTR_MODELWATCH_STREAM], false);
    assert.equal(span.attributes[ATTR_MODELWATCH_MODEL_FAMILY], 'claude-sonnet');
    assert.equal(span.attributes[ATTR_MODELWATCH_MODEL_VERSION], '4');
    assert.equal(span.attributes[ATTR_MODELWATCH_MODEL_SNAPSHOT], '20250514');
    assert.equal(span.attributes[ATTR_SERVER_ADDRESS], '127.0.0.1');
    assert.equal(span.attributes[ATTR_SERVER_PORT], sdk.sim.port);
    assert.equal(span.status.code, SpanStatusCode.UNSET);
  });

  it('records a ConverseStream when the caller has read it: TTFT, usage from metadata, stop reason', async () => {
    queue.push({
      kind: 'stream',
      inputTokens: 6,
      outputTokens: 4,
      finishReason: 'max_tokens',
      firstTokenDelayMs: 30,
      chunks: 3,
    });
    const output = await client().send(
      new bedrock.ConverseStreamCommand({ modelId: 'amazon.nova-pro-v1:0', messages }),
    );
    assert.equal((await finishedSpans()).length, 0, 'the span stays open until the stream is consumed');
    let text = '';
    for await (const event of output.stream!) text += event.contentBlockDelta?.delta?.text ?? '';
    assert.equal(text, 'The quick brown fox jumps over the lazy dog.');
    const span = await onlySpan();
    assert.equal(span.attributes[ATTR_MODELWATCH_STREAM], true);
    const ttftMs = span.attributes[ATTR_MODELWATCH_TIME_TO_FIRST_TOKEN_MS];
    assert.ok(typeof ttftMs === 'number' && ttftMs >= 25, `ttft ${String(ttftMs)}`);
    assert.deepEqual(span.attributes[ATTR_GEN_AI_RESPONSE_FINISH_REASONS], ['max_tokens']);
    assert.equal(span.attributes[ATTR_GEN_AI_USAGE_INPUT_TOKENS], 6);
    assert.equal(span.attributes[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS], 4);
    assert.equal(span.attributes[ATTR_MODELWATCH_MODEL_FAMILY], 'nova-pro');
    assert.equal(span.status.code, SpanStatusCode.UNSET);
  });

  it('fails the stream span on a mid-stream exception event and rethrows it to the reader', async () => {
    queue.push({ kind: 'stream', errorAfterChunks: 1, errorType: 'rate_limit' });
    const output = await client().send(new bedrock.ConverseStreamCommand({ modelId: PROFILE_ID, messages }));
    const error = await rejection(
      (async () => {
        for await (const _event of output.stream!) {
          // consume
        }
      })(),
    );
    assert.ok(error instanceof bedrock.ThrottlingException);
    assertFailure(await onlySpan(), 'rate_limited', 'provider');
  });

  it('reads an InvokeModel anthropic body: response id, model, usage, stop reason', async () => {
    queue.push({ kind: 'success', inputTokens: 14, outputTokens: 3, finishReason: 'max_tokens' });
    const body = JSON.stringify({
      anthropic_version: 'bedrock-2023-05-31',
      max_tokens: 100,
      temperature: 0.5,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const output = await client().send(
      new bedrock.InvokeModelCommand({ modelId: 'anthropic.claude-3-5-haiku-20241022-v1:0', body }),
    );
    assert.equal(
      JSON.parse(new TextDecoder().decode(output.body)).type,
      'message',
      'the caller still reads the body',
    );
    const span = await onlySpan();
    assert.equal(span.attributes[ATTR_GEN_AI_OPERATION_NAME], 'chat');
    assert.equal(span.attributes[ATTR_GEN_AI_REQUEST_MAX_TOKENS], 100);
    assert.equal(span.attributes[ATTR_GEN_AI_REQUEST_TEMPERATURE], 0.5);
    assert.equal(span.attributes[ATTR_GEN_AI_RESPONSE_MODEL], 'claude-3-5-haiku-20241022');
    assert.match(String(span.attributes[ATTR_GEN_AI_RESPONSE_ID]), /^msg_bdrk_/);
    assert.deepEqual(span.attributes[ATTR_GEN_AI_RESPONSE_FINISH_REASONS], ['max_tokens']);
    assert.equal(span.attributes[ATTR_GEN_AI_USAGE_INPUT_TOKENS], 14);
    assert.equal(span.attributes[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS], 3);
    assert.equal(span.attributes[ATTR_MODELWATCH_MODEL_FAMILY], 'claude-haiku');
    assert.equal(span.attributes[ATTR_MODELWATCH_MODEL_VERSION], '3.5');
  });

  for (const [modelId, requestBody, finish] of [
    [
      'amazon.nova-lite-v1:0',
      { messages: [{ role: 'user', content: [{ text: 'hi' }] }], inferenceConfig: { max_new_tokens: 50 } },
      'end_turn',
    ],
    ['meta.llama3-1-70b-instruct-v1:0', { prompt: 'hi', max_gen_len: 50 }, 'stop'],
    [
      'amazon.titan-text-express-v1',
      { inputText: 'hi', textGenerationConfig: { maxTokenCount: 50 } },
      'FINISH',
    ],
  ] as const) {
    it(`reads an InvokeModel ${modelId} body and the matching InvokeModelWithResponseStream`, async () => {
      queue.push({ kind: 'success', inputTokens: 9, outputTokens: 5 });
      await client().send(new bedrock.InvokeModelCommand({ modelId, body: JSON.stringify(requestBody) }));
      let span = await onlySpan();
      assert.equal(span.attributes[ATTR_GEN_AI_REQUEST_MAX_TOKENS], 50);
      assert.equal(span.attributes[ATTR_GEN_AI_USAGE_INPUT_TOKENS], 9);
      assert.equal(span.attributes[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS], 5);
      assert.deepEqual(span.attributes[ATTR_GEN_AI_RESPONSE_FINISH_REASONS], [finish]);

      tracing.reset();
      queue.push({ kind: 'stream', inputTokens: 9, outputTokens: 6, chunks: 2, firstTokenDelayMs: 20 });
      const output = await client().send(
        new bedrock.InvokeModelWithResponseStreamCommand({ modelId, body: JSON.stringify(requestBody) }),
      );
      for await (const _event of output.body!) {
        // consume
      }
      span = await onlySpan();
      assert.equal(span.attributes[ATTR_MODELWATCH_STREAM], true);
      assert.ok(Number(span.attributes[ATTR_MODELWATCH_TIME_TO_FIRST_TOKEN_MS]) >= 15);
      assert.equal(span.attributes[ATTR_GEN_AI_USAGE_INPUT_TOKENS], 9);
      assert.equal(span.attributes[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS], 6);
      assert.deepEqual(span.attributes[ATTR_GEN_AI_RESPONSE_FINISH_REASONS], [finish]);
    });
  }

  it('records an anthropic InvokeModelWithResponseStream: TTFT, billed usage, stop reason', async () => {
    queue.push({ kind: 'stream', inputTokens: 30, outputTokens: 12, finishReason: 'end_turn', chunks: 3 });
    const output = await client().send(
      new bedrock.InvokeModelWithResponseStreamCommand({
        modelId: PROFILE_ID,
        body: JSON.stringify({ max_tokens: 10, messages: [] }),
      }),
    );
    for await (const _event of output.body!) {
      // consume
    }
    const span = await onlySpan();
    assert.equal(span.attributes[ATTR_GEN_AI_USAGE_INPUT_TOKENS], 30);
    assert.equal(span.attributes[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS], 12);
    assert.deepEqual(span.attributes[ATTR_GEN_AI_RESPONSE_FINISH_REASONS], ['end_turn']);
    assert.ok(typeof span.attributes[ATTR_MODELWATCH_TIME_TO_FIRST_TOKEN_MS] === 'number');
  });

  it('classifies ThrottlingException (429) as rate_limited/provider with the SDK retry count, error unchanged', async () => {
    queue.push({ kind: 'error', status: 429 }, { kind: 'error', status: 429, requestId: 'req-throttled' });
    const error = await rejection(
      client({ maxAttempts: 2 }).send(new bedrock.ConverseCommand({ modelId: PROFILE_ID, messages })),
    );
    assert.ok(error instanceof bedrock.ThrottlingException);
    assert.equal(seen.length, 2);
    const span = await onlySpan();
    assertFailure(span, 'rate_limited', 'provider');
    assert.equal(span.attributes[ATTR_MODELWATCH_RETRY_COUNT], 1);
    assert.equal(span.attributes[ATTR_HTTP_RESPONSE_STATUS_CODE], 429);
    assert.equal(span.attributes[ATTR_MODELWATCH_PROVIDER_REQUEST_ID], 'req-throttled');
    assert.equal(span.attributes[ATTR_ERROR_TYPE], 'ThrottlingException');
  });

  for (const [status, exception, failureClass] of [
    [503, 'ServiceUnavailableException', 'overloaded'],
    [500, 'InternalServerException', 'server_error'],
    [408, 'ModelTimeoutException', 'timeout'],
  ] as const) {
    it(`classifies ${exception} (${status}) as ${failureClass}/provider`, async () => {
      queue.push({ kind: 'error', status });
      const error = await rejection(
        client().send(new bedrock.ConverseCommand({ modelId: PROFILE_ID, messages })),
      );
      assert.equal(error.name, exception);
      const span = await onlySpan();
      assertFailure(span, failureClass, 'provider');
      assert.equal(span.attributes[ATTR_HTTP_RESPONSE_STATUS_CODE], status);
    });
  }

  it('classifies "Input is too long" (ValidationException) as context_length/client', async () => {
    queue.push({ kind: 'error', status: 400, errorType: 'context_length' });
    const error = await rejection(
      client().send(new bedrock.ConverseCommand({ modelId: PROFILE_ID, messages })),
    );
    assert.ok(error instanceof bedrock.ValidationException);
    assertFailure(await onlySpan(), 'context_length', 'client');
  });

  it('classifies "Output blocked by content filtering policy" as content_filter/client', async () => {
    queue.push({ kind: 'error', status: 400, errorType: 'content_filter' });
    await rejection(client().send(new bedrock.InvokeModelCommand({ modelId: PROFILE_ID, body: '{}' })));
    assertFailure(await onlySpan(), 'content_filter', 'client');
  });

  it('records a guardrail intervention (stopReason guardrail_intervened) as content_filter although the call returns', async () => {
    queue.push({ kind: 'success', finishReason: 'guardrail_intervened' });
    const output = await client().send(new bedrock.ConverseCommand({ modelId: PROFILE_ID, messages }));
    assert.equal(output.stopReason, 'guardrail_intervened');
    const span = await onlySpan();
    assertFailure(span, 'content_filter', 'client');
    assert.equal(span.attributes[ATTR_ERROR_TYPE], 'guardrail_intervened');
  });

  it('classifies the client request timeout against a hanging server as timeout/network', async () => {
    queue.push({ kind: 'hang' });
    const error = await rejection(
      client({ requestHandler: { requestTimeout: 150 } }).send(
        new bedrock.ConverseCommand({ modelId: PROFILE_ID, messages }),
      ),
    );
    assert.equal(error.name, 'TimeoutError');
    assertFailure(await onlySpan(), 'timeout', 'network');
  });

  it('classifies a caller abort as cancelled/client', async () => {
    queue.push({ kind: 'hang' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await rejection(
      client().send(new bedrock.ConverseCommand({ modelId: PROFILE_ID, messages }), {
        abortSignal: controller.signal,
      }),
    );
    assert.equal(error.name, 'AbortError');
    assertFailure(await onlySpan(), 'cancelled', 'client');
  });

  it('classifies a reset stream as connection/network', async () => {
    queue.push({ kind: 'reset' });
    await rejection(client().send(new bedrock.ConverseCommand({ modelId: PROFILE_ID, messages })));
    assertFailure(await onlySpan(), 'connection', 'network');
  });

  it('leaves other commands alone', async () => {
    const c = client();
    // CountTokens is not an LLM generation: no span, and the call goes through unchanged (404 from the simulator).
    await rejection(
      c.send(new bedrock.CountTokensCommand({ modelId: PROFILE_ID, input: { converse: { messages } } })),
    );
    assert.equal((await finishedSpans()).length, 0);
  });

  it('never records credentials or auth headers', async () => {
    queue.push({ kind: 'success' }, { kind: 'error', status: 429 });
    await client().send(new bedrock.ConverseCommand({ modelId: PROFILE_ID, messages }));
    await rejection(client().send(new bedrock.ConverseCommand({ modelId: PROFILE_ID, messages })));
    const spans = await finishedSpans();
    assert.equal(spans.length, 2);
    for (const span of spans) {
      for (const [key, value] of Object.entries(span.attributes)) {
        assert.doesNotMatch(key, /authorization|credential|secret|token\b/i);
        for (const secret of [SECRET, ACCESS_KEY, 'session-token-secret']) {
          assert.ok(!String(value).includes(secret), `${key} leaks a credential`);
        }
      }
      for (const event of span.events) assert.ok(!JSON.stringify(event.attributes ?? {}).includes(SECRET));
    }
    assert.equal(
      seen[0]?.headers.authorization,
      undefined,
      'the simulator scrubs auth before scenarios see it',
    );
  });
});
