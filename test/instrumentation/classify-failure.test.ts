import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import AnthropicV0 from 'anthropic-sdk-v0';
import {
  AccessDeniedException,
  InternalServerException,
  ModelErrorException,
  ModelNotReadyException,
  ModelStreamErrorException,
  ModelTimeoutException,
  ServiceUnavailableException,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-bedrock-runtime';
import { ApiError } from '@google/genai';
import OpenAI from 'openai';
import OpenAIV6 from 'openai-v6';
import { classifyFailure, type FailureClassification } from '@modelwatch/instrumentation';

// The SDKs' own error constructors, as they call them for an HTTP error response (JSON body, no headers)
// and for an in-band stream error (no HTTP status: the stream started as a 200).
const openaiHttpError = (status: number, body: object) =>
  OpenAI.APIError.generate(status, body, undefined, new Headers());
const openaiV6HttpError = (status: number, body: object) =>
  OpenAIV6.APIError.generate(status, body, undefined, new Headers());
const anthropicHttpError = (status: number, body: object) =>
  Anthropic.APIError.generate(status, body, undefined, new Headers());
const openaiStreamError = (body: object) => new OpenAI.APIError(undefined, body, undefined, new Headers());
/** What the Anthropic SDK throws for a mid-stream `event: error` of this type. */
const anthropicStreamError = (type: Anthropic.ErrorType, message: string) =>
  new Anthropic.APIError(
    undefined,
    { type: 'error', error: { type, message } },
    undefined,
    new Headers(),
    type,
  );

const awsMeta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });
const googleError = (status: number, rpcStatus: string, message: string) =>
  new ApiError({ status, message: JSON.stringify({ error: { code: status, message, status: rpcStatus } }) });

/** The SyntaxError V8 throws for a malformed JSON body (what `response.json()` rejects with). */
function jsonParseError(): unknown {
  try {
    JSON.parse('{"id": "chatcmpl-broken", "choices": [');
  } catch (error) {
    return error;
  }
  throw new Error('JSON.parse unexpectedly succeeded');
}

/** A real undici error: fetch against a port nobody listens on. */
async function realFetchFailure(): Promise<unknown> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  try {
    await fetch(`http://127.0.0.1:${port}/`);
  } catch (error) {
    return error;
  }
  throw new Error('fetch to a closed port unexpectedly succeeded');
}

type Expected = Pick<FailureClassification, 'failureClass' | 'origin'> & Partial<FailureClassification>;
const CASES: ReadonlyArray<readonly [string, () => unknown, Expected]> = [
  // openai 7
  [
    'openai RateLimitError with retry-after',
    () =>
      OpenAI.APIError.generate(
        429,
        { error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } },
        undefined,
        new Headers({ 'retry-after': '7', 'x-request-id': 'req_1' }),
      ),
    {
      failureClass: 'rate_limited',
      origin: 'provider',
      errorType: 'rate_limit_exceeded',
      httpStatus: 429,
      retryAfterS: 7,
    },
  ],
  [
    'openai 500 InternalServerError',
    () => openaiHttpError(500, { error: { message: 'The server had an error', type: 'server_error' } }),
    { failureClass: 'server_error', origin: 'provider', errorType: 'server_error', httpStatus: 500 },
  ],
  [
    'openai 502 without body',
    () => OpenAI.APIError.generate(502, undefined, 'Bad gateway', new Headers()),
    { failureClass: 'server_error', origin: 'provider', errorType: 'InternalServerError', httpStatus: 502 },
  ],
  [
    'openai 503',
    () => openaiHttpError(503, { error: { message: 'Service unavailable' } }),
    { failureClass: 'overloaded', origin: 'provider', httpStatus: 503 },
  ],
  [
    'openai 504',
    () => OpenAI.APIError.generate(504, undefined, 'Gateway timeout', new Headers()),
    { failureClass: 'timeout', origin: 'provider', httpStatus: 504 },
  ],
  [
    'openai 401 AuthenticationError',
    () =>
      openaiHttpError(401, {
        error: { message: 'Incorrect API key', type: 'invalid_request_error', code: 'invalid_api_key' },
      }),
    { failureClass: 'auth', origin: 'client', errorType: 'invalid_api_key', httpStatus: 401 },
  ],
  [
    'openai 404 NotFoundError',
    () => openaiHttpError(404, { error: { message: 'The model does not exist', code: 'model_not_found' } }),
    { failureClass: 'bad_request', origin: 'client', errorType: 'model_not_found' },
  ],
  [
    'openai context_length_exceeded',
    () =>
      openaiHttpError(400, {
        error: {
          message: "This model's maximum context length is 128000 tokens.",
          type: 'invalid_request_error',
          code: 'context_length_exceeded',
        },
      }),
    { failureClass: 'context_length', origin: 'client', errorType: 'context_length_exceeded' },
  ],
  [
    'openai content_policy_violation',
    () =>
      openaiHttpError(400, {
        error: {
          message: 'Your request was rejected by our safety system',
          code: 'content_policy_violation',
        },
      }),
    { failureClass: 'content_filter', origin: 'client', errorType: 'content_policy_violation' },
  ],
  [
    'Azure content filter (ResponsibleAIPolicyViolation) is not a rate limit',
    () =>
      openaiHttpError(400, {
        error: {
          code: 'content_filter',
          message:
            "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
          innererror: { code: 'ResponsibleAIPolicyViolation' },
        },
      }),
    { failureClass: 'content_filter', origin: 'client', errorType: 'content_filter' },
  ],
  [
    'openai APIConnectionTimeoutError',
    () => new OpenAI.APIConnectionTimeoutError(),
    { failureClass: 'timeout', origin: 'network', errorType: 'APIConnectionTimeoutError' },
  ],
  [
    'openai APIConnectionError wrapping ECONNRESET',
    () =>
      new OpenAI.APIConnectionError({
        cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      }),
    { failureClass: 'connection', origin: 'network' },
  ],
  [
    'openai APIConnectionError wrapping ETIMEDOUT',
    () =>
      new OpenAI.APIConnectionError({
        cause: Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' }),
      }),
    { failureClass: 'timeout', origin: 'network' },
  ],
  [
    'openai APIUserAbortError',
    () => new OpenAI.APIUserAbortError(),
    { failureClass: 'cancelled', origin: 'client', errorType: 'APIUserAbortError' },
  ],
  [
    'openai 6 RateLimitError',
    () => openaiV6HttpError(429, { error: { message: 'slow down', code: 'rate_limit_exceeded' } }),
    { failureClass: 'rate_limited', origin: 'provider' },
  ],
  // Anthropic
  [
    'anthropic 529 overloaded_error',
    () =>
      anthropicHttpError(529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }),
    { failureClass: 'overloaded', origin: 'provider', errorType: 'overloaded_error', httpStatus: 529 },
  ],
  [
    'anthropic overloaded body under a 500',
    () =>
      anthropicHttpError(500, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }),
    { failureClass: 'overloaded', origin: 'provider', errorType: 'overloaded_error' },
  ],
  [
    'anthropic 429 rate_limit_error with retry-after',
    () =>
      Anthropic.APIError.generate(
        429,
        {
          type: 'error',
          error: {
            type: 'rate_limit_error',
            message: 'Number of request tokens has exceeded your rate limit',
          },
        },
        undefined,
        new Headers({ 'retry-after': '30', 'request-id': 'req_a' }),
      ),
    { failureClass: 'rate_limited', origin: 'provider', errorType: 'rate_limit_error', retryAfterS: 30 },
  ],
  [
    'anthropic prompt is too long',
    () =>
      anthropicHttpError(400, {
        type: 'error',
        error: {
          type: 'invalid_request_error',
          message: 'prompt is too long: 212000 tokens > 200000 maximum',
        },
      }),
    { failureClass: 'context_length', origin: 'client', errorType: 'invalid_request_error' },
  ],
  [
    'anthropic 403 permission_error',
    () =>
      anthropicHttpError(403, { type: 'error', error: { type: 'permission_error', message: 'no access' } }),
    { failureClass: 'auth', origin: 'client', errorType: 'permission_error' },
  ],
  [
    'anthropic 0.x overloaded',
    () =>
      AnthropicV0.APIError.generate(
        529,
        { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
        undefined,
        new Headers(),
      ),
    { failureClass: 'overloaded', origin: 'provider' },
  ],
  [
    'anthropic APIConnectionTimeoutError',
    () => new Anthropic.APIConnectionTimeoutError(),
    { failureClass: 'timeout', origin: 'network' },
  ],
  // Google GenAI
  [
    'genai RESOURCE_EXHAUSTED',
    () => googleError(429, 'RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).'),
    { failureClass: 'rate_limited', origin: 'provider', errorType: 'RESOURCE_EXHAUSTED', httpStatus: 429 },
  ],
  [
    'genai UNAVAILABLE',
    () => googleError(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.'),
    { failureClass: 'overloaded', origin: 'provider', errorType: 'UNAVAILABLE' },
  ],
  [
    'genai DEADLINE_EXCEEDED',
    () => googleError(504, 'DEADLINE_EXCEEDED', 'Deadline expired'),
    { failureClass: 'timeout', origin: 'provider' },
  ],
  [
    'genai INTERNAL',
    () => googleError(500, 'INTERNAL', 'An internal error has occurred'),
    { failureClass: 'server_error', origin: 'provider' },
  ],
  [
    'genai token limit',
    () =>
      googleError(
        400,
        'INVALID_ARGUMENT',
        'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).',
      ),
    { failureClass: 'context_length', origin: 'client', errorType: 'INVALID_ARGUMENT' },
  ],
  [
    'genai PERMISSION_DENIED',
    () => googleError(403, 'PERMISSION_DENIED', 'API key not valid'),
    { failureClass: 'auth', origin: 'client' },
  ],
  [
    'genai SAFETY block',
    () => googleError(400, 'INVALID_ARGUMENT', 'The request was blocked by safety settings (SAFETY).'),
    { failureClass: 'content_filter', origin: 'client' },
  ],
  // AWS Bedrock Runtime
  [
    'bedrock ThrottlingException',
    () =>
      new ThrottlingException({
        message: 'Too many requests, please wait before trying again.',
        ...awsMeta(429),
      }),
    { failureClass: 'rate_limited', origin: 'provider', errorType: 'ThrottlingException', httpStatus: 429 },
  ],
  [
    'bedrock ServiceUnavailableException',
    () => new ServiceUnavailableException({ message: 'Service unavailable', ...awsMeta(503) }),
    { failureClass: 'overloaded', origin: 'provider' },
  ],
  [
    'bedrock ModelTimeoutException',
    () => new ModelTimeoutException({ message: 'timed out', ...awsMeta(408) }),
    { failureClass: 'timeout', origin: 'provider' },
  ],
  [
    'bedrock ModelNotReadyException',
    () => new ModelNotReadyException({ message: 'not ready', ...awsMeta(429) }),
    { failureClass: 'overloaded', origin: 'provider' },
  ],
  [
    'bedrock ValidationException',
    () => new ValidationException({ message: 'Malformed input request', ...awsMeta(400) }),
    { failureClass: 'bad_request', origin: 'client', errorType: 'ValidationException' },
  ],
  [
    'bedrock ValidationException input too long',
    () => new ValidationException({ message: 'Input is too long for requested model.', ...awsMeta(400) }),
    { failureClass: 'context_length', origin: 'client' },
  ],
  [
    'bedrock AccessDeniedException',
    () => new AccessDeniedException({ message: 'denied', ...awsMeta(403) }),
    { failureClass: 'auth', origin: 'client' },
  ],
  [
    'bedrock ModelErrorException',
    () => new ModelErrorException({ message: 'model error', ...awsMeta(424) }),
    { failureClass: 'server_error', origin: 'provider' },
  ],
  [
    'bedrock ModelStreamErrorException',
    () => new ModelStreamErrorException({ message: 'stream error', ...awsMeta(424) }),
    { failureClass: 'server_error', origin: 'provider' },
  ],
  [
    'bedrock InternalServerException',
    () => new InternalServerException({ message: 'internal', ...awsMeta(500) }),
    { failureClass: 'server_error', origin: 'provider', httpStatus: 500 },
  ],
  // In-band stream errors: the SDK throws an APIError with no HTTP status (the stream started as a 200).
  [
    'openai mid-stream data: {"error":{"type":"server_error"}}',
    () =>
      openaiStreamError({
        message: 'The server had an error while processing your request.',
        type: 'server_error',
        param: null,
        code: null,
      }),
    { failureClass: 'server_error', origin: 'provider', errorType: 'server_error' },
  ],
  [
    'openai mid-stream "engine is currently overloaded" (type server_error)',
    () =>
      openaiStreamError({
        message: 'The engine is currently overloaded, please try again later.',
        type: 'server_error',
        param: null,
        code: null,
      }),
    { failureClass: 'overloaded', origin: 'provider', errorType: 'server_error' },
  ],
  [
    'a user error mentioning "overloaded" is not a provider overload',
    () => new Error('worker pool overloaded'),
    { failureClass: 'unknown', origin: 'client' },
  ],
  [
    'openai mid-stream rate_limit_exceeded',
    () => openaiStreamError({ message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' }),
    { failureClass: 'rate_limited', origin: 'provider', errorType: 'rate_limit_exceeded' },
  ],
  [
    'openai Responses stream `error` event with code server_error',
    () =>
      openaiStreamError({
        type: 'error',
        code: 'server_error',
        message: 'The server had an error',
        param: null,
      }),
    { failureClass: 'server_error', origin: 'provider', errorType: 'server_error' },
  ],
  [
    'openai Responses response.failed (ResponseFailedError, code server_error)',
    () =>
      Object.assign(new Error('The model failed to generate a response.'), {
        name: 'ResponseFailedError',
        code: 'server_error',
      }),
    { failureClass: 'server_error', origin: 'provider', errorType: 'server_error' },
  ],
  [
    'anthropic mid-stream event: error api_error',
    () => anthropicStreamError('api_error', 'Internal server error'),
    { failureClass: 'server_error', origin: 'provider', errorType: 'api_error' },
  ],
  [
    'anthropic mid-stream event: error overloaded_error',
    () => anthropicStreamError('overloaded_error', 'Overloaded'),
    { failureClass: 'overloaded', origin: 'provider', errorType: 'overloaded_error' },
  ],
  [
    'anthropic mid-stream event: error rate_limit_error',
    () =>
      anthropicStreamError(
        'rate_limit_error',
        'Number of request tokens has exceeded your per-minute rate limit.',
      ),
    { failureClass: 'rate_limited', origin: 'provider', errorType: 'rate_limit_error' },
  ],
  [
    'openai 503 with body type server_error stays overloaded (the status is more precise)',
    () =>
      openaiHttpError(503, {
        error: { message: 'The service is temporarily unavailable.', type: 'server_error' },
      }),
    { failureClass: 'overloaded', origin: 'provider', errorType: 'server_error', httpStatus: 503 },
  ],
  // A content-filter refusal is never a rate limit, whatever the status.
  [
    'anthropic 400 "Output blocked by content filtering policy"',
    () =>
      anthropicHttpError(400, {
        type: 'error',
        error: { type: 'invalid_request_error', message: 'Output blocked by content filtering policy' },
      }),
    { failureClass: 'content_filter', origin: 'client', errorType: 'invalid_request_error', httpStatus: 400 },
  ],
  [
    'anthropic content-filter body under a 429',
    () =>
      anthropicHttpError(429, {
        type: 'error',
        error: { type: 'invalid_request_error', message: 'Output blocked by content filtering policy' },
      }),
    { failureClass: 'content_filter', origin: 'client', httpStatus: 429 },
  ],
  [
    'openai content_filter code under a 429',
    () =>
      openaiHttpError(429, {
        error: {
          message: 'The response was filtered.',
          type: 'invalid_request_error',
          code: 'content_filter',
        },
      }),
    { failureClass: 'content_filter', origin: 'client', errorType: 'content_filter', httpStatus: 429 },
  ],
  [
    'proxy (LiteLLM) ContentPolicyViolationError under a 429',
    () =>
      openaiHttpError(429, {
        error: {
          message: 'litellm.ContentPolicyViolationError: AzureException - The response was filtered',
          type: null,
          code: '429',
        },
      }),
    { failureClass: 'content_filter', origin: 'client', httpStatus: 429 },
  ],
  [
    'openai moderation rejection (invalid_prompt, usage policy)',
    () =>
      openaiHttpError(400, {
        error: {
          message: 'Invalid prompt: your prompt was flagged as potentially violating our usage policy.',
          type: 'invalid_request_error',
          code: 'invalid_prompt',
        },
      }),
    { failureClass: 'content_filter', origin: 'client', errorType: 'invalid_prompt' },
  ],
  [
    'a plain 429 rate limit stays a rate limit',
    () =>
      anthropicHttpError(429, {
        type: 'error',
        error: {
          type: 'rate_limit_error',
          message: "This request would exceed your account's rate limit. Please try again later.",
        },
      }),
    { failureClass: 'rate_limited', origin: 'provider', errorType: 'rate_limit_error' },
  ],
  [
    'a SyntaxError with no context is ours: unknown/client',
    () => jsonParseError(),
    { failureClass: 'unknown', origin: 'client', errorType: 'SyntaxError' },
  ],
  // Node / web platform
  [
    'ECONNREFUSED',
    () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
    { failureClass: 'connection', origin: 'network', errorType: 'ECONNREFUSED' },
  ],
  [
    'ENOTFOUND',
    () => Object.assign(new Error('getaddrinfo ENOTFOUND x'), { code: 'ENOTFOUND' }),
    { failureClass: 'connection', origin: 'network' },
  ],
  [
    'ETIMEDOUT',
    () => Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' }),
    { failureClass: 'timeout', origin: 'network' },
  ],
  [
    'undici headers timeout in cause',
    () =>
      new TypeError('fetch failed', {
        cause: Object.assign(new Error('Headers Timeout Error'), { code: 'UND_ERR_HEADERS_TIMEOUT' }),
      }),
    { failureClass: 'timeout', origin: 'network', errorType: 'UND_ERR_HEADERS_TIMEOUT' },
  ],
  [
    'AbortError DOMException',
    () => new DOMException('This operation was aborted', 'AbortError'),
    { failureClass: 'cancelled', origin: 'client', errorType: 'AbortError' },
  ],
  [
    'TimeoutError DOMException',
    () => new DOMException('The operation timed out.', 'TimeoutError'),
    { failureClass: 'timeout', origin: 'network', errorType: 'TimeoutError' },
  ],
  [
    'plain Error',
    () => new Error('something odd'),
    { failureClass: 'unknown', origin: 'client', errorType: '_OTHER' },
  ],
  [
    'TypeError from user code',
    () => new TypeError('x is not a function'),
    { failureClass: 'unknown', origin: 'client', errorType: 'TypeError' },
  ],
  ['a thrown string', () => 'boom', { failureClass: 'unknown', origin: 'client', errorType: '_OTHER' }],
  ['null', () => null, { failureClass: 'unknown', origin: 'client', errorType: '_OTHER' }],
  [
    'a bare status-carrying object',
    () => ({ status: 429, message: 'x' }),
    { failureClass: 'rate_limited', origin: 'provider', httpStatus: 429 },
  ],
  [
    '413',
    () => ({ status: 413, message: 'Request Entity Too Large' }),
    { failureClass: 'context_length', origin: 'client' },
  ],
  [
    '422',
    () => ({ status: 422, message: 'Unprocessable' }),
    { failureClass: 'bad_request', origin: 'client' },
  ],
  [
    '408',
    () => ({ status: 408, message: 'Request Timeout' }),
    { failureClass: 'timeout', origin: 'provider' },
  ],
];

describe('classifyFailure', () => {
  for (const [title, make, expected] of CASES) {
    it(title, () => {
      const actual = classifyFailure(make());
      const picked = Object.fromEntries(
        Object.keys(expected).map((k) => [k, actual[k as keyof FailureClassification]]),
      );
      assert.deepEqual(picked, expected, `got ${JSON.stringify(actual)}`);
    });
  }

  it('classifies a parse error after a 2xx response (malformed body) as server_error/provider', () => {
    for (const responseStatus of [200, 201, 299]) {
      const actual = classifyFailure(jsonParseError(), { responseStatus });
      assert.deepEqual(
        actual,
        { failureClass: 'server_error', origin: 'provider', errorType: 'SyntaxError' },
        `status ${responseStatus}`,
      );
    }
    // Not a 2xx, or not a parse error, or the error has its own status: the context changes nothing.
    assert.deepEqual(classifyFailure(jsonParseError(), { responseStatus: 404 }), {
      failureClass: 'unknown',
      origin: 'client',
      errorType: 'SyntaxError',
    });
    assert.deepEqual(classifyFailure(new TypeError('x is not a function'), { responseStatus: 200 }), {
      failureClass: 'unknown',
      origin: 'client',
      errorType: 'TypeError',
    });
    const rateLimited = openaiHttpError(429, {
      error: { message: 'slow down', code: 'rate_limit_exceeded' },
    });
    assert.equal(classifyFailure(rateLimited, { responseStatus: 200 }).failureClass, 'rate_limited');
    assert.deepEqual(classifyFailure(jsonParseError(), {}), classifyFailure(jsonParseError()));
  });

  it('classifies a real undici "fetch failed" against a closed port as connection/network', async () => {
    const error = await realFetchFailure();
    assert.ok(error instanceof TypeError);
    const actual = classifyFailure(error);
    assert.equal(actual.failureClass, 'connection');
    assert.equal(actual.origin, 'network');
    assert.equal(actual.errorType, 'ECONNREFUSED');
  });

  it('classifies a real AbortSignal.timeout() fetch as timeout/network', async () => {
    const sockets = new Set<import('node:net').Socket>();
    const server = createServer((socket) => void sockets.add(socket)); // accepts, never answers
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    // AbortSignal.timeout's timer is unref'd: without a ref'd handle the test process would exit mid-wait.
    const keepAlive = setInterval(() => undefined, 1000);
    try {
      const error = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(50) }).then(
        () => assert.fail('expected a timeout'),
        (e: unknown) => e,
      );
      const { failureClass, origin } = classifyFailure(error);
      assert.deepEqual({ failureClass, origin }, { failureClass: 'timeout', origin: 'network' });
    } finally {
      clearInterval(keepAlive);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('never throws, even on errors whose getters throw', () => {
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('getter exploded');
        },
      },
    );
    assert.deepEqual(classifyFailure(hostile), {
      failureClass: 'unknown',
      origin: 'client',
      errorType: '_OTHER',
    });
  });
});
