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
  type AttributeValue,
  type Attributes,
  type Context,
  type Exception,
  type Link,
  type Span,
  type SpanContext,
  type SpanStatus,
  type TimeInput,
  type Tracer,
} from '@opentelemetry/api';
import { EMPTY_SHAPE, shapeAfterKeys, warmShape, type AttributeShape } from './attribute-shapes.js';
import { classifyFailure, type FailureClassification } from './classify-failure.js';
import type { ResolvedInstrumentationConfig } from './internal-types.js';
import type {
  LlmCall,
  LlmHttpInfo,
  LlmRequestInfo,
  LlmResponseInfo,
  LlmResultReader,
} from './llm-call-types.js';
import { modelIdSpecificity, parseModelIdShared } from './parse-model-id.js';
import { readFirstHeader, readNumericHeader, readRetryAfterS } from './read-headers.js';
import { contentAttribute } from './record-content.js';
import { deferSpanEnd, type PendingSpanEnd } from './deferred-span-end.js';
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
/**
 * Rate-limit headers by API family: Anthropic's API names its own; OpenAI and the OpenAI-compatible servers
 * (Azure, Groq, Together, OpenRouter, …) use the x-ratelimit-* names. Picking the list by provider keeps a
 * success to two or three header lookups (each costs ~0.3 µs in undici) instead of trying every name.
 */
const REMAINING_HEADERS = {
  anthropic: {
    requests: ['anthropic-ratelimit-requests-remaining'],
    tokens: ['anthropic-ratelimit-tokens-remaining', 'anthropic-ratelimit-input-tokens-remaining'],
  },
  other: { requests: ['x-ratelimit-remaining-requests'], tokens: ['x-ratelimit-remaining-tokens'] },
} as const;
const MAX_STATUS_MESSAGE_LENGTH = 200;

type FactValue = string | number | boolean | readonly string[] | undefined;

/** The value to record for a fact, or undefined for none: empty strings and non-finite numbers are not facts. */
function recordable(value: FactValue): AttributeValue | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number' && !Number.isFinite(value)) return undefined;
  // Arrays are not copied here: the SDK copies array values as it stores them.
  return value as AttributeValue;
}

function addIfDefined(attributes: Attributes, key: string, value: FactValue): void {
  const recorded = recordable(value);
  if (recorded !== undefined) attributes[key] = recorded;
}

/**
 * The attributes a sampler may decide on, set when the span starts: the conventions ask for operation,
 * provider, request model and server address/port "at span creation time".
 */
function samplingAttributes(request: LlmRequestInfo): Attributes {
  const a: Attributes = {};
  addIfDefined(a, sc.ATTR_GEN_AI_OPERATION_NAME, request.operation);
  addIfDefined(a, sc.ATTR_GEN_AI_PROVIDER_NAME, request.provider);
  addIfDefined(a, sc.ATTR_GEN_AI_REQUEST_MODEL, request.requestModel);
  addIfDefined(a, sc.ATTR_SERVER_ADDRESS, request.serverAddress);
  addIfDefined(a, sc.ATTR_SERVER_PORT, request.serverPort);
  return a;
}

function shortMessage(error: unknown, failureClass: string): string {
  const raw = error instanceof Error ? error.message : typeof error === 'string' ? error : '';
  const message =
    raw.length > MAX_STATUS_MESSAGE_LENGTH ? `${raw.slice(0, MAX_STATUS_MESSAGE_LENGTH)}…` : raw;
  return message ? `${failureClass}: ${message}` : failureClass;
}

/**
 * One call's span. Facts reported while the call runs (response, HTTP, TTFT, failure) are kept in plain
 * fields and written to the span once, when it is finished: every attribute the SDK stores costs it an
 * options object and a validity check (a WeakSet in @opentelemetry/core 3.x), so setting each fact as it
 * arrives, sometimes twice (a stream's merged responses), cost more than the span itself. Nothing is
 * lost by waiting: an unended span is never exported, and attributes set after end() would be dropped.
 *
 * end() and fail() only note the end time and the error: classifying the failure, building the attributes
 * and ending the span happen in finishSpan(), after the caller got its result (deferred-span-end.ts).
 * Every fact is frozen at end(): the setters ignore anything reported later, as before.
 */
export class RecordedLlmCall implements LlmCall, PendingSpanEnd {
  /** What the call hands out (LlmCall.span, the active span during the call): see DeferredSdkSpan. */
  readonly span: Span;
  /** The SDK's span, once created (sdkSpan()). */
  private created: Span | undefined = undefined;
  /**
   * The key sequence the SDK span's attributes took so far (attribute-shapes.ts); undefined when not
   * followed (the host app wrote attributes, or the tree is full).
   */
  private shape: AttributeShape | undefined = undefined;
  protected ended = false;
  // performance.now() at the call's real start, for TTFT with sub-millisecond precision.
  private readonly startPerfMs: number;
  private ttftMs: number | undefined = undefined;
  // Response facts (the last defined value of each wins, as when they were set one by one).
  private responseModel: string | undefined = undefined;
  private responseId: string | undefined = undefined;
  private finishReasons: readonly string[] | undefined = undefined;
  private inputTokens: number | undefined = undefined;
  private outputTokens: number | undefined = undefined;
  private cacheReadInputTokens: number | undefined = undefined;
  private cacheWriteInputTokens: number | undefined = undefined;
  private reasoningOutputTokens: number | undefined = undefined;
  private outputMessages: unknown = undefined;
  // HTTP facts. responseStatus is also what the classifier gets: a body that fails to parse after a 2xx is
  // the provider's fault, but the SyntaxError itself carries no status.
  private responseStatus: number | undefined = undefined;
  private requestId: string | undefined = undefined;
  private remainingRequests: number | undefined = undefined;
  private remainingTokens: number | undefined = undefined;
  private retryAfterS: number | undefined = undefined;
  private retryCount: number | undefined = undefined;
  // Read when the span is finished, not when reported: the last response headers, and the result object.
  private headers: LlmHttpInfo['headers'] = undefined;
  private result: unknown = undefined;
  private resultReader: LlmResultReader | undefined = undefined;
  // Failure facts: fail() keeps the error, finishSpan() classifies it.
  private failed = false;
  private failedWith: unknown = undefined;
  private failure: FailureClassification | undefined = undefined;
  // performance.now() when end()/fail() was called: the span's end time, whenever finishSpan() runs.
  private endPerfMs = 0;

  /** Input and system content, serialised at start: callers reuse and extend their message arrays. */
  private readonly inputContent: string | undefined;
  private readonly systemContent: string | undefined;
  /** The request's info; undefined until readRequest() is asked for it (see the constructor). */
  private requestInfo: LlmRequestInfo | undefined;

  /**
   * `request` may be left out by a subclass that overrides readRequest(): the request is then read when
   * the span is built, usually after the call, instead of on the caller's path. Over real HTTP every
   * distinct piece of code a call runs before its request is written costs a few µs (the caches are cold
   * after the process idled, waiting for the last answer), and building the request info was one of the
   * larger ones. With content capture on the input is serialised here, so the request must be given.
   */
  constructor(
    private readonly tracer: Tracer,
    protected readonly config: ResolvedInstrumentationConfig,
    request: LlmRequestInfo | undefined,
    /**
     * The parent context, captured when the call started: the span is created in it whenever that is.
     * Dropped once the span exists (callers may keep the call's objects long after).
     */
    private parentContext: Context | undefined,
    private readonly startTimeMs: number | undefined,
  ) {
    this.span = new DeferredSdkSpan(this);
    this.requestInfo = request;
    if (request !== undefined && config.captureMessageContent) {
      this.inputContent = contentAttribute(config, 'input', request.inputMessages);
      this.systemContent = contentAttribute(config, 'system', request.systemInstructions);
    }
    const lateByMs = startTimeMs === undefined ? 0 : Math.max(0, Date.now() - startTimeMs);
    this.startPerfMs = performance.now() - lateByMs;
  }

  /**
   * The request of a call started without one: called at most once, maybe while the call runs (when
   * something needs the real span), usually after it. Must read only what the subclass kept at the start
   * (callers change their params objects between calls).
   */
  protected readRequest(): LlmRequestInfo {
    return { provider: UNKNOWN, operation: UNKNOWN };
  }

  private get request(): LlmRequestInfo {
    let info = this.requestInfo;
    if (info !== undefined) return info;
    try {
      info = this.readRequest();
    } catch (error) {
      diag.debug('modelwatch: reading the request failed', error);
      info = { provider: UNKNOWN, operation: UNKNOWN };
    }
    this.requestInfo = info;
    return info;
  }

  /**
   * The SDK span, created on first use: by whatever asks for the span's identity or writes to it while
   * the call runs (a child span, a propagator, the host app), else by finishSpan() after the call. Created
   * as it would have been at the call's start: same parent context, name, kind and sampler attributes,
   * and the recorded start time (a performance timestamp, so sub-millisecond like the end). Never throws.
   */
  sdkSpan(): Span {
    let span = this.created;
    if (span !== undefined) return span;
    try {
      const request = this.request;
      const name = request.requestModel ? `${request.operation} ${request.requestModel}` : request.operation;
      const startAttributes = samplingAttributes(request);
      span = this.tracer.startSpan(
        name,
        {
          kind: SpanKind.CLIENT,
          attributes: startAttributes,
          // An explicit epoch start (a span started late) is kept as given, as before.
          startTime: this.startTimeMs ?? this.startPerfMs,
        },
        this.parentContext,
      );
      this.shape = shapeAfterKeys(EMPTY_SHAPE, startAttributes);
    } catch (error) {
      diag.debug('modelwatch: could not start an LLM span', error);
      span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
    }
    this.created = span;
    this.parentContext = undefined;
    return span;
  }

  firstToken(): void {
    // Patchers call this for every content chunk of a stream: after the first, return at once.
    if (this.ttftMs !== undefined || this.ended) return;
    this.ttftMs = performance.now() - this.startPerfMs;
  }

  // try/catch inline in each method rather than a guard(fn) helper: no closure per call.
  response(info: LlmResponseInfo): void {
    if (this.ended) return;
    this.mergeResponse(info);
  }

  private mergeResponse(info: LlmResponseInfo): void {
    if (!info) return;
    try {
      this.responseModel = nonEmptyString(info.responseModel) ?? this.responseModel;
      this.responseId = nonEmptyString(info.responseId) ?? this.responseId;
      const reasons = info.finishReasons;
      if (Array.isArray(reasons) && reasons.length > 0) this.finishReasons = reasons;
      this.inputTokens = finite(info.inputTokens) ?? this.inputTokens;
      this.outputTokens = finite(info.outputTokens) ?? this.outputTokens;
      this.cacheReadInputTokens = finite(info.cacheReadInputTokens) ?? this.cacheReadInputTokens;
      this.cacheWriteInputTokens = finite(info.cacheWriteInputTokens) ?? this.cacheWriteInputTokens;
      this.reasoningOutputTokens = finite(info.reasoningOutputTokens) ?? this.reasoningOutputTokens;
      if (info.outputMessages !== undefined) this.outputMessages = info.outputMessages;
    } catch (error) {
      diag.debug('modelwatch: response failed', error);
    }
  }

  http(info: LlmHttpInfo): void {
    if (this.ended) return;
    try {
      this.noteHttp(info);
    } catch (error) {
      diag.debug('modelwatch: http failed', error);
    }
  }

  endWithResult(result: unknown, reader: LlmResultReader): void {
    if (this.ended) return;
    this.result = result;
    this.resultReader = reader;
    this.end();
  }

  fail(error: unknown): void {
    if (this.ended) return;
    this.failed = true;
    this.failedWith = error;
    this.end();
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.endPerfMs = performance.now();
    deferSpanEnd(this, this.tracerMayBeGlobal());
  }

  /**
   * Whether the span may come from the global tracer provider, which a flush right after the call must
   * find guarded (deferred-span-end.ts). True unless a subclass knows its tracer's provider was guarded.
   */
  protected tracerMayBeGlobal(): boolean {
    return true;
  }

  /** The host app's keys are not followed: its span's sequence is its own (attribute-shapes.ts). */
  hostWroteAttributes(): void {
    this.shape = undefined;
  }

  /**
   * For subclasses that keep facts raw while the call runs (to do less on the caller's path): report them
   * here, with noteHttp(), before the span is built. Runs once, after the call ended.
   */
  protected collectKeptFacts(): void {}

  finishSpan(): void {
    try {
      this.collectKeptFacts();
      // A span the sampler dropped records nothing: its facts are not worth reading.
      const span = this.sdkSpan();
      if (span.isRecording()) {
        if (this.resultReader !== undefined) this.readResult(this.result, this.resultReader);
        if (this.failed) this.recordFailure(this.failedWith);
        if (this.headers !== undefined) this.readHeaders(this.headers);
        this.writeEndAttributes(span);
        const shape = this.shape;
        if (shape !== undefined && !shape.warmed)
          warmShape(shape, (span as { attributes?: unknown }).attributes); // the SDK span's ReadableSpan side
      }
      // Neither the error nor the result is kept alive with the span.
      this.failedWith = undefined;
      this.result = undefined;
      this.headers = undefined;
    } catch (error) {
      diag.debug('modelwatch: end failed', error);
    }
    try {
      // A number below performance.now() is a performance timestamp to the SDK: sub-millisecond precision.
      this.sdkSpan().end(this.endPerfMs);
    } catch (error) {
      diag.debug('modelwatch: span.end failed', error);
    }
  }

  private readResult(result: unknown, reader: LlmResultReader): void {
    this.mergeResponse(reader.responseInfo(result, this.config.captureMessageContent));
    const failure = reader.failureOf?.(result);
    if (failure !== undefined && !this.failed) {
      this.failed = true;
      this.failedWith = failure;
    }
  }

  private recordFailure(error: unknown): void {
    const failure = classifyFailure(error, { responseStatus: this.responseStatus });
    this.failure = failure;
    this.responseStatus = finite(failure.httpStatus) ?? this.responseStatus;
    this.retryAfterS = finite(failure.retryAfterS) ?? this.retryAfterS;
    // SDK errors carry the response headers: request id and rate-limit state matter most on failures.
    const carrier = error as { headers?: unknown; requestID?: unknown } | null;
    if (carrier && typeof carrier === 'object') {
      const requestId = typeof carrier.requestID === 'string' ? carrier.requestID : undefined;
      if (carrier.headers && typeof carrier.headers === 'object') {
        this.noteHttp({ headers: carrier.headers as LlmHttpInfo['headers'], requestId });
      } else if (requestId) this.noteHttp({ requestId });
    }
    const message = shortMessage(error, failure.failureClass);
    const span = this.sdkSpan();
    span.setStatus({ code: SpanStatusCode.ERROR, message });
    // Name and message only: stacks and SDK error objects can hold request options (and API keys).
    const exceptionName = error instanceof Error ? error.constructor.name || error.name : failure.errorType;
    span.recordException(
      { name: exceptionName, message: error instanceof Error ? error.message : message },
      this.endPerfMs,
    );
  }

  /** Status, request id and retries as reported; the headers are kept and read by readHeaders() at finish. */
  protected noteHttp(info: LlmHttpInfo): void {
    if (!info) return;
    const status = finite(info.statusCode);
    if (status !== undefined) this.responseStatus = status;
    this.requestId = nonEmptyString(info.requestId) ?? this.requestId;
    if (info.headers) this.headers = info.headers;
    this.retryCount = finite(info.retryCount) ?? this.retryCount;
  }

  private readHeaders(headers: NonNullable<LlmHttpInfo['headers']>): void {
    // An id given explicitly (the SDK's requestID) wins over the header search.
    this.requestId ??= nonEmptyString(readFirstHeader(headers, REQUEST_ID_HEADERS));
    const names =
      this.request.provider === 'anthropic' ? REMAINING_HEADERS.anthropic : REMAINING_HEADERS.other;
    this.remainingRequests = readNumericHeader(headers, names.requests) ?? this.remainingRequests;
    this.remainingTokens = readNumericHeader(headers, names.tokens) ?? this.remainingTokens;
    // retry-after means something only on a refusal (429/503); a success's headers are not searched for it.
    if (!isSuccessStatus(this.responseStatus))
      this.retryAfterS = finite(readRetryAfterS(headers)) ?? this.retryAfterS;
  }

  /**
   * Every fact gathered during the call, the model columns and the output content, written to the span one
   * by one. Not built as one object for setAttributes(): the SDK stores each attribute separately anyway,
   * and that object (~17 keys added one at a time, so V8 keeps it as a hash table) and its for-in walk
   * cost ~1.5 KB of garbage per span, as much as the span's own attribute bookkeeping in core 3.x.
   */
  private writeEndAttributes(span: Span): void {
    this.writeRequestParameters(span, this.request);
    if (this.inputContent !== undefined) this.put(span, sc.ATTR_GEN_AI_INPUT_MESSAGES, this.inputContent);
    if (this.systemContent !== undefined)
      this.put(span, sc.ATTR_GEN_AI_SYSTEM_INSTRUCTIONS, this.systemContent);
    if (this.ttftMs !== undefined) {
      this.put(span, sc.ATTR_MODELWATCH_TIME_TO_FIRST_TOKEN_MS, this.ttftMs);
      this.put(span, sc.ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, this.ttftMs / 1000);
    }
    if (this.responseModel !== undefined) this.put(span, sc.ATTR_GEN_AI_RESPONSE_MODEL, this.responseModel);
    if (this.responseId !== undefined) this.put(span, sc.ATTR_GEN_AI_RESPONSE_ID, this.responseId);
    // The SDK copies array values, so the patcher's array is not kept by the span.
    if (this.finishReasons !== undefined)
      this.put(span, sc.ATTR_GEN_AI_RESPONSE_FINISH_REASONS, this.finishReasons as string[]);
    if (this.inputTokens !== undefined) this.put(span, sc.ATTR_GEN_AI_USAGE_INPUT_TOKENS, this.inputTokens);
    if (this.outputTokens !== undefined)
      this.put(span, sc.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS, this.outputTokens);
    if (this.cacheReadInputTokens !== undefined)
      this.put(span, sc.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, this.cacheReadInputTokens);
    if (this.cacheWriteInputTokens !== undefined) {
      // Both names: v1.41 consumers read cache_creation, the genai repo renamed it to cache_write.
      this.put(span, sc.ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, this.cacheWriteInputTokens);
      this.put(span, sc.ATTR_GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS, this.cacheWriteInputTokens);
    }
    if (this.reasoningOutputTokens !== undefined)
      this.put(span, sc.ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, this.reasoningOutputTokens);
    if (this.responseStatus !== undefined)
      this.put(span, sc.ATTR_HTTP_RESPONSE_STATUS_CODE, this.responseStatus);
    if (this.requestId !== undefined) this.put(span, sc.ATTR_MODELWATCH_PROVIDER_REQUEST_ID, this.requestId);
    if (this.remainingRequests !== undefined)
      this.put(span, sc.ATTR_MODELWATCH_RATELIMIT_REMAINING_REQUESTS, this.remainingRequests);
    if (this.remainingTokens !== undefined)
      this.put(span, sc.ATTR_MODELWATCH_RATELIMIT_REMAINING_TOKENS, this.remainingTokens);
    if (this.retryAfterS !== undefined) this.put(span, sc.ATTR_MODELWATCH_RETRY_AFTER_S, this.retryAfterS);
    if (this.retryCount !== undefined) this.put(span, sc.ATTR_MODELWATCH_RETRY_COUNT, this.retryCount);
    const failure = this.failure;
    if (failure !== undefined) {
      this.put(span, sc.ATTR_MODELWATCH_FAILURE_CLASS, failure.failureClass);
      this.put(span, sc.ATTR_MODELWATCH_FAILURE_ORIGIN, failure.origin);
      this.put(span, sc.ATTR_ERROR_TYPE, failure.errorType);
    }
    const model = modelColumnsFor(this.request.provider, this.request.requestModel, this.responseModel);
    if (model !== undefined) {
      this.put(span, sc.ATTR_MODELWATCH_MODEL_FAMILY, model.family);
      this.put(span, sc.ATTR_MODELWATCH_MODEL_VERSION, model.version);
      this.put(span, sc.ATTR_MODELWATCH_MODEL_SNAPSHOT, model.snapshot);
      if (model.resolved) this.put(span, sc.ATTR_MODELWATCH_MODEL_RESOLVED, model.resolved);
    }
    const output = contentAttribute(this.config, 'output', this.outputMessages);
    if (output !== undefined) this.put(span, sc.ATTR_GEN_AI_OUTPUT_MESSAGES, output);
  }

  /** Writes one attribute and follows the span's key sequence (attribute-shapes.ts). */
  private put(span: Span, key: string, value: AttributeValue): void {
    span.setAttribute(key, value);
    const shape = this.shape;
    if (shape !== undefined) this.shape = shape.then(key);
  }

  private putIfDefined(span: Span, key: string, value: FactValue): void {
    const recorded = recordable(value);
    if (recorded !== undefined) this.put(span, key, recorded);
  }

  /** The request attributes a sampler does not need, written with the end attributes. */
  private writeRequestParameters(span: Span, request: LlmRequestInfo): void {
    this.putIfDefined(span, sc.ATTR_GEN_AI_REQUEST_TEMPERATURE, request.temperature);
    this.putIfDefined(span, sc.ATTR_GEN_AI_REQUEST_TOP_P, request.topP);
    this.putIfDefined(span, sc.ATTR_GEN_AI_REQUEST_TOP_K, request.topK);
    this.putIfDefined(span, sc.ATTR_GEN_AI_REQUEST_MAX_TOKENS, request.maxTokens);
    this.putIfDefined(span, sc.ATTR_GEN_AI_REQUEST_FREQUENCY_PENALTY, request.frequencyPenalty);
    this.putIfDefined(span, sc.ATTR_GEN_AI_REQUEST_PRESENCE_PENALTY, request.presencePenalty);
    if (request.stopSequences && request.stopSequences.length > 0) {
      this.putIfDefined(span, sc.ATTR_GEN_AI_REQUEST_STOP_SEQUENCES, request.stopSequences);
    }
    this.putIfDefined(span, sc.ATTR_GEN_AI_REQUEST_SEED, request.seed);
    // The conventions record choice.count only when it differs from the default of 1.
    if (request.choiceCount !== undefined && request.choiceCount !== 1) {
      this.putIfDefined(span, sc.ATTR_GEN_AI_REQUEST_CHOICE_COUNT, request.choiceCount);
    }
    // gen_ai.request.stream is conditional "when streaming"; modelwatch.stream is always set so ingest can
    // split streaming from non-streaming latency without a null bucket.
    if (request.stream === true) this.put(span, sc.ATTR_GEN_AI_REQUEST_STREAM, true);
    this.put(span, sc.ATTR_MODELWATCH_STREAM, request.stream === true);
  }
}

/**
 * The span an LLM call hands out before the SDK's span exists. Creating the SDK span (ids, sampler, span
 * processor onStart, the SDK's self-metrics, attribute checks) was most of what the instrumentation added
 * on the caller's path: ~6 of ~10 µs per call in-process, ~10 of 27-30 µs in the overhead benchmark. Most
 * calls never need the span before they end: then it is created with the rest of the span's bookkeeping,
 * after the caller resumed (deferred-span-end.ts), with the start time and parent it would have had.
 *
 * Anything that needs the real span while the call runs gets it at once: spanContext() (a child span's
 * parent, `traceparent` injection, log correlation), writes and reads. So an HTTP client span started
 * inside the call is still this span's child, and with HTTP instrumentation installed the span is simply
 * created on the path as before. What differs: the span processor's onStart and the sampler run when the
 * span is created, not when the call started (with the same context, name, kind and attributes), and the
 * active span during the call is this object rather than the SDK's Span class.
 */
class DeferredSdkSpan implements Span {
  constructor(readonly call: RecordedLlmCall) {}

  spanContext(): SpanContext {
    return this.call.sdkSpan().spanContext();
  }
  setAttribute(key: string, value: AttributeValue): this {
    this.call.sdkSpan().setAttribute(key, value);
    this.call.hostWroteAttributes();
    return this;
  }
  setAttributes(attributes: Attributes): this {
    this.call.sdkSpan().setAttributes(attributes);
    this.call.hostWroteAttributes();
    return this;
  }
  addEvent(name: string, attributesOrStartTime?: Attributes | TimeInput, startTime?: TimeInput): this {
    this.call.sdkSpan().addEvent(name, attributesOrStartTime, startTime);
    return this;
  }
  addLink(link: Link): this {
    this.call.sdkSpan().addLink(link);
    return this;
  }
  addLinks(links: Link[]): this {
    this.call.sdkSpan().addLinks(links);
    return this;
  }
  setStatus(status: SpanStatus): this {
    this.call.sdkSpan().setStatus(status);
    return this;
  }
  updateName(name: string): this {
    this.call.sdkSpan().updateName(name);
    return this;
  }
  end(endTime?: TimeInput): void {
    this.call.sdkSpan().end(endTime);
  }
  isRecording(): boolean {
    return this.call.sdkSpan().isRecording();
  }
  recordException(exception: Exception, time?: TimeInput): void {
    this.call.sdkSpan().recordException(exception, time);
  }
}

/** The call whose span `span` is (the active span inside an SDK call), if it is one of ours. */
export function recordedCallOf(span: Span | undefined): RecordedLlmCall | undefined {
  return span instanceof DeferredSdkSpan ? span.call : undefined;
}

/** A non-empty string, else undefined (what setIfDefined kept). */
function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A finite number, else undefined. */
function finite(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function isSuccessStatus(status: number | undefined): boolean {
  return status !== undefined && status >= 200 && status <= 299;
}

// Every span of a process names the same few (provider, request model, response model) triples; the model
// columns for each are computed once. Dropped whole when full, like parseModelId's memo. Keyed by a Map per
// level rather than a joined string: no string is built per call.
const MAX_MEMOISED_MODEL_PAIRS = 256;
interface ModelColumns {
  family: string;
  version: string;
  snapshot: string;
  /** The raw id the columns came from (modelwatch.model.resolved). */
  resolved: string | undefined;
}
const modelColumnsMemo = new Map<string, Map<string, Map<string, ModelColumns | null>>>();
let memoisedModelPairs = 0;
const last: {
  provider: string | undefined;
  requestModel: string | undefined;
  responseModel: string | undefined;
  columns: ModelColumns | undefined;
} = { provider: undefined, requestModel: undefined, responseModel: undefined, columns: undefined };

/**
 * family/version/snapshot from the response model unless it is less specific than the request model:
 * Azure has answered `gpt-4` to a request for a dated deployment, Gemini answers with aliases. Both raw ids
 * stay on the span (gen_ai.request.model / gen_ai.response.model); modelwatch.model.resolved names the
 * one the columns came from. Undefined when neither id names a model.
 */
function modelColumnsFor(
  provider: string,
  requestModel: string | undefined,
  responseModel: string | undefined,
): ModelColumns | undefined {
  // Most processes call one model over and over: the last answer is checked before the memo.
  if (
    provider === last.provider &&
    requestModel === last.requestModel &&
    responseModel === last.responseModel
  )
    return last.columns;
  const byRequest = modelColumnsMemo.get(provider);
  const byResponse = byRequest?.get(requestModel ?? '');
  let columns = byResponse?.get(responseModel ?? '');
  if (columns === undefined) {
    columns = computeModelColumns(provider, requestModel, responseModel);
    if (memoisedModelPairs >= MAX_MEMOISED_MODEL_PAIRS) {
      modelColumnsMemo.clear();
      memoisedModelPairs = 0;
    }
    let requests = modelColumnsMemo.get(provider);
    if (requests === undefined) modelColumnsMemo.set(provider, (requests = new Map()));
    let responses = requests.get(requestModel ?? '');
    if (responses === undefined) requests.set(requestModel ?? '', (responses = new Map()));
    responses.set(responseModel ?? '', columns);
    memoisedModelPairs++;
  }
  last.provider = provider;
  last.requestModel = requestModel;
  last.responseModel = responseModel;
  last.columns = columns ?? undefined;
  return last.columns;
}

function computeModelColumns(
  provider: string,
  requestModel: string | undefined,
  responseModel: string | undefined,
): ModelColumns | null {
  const fromRequest = parseModelIdShared(requestModel, provider);
  const fromResponse = parseModelIdShared(responseModel, provider);
  const useResponse =
    fromResponse.family !== '' && modelIdSpecificity(fromResponse) >= modelIdSpecificity(fromRequest);
  const chosen = useResponse ? fromResponse : fromRequest;
  if (chosen.family === '') return null;
  return {
    family: chosen.family,
    version: chosen.version,
    snapshot: chosen.snapshot,
    resolved: (useResponse ? responseModel : requestModel) || undefined,
  };
}

/** A call whose span could not be created: every method is a no-op, the host call proceeds untouched. */
function nonRecordingCall(): LlmCall {
  const span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
  const noop = (): void => undefined;
  return { span, firstToken: noop, response: noop, http: noop, fail: noop, end: noop, endWithResult: noop };
}

const NO_OPTIONS: StartLlmCallOptions = {};
const UNKNOWN = 'unknown';

/**
 * Starts one LLM call's span: name `{operation} {requestModel}`, kind CLIENT, the attributes samplers may
 * use set at creation, everything else when the span is finished. The SDK span is created when first
 * needed, at the latest after the call ended (DeferredSdkSpan). Never throws.
 */
export function startLlmCall(
  tracer: Tracer,
  config: ResolvedInstrumentationConfig,
  request: LlmRequestInfo,
  options: StartLlmCallOptions = NO_OPTIONS,
): LlmCall {
  try {
    const parent = options.parentContext ?? context.active();
    return new RecordedLlmCall(tracer, config, request, parent, options.startTimeMs);
  } catch (error) {
    diag.debug('modelwatch: could not start an LLM span', error);
    return nonRecordingCall();
  }
}
