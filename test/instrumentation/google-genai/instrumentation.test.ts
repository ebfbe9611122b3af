/**
 * The real `@google/genai` client (major 3, and major 2 through its npm alias) against the local Gemini
 * wire-format simulator; spans asserted from the in-memory exporter.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import * as genaiV3 from '@google/genai';
import * as genaiV2 from 'google-genai-v2';
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
  ATTR_MODELWATCH_MODEL_VERSION,
  ATTR_MODELWATCH_RETRY_COUNT,
  ATTR_MODELWATCH_STREAM,
  ATTR_MODELWATCH_TIME_TO_FIRST_TOKEN_MS,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  GoogleGenAIInstrumentation,
} from '@modelwatch/instrumentation';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { SpanStatusCode } from '@opentelemetry/api';
import { startGoogleGenAISimulator } from '../../../ingest/src/simulators/google-genai-server.js';
import type { Reply, SimulatedRequest } from '../../../ingest/src/simulators/reply.js';
import { useSimulatedSdk } from '../test-support/sdk-test-harness.js';

const API_KEY = 'AIza-test-secret-key-0123456789';
const MODEL = 'gemini-2.5-flash';

describe('GoogleGenAIInstrumentation', () => {
  const instrumentation = new GoogleGenAIInstrumentation();
  let queue: Reply[] = [];
  let seen: SimulatedRequest[] = [];
  const sdk = useSimulatedSdk({
    instrumentation,
    modules: [genaiV3, genaiV2],
    startSimulator: startGoogleGenAISimulator,
    uninstrument: () => instrumentation.disable(),
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

  const client = (options: Partial<genaiV3.GoogleGenAIOptions> = {}): genaiV3.GoogleGenAI =>
    new genaiV3.GoogleGenAI({
      apiKey: API_KEY,
      ...options,
      httpOptions: { baseUrl: sdk.sim.baseURL, ...options.httpOptions },
    });

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

  async function rejection(promise: Promise<unknown>): Promise<unknown> {
    try {
      await promise;
    } catch (error) {
      return error;
    }
    assert.fail('expected the call to fail');
  }

  function assertFailure(span: ReadableSpan, failureClass: string, origin: string): void {
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.attributes[ATTR_MODELWATCH_FAILURE_CLASS], failureClass);
    assert.equal(span.attributes[ATTR_MODELWATCH_FAILURE_ORIGIN], origin);
  }

  it('records a generateContent call: request, response, usage, model version', async () => {
    queue.push({
      kind: 'success',
      model: 'gemini-2.5-flash-001',
      inputTokens: 11,
      outputTokens: 7,
      finishReason: 'STOP',
      requestId: 'resp-1',
    });
    const response = await client().models.generateContent({
      model: MODEL,
      contents: 'Why is the sky blue?',
      config: { temperature: 0.2, maxOutputTokens: 64 },
    });
    assert.equal(response.text, 'The quick brown fox jumps over the lazy dog.');
    const span = await onlySpan();
    assert.equal(span.name, `generate_content ${MODEL}`);
    assert.equal(span.attributes[ATTR_GEN_AI_PROVIDER_NAME], 'gcp.gemini');
    assert.equal(span.attributes[ATTR_GEN_AI_OPERATION_NAME], 'generate_content');
    assert.equal(span.attributes[ATTR_GEN_AI_REQUEST_MODEL], MODEL);
    assert.equal(span.attributes[ATTR_GEN_AI_REQUEST_TEMPERATURE], 0.2);
    assert.equal(span.attributes[ATTR_GEN_AI_REQUEST_MAX_TOKENS], 64);
    assert.equal(span.attributes[ATTR_GEN_AI_RESPONSE_MODEL], 'gemini-2.5-flash-001');
    assert.equal(span.attributes[ATTR_GEN_AI_RESPONSE_ID], 'resp-1');
    assert.deepEqual(span.attributes[ATTR_GEN_AI_RESPONSE_FINISH_REASONS], ['STOP']);
    assert.equal(span.attributes[ATTR_GEN_AI_USAGE_INPUT_TOKENS], 11);
    assert.equal(span.attributes[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS], 7);
    assert.equal(span.attributes[ATTR_HTTP_RESPONSE_STATUS_CODE], 200);
    assert.equal(span.attributes[ATTR_MODELWATCH_RETRY_COUNT], 0);
    assert.equal(span.attributes[ATTR_MODELWATCH_STREAM], false);
    assert.equal(span.attributes[ATTR_MODELWATCH_MODEL_FAMILY], 'gemini-flash');
    assert.equal(span.attributes[ATTR_MODELWATCH_MODEL_VERSION], '2.5');
    assert.equal(span.attributes[ATTR_SERVER_ADDRESS], '127.0.0.1');
    assert.equal(span.attributes[ATTR_SERVER_PORT], sdk.sim.port);
    assert.equal(span.status.code, SpanStatusCode.UNSET);
  });

  it('records a stream: time to first token, usage and finish reason from the last chunk', async () => {
    queue.push({
      kind: 'stream',
      inputTokens: 5,
      outputTokens: 9,
      finishReason: 'MAX_TOKENS',
      firstTokenDelayMs: 30,
      chunks: 3,
    });
    const stream = await client().models.generateContentStream({ model: MODEL, contents: 'Count to ten' });
    let text = '';
    for await (const chunk of stream) text += chunk.text ?? '';
    assert.equal(text, 'The quick brown fox jumps over the lazy dog.');
    const span = await onlySpan();
    assert.equal(span.attributes[ATTR_MODELWATCH_STREAM], true);
    const ttftMs = span.attributes[ATTR_MODELWATCH_TIME_TO_FIRST_TOKEN_MS];
    assert.ok(typeof ttftMs === 'number' && ttftMs >= 25, `ttft ${String(ttftMs)}`);
    assert.deepEqual(span.attributes[ATTR_GEN_AI_RESPONSE_FINISH_REASONS], ['MAX_TOKENS']);
    assert.equal(span.attributes[ATTR_GEN_AI_USAGE_INPUT_TOKENS], 5);
    assert.equal(span.attributes[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS], 9);
    assert.equal(span.status.code, SpanStatusCode.UNSET);
  });

  it('ends the stream span as failed when the server sends an error event mid-stream', async () => {
    queue.push({ kind: 'stream', errorAfterChunks: 1, errorType: 'overloaded' });
    const stream = await client().models.generateContentStream({ model: MODEL, contents: 'hi' });
    const error = await rejection(
      (async () => {
        for await (const _chunk of stream) {
          // consume
        }
      })(),
    );
    assert.ok(error instanceof genaiV3.ApiError);
    const span = await onlySpan();
    assertFailure(span, 'overloaded', 'provider');
    assert.ok(typeof span.attributes[ATTR_MODELWATCH_TIME_TO_FIRST_TOKEN_MS] === 'number');
  });

  it('classifies 429 as rate_limited/provider, counts the SDK retries and rethrows the ApiError unchanged', async () => {
    queue.push({ kind: 'error', status: 429 }, { kind: 'error', status: 429, retryAfterS: 1 });
    const error = await rejection(
      client({
        httpOptions: { retryOptions: { attempts: 2, initialDelay: 0.01, maxDelay: 0.02, jitter: 0 } },
      }).models.generateContent({
        model: MODEL,
        contents: 'hi',
      }),
    );
    assert.ok(error instanceof genaiV3.ApiError);
    assert.equal(error.status, 429);
    assert.match(error.message, /RESOURCE_EXHAUSTED/);
    assert.equal(seen.length, 2);
    const span = await onlySpan();
    assertFailure(span, 'rate_limited', 'provider');
    assert.equal(span.attributes[ATTR_MODELWATCH_RETRY_COUNT], 1);
    assert.equal(span.attributes[ATTR_HTTP_RESPONSE_STATUS_CODE], 429);
    assert.equal(span.attributes[ATTR_ERROR_TYPE], 'RESOURCE_EXHAUSTED');
  });

  for (const [status, failureClass] of [
    [503, 'overloaded'],
    [500, 'server_error'],
    [504, 'timeout'],
  ] as const) {
    it(`classifies ${status} as ${failureClass}/provider`, async () => {
      queue.push({ kind: 'error', status });
      const error = await rejection(client().models.generateContent({ model: MODEL, contents: 'hi' }));
      assert.ok(error instanceof genaiV3.ApiError);
      assert.equal(error.status, status);
      const span = await onlySpan();
      assertFailure(span, failureClass, 'provider');
      assert.equal(span.attributes[ATTR_HTTP_RESPONSE_STATUS_CODE], status);
    });
  }

  it('classifies an oversized prompt (400 INVALID_ARGUMENT, token count exceeded) as context_length/client', async () => {
    queue.push({ kind: 'error', status: 400, errorType: 'context_length' });
    const error = await rejection(client().models.generateContent({ model: MODEL, contents: 'x' }));
    assert.ok(error instanceof genaiV3.ApiError);
    assertFailure(await onlySpan(), 'context_length', 'client');
  });

  it('classifies a plain 400 as bad_request/client', async () => {
    queue.push({ kind: 'error', status: 400 });
    await rejection(client().models.generateContent({ model: MODEL, contents: 'x' }));
    assertFailure(await onlySpan(), 'bad_request', 'client');
  });

  it('records a blocked prompt (promptFeedback.blockReason) as content_filter although the SDK returns', async () => {
    queue.push({ kind: 'error', status: 400, errorType: 'content_filter' });
    const response = await client().models.generateContent({ model: MODEL, contents: 'something unsafe' });
    assert.equal(response.promptFeedback?.blockReason, 'SAFETY');
    const span = await onlySpan();
    assertFailure(span, 'content_filter', 'client');
    assert.equal(span.attributes[ATTR_ERROR_TYPE], 'SAFETY');
  });

  it('records a candidate stopped by the safety filter (finishReason SAFETY) as content_filter', async () => {
    queue.push({ kind: 'stream', finishReason: 'SAFETY', chunks: 2 });
    for await (const _chunk of await client().models.generateContentStream({ model: MODEL, contents: 'x' })) {
      // consume
    }
    const span = await onlySpan();
    assertFailure(span, 'content_filter', 'client');
    assert.deepEqual(span.attributes[ATTR_GEN_AI_RESPONSE_FINISH_REASONS], ['SAFETY']);
  });

  it('classifies the SDK timeout (httpOptions.timeout against a hanging server) as timeout, not cancelled', async () => {
    queue.push({ kind: 'hang' });
    const error = await rejection(
      client({ httpOptions: { timeout: 100 } }).models.generateContent({ model: MODEL, contents: 'hi' }),
    );
    assert.equal((error as Error).name, 'AbortError', 'the caller gets the SDK error unchanged');
    assertFailure(await onlySpan(), 'timeout', 'network');
  });

  it('classifies a caller abort as cancelled/client', async () => {
    queue.push({ kind: 'hang' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await rejection(
      client().models.generateContent({
        model: MODEL,
        contents: 'hi',
        config: { abortSignal: controller.signal },
      }),
    );
    assertFailure(await onlySpan(), 'cancelled', 'client');
  });

  it('classifies a connection reset as connection/network', async () => {
    queue.push({ kind: 'reset' });
    const error = await rejection(client().models.generateContent({ model: MODEL, contents: 'hi' }));
    assert.ok(error instanceof TypeError, 'undici reports "fetch failed" as a TypeError');
    assertFailure(await onlySpan(), 'connection', 'network');
  });

  it('reports gcp.vertex_ai for a vertexai client', async () => {
    const vertex = new genaiV3.GoogleGenAI({
      vertexai: true,
      apiKey: API_KEY,
      httpOptions: { baseUrl: sdk.sim.baseURL },
    });
    await vertex.models.generateContent({ model: MODEL, contents: 'hi' });
    assert.equal((await onlySpan()).attributes[ATTR_GEN_AI_PROVIDER_NAME], 'gcp.vertex_ai');
  });

  it('instruments the previous major (google-genai-v2 alias) through manuallyInstrument', async () => {
    queue.push({ kind: 'success', inputTokens: 3, outputTokens: 2 });
    const v2 = new genaiV2.GoogleGenAI({ apiKey: API_KEY, httpOptions: { baseUrl: sdk.sim.baseURL } });
    await v2.models.generateContent({ model: 'gemini-1.5-flash-002', contents: 'hi' });
    const span = await onlySpan();
    assert.equal(span.attributes[ATTR_GEN_AI_PROVIDER_NAME], 'gcp.gemini');
    assert.equal(span.attributes[ATTR_GEN_AI_USAGE_INPUT_TOKENS], 3);
    assert.equal(span.attributes[ATTR_MODELWATCH_MODEL_VERSION], '1.5');
    queue.push({ kind: 'error', status: 503 });
    tracing.reset();
    const error = await rejection(
      v2.models.generateContent({ model: 'gemini-1.5-flash-002', contents: 'hi' }),
    );
    assert.ok(error instanceof genaiV2.ApiError);
    assertFailure(await onlySpan(), 'overloaded', 'provider');
  });

  it('never records the API key or auth headers', async () => {
    queue.push({ kind: 'success' }, { kind: 'error', status: 429 });
    await client().models.generateContent({ model: MODEL, contents: 'hi' });
    await rejection(client().models.generateContent({ model: MODEL, contents: 'hi' }));
    const spans = await finishedSpans();
    assert.equal(spans.length, 2);
    for (const span of spans) {
      for (const [key, value] of Object.entries(span.attributes)) {
        assert.doesNotMatch(key, /authorization|api[-_.]?key/i);
        assert.ok(!String(value).includes(API_KEY), `${key} leaks the key`);
      }
      for (const event of span.events) assert.ok(!JSON.stringify(event.attributes ?? {}).includes(API_KEY));
    }
    assert.equal(
      seen[0]?.headers['x-goog-api-key'],
      undefined,
      'the simulator scrubs the key before scenarios see it',
    );
  });

  it('calls the SDK untouched when disabled by config', async () => {
    instrumentation.setConfig({ enabled: false });
    try {
      await client().models.generateContent({ model: MODEL, contents: 'hi' });
      assert.equal((await finishedSpans()).length, 0);
    } finally {
      instrumentation.setConfig({});
    }
  });
});
