/**
 * Chat Completions (`client.chat.completions.create`, and the `.stream()` / runner helpers that call it):
 * request params → LlmRequestInfo, a ChatCompletion → LlmResponseInfo, and the per-chunk state of a
 * streamed completion. Shapes are read structurally (only the fields used) so openai 6 and 7 both fit and
 * no SDK type crosses into the rest of the package.
 */
import type { LlmRequestInfo, LlmResponseInfo } from '../llm-call-types.js';
import { finiteNumber, messagesRequestBase, withModelParams, type RequestBase } from '../request-info.js';
import { mergeTokenUsage } from '../token-usage.js';
import type { StreamState } from '../stainless-sdk/observe-api-promise.js';

/** The fields of ChatCompletionCreateParams we read. */
export interface ChatCompletionParamsLike {
  model?: unknown;
  messages?: unknown;
  stream?: unknown;
  temperature?: unknown;
  top_p?: unknown;
  max_tokens?: unknown;
  max_completion_tokens?: unknown;
  frequency_penalty?: unknown;
  presence_penalty?: unknown;
  stop?: unknown;
  seed?: unknown;
  n?: unknown;
  response_format?: unknown;
}

interface UsageLike {
  prompt_tokens?: number;
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
  completion_tokens_details?: { reasoning_tokens?: number } | null;
}

interface ChoiceLike {
  index?: number;
  finish_reason?: string | null;
  message?: unknown;
  delta?: {
    content?: string | null;
    refusal?: string | null;
    tool_calls?: unknown[] | null;
    role?: string;
  } | null;
}

interface ChatCompletionLike {
  id?: string;
  model?: string;
  choices?: ChoiceLike[];
  usage?: UsageLike | null;
}

export function chatRequestInfo(params: ChatCompletionParamsLike, base: RequestBase): LlmRequestInfo {
  const info = messagesRequestBase(base, 'chat', params.stream === true, params.messages);
  return withModelParams(info, {
    model: params.model,
    temperature: params.temperature,
    topP: params.top_p,
    // max_completion_tokens replaced max_tokens (which reasoning models reject); either may be set.
    maxTokens: finiteNumber(params.max_completion_tokens) ?? params.max_tokens,
    frequencyPenalty: params.frequency_penalty,
    presencePenalty: params.presence_penalty,
    stopSequences: typeof params.stop === 'string' ? [params.stop] : params.stop,
    seed: params.seed,
    // The default of 1 is left out, as the conventions do.
    choiceCount: params.n === 1 ? undefined : params.n,
  });
}

function usageInfo(usage: UsageLike | null | undefined, into: LlmResponseInfo): void {
  if (!usage) return;
  mergeTokenUsage(into, {
    input: usage.prompt_tokens,
    output: usage.completion_tokens,
    cacheRead: usage.prompt_tokens_details?.cached_tokens,
    reasoning: usage.completion_tokens_details?.reasoning_tokens,
  });
}

export function chatResponseInfo(result: unknown, captureContent: boolean): LlmResponseInfo {
  const completion = (typeof result === 'object' && result !== null ? result : {}) as ChatCompletionLike;
  const info: LlmResponseInfo = {};
  if (typeof completion.model === 'string') info.responseModel = completion.model;
  if (typeof completion.id === 'string') info.responseId = completion.id;
  const choices = Array.isArray(completion.choices) ? completion.choices : [];
  if (choices.length > 0) info.finishReasons = choices.map((c) => c.finish_reason ?? 'unknown');
  usageInfo(completion.usage, info);
  if (captureContent) info.outputMessages = choices.map((c) => c.message);
  return info;
}

/**
 * Reads `chat.completion.chunk`s as they pass. Finish reasons are kept per choice index (choices finish
 * independently when n > 1); usage arrives in a last chunk with no choices when
 * `stream_options.include_usage` is set.
 */
export class ChatCompletionStreamState implements StreamState {
  private readonly finishReasons: string[] = [];
  private readonly texts: string[] | undefined;
  private readonly info: LlmResponseInfo = {};

  constructor(captureContent: boolean) {
    this.texts = captureContent ? [] : undefined;
  }

  /** Returns true when the chunk carries generated content (text, refusal or a tool call). */
  onChunk(chunk: unknown): boolean {
    const c = chunk as ChatCompletionLike | null | undefined;
    if (!c) return false;
    if (this.info.responseId === undefined && typeof c.id === 'string') this.info.responseId = c.id;
    if (this.info.responseModel === undefined && typeof c.model === 'string' && c.model !== '')
      this.info.responseModel = c.model;
    if (c.usage) usageInfo(c.usage, this.info);
    const choices = c.choices;
    if (!Array.isArray(choices)) return false;
    let content = false;
    for (let i = 0; i < choices.length; i++) {
      const choice = choices[i]!;
      const index = typeof choice.index === 'number' ? choice.index : i;
      const delta = choice.delta;
      if (delta) {
        if (delta.content) {
          content = true;
          if (this.texts) this.texts[index] = (this.texts[index] ?? '') + delta.content;
        } else if (delta.refusal || (delta.tool_calls && delta.tool_calls.length > 0)) {
          content = true;
        }
      }
      if (choice.finish_reason) this.finishReasons[index] = choice.finish_reason;
    }
    return content;
  }

  get completed(): boolean {
    return this.finishReasons.length > 0;
  }

  /** Called once the stream ended; a fresh object each time (the accumulated one stays ours). */
  result(): LlmResponseInfo {
    const info: LlmResponseInfo = {
      responseId: this.info.responseId,
      responseModel: this.info.responseModel,
      inputTokens: this.info.inputTokens,
      outputTokens: this.info.outputTokens,
      cacheReadInputTokens: this.info.cacheReadInputTokens,
      reasoningOutputTokens: this.info.reasoningOutputTokens,
    };
    const count = this.finishReasons.length;
    if (count > 0) {
      // A plain loop: the array is holey when n > 1 and a choice never finished.
      const reasons: string[] = new Array<string>(count);
      for (let i = 0; i < count; i++) reasons[i] = this.finishReasons[i] ?? 'unknown';
      info.finishReasons = reasons;
    }
    if (this.texts) info.outputMessages = this.texts.map((text) => ({ role: 'assistant', content: text }));
    return info;
  }
}
