/** Public API of @modelwatch/instrumentation (re-exports only). */
export { register, type ModelwatchHandle, type RegisterOptions } from './register.js';
export {
  traceLLMCall,
  type ManualLlmCall,
  type TraceLlmCallOptions,
  type LlmUsageInfo,
} from './trace-llm-call.js';
export { parseModelId, modelIdSpecificity, type ParsedModelId } from './parse-model-id.js';
export { classifyFailure, type FailureClassification, type FailureContext } from './classify-failure.js';
export { providerFromBaseUrl, resolveProvider } from './provider-from-base-url.js';
export {
  resolveInstrumentationConfig,
  DEFAULT_MAX_CONTENT_LENGTH_BYTES,
  type ContentKind,
  type ModelwatchInstrumentationConfig,
  type ProviderOverride,
} from './config.js';
export { getModelwatchInstrumentations } from './instrumentations.js';
export { OpenAIInstrumentation } from './openai/instrumentation.js';
export { AnthropicInstrumentation } from './anthropic/instrumentation.js';
export { GoogleGenAIInstrumentation } from './google-genai/instrumentation.js';
export { BedrockRuntimeInstrumentation } from './bedrock/instrumentation.js';
export { startLlmCall, type StartLlmCallOptions } from './llm-call.js';
export { flushPendingLlmSpans, guardProviderFlush } from './deferred-span-end.js';
export { wrapAsyncIterable, wrapStreamIterator, type StreamHooks } from './wrap-stream.js';
export {
  DropCountingBatchSpanProcessor,
  type DropCountingBatchOptions,
} from './drop-counting-span-processor.js';
export type {
  LlmCall,
  LlmHttpInfo,
  LlmRequestInfo,
  LlmResponseInfo,
  LlmResultReader,
} from './llm-call-types.js';
export type { ResolvedInstrumentationConfig } from './internal-types.js';
export * from './semconv.js';
export { PACKAGE_VERSION } from './version.js';
