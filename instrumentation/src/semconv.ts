/**
 * Every span attribute name modelwatch writes or reads, in one place. Code, ingest normalisation,
 * dashboards and tests import these instead of repeating strings.
 *
 * GenAI names follow the OpenTelemetry GenAI semantic conventions (Development status; names as of
 * semantic-conventions v1.41 / the semantic-conventions-genai repo). `modelwatch.*` names are ours.
 */

// --- OpenTelemetry GenAI semantic conventions -------------------------------------------------------
export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name' as const;
export const ATTR_GEN_AI_PROVIDER_NAME = 'gen_ai.provider.name' as const;
/** Deprecated predecessor of gen_ai.provider.name; still read by ingest (older instrumentations emit it). */
export const ATTR_GEN_AI_SYSTEM = 'gen_ai.system' as const;
export const ATTR_GEN_AI_REQUEST_MODEL = 'gen_ai.request.model' as const;
export const ATTR_GEN_AI_REQUEST_TEMPERATURE = 'gen_ai.request.temperature' as const;
export const ATTR_GEN_AI_REQUEST_TOP_P = 'gen_ai.request.top_p' as const;
export const ATTR_GEN_AI_REQUEST_TOP_K = 'gen_ai.request.top_k' as const;
export const ATTR_GEN_AI_REQUEST_MAX_TOKENS = 'gen_ai.request.max_tokens' as const;
export const ATTR_GEN_AI_REQUEST_FREQUENCY_PENALTY = 'gen_ai.request.frequency_penalty' as const;
export const ATTR_GEN_AI_REQUEST_PRESENCE_PENALTY = 'gen_ai.request.presence_penalty' as const;
export const ATTR_GEN_AI_REQUEST_STOP_SEQUENCES = 'gen_ai.request.stop_sequences' as const;
export const ATTR_GEN_AI_REQUEST_SEED = 'gen_ai.request.seed' as const;
export const ATTR_GEN_AI_REQUEST_CHOICE_COUNT = 'gen_ai.request.choice.count' as const;
export const ATTR_GEN_AI_REQUEST_STREAM = 'gen_ai.request.stream' as const;
export const ATTR_GEN_AI_OUTPUT_TYPE = 'gen_ai.output.type' as const;
export const ATTR_GEN_AI_RESPONSE_ID = 'gen_ai.response.id' as const;
export const ATTR_GEN_AI_RESPONSE_MODEL = 'gen_ai.response.model' as const;
export const ATTR_GEN_AI_RESPONSE_FINISH_REASONS = 'gen_ai.response.finish_reasons' as const;
/** Seconds, double; recommended for streaming calls. We also write modelwatch.time_to_first_token_ms. */
export const ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK = 'gen_ai.response.time_to_first_chunk' as const;
export const ATTR_GEN_AI_USAGE_INPUT_TOKENS = 'gen_ai.usage.input_tokens' as const;
export const ATTR_GEN_AI_USAGE_OUTPUT_TOKENS = 'gen_ai.usage.output_tokens' as const;
export const ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = 'gen_ai.usage.cache_read.input_tokens' as const;
/** v1.41 name; the genai repo renames it to gen_ai.usage.cache_write.input_tokens. Ingest reads both. */
export const ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS =
  'gen_ai.usage.cache_creation.input_tokens' as const;
export const ATTR_GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS = 'gen_ai.usage.cache_write.input_tokens' as const;
export const ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS = 'gen_ai.usage.reasoning.output_tokens' as const;
/** Deprecated token names, read by ingest only. */
export const ATTR_GEN_AI_USAGE_PROMPT_TOKENS = 'gen_ai.usage.prompt_tokens' as const;
export const ATTR_GEN_AI_USAGE_COMPLETION_TOKENS = 'gen_ai.usage.completion_tokens' as const;
export const ATTR_GEN_AI_CONVERSATION_ID = 'gen_ai.conversation.id' as const;
/** Opt-in content capture (JSON strings on the span, capped and redacted first). */
export const ATTR_GEN_AI_INPUT_MESSAGES = 'gen_ai.input.messages' as const;
export const ATTR_GEN_AI_OUTPUT_MESSAGES = 'gen_ai.output.messages' as const;
export const ATTR_GEN_AI_SYSTEM_INSTRUCTIONS = 'gen_ai.system_instructions' as const;

// --- General semantic conventions (stable) -----------------------------------------------------------
export const ATTR_ERROR_TYPE = 'error.type' as const;
export const ATTR_SERVER_ADDRESS = 'server.address' as const;
export const ATTR_SERVER_PORT = 'server.port' as const;
export const ATTR_HTTP_RESPONSE_STATUS_CODE = 'http.response.status_code' as const;
export const ATTR_SERVICE_NAME = 'service.name' as const;
export const ATTR_DEPLOYMENT_ENVIRONMENT_NAME = 'deployment.environment.name' as const;
/** Older name of deployment.environment.name, still common in resource attributes. */
export const ATTR_DEPLOYMENT_ENVIRONMENT = 'deployment.environment' as const;

// --- modelwatch ---------------------------------------------------------------------------------------
export const ATTR_MODELWATCH_MODEL_FAMILY = 'modelwatch.model.family' as const;
export const ATTR_MODELWATCH_MODEL_VERSION = 'modelwatch.model.version' as const;
export const ATTR_MODELWATCH_MODEL_SNAPSHOT = 'modelwatch.model.snapshot' as const;
/** The model id the version columns were parsed from (response model unless less specific than the request). */
export const ATTR_MODELWATCH_MODEL_RESOLVED = 'modelwatch.model.resolved' as const;
export const ATTR_MODELWATCH_FAILURE_CLASS = 'modelwatch.failure.class' as const;
export const ATTR_MODELWATCH_FAILURE_ORIGIN = 'modelwatch.failure.origin' as const;
export const ATTR_MODELWATCH_STREAM = 'modelwatch.stream' as const;
export const ATTR_MODELWATCH_TIME_TO_FIRST_TOKEN_MS = 'modelwatch.time_to_first_token_ms' as const;
export const ATTR_MODELWATCH_RETRY_COUNT = 'modelwatch.retry.count' as const;
export const ATTR_MODELWATCH_PROVIDER_REQUEST_ID = 'modelwatch.provider.request_id' as const;
export const ATTR_MODELWATCH_RATELIMIT_REMAINING_REQUESTS =
  'modelwatch.ratelimit.remaining_requests' as const;
export const ATTR_MODELWATCH_RATELIMIT_REMAINING_TOKENS = 'modelwatch.ratelimit.remaining_tokens' as const;
/** Seconds the provider asked us to wait (retry-after), when it said so. */
export const ATTR_MODELWATCH_RETRY_AFTER_S = 'modelwatch.retry_after_s' as const;

// --- Values ---------------------------------------------------------------------------------------------
/** gen_ai.operation.name values modelwatch emits. */
export const GEN_AI_OPERATIONS = ['chat', 'text_completion', 'generate_content', 'embeddings'] as const;
export type GenAiOperation = (typeof GEN_AI_OPERATIONS)[number];

/** Well-known gen_ai.provider.name values (the API format spoken, not the upstream vendor). */
export const GEN_AI_PROVIDERS = [
  'openai',
  'anthropic',
  'aws.bedrock',
  'azure.ai.openai',
  'azure.ai.inference',
  'gcp.vertex_ai',
  'gcp.gemini',
  'gcp.gen_ai',
  'cohere',
  'deepseek',
  'groq',
  'ibm.watsonx.ai',
  'mistral_ai',
  'perplexity',
  'x_ai',
  'openrouter',
  'together_ai',
  'fireworks_ai',
  'ollama',
] as const;
export type KnownProvider = (typeof GEN_AI_PROVIDERS)[number];

export const FAILURE_CLASSES = [
  'rate_limited',
  'overloaded',
  'server_error',
  'timeout',
  'connection',
  'auth',
  'bad_request',
  'context_length',
  'content_filter',
  'cancelled',
  'unknown',
] as const;
export type FailureClass = (typeof FAILURE_CLASSES)[number];

export const FAILURE_ORIGINS = ['provider', 'client', 'network'] as const;
export type FailureOrigin = (typeof FAILURE_ORIGINS)[number];

/** The instrumentation scope name of every span this package creates. */
export const INSTRUMENTATION_SCOPE = '@modelwatch/instrumentation' as const;
