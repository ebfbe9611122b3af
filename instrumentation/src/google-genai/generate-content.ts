/**
 * `models.generateContent` / `generateContentStream` of `@google/genai`: params → LlmRequestInfo, a
 * GenerateContentResponse (or the chunks of a stream) → LlmResponseInfo. Shapes are read structurally (only
 * the fields used), so majors 1–3 fit and no SDK type crosses into the rest of the package.
 */
import type { LlmRequestInfo, LlmResponseInfo } from '../llm-call-types.js';
import { finiteNumber, messagesRequestBase, withModelParams, type RequestBase } from '../request-info.js';

/** The fields of GenerateContentParameters we read. */
export interface GenerateContentParamsLike {
  model?: unknown;
  contents?: unknown;
  config?: {
    systemInstruction?: unknown;
    temperature?: unknown;
    topP?: unknown;
    topK?: unknown;
    maxOutputTokens?: unknown;
    candidateCount?: unknown;
    stopSequences?: unknown;
    presencePenalty?: unknown;
    frequencyPenalty?: unknown;
    seed?: unknown;
    abortSignal?: unknown;
  } | null;
}

interface UsageMetadataLike {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  cachedContentTokenCount?: number;
  thoughtsTokenCount?: number;
  toolUsePromptTokenCount?: number;
}

interface CandidateLike {
  index?: number;
  finishReason?: string;
  content?: { parts?: unknown[] } | null;
}

/** The fields of GenerateContentResponse we read. */
export interface GenerateContentResponseLike {
  candidates?: CandidateLike[] | null;
  usageMetadata?: UsageMetadataLike | null;
  modelVersion?: string;
  responseId?: string;
  promptFeedback?: { blockReason?: string } | null;
}

/**
 * Finish reasons that mean the provider withheld the content for policy reasons (the SDK returns normally,
 * but the caller got no answer): modelwatch counts them as content_filter failures.
 */
const CONTENT_FILTER_FINISH_REASONS = new Set([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
]);

export function generateContentRequestInfo(
  params: GenerateContentParamsLike,
  base: RequestBase & { stream: boolean },
): LlmRequestInfo {
  const info = messagesRequestBase(base, 'generate_content', base.stream, params.contents);
  const config = params.config && typeof params.config === 'object' ? params.config : {};
  return withModelParams(info, {
    model: params.model,
    systemInstructions: config.systemInstruction,
    temperature: config.temperature,
    topP: config.topP,
    topK: config.topK,
    maxTokens: config.maxOutputTokens,
    presencePenalty: config.presencePenalty,
    frequencyPenalty: config.frequencyPenalty,
    stopSequences: config.stopSequences,
    seed: config.seed,
    choiceCount: config.candidateCount,
  });
}

/**
 * Token counts: Gemini's promptTokenCount already includes cached tokens (cachedContentTokenCount is a
 * subset), while candidatesTokenCount excludes thinking tokens, which are billed as output; the conventions
 * count every output token in output_tokens with reasoning as a subset, so the two are added.
 */
function usageInfo(usage: UsageMetadataLike | null | undefined, into: LlmResponseInfo): void {
  if (!usage || typeof usage !== 'object') return;
  const prompt = finiteNumber(usage.promptTokenCount);
  const toolPrompt = finiteNumber(usage.toolUsePromptTokenCount);
  if (prompt !== undefined || toolPrompt !== undefined) into.inputTokens = (prompt ?? 0) + (toolPrompt ?? 0);
  const candidates = finiteNumber(usage.candidatesTokenCount);
  const thoughts = finiteNumber(usage.thoughtsTokenCount);
  if (candidates !== undefined || thoughts !== undefined)
    into.outputTokens = (candidates ?? 0) + (thoughts ?? 0);
  const cached = finiteNumber(usage.cachedContentTokenCount);
  if (cached !== undefined) into.cacheReadInputTokens = cached;
  if (thoughts !== undefined) into.reasoningOutputTokens = thoughts;
}

export function generateContentResponseInfo(
  response: GenerateContentResponseLike | undefined,
): LlmResponseInfo {
  const info: LlmResponseInfo = {};
  if (!response || typeof response !== 'object') return info;
  if (typeof response.modelVersion === 'string') info.responseModel = response.modelVersion;
  if (typeof response.responseId === 'string') info.responseId = response.responseId;
  const candidates = Array.isArray(response.candidates) ? response.candidates : [];
  const finishReasons = candidates
    .map((c) => c?.finishReason)
    .filter((r): r is string => typeof r === 'string');
  if (finishReasons.length > 0) info.finishReasons = finishReasons;
  usageInfo(response.usageMetadata, info);
  if (candidates.length > 0) info.outputMessages = candidates.map((c) => c?.content);
  return info;
}

/**
 * Why the provider withheld the answer, when it did: a blocked prompt (`promptFeedback.blockReason`, no
 * candidates) or a candidate stopped by a safety/recitation filter. Undefined for a normal answer.
 */
export function contentFilterReason(response: GenerateContentResponseLike | undefined): string | undefined {
  if (!response || typeof response !== 'object') return undefined;
  const blockReason = response.promptFeedback?.blockReason;
  if (typeof blockReason === 'string' && blockReason !== '' && blockReason !== 'BLOCKED_REASON_UNSPECIFIED') {
    return blockReason;
  }
  const candidates = Array.isArray(response.candidates) ? response.candidates : [];
  return candidates
    .map((c) => c?.finishReason)
    .find((r): r is string => typeof r === 'string' && CONTENT_FILTER_FINISH_REASONS.has(r));
}

/**
 * Accumulates a streamed response: ids and model from any chunk, the latest usage (Gemini sends running
 * counts; the last chunk has the totals), finish reasons per candidate index.
 */
export class GenerateContentStreamState {
  private readonly info: LlmResponseInfo = {};
  private readonly finishByIndex = new Map<number, string>();
  private blockReason: string | undefined;
  private readonly texts = new Map<number, string[]>();

  /** Returns true when the chunk carries content (the first such chunk is the time to first token). */
  add(chunk: GenerateContentResponseLike): boolean {
    if (!chunk || typeof chunk !== 'object') return false;
    if (typeof chunk.modelVersion === 'string') this.info.responseModel = chunk.modelVersion;
    if (typeof chunk.responseId === 'string') this.info.responseId = chunk.responseId;
    usageInfo(chunk.usageMetadata, this.info);
    const blockReason = contentFilterReason({ promptFeedback: chunk.promptFeedback });
    if (blockReason) this.blockReason = blockReason;
    let hasContent = false;
    const candidates = Array.isArray(chunk.candidates) ? chunk.candidates : [];
    candidates.forEach((candidate, position) => {
      const index = typeof candidate?.index === 'number' ? candidate.index : position;
      if (typeof candidate?.finishReason === 'string') this.finishByIndex.set(index, candidate.finishReason);
      const parts = candidate?.content?.parts;
      if (Array.isArray(parts) && parts.length > 0) {
        hasContent = true;
        for (const part of parts) {
          const text = (part as { text?: unknown } | null)?.text;
          if (typeof text === 'string') {
            const list = this.texts.get(index) ?? [];
            list.push(text);
            this.texts.set(index, list);
          }
        }
      }
    });
    return hasContent;
  }

  responseInfo(): LlmResponseInfo {
    const info: LlmResponseInfo = { ...this.info };
    const indexes = [...this.finishByIndex.keys()].sort((a, b) => a - b);
    if (indexes.length > 0) info.finishReasons = indexes.map((i) => this.finishByIndex.get(i)!);
    if (this.texts.size > 0) {
      info.outputMessages = [...this.texts.entries()]
        .sort(([a], [b]) => a - b)
        .map(([, parts]) => ({ role: 'model', parts: [{ text: parts.join('') }] }));
    }
    return info;
  }

  contentFilterReason(): string | undefined {
    return (
      this.blockReason ??
      contentFilterReason({
        candidates: [...this.finishByIndex.values()].map((finishReason) => ({ finishReason })),
      })
    );
  }
}

/**
 * What `LlmCall.fail` gets when the provider withheld the answer without an error: the classifier reads
 * "blocked by safety" as content_filter, and error.type becomes the provider's reason.
 */
export function contentFilteredError(reason: string): Error & { code: string } {
  const error = new Error(`Gemini blocked by safety filters (${reason})`) as Error & { code: string };
  error.name = 'GoogleGenAIContentBlocked';
  error.code = reason;
  return error;
}
