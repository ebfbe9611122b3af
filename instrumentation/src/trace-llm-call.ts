/**
 * The manual API, for LLM calls no patcher covers (a raw fetch to a provider, an in-house gateway client):
 *
 *   const text = await traceLLMCall({ provider: 'openai', model: 'gpt-4o', operation: 'chat' }, async (call) => {
 *     const res = await myClient.complete(prompt);
 *     call.response({ responseModel: res.model, inputTokens: res.usage.in, outputTokens: res.usage.out });
 *     return res.text;
 *   });
 *
 * Uses the global tracer provider, so it works with `register()`, with an existing NodeSDK, or as a
 * no-op when no SDK is installed.
 */
import { context, trace, type Span } from '@opentelemetry/api';
import { resolveInstrumentationConfig, type ModelwatchInstrumentationConfig } from './config.js';
import type { ResolvedInstrumentationConfig } from './internal-types.js';
import { startLlmCall } from './llm-call.js';
import type { LlmHttpInfo, LlmRequestInfo, LlmResponseInfo } from './llm-call-types.js';
import { INSTRUMENTATION_SCOPE } from './semconv.js';
import { PACKAGE_VERSION } from './version.js';

export interface TraceLlmCallOptions extends Omit<LlmRequestInfo, 'requestModel' | 'operation'> {
  /** gen_ai.request.model. */
  model?: string;
  /** gen_ai.operation.name. @default 'chat' */
  operation?: string;
  /** Content capture etc. for this call; defaults to the config given to register(), else env defaults. */
  config?: ModelwatchInstrumentationConfig;
}

export type LlmUsageInfo = Pick<
  LlmResponseInfo,
  'inputTokens' | 'outputTokens' | 'cacheReadInputTokens' | 'cacheWriteInputTokens' | 'reasoningOutputTokens'
>;

/** What the callback of traceLLMCall reports through. Every method is safe to call any number of times. */
export interface ManualLlmCall {
  readonly span: Span;
  /** Response facts (model, id, finish reasons, tokens, output messages). */
  response(info: LlmResponseInfo): void;
  /** Token usage only (same as response() with token fields). */
  usage(info: LlmUsageInfo): void;
  /** The first streamed token arrived (only the first call counts). */
  firstToken(): void;
  /** HTTP status, response headers, request id, retry count. */
  http(info: LlmHttpInfo): void;
}

let defaultConfig: ResolvedInstrumentationConfig | undefined;

/** register() hands its instrumentation config here so manual calls capture content the same way. */
export function setManualCallConfig(config: ModelwatchInstrumentationConfig | undefined): void {
  defaultConfig = config === undefined ? undefined : resolveInstrumentationConfig(config);
}

/**
 * Runs `fn` inside a span for one LLM call. The span is the active span during `fn` (HTTP spans nest
 * under it). If `fn` throws or rejects, the failure is classified and recorded and the ORIGINAL error is
 * rethrown unchanged; the span ends exactly once either way.
 */
export async function traceLLMCall<T>(
  options: TraceLlmCallOptions,
  fn: (call: ManualLlmCall) => Promise<T> | T,
): Promise<T> {
  const { model, operation, config, ...rest } = options;
  const resolved = config
    ? resolveInstrumentationConfig(config)
    : (defaultConfig ??= resolveInstrumentationConfig());
  const tracer = trace.getTracer(INSTRUMENTATION_SCOPE, PACKAGE_VERSION);
  const call = startLlmCall(tracer, resolved, {
    ...rest,
    requestModel: model,
    operation: operation ?? 'chat',
  });
  const manual: ManualLlmCall = {
    span: call.span,
    response: (info) => call.response(info),
    usage: (info) => call.response(info),
    firstToken: () => call.firstToken(),
    http: (info) => call.http(info),
  };
  let result: T;
  try {
    result = await context.with(trace.setSpan(context.active(), call.span), () => fn(manual));
  } catch (error) {
    call.fail(error);
    throw error;
  }
  call.end();
  return result;
}
