/**
 * Reads GenAI facts from span attributes written by any instrumentation: the current OpenTelemetry GenAI
 * conventions, their deprecated names (gen_ai.system, gen_ai.usage.prompt_tokens, ...), and, as a
 * fallback, OpenLLMetry's `llm.*` and OpenInference's names. Each fact is a list of attribute names tried
 * in order, so adding a convention is one line.
 */
import {
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_REQUEST_STREAM,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_SYSTEM,
  ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_COMPLETION_TOKENS,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_GEN_AI_USAGE_PROMPT_TOKENS,
  ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
  ATTR_MODELWATCH_STREAM,
  modelIdSpecificity,
  parseModelId,
  type ParsedModelId,
} from '@modelwatch/instrumentation';
import type { AttrValue, Attributes } from '../otlp/otlp-types.js';

/** Attribute names per fact, most authoritative first. */
export const PROVIDER_KEYS = [
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_SYSTEM,
  'llm.provider',
  'llm.system',
  'llm.vendor',
] as const;
export const OPERATION_KEYS = [ATTR_GEN_AI_OPERATION_NAME, 'llm.request.type'] as const;
export const REQUEST_MODEL_KEYS = [ATTR_GEN_AI_REQUEST_MODEL, 'llm.request.model', 'llm.model_name'] as const;
export const RESPONSE_MODEL_KEYS = [ATTR_GEN_AI_RESPONSE_MODEL, 'llm.response.model'] as const;
export const INPUT_TOKEN_KEYS = [
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_PROMPT_TOKENS,
  'llm.usage.prompt_tokens',
  'llm.token_count.prompt',
] as const;
export const OUTPUT_TOKEN_KEYS = [
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_GEN_AI_USAGE_COMPLETION_TOKENS,
  'llm.usage.completion_tokens',
  'llm.token_count.completion',
] as const;
export const CACHE_READ_KEYS = [
  ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  'gen_ai.usage.cache_read_input_tokens',
  'llm.token_count.prompt_details.cache_read',
] as const;
/** The genai repo's cache_write name first, then the v1.41 cache_creation name. */
export const CACHE_WRITE_KEYS = [
  ATTR_GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  'gen_ai.usage.cache_creation_input_tokens',
  'llm.token_count.prompt_details.cache_write',
] as const;
export const REASONING_TOKEN_KEYS = [
  ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
  'llm.token_count.completion_details.reasoning',
] as const;
export const STREAM_KEYS = [ATTR_MODELWATCH_STREAM, ATTR_GEN_AI_REQUEST_STREAM, 'llm.is_streaming'] as const;

export function first(attributes: Attributes, keys: readonly string[]): AttrValue | undefined {
  for (const key of keys) {
    const value = attributes[key];
    if (value !== undefined && value !== null && value !== '') return value;
  }
  return undefined;
}

export function asString(value: AttrValue | undefined): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    return String(value);
  return '';
}

/** A finite number from a number, bigint or numeric string; undefined otherwise. */
export function asNumber(value: AttrValue | undefined): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && value !== '') {
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : undefined;
  }
  return undefined;
}

/** A count for an unsigned column: integer, clamped into [0, max]. */
export function asCount(value: AttrValue | undefined, max: number): number {
  const n = asNumber(value);
  if (n === undefined || n <= 0) return 0;
  return n >= max ? max : Math.trunc(n);
}

export function asFlag(value: AttrValue | undefined): 0 | 1 {
  if (value === true || value === 1 || value === 'true' || value === '1') return 1;
  return 0;
}

/** finish_reasons: a string array (current), a JSON array string, or a single string. */
export function asStringList(value: AttrValue | undefined): string[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value.map((item) => asString(item)).filter((item) => item !== '');
  if (typeof value === 'string') {
    if (value.startsWith('[')) {
      try {
        const parsed: unknown = JSON.parse(value);
        if (Array.isArray(parsed)) return parsed.map((item) => String(item));
      } catch {
        // Not JSON after all: keep the text as one reason.
      }
    }
    return value === '' ? [] : [value];
  }
  return [asString(value)];
}

/** Older and other-vendor spellings of gen_ai.provider.name values. */
const PROVIDER_ALIASES: Readonly<Record<string, string>> = {
  'az.ai.openai': 'azure.ai.openai',
  'az.ai.inference': 'azure.ai.inference',
  azure: 'azure.ai.openai',
  azure_openai: 'azure.ai.openai',
  azureopenai: 'azure.ai.openai',
  vertex_ai: 'gcp.vertex_ai',
  vertexai: 'gcp.vertex_ai',
  gemini: 'gcp.gemini',
  google: 'gcp.gen_ai',
  google_genai: 'gcp.gen_ai',
  bedrock: 'aws.bedrock',
  aws_bedrock: 'aws.bedrock',
  awsbedrock: 'aws.bedrock',
  xai: 'x_ai',
  mistral: 'mistral_ai',
  mistralai: 'mistral_ai',
  watsonx: 'ibm.watsonx.ai',
  'ibm.watsonx': 'ibm.watsonx.ai',
};

const providerCache = new Map<string, string>();

/** Lower-cased, aliases mapped to the current well-known value ('OpenAI' -> 'openai', 'vertex_ai' -> 'gcp.vertex_ai'). */
export function normalizeProvider(raw: string): string {
  let normalized = providerCache.get(raw);
  if (normalized === undefined) {
    const lower = raw.trim().toLowerCase();
    normalized = PROVIDER_ALIASES[lower] ?? lower;
    if (providerCache.size >= 1_000) providerCache.clear();
    providerCache.set(raw, normalized);
  }
  return normalized;
}

/** OpenLLMetry's llm.request.type values -> gen_ai.operation.name. */
const OPERATION_ALIASES: Readonly<Record<string, string>> = {
  completion: 'text_completion',
  embedding: 'embeddings',
  rerank: 'rerank',
};

export function normalizeOperation(raw: string): string {
  return OPERATION_ALIASES[raw] ?? raw;
}

const MODEL_CACHE_LIMIT = 10_000;
const modelCache = new Map<string, ParsedModelId>();

/** parseModelId, memoised per (model id, provider); the cache is dropped whole when it fills (ids are few). */
export function parseModelIdCached(modelId: string, provider: string): ParsedModelId {
  const key = `${provider}\u0000${modelId}`;
  let parsed = modelCache.get(key);
  if (parsed === undefined) {
    parsed = parseModelId(modelId, provider);
    if (modelCache.size >= MODEL_CACHE_LIMIT) modelCache.clear();
    modelCache.set(key, parsed);
  }
  return parsed;
}

/**
 * The parsed model for the version columns: the response model unless the request model is more specific
 * (Azure can answer "gpt-4" for a pinned deployment; Gemini can echo an alias), like the instrumentation.
 */
export function resolveModel(requestModel: string, responseModel: string, provider: string): ParsedModelId {
  if (responseModel === '') return parseModelIdCached(requestModel, provider);
  const response = parseModelIdCached(responseModel, provider);
  if (requestModel === '' || requestModel === responseModel) return response;
  const request = parseModelIdCached(requestModel, provider);
  return modelIdSpecificity(request) > modelIdSpecificity(response) ? request : response;
}
