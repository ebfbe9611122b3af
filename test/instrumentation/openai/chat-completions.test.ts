/**
 * Chat Completions through the real `openai` 7 client against the local OpenAI simulator: one span per
 * call, with the right attributes for successes, streams, retries and every failure class we can provoke.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpanStatusCode } from '@opentelemetry/api';
import { isWrapped } from '@opentelemetry/instrumentation';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import OpenAI from 'openai';
import * as openaiModule from 'openai';
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
  ATTR_MODELWATCH_RATELIMIT_REMAINING_REQUESTS,
  ATTR_MODELWATCH_RATELIMIT_REMAINING_TOKENS,
  ATTR_MODELWATCH_RETRY_AFTER_S,
  ATTR_MODELWATCH_RETRY_COUNT,
  ATTR_MODELWATCH_STREAM,
  ATTR_MODELWATCH_TIME_TO_FIRST_TOKEN_MS,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  OpenAIInstrumentation,
} from '@modelwatch/instrumentation';
import { startOpenAISimulator } from '../../../ingest/src/simulators/openai-server.js';
import type { Reply } from '../../../ingest/src/simulators/reply.js';
import {
  assertNoCredentials,
  onlySpan,
  useSimulatedSdk,
  waitForSpans,
} from '../test-support/sdk-test-harness.js';

const messages = [{ role: 'user' as const, content: 'Say hello' }];

async function expectRejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  return assert.fail('expected the call to fail');
}

describe('OpenAI chat completions (openai 7)', () => {
  const instrumentation = new OpenAIInstrumentation();
  const allSpans: ReadableSpan[] = [];
  // Each test sets the scenario; the simulator asks it per request. The last test checks every span for
  // credentials at once.
  const sdk = useSimulatedSdk({
    instrumentation,
    modules: [openaiModule],
    startSimulator: startOpenAISimulator,
    afterEachTest: (spans) => allSpans.push(...spans),
  });
  const { tracing } = sdk;
  const client = (options?: { maxRetries?: number; timeoutMs?: number }): OpenAI =>
    new OpenAI(sdk.clientOptions(options));

  it('records a successful call with model version, usage, request id and rate-limit headers', async () => {
    sdk.scenario = () => ({
      kind: 'success',
      model: 'gpt-4o-2024-08-06',
      inputTokens: 21,
      outputTokens: 7,
      requestId: 'req_success_1',
      rateLimit: { remainingRequests: 499, remainingTokens: 29_000 },
    });
    const completion = await client().chat.completions.create({
      model: 'gpt-4o',
      messages,
      temperature: 0.2,
      max_completion_tokens: 64,
    });
    assert.equal(completion.choices[0]?.message.content, 'The quick brown fox jumps over the lazy dog.');

    const span = await onlySpan(tracing);
    assert.equal(span.name, 'chat gpt-4o');
    assert.equal(span.status.code, SpanStatusCode.UNSET);
    const a = span.attributes;
    assert.equal(a[ATTR_GEN_AI_OPERATION_NAME], 'chat');
    assert.equal(a[ATTR_GEN_AI_PROVIDER_NAME], 'openai');
    assert.equal(a[ATTR_GEN_AI_REQUEST_MODEL], 'gpt-4o');
    assert.equal(a[ATTR_GEN_AI_REQUEST_TEMPERATURE], 0.2);
    assert.equal(a[ATTR_GEN_AI_REQUEST_MAX_TOKENS], 64);
    assert.equal(a[ATTR_GEN_AI_RESPONSE_MODEL], 'gpt-4o-2024-08-06');
    assert.equal(a[ATTR_GEN_AI_RESPONSE_ID], completion.id);
    assert.deepEqual(a[ATTR_GEN_AI_RESPONSE_FINISH_REASONS], ['stop']);
    assert.equal(a[ATTR_GEN_AI_USAGE_INPUT_TOKENS], 21);
    assert.equal(a[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS], 7);
    assert.equal(a[ATTR_MODELWATCH_MODEL_FAMILY], 'gpt-4o');
    assert.equal(a[ATTR_MODELWATCH_MODEL_VERSION], '4o');
    assert.equal(a[ATTR_MODELWATCH_MODEL_SNAPSHOT], '2024-08-06');
    assert.equal(a[ATTR_MODELWATCH_PROVIDER_REQUEST_ID], 'req_success_1');
    assert.equal(a[ATTR_MODELWATCH_RATELIMIT_REMAINING_REQUESTS], 499);
    assert.equal(a[ATTR_MODELWATCH_RATELIMIT_REMAINING_TOKENS], 29_000);
    assert.equal(a[ATTR_HTTP_RESPONSE_STATUS_CODE], 200);
    assert.equal(a[ATTR_MODELWATCH_RETRY_COUNT], 0);
    assert.equal(a[ATTR_MODELWATCH_STREAM], false);
    assert.equal(a[ATTR_SERVER_ADDRESS], '127.0.0.1');
    assert.equal(a[ATTR_SERVER_PORT], sdk.sim.port);
    assert.equal(a[ATTR_MODELWATCH_FAILURE_CLASS], undefined);
  });

  it('keeps .withResponse() and .asResponse() working', async () => {
    sdk.scenario = () => ({ kind: 'success', requestId: 'req_with_response' });
    const { data, response, request_id } = await client()
      .chat.completions.create({ model: 'gpt-4o-mini', messages })
      .withResponse();
    assert.equal(data.object, 'chat.completion');
    assert.equal(response.status, 200);
    assert.equal(request_id, 'req_with_response');
    const span = await onlySpan(tracing);
    assert.equal(span.attributes[ATTR_MODELWATCH_PROVIDER_REQUEST_ID], 'req_with_response');
    assert.equal(span.attributes[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS], 9);
    tracing.reset();

    const raw = await client().chat.completions.create({ model: 'gpt-4o-mini', messages }).asResponse();
    const body = (await raw.json()) as { object: string };
    assert.equal(body.object, 'chat.completion');
    const rawSpan = await onlySpan(tracing);
    assert.equal(rawSpan.attributes[ATTR_HTTP_RESPONSE_STATUS_CODE], 200);
  });

  it('records each call with the params it was made with when the caller reuses and changes one params object', async () => {
    // The request is read when the span is built, after the call: it must come from the copy taken at the
    // call's start, not from the caller's object, changed here before the first span was finished.
    sdk.scenario = () => ({ kind: 'success' });
    const params: OpenAI.ChatCompletionCreateParamsNonStreaming = {
      model: 'gpt-4o-mini',
      messages,
      temperature: 0.1,
    };
    await client().chat.completions.create(params);
    params.model = 'gpt-4.1-nano';
    params.temperature = 0.9;
    await client().chat.completions.create(params);
    const spans = await waitForSpans(tracing, 2);
    assert.deepEqual(
      spans.map((s) => [
        s.attributes[ATTR_GEN_AI_REQUEST_MODEL],
        s.attributes[ATTR_GEN_AI_REQUEST_TEMPERATURE],
      ]),
      [
        ['gpt-4o-mini', 0.1],
        ['gpt-4.1-nano', 0.9],
      ],
    );
    assert.deepEqual(
      spans.map((s) => s.name),
      ['chat gpt-4o-mini', 'chat gpt-4.1-nano'],
    );
  });

  it('keeps helpers that derive from the APIPromise working (chat.completions.parse)', async () => {
    sdk.scenario = () => ({ kind: 'success', model: 'gpt-4o-2024-11-20' });
    const parsed = await client().chat.completions.parse({ model: 'gpt-4o', messages });
    assert.equal(parsed.choices[0]?.message.content, 'The quick brown fox jumps over the lazy dog.');
    const span = await onlySpan(tracing);
    assert.equal(span.attributes[ATTR_GEN_AI_RESPONSE_MODEL], 'gpt-4o-2024-11-20');
  });

  it('fails the call when the body a derived helper parses is malformed (chat.completions.parse)', async () => {
    // openai 7 sets _thenUnwrap on each APIPromise: the derived promise's parse error must still reach the span.
    sdk.scenario = () => ({ kind: 'malformed' });
    const error = await expectRejection(client().chat.completions.parse({ model: 'gpt-4o', messages }));
    assert.ok(error instanceof SyntaxError, String(error));
    const span = await onlySpan(tracing);
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.attributes[ATTR_MODELWATCH_FAILURE_CLASS], 'server_error');
  });

  it('records a stream: TTFT, usage and finish reason, ending the span when the stream ends', async () => {
    sdk.scenario = () => ({
      kind: 'stream',
      firstTokenDelayMs: 40,
      chunkDelayMs: 5,
      chunks: 5,
      inputTokens: 30,
      outputTokens: 11,
      finishReason: 'length',
    });
    const stream = await client().chat.completions.create({
      model: 'gpt-4o',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      assert.equal(tracing.spans().length, 0, 'span must stay open while the stream is read');
    }
    assert.equal(text, 'The quick brown fox jumps over the lazy dog.');
    const span = await onlySpan(tracing);
    const a = span.attributes;
    assert.equal(a[ATTR_MODELWATCH_STREAM], true);
    const ttftMs = a[ATTR_MODELWATCH_TIME_TO_FIRST_TOKEN_MS] as number;
    assert.ok(ttftMs >= 35, `TTFT ${ttftMs} ms should include the 40 ms first-token delay`);
    const durationMs = span.duration[0] * 1000 + span.duration[1] / 1e6;
    assert.ok(durationMs > ttftMs, 'the span lasts until the end of the stream');
    assert.deepEqual(a[ATTR_GEN_AI_RESPONSE_FINISH_REASONS], ['length']);
    assert.equal(a[ATTR_GEN_AI_USAGE_INPUT_TOKENS], 30);
    assert.equal(a[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS], 11);
    assert.equal(a[ATTR_HTTP_RESPONSE_STATUS_CODE], 200);
  });

  it('records the chat.completions.stream() helper as one span', async () => {
    sdk.scenario = () => ({ kind: 'stream', firstTokenDelayMs: 10, chunks: 3 });
    const helper = client().chat.completions.stream({ model: 'gpt-4o', messages });
    const final = await helper.finalChatCompletion();
    assert.equal(final.choices[0]?.message.content, 'The quick brown fox jumps over the lazy dog.');
    const span = await onlySpan(tracing);
    assert.equal(span.attributes[ATTR_MODELWATCH_STREAM], true);
    assert.ok((span.attributes[ATTR_MODELWATCH_TIME_TO_FIRST_TOKEN_MS] as number) > 0);
    assert.deepEqual(span.attributes[ATTR_GEN_AI_RESPONSE_FINISH_REASONS], ['stop']);
  });

  it('ends the span of a stream the caller abandons with break', async () => {
    sdk.scenario = () => ({ kind: 'stream', chunks: 8, chunkDelayMs: 5 });
    const stream = await client().chat.completions.create({ model: 'gpt-4o', messages, stream: true });
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) break;
    }
    const span = await onlySpan(tracing);
    assert.equal(span.status.code, SpanStatusCode.UNSET);
    assert.ok((span.attributes[ATTR_MODELWATCH_TIME_TO_FIRST_TOKEN_MS] as number) > 0);
  });

  it('counts the SDK retries after 429s and records the provider throttling', async () => {
    let calls = 0;
    sdk.scenario = () =>
      ++calls <= 2
        ? { kind: 'error', status: 429, retryAfterMs: 5, retryAfterS: 1, rateLimit: { remainingRequests: 0 } }
        : { kind: 'success', rateLimit: { remainingRequests: 3 } };
    const completion = await client({ maxRetries: 3 }).chat.completions.create({ model: 'gpt-4o', messages });
    assert.equal(completion.object, 'chat.completion');
    const span = await onlySpan(tracing);
    assert.equal(span.attributes[ATTR_MODELWATCH_RETRY_COUNT], 2);
    assert.equal(span.attributes[ATTR_MODELWATCH_RATELIMIT_REMAINING_REQUESTS], 3);
    assert.equal(span.attributes[ATTR_MODELWATCH_FAILURE_CLASS], undefined);
  });

  it('fails as rate_limited/provider when the retries run out, throwing the SDK error unchanged', async () => {
    sdk.scenario = () => ({
      kind: 'error',
      status: 429,
      retryAfterMs: 5,
      retryAfterS: 2,
      requestId: 'req_throttled',
      rateLimit: { remainingRequests: 0, remainingTokens: 0 },
    });
    const error = await expectRejection(
      client({ maxRetries: 2 }).chat.completions.create({ model: 'gpt-4o', messages }),
    );
    assert.ok(error instanceof OpenAI.RateLimitError, `got ${String(error)}`);
    assert.equal(error.status, 429);
    assert.equal(error.code, 'rate_limit_exceeded');
    assert.equal(sdk.sim.requests >= 3, true);
    const span = await onlySpan(tracing);
    const a = span.attributes;
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(a[ATTR_MODELWATCH_FAILURE_CLASS], 'rate_limited');
    assert.equal(a[ATTR_MODELWATCH_FAILURE_ORIGIN], 'provider');
    assert.equal(a[ATTR_HTTP_RESPONSE_STATUS_CODE], 429);
    assert.equal(a[ATTR_MODELWATCH_RETRY_COUNT], 2);
    assert.equal(
      a[ATTR_MODELWATCH_RETRY_AFTER_S],
      0.005,
      'retry-after-ms wins over retry-after, as in the SDK',
    );
    assert.equal(a[ATTR_MODELWATCH_PROVIDER_REQUEST_ID], 'req_throttled');
    assert.equal(a[ATTR_MODELWATCH_RATELIMIT_REMAINING_REQUESTS], 0);
    assert.equal(a[ATTR_ERROR_TYPE], 'rate_limit_exceeded');
  });

  const failures: Array<
    [
      title: string,
      reply: Reply,
      failureClass: string,
      origin: string,
      errorClass: new (...args: never[]) => Error,
    ]
  > = [
    [
      '503 → overloaded/provider',
      { kind: 'error', status: 503 },
      'overloaded',
      'provider',
      OpenAI.InternalServerError,
    ],
    [
      '500 → server_error/provider',
      { kind: 'error', status: 500 },
      'server_error',
      'provider',
      OpenAI.InternalServerError,
    ],
    [
      '400 context length → context_length/client',
      { kind: 'error', status: 400, errorType: 'context_length' },
      'context_length',
      'client',
      OpenAI.BadRequestError,
    ],
    [
      '400 content filter → content_filter/client',
      { kind: 'error', status: 400, errorType: 'content_filter' },
      'content_filter',
      'client',
      OpenAI.BadRequestError,
    ],
    ['401 → auth/client', { kind: 'error', status: 401 }, 'auth', 'client', OpenAI.AuthenticationError],
    [
      'connection reset → connection/network',
      { kind: 'reset' },
      'connection',
      'network',
      OpenAI.APIConnectionError,
    ],
  ];
  for (const [title, reply, failureClass, origin, errorClass] of failures) {
    it(`classifies ${title}`, async () => {
      sdk.scenario = () => reply;
      const error = await expectRejection(client().chat.completions.create({ model: 'gpt-4o', messages }));
      assert.ok(error instanceof errorClass, `expected ${errorClass.name}, got ${String(error)}`);
      const span = await onlySpan(tracing);
      assert.equal(span.status.code, SpanStatusCode.ERROR);
      assert.equal(span.attributes[ATTR_MODELWATCH_FAILURE_CLASS], failureClass);
      assert.equal(span.attributes[ATTR_MODELWATCH_FAILURE_ORIGIN], origin);
      assert.equal(span.attributes[ATTR_MODELWATCH_RETRY_COUNT], 0);
    });
  }

  it('classifies a client-side timeout (the server never answers) as timeout', async () => {
    sdk.scenario = () => ({ kind: 'hang' });
    const error = await expectRejection(
      client({ timeoutMs: 150 }).chat.completions.create({ model: 'gpt-4o', messages }),
    );
    assert.ok(error instanceof OpenAI.APIConnectionTimeoutError, String(error));
    const span = await onlySpan(tracing);
    assert.equal(span.attributes[ATTR_MODELWATCH_FAILURE_CLASS], 'timeout');
    assert.equal(span.attributes[ATTR_MODELWATCH_FAILURE_ORIGIN], 'network');
  });

  it('classifies a malformed 200 body as server_error/provider and rethrows the parse error', async () => {
    sdk.scenario = () => ({ kind: 'malformed' });
    const error = await expectRejection(client().chat.completions.create({ model: 'gpt-4o', messages }));
    assert.ok(error instanceof SyntaxError, String(error));
    const span = await onlySpan(tracing);
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.attributes[ATTR_HTTP_RESPONSE_STATUS_CODE], 200);
    assert.equal(span.attributes[ATTR_MODELWATCH_FAILURE_CLASS], 'server_error');
    assert.equal(span.attributes[ATTR_MODELWATCH_FAILURE_ORIGIN], 'provider');
    assert.equal(span.attributes[ATTR_ERROR_TYPE], 'SyntaxError');
  });

  it('classifies a malformed SSE event in a 200 stream as server_error/provider', async () => {
    sdk.scenario = () => ({ kind: 'malformed' });
    const stream = await client().chat.completions.create({ model: 'gpt-4o', messages, stream: true });
    // The SDK logs the unparsable chunk with console.error before throwing; keep the test output clean.
    const consoleError = console.error;
    console.error = () => undefined;
    let error: unknown;
    try {
      error = await expectRejection(
        (async () => {
          for await (const _chunk of stream) {
            // read until the broken event
          }
        })(),
      );
    } finally {
      console.error = consoleError;
    }
    assert.ok(error instanceof SyntaxError, String(error));
    const span = await onlySpan(tracing);
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.attributes[ATTR_HTTP_RESPONSE_STATUS_CODE], 200);
    assert.equal(span.attributes[ATTR_MODELWATCH_FAILURE_CLASS], 'server_error');
    assert.equal(span.attributes[ATTR_MODELWATCH_FAILURE_ORIGIN], 'provider');
  });

  it('classifies a 429 whose body is a content-filter refusal as content_filter, not rate_limited', async () => {
    sdk.scenario = () => ({ kind: 'error', status: 429, errorType: 'content_filter' });
    const error = await expectRejection(client().chat.completions.create({ model: 'gpt-4o', messages }));
    assert.ok(error instanceof OpenAI.RateLimitError, String(error));
    const span = await onlySpan(tracing);
    assert.equal(span.attributes[ATTR_HTTP_RESPONSE_STATUS_CODE], 429);
    assert.equal(span.attributes[ATTR_MODELWATCH_FAILURE_CLASS], 'content_filter');
    assert.equal(span.attributes[ATTR_MODELWATCH_FAILURE_ORIGIN], 'client');
    assert.equal(span.attributes[ATTR_ERROR_TYPE], 'content_filter');
  });

  it('records a content_filter finish reason on a successful response', async () => {
    sdk.scenario = () => ({ kind: 'success', finishReason: 'content_filter' });
    await client().chat.completions.create({ model: 'gpt-4o', messages });
    const span = await onlySpan(tracing);
    assert.deepEqual(span.attributes[ATTR_GEN_AI_RESPONSE_FINISH_REASONS], ['content_filter']);
  });

  it('records a mid-stream provider error as a failure after the first token', async () => {
    sdk.scenario = () => ({ kind: 'stream', chunks: 4, errorAfterChunks: 2, errorType: 'server' });
    const stream = await client().chat.completions.create({ model: 'gpt-4o', messages, stream: true });
    const error = await expectRejection(
      (async () => {
        for await (const _chunk of stream) {
          // read until the error
        }
      })(),
    );
    assert.ok(error instanceof OpenAI.APIError, String(error));
    const span = await onlySpan(tracing);
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    // The SDK error has no HTTP status mid-stream: the provider's in-band error type decides.
    assert.equal(span.attributes[ATTR_ERROR_TYPE], 'server_error');
    assert.equal(span.attributes[ATTR_MODELWATCH_FAILURE_CLASS], 'server_error');
    assert.equal(span.attributes[ATTR_MODELWATCH_FAILURE_ORIGIN], 'provider');
    assert.equal(span.attributes[ATTR_HTTP_RESPONSE_STATUS_CODE], 200);
    assert.ok((span.attributes[ATTR_MODELWATCH_TIME_TO_FIRST_TOKEN_MS] as number) > 0);
  });

  it('classifies an AbortSignal abort as cancelled/client, before and during a stream', async () => {
    sdk.scenario = () => ({ kind: 'success', delayMs: 2000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    const error = await expectRejection(
      client().chat.completions.create({ model: 'gpt-4o', messages }, { signal: controller.signal }),
    );
    assert.ok(error instanceof OpenAI.APIUserAbortError, String(error));
    const span = await onlySpan(tracing);
    assert.equal(span.attributes[ATTR_MODELWATCH_FAILURE_CLASS], 'cancelled');
    assert.equal(span.attributes[ATTR_MODELWATCH_FAILURE_ORIGIN], 'client');
    tracing.reset();

    sdk.scenario = () => ({ kind: 'stream', chunks: 10, chunkDelayMs: 20 });
    const streamController = new AbortController();
    const stream = await client().chat.completions.create(
      { model: 'gpt-4o', messages, stream: true },
      { signal: streamController.signal },
    );
    let chunks = 0;
    try {
      for await (const _chunk of stream) {
        if (++chunks === 2) streamController.abort();
      }
    } catch {
      // Some SDK versions throw the abort, others end the loop quietly; both must be recorded as cancelled.
    }
    const streamSpan = await onlySpan(tracing);
    assert.equal(streamSpan.attributes[ATTR_MODELWATCH_FAILURE_CLASS], 'cancelled');
  });

  it('removes every hook, the APIPromise class hooks included, when uninstrumented', () => {
    const hooked = (): boolean[] => [
      isWrapped(openaiModule.OpenAI.Chat.Completions.prototype.create),
      // `parse` is private in the SDK's typings; it is the method every await goes through.
      isWrapped((openaiModule.APIPromise.prototype as unknown as { parse: unknown }).parse),
      isWrapped(openaiModule.APIPromise.prototype.asResponse),
    ];
    assert.deepEqual(hooked(), [true, true, true]);
    instrumentation.manuallyUninstrument(openaiModule);
    try {
      assert.deepEqual(hooked(), [false, false, false]);
    } finally {
      instrumentation.manuallyInstrument(openaiModule);
    }
    assert.deepEqual(hooked(), [true, true, true]);
  });

  it('calls the SDK untouched when disabled', async () => {
    sdk.scenario = () => ({ kind: 'success' });
    instrumentation.disable();
    try {
      const completion = await client().chat.completions.create({ model: 'gpt-4o', messages });
      assert.equal(completion.object, 'chat.completion');
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(tracing.spans().length, 0);
    } finally {
      instrumentation.enable();
    }
  });

  it('never records the API key or auth headers', async () => {
    allSpans.push(...tracing.spans());
    assert.ok(allSpans.length >= 15, `expected the spans of the previous tests, got ${allSpans.length}`);
    assertNoCredentials(allSpans);
  });
});
