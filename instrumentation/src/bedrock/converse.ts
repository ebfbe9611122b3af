/**
 * Bedrock `ConverseCommand` / `ConverseStreamCommand`: input → LlmRequestInfo, output → LlmResponseInfo,
 * and the per-event state of a ConverseStream. Read structurally (only the fields used), so no AWS SDK
 * type crosses into the rest of the package. The Converse API has no response id or response model: the
 * request's `modelId` (inference profile or ARN) is what the version columns are parsed from.
 */
import type { LlmRequestInfo, LlmResponseInfo } from '../llm-call-types.js';
import { finiteNumber, messagesRequestBase, withModelParams, type RequestBase } from '../request-info.js';
import { mergeUncachedInputUsage } from '../token-usage.js';

/** The fields of ConverseRequest / ConverseStreamRequest we read. */
export interface ConverseInputLike {
  modelId?: unknown;
  messages?: unknown;
  system?: unknown;
  inferenceConfig?: {
    maxTokens?: unknown;
    temperature?: unknown;
    topP?: unknown;
    stopSequences?: unknown;
  } | null;
  additionalModelRequestFields?: unknown;
}

interface TokenUsageLike {
  inputTokens?: number;
  outputTokens?: number;
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
}

/** The fields of ConverseResponse we read. */
export interface ConverseOutputLike {
  output?: { message?: unknown } | null;
  stopReason?: string;
  usage?: TokenUsageLike | null;
}

/** One ConverseStream event (a tagged union: exactly one member is set). */
export interface ConverseStreamEventLike {
  contentBlockDelta?: { delta?: Record<string, unknown> | null; contentBlockIndex?: number } | null;
  messageStop?: { stopReason?: string } | null;
  metadata?: { usage?: TokenUsageLike | null } | null;
}

/** Stop reasons meaning the content was withheld by a guardrail or filter (the call returned normally). */
export const BEDROCK_CONTENT_FILTER_STOP_REASONS: ReadonlySet<string> = new Set([
  'guardrail_intervened',
  'content_filtered',
  'refusal',
]);

export function converseRequestInfo(
  input: ConverseInputLike,
  base: RequestBase & { stream: boolean },
): LlmRequestInfo {
  const info = messagesRequestBase(base, 'chat', base.stream, input.messages);
  const config =
    input.inferenceConfig && typeof input.inferenceConfig === 'object' ? input.inferenceConfig : {};
  // top_k is not part of inferenceConfig; Anthropic and Nova models take it as an additional field.
  const extra = input.additionalModelRequestFields as
    { top_k?: unknown; inferenceConfig?: { topK?: unknown } } | null | undefined;
  return withModelParams(info, {
    model: input.modelId,
    systemInstructions: input.system,
    maxTokens: config.maxTokens,
    temperature: config.temperature,
    topP: config.topP,
    stopSequences: config.stopSequences,
    topK: finiteNumber(extra?.top_k) ?? extra?.inferenceConfig?.topK,
  });
}

/** Converse reports inputTokens without the cached part; the conventions count cached tokens as input too. */
function usageInfo(usage: TokenUsageLike | null | undefined, into: LlmResponseInfo): void {
  if (!usage || typeof usage !== 'object') return;
  mergeUncachedInputUsage(into, {
    input: usage.inputTokens,
    output: usage.outputTokens,
    cacheRead: usage.cacheReadInputTokens,
    cacheWrite: usage.cacheWriteInputTokens,
  });
}

export function converseResponseInfo(output: ConverseOutputLike | undefined): LlmResponseInfo {
  const info: LlmResponseInfo = {};
  if (!output || typeof output !== 'object') return info;
  if (typeof output.stopReason === 'string') info.finishReasons = [output.stopReason];
  usageInfo(output.usage, info);
  if (output.output?.message !== undefined) info.outputMessages = [output.output.message];
  return info;
}

/** Accumulates a ConverseStream: stop reason from messageStop, usage from the trailing metadata event. */
export class ConverseStreamState {
  private readonly info: LlmResponseInfo = {};
  private readonly texts: string[] = [];

  /** Returns true when the event carries generated content (the first one is the time to first token). */
  add(event: ConverseStreamEventLike): boolean {
    if (!event || typeof event !== 'object') return false;
    const stopReason = event.messageStop?.stopReason;
    if (typeof stopReason === 'string') this.info.finishReasons = [stopReason];
    if (event.metadata) usageInfo(event.metadata.usage, this.info);
    const delta = event.contentBlockDelta?.delta;
    if (!delta || typeof delta !== 'object') return false;
    if (typeof delta.text === 'string') this.texts.push(delta.text);
    // text, toolUse input, reasoningContent, citations: any delta is content the model produced.
    return Object.keys(delta).length > 0;
  }

  responseInfo(): LlmResponseInfo {
    const info: LlmResponseInfo = { ...this.info };
    if (this.texts.length > 0)
      info.outputMessages = [{ role: 'assistant', content: [{ text: this.texts.join('') }] }];
    return info;
  }
}

/** The content-filter stop reason of a finished call, if its finish reasons contain one. */
export function contentFilterStopReason(info: LlmResponseInfo): string | undefined {
  return info.finishReasons?.find((reason) => BEDROCK_CONTENT_FILTER_STOP_REASONS.has(reason));
}

/**
 * What `LlmCall.fail` gets when a guardrail or filter withheld the answer without an error: the
 * classifier reads "content filter" as content_filter, and error.type becomes the stop reason.
 */
export function contentFilteredError(stopReason: string): Error & { code: string } {
  const error = new Error(`Bedrock content filter stopped the response (${stopReason})`) as Error & {
    code: string;
  };
  error.name = 'BedrockContentFiltered';
  error.code = stopReason;
  return error;
}
