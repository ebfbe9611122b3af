/**
 * The one place that turns an LLM call into a span (the contract is llm-call-types.ts). SDK patchers and
 * the manual API only translate their shapes into LlmRequestInfo / LlmResponseInfo / LlmHttpInfo.
 *
 * Every method of the returned LlmCall is wrapped: an instrumentation bug is logged with diag.debug and
 * swallowed, never thrown into the host application's LLM call.
 */
import {
  context,
  diag,
  INVALID_SPAN_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { classifyFailure } from './classify-failure.js';
import type { ResolvedInstrumentationConfig } from './internal-types.js';
import type { LlmCall, LlmHttpInfo, LlmRequestInfo, LlmResponseInfo } from './llm-call-types.js';
import { modelIdSpecificity, parseModelIdShared } from './parse-model-id.js';
import { readFirstHeader, readNumericHeader, readRetryAfterS } from './read-headers.js';
import { contentAttribute } from './record-content.js';
import * as sc from './semconv.js';

export interface StartLlmCallOptions {
  /** Parent of the span; defaults to the active context. */
  parentContext?: Context;
  /** Epoch milliseconds when the call really started (if the span is created late). */
  startTimeMs?: number;
}

const REQUEST_ID_HEADERS = [
  'x-request-id', // OpenAI, Groq, Mistral, most OpenAI-compatible servers
  'request-id', // Anthropic
  'x-amzn-requestid', // Bedrock
  'x-amz-request-id',
  'x-goog-request-id',
  'apim-request-id', // Azure OpenAI
  'x-ms-request-id',
  'cf-ray',
] as const;
const REMAINING_REQUESTS_HEADERS = [
  'x-ratelimit-remaining-requests',
  'anthropic-ratelimit-requests-remaining',
] as const;
const REMAINING_TOKENS_HEADERS = [
  'x-ratelimit-remaining-tokens',
  'anthropic-ratelimit-tokens-remaining',
  'anthropic-ratelimit-input-tokens-remaining',
] as const;
const MAX_STATUS_MESSAGE_LENGTH = 200;

function setIfDefined(
  attributes: Attributes,
  key: string,
  value: string | number | boolean | readonly string[] | undefined,
): void {
  if (value === undefined || value === null || value === '') return;
  if (typeof value === 'number' && !Number.isFinite(value)) return;
  attributes[key] = Array.isArray(value) ? [...value] : (value as string | number | boolean);
}

function requestAttributes(request: LlmRequestInfo): Attributes {
  const a: Attributes = {};
  setIfDefined(a, sc.ATTR_GEN_AI_OPERATION_NAME, request.operation);
  setIfDefined(a, sc.ATTR_GEN_AI_PROVIDER_NAME, request.provider);
  setIfDefined(a, sc.ATTR_GEN_AI_REQUEST_MODEL, request.requestModel);
  setIfDefined(a, sc.ATTR_SERVER_ADDRESS, request.serverAddress);
  setIfDefined(a, sc.ATTR_SERVER_PORT, request.serverPort);
  setIfDefined(a, sc.ATTR_GEN_AI_REQUEST_TEMPERATURE, request.temperature);
  setIfDefined(a, sc.ATTR_GEN_AI_REQUEST_TOP_P, request.topP);
  setIfDefined(a, sc.ATTR_GEN_AI_REQUEST_TOP_K, request.topK);
  setIfDefined(a, sc.ATTR_GEN_AI_REQUEST_MAX_TOKENS, request.maxTokens);
  setIfDefined(a, sc.ATTR_GEN_AI_REQUEST_FREQUENCY_PENALTY, request.frequencyPenalty);
  setIfDefined(a, sc.ATTR_GEN_AI_REQUEST_PRESENCE_PENALTY, request.presencePenalty);
  if (request.stopSequences && request.stopSequences.length > 0) {
    setIfDefined(a, sc.ATTR_GEN_AI_REQUEST_STOP_SEQUENCES, request.stopSequences);
  }
  setIfDefined(a, sc.ATTR_GEN_AI_REQUEST_SEED, request.seed);
  // The conventions record choice.count only when it differs from the default of 1.
  if (request.choiceCount !== undefined && request.choiceCount !== 1) {
    setIfDefined(a, sc.ATTR_GEN_AI_REQUEST_CHOICE_COUNT, request.choiceCount);
  }
  // gen_ai.request.stream is conditional "when streaming"; modelwatch.stream is always set so ingest can
  // split streaming from non-streaming latency without a null bucket.
  if (request.stream === true) a[sc.ATTR_GEN_AI_REQUEST_STREAM] = true;
  a[sc.ATTR_MODELWATCH_STREAM] = request.stream === true;
  return a;
}

function guard(what: string, fn: () => void): void {
  try {
    fn();
  } catch (error) {
    diag.debug(`modelwatch: ${what} failed`, error);
  }
}

function shortMessage(error: unknown, failureClass: string): string {
  const raw = error instanceof Error ? error.message : typeof error === 'string' ? error : '';
  const message =
    raw.length > MAX_STATUS_MESSAGE_LENGTH ? `${raw.slice(0, MAX_STATUS_MESSAGE_LENGTH)}…` : raw;
  return message ? `${failureClass}: ${message}` : failureClass;
}

class RecordedLlmCall implements LlmCall {
  readonly span: Span;
  private ended = false;
  private firstTokenSeen = false;
  private responseModel: string | undefined;
  private outputMessages: unknown;
  // The last HTTP status the patcher reported: a body that fails to parse after a 2xx is the provider's
  // fault, but the SyntaxError itself carries no status.
  private responseStatus: number | undefined;
  // performance.now() at the call's real start, for TTFT with sub-millisecond precision.
  private readonly startPerfMs: number;

  constructor(
    span: Span,
    private readonly config: ResolvedInstrumentationConfig,
    private readonly request: LlmRequestInfo,
    startTimeMs: number | undefined,
  ) {
    this.span = span;
    const lateByMs = startTimeMs === undefined ? 0 : Math.max(0, Date.now() - startTimeMs);
    this.startPerfMs = performance.now() - lateByMs;
  }

  firstToken(): void {
    // Patchers call this for every content chunk of a stream: after the first, return before allocating.
    if (this.firstTokenSeen || this.ended) return;
    this.firstTokenSeen = true;
    try {
      const ttftMs = performance.now() - this.startPerfMs;
      this.span.setAttribute(sc.ATTR_MODELWATCH_TIME_TO_FIRST_TOKEN_MS, ttftMs);
      this.span.setAttribute(sc.ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, ttftMs / 1000);
    } catch (error) {
      diag.debug('modelwatch: firstToken failed', error);
    }
  }

  response(info: LlmResponseInfo): void {
    guard('response', () => {
      if (this.ended || !info) return;
      const a: Attributes = {};
      setIfDefined(a, sc.ATTR_GEN_AI_RESPONSE_MODEL, info.responseModel);
      setIfDefined(a, sc.ATTR_GEN_AI_RESPONSE_ID, info.responseId);
      if (info.finishReasons && info.finishReasons.length > 0) {
        setIfDefined(a, sc.ATTR_GEN_AI_RESPONSE_FINISH_REASONS, info.finishReasons);
      }
      setIfDefined(a, sc.ATTR_GEN_AI_USAGE_INPUT_TOKENS, info.inputTokens);
      setIfDefined(a, sc.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS, info.outputTokens);
      setIfDefined(a, sc.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, info.cacheReadInputTokens);
      // Both names: v1.41 consumers read cache_creation, the genai repo renamed it to cache_write.
      setIfDefined(a, sc.ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, info.cacheWriteInputTokens);
      setIfDefined(a, sc.ATTR_GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS, info.cacheWriteInputTokens);
      setIfDefined(a, sc.ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, info.reasoningOutputTokens);
      this.span.setAttributes(a);
      if (info.responseModel) this.responseModel = info.responseModel;
      if (info.outputMessages !== undefined) this.outputMessages = info.outputMessages;
    });
  }

  http(info: LlmHttpInfo): void {
    guard('http', () => this.recordHttp(info));
  }

  fail(error: unknown): void {
    guard('fail', () => {
      if (this.ended) return;
      const failure = classifyFailure(error, { responseStatus: this.responseStatus });
      const a: Attributes = {
        [sc.ATTR_MODELWATCH_FAILURE_CLASS]: failure.failureClass,
        [sc.ATTR_MODELWATCH_FAILURE_ORIGIN]: failure.origin,
        [sc.ATTR_ERROR_TYPE]: failure.errorType,
      };
      setIfDefined(a, sc.ATTR_HTTP_RESPONSE_STATUS_CODE, failure.httpStatus);
      setIfDefined(a, sc.ATTR_MODELWATCH_RETRY_AFTER_S, failure.retryAfterS);
      this.span.setAttributes(a);
      // SDK errors carry the response headers: request id and rate-limit state matter most on failures.
      const carrier = error as { headers?: unknown; requestID?: unknown; request_id?: unknown } | null;
      if (carrier && typeof carrier === 'object') {
        const requestId = typeof carrier.requestID === 'string' ? carrier.requestID : undefined;
        if (carrier.headers && typeof carrier.headers === 'object') {
          this.recordHttp({ headers: carrier.headers as LlmHttpInfo['headers'], requestId });
        } else if (requestId) this.recordHttp({ requestId });
      }
      const message = shortMessage(error, failure.failureClass);
      this.span.setStatus({ code: SpanStatusCode.ERROR, message });
      // Name and message only: stacks and SDK error objects can hold request options (and API keys).
      const exceptionName = error instanceof Error ? error.constructor.name || error.name : failure.errorType;
      this.span.recordException({
        name: exceptionName,
        message: error instanceof Error ? error.message : message,
      });
      this.finish();
    });
  }

  end(): void {
    guard('end', () => {
      if (this.ended) return;
      this.finish();
    });
  }

  private recordHttp(info: LlmHttpInfo): void {
    if (this.ended || !info) return;
    if (typeof info.statusCode === 'number') this.responseStatus = info.statusCode;
    const a: Attributes = {};
    setIfDefined(a, sc.ATTR_HTTP_RESPONSE_STATUS_CODE, info.statusCode);
    const headers = info.headers;
    setIfDefined(
      a,
      sc.ATTR_MODELWATCH_PROVIDER_REQUEST_ID,
      info.requestId ?? readFirstHeader(headers, REQUEST_ID_HEADERS),
    );
    setIfDefined(
      a,
      sc.ATTR_MODELWATCH_RATELIMIT_REMAINING_REQUESTS,
      readNumericHeader(headers, REMAINING_REQUESTS_HEADERS),
    );
    setIfDefined(
      a,
      sc.ATTR_MODELWATCH_RATELIMIT_REMAINING_TOKENS,
      readNumericHeader(headers, REMAINING_TOKENS_HEADERS),
    );
    // retry-after means something only on a refusal (429/503); a success's headers are not searched for it.
    if (!isSuccessStatus(info.statusCode))
      setIfDefined(a, sc.ATTR_MODELWATCH_RETRY_AFTER_S, readRetryAfterS(headers));
    setIfDefined(a, sc.ATTR_MODELWATCH_RETRY_COUNT, info.retryCount);
    this.span.setAttributes(a);
  }

  /** Model columns, output content, then the one span.end(). */
  private finish(): void {
    this.ended = true;
    try {
      this.span.setAttributes(this.modelAttributes());
      const output = contentAttribute(this.config, 'output', this.outputMessages);
      if (output !== undefined) this.span.setAttribute(sc.ATTR_GEN_AI_OUTPUT_MESSAGES, output);
    } finally {
      this.span.end();
    }
  }

  /**
   * family/version/snapshot from the response model unless it is less specific than the request model:
   * Azure has answered `gpt-4` to a request for a dated deployment, Gemini answers with aliases. Both raw ids
   * stay on the span (gen_ai.request.model / gen_ai.response.model); modelwatch.model.resolved names the
   * one the columns came from.
   */
  private modelAttributes(): Readonly<Attributes> {
    return modelAttributesFor(this.request.provider, this.request.requestModel, this.responseModel);
  }
}

function isSuccessStatus(status: number | undefined): boolean {
  return status !== undefined && status >= 200 && status <= 299;
}

// Every span of a process names the same few (provider, request model, response model) triples; the model
// columns for each are computed once. Dropped whole when full, like parseModelId's memo.
const MAX_MEMOISED_MODEL_PAIRS = 256;
const modelAttributesMemo = new Map<string, Readonly<Attributes>>();
const NO_MODEL_ATTRIBUTES: Readonly<Attributes> = Object.freeze({});

function modelAttributesFor(
  provider: string,
  requestModel: string | undefined,
  responseModel: string | undefined,
): Readonly<Attributes> {
  const key = `${provider}\u0000${requestModel ?? ''}\u0000${responseModel ?? ''}`;
  let attributes = modelAttributesMemo.get(key);
  if (attributes === undefined) {
    attributes = computeModelAttributes(provider, requestModel, responseModel);
    if (modelAttributesMemo.size >= MAX_MEMOISED_MODEL_PAIRS) modelAttributesMemo.clear();
    modelAttributesMemo.set(key, attributes);
  }
  return attributes;
}

function computeModelAttributes(
  provider: string,
  requestModel: string | undefined,
  responseModel: string | undefined,
): Readonly<Attributes> {
  const fromRequest = parseModelIdShared(requestModel, provider);
  const fromResponse = parseModelIdShared(responseModel, provider);
  const useResponse =
    fromResponse.family !== '' && modelIdSpecificity(fromResponse) >= modelIdSpecificity(fromRequest);
  const chosen = useResponse ? fromResponse : fromRequest;
  const resolved = useResponse ? responseModel : requestModel;
  if (chosen.family === '') return NO_MODEL_ATTRIBUTES;
  const a: Attributes = {
    [sc.ATTR_MODELWATCH_MODEL_FAMILY]: chosen.family,
    [sc.ATTR_MODELWATCH_MODEL_VERSION]: chosen.version,
    [sc.ATTR_MODELWATCH_MODEL_SNAPSHOT]: chosen.snapshot,
  };
  setIfDefined(a, sc.ATTR_MODELWATCH_MODEL_RESOLVED, resolved);
  return Object.freeze(a);
}

/** A call whose span could not be created: every method is a no-op, the host call proceeds untouched. */
function nonRecordingCall(): LlmCall {
  const span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
  const noop = (): void => undefined;
  return { span, firstToken: noop, response: noop, http: noop, fail: noop, end: noop };
}

/**
 * Starts the span for one LLM call: name `{operation} {requestModel}`, kind CLIENT, request attributes set
 * at start (samplers may use them). Never throws.
 */
export function startLlmCall(
  tracer: Tracer,
  config: ResolvedInstrumentationConfig,
  request: LlmRequestInfo,
  options: StartLlmCallOptions = {},
): LlmCall {
  try {
    const attributes = requestAttributes(request);
    const input = contentAttribute(config, 'input', request.inputMessages);
    if (input !== undefined) attributes[sc.ATTR_GEN_AI_INPUT_MESSAGES] = input;
    const system = contentAttribute(config, 'system', request.systemInstructions);
    if (system !== undefined) attributes[sc.ATTR_GEN_AI_SYSTEM_INSTRUCTIONS] = system;
    const name = request.requestModel ? `${request.operation} ${request.requestModel}` : request.operation;
    const span = tracer.startSpan(
      name,
      { kind: SpanKind.CLIENT, attributes, startTime: options.startTimeMs },
      options.parentContext ?? context.active(),
    );
    return new RecordedLlmCall(span, config, request, options.startTimeMs);
  } catch (error) {
    diag.debug('modelwatch: could not start an LLM span', error);
    return nonRecordingCall();
  }
}
