/** Embeddings (`client.embeddings.create`): params → LlmRequestInfo, the list response → usage and model. */
import type { LlmRequestInfo, LlmResponseInfo } from '../llm-call-types.js';
import { withModelParams, type RequestBase } from '../request-info.js';

export interface EmbeddingParamsLike {
  model?: unknown;
  input?: unknown;
}

interface EmbeddingResponseLike {
  model?: string;
  usage?: { prompt_tokens?: number } | null;
}

export function embeddingsRequestInfo(params: EmbeddingParamsLike, base: RequestBase): LlmRequestInfo {
  const info: LlmRequestInfo = {
    provider: base.provider,
    operation: 'embeddings',
    serverAddress: base.serverAddress,
    serverPort: base.serverPort,
  };
  return withModelParams(info, { model: params.model });
}

export function embeddingsResponseInfo(result: unknown): LlmResponseInfo {
  const response = (typeof result === 'object' && result !== null ? result : {}) as EmbeddingResponseLike;
  const info: LlmResponseInfo = {};
  if (typeof response.model === 'string') info.responseModel = response.model;
  if (typeof response.usage?.prompt_tokens === 'number') info.inputTokens = response.usage.prompt_tokens;
  return info;
}
