/**
 * Merging an API's token counts into an LlmResponseInfo, shared by every patcher. The patcher reads its
 * API's usage fields; these helpers keep the well-formed counts (usage objects are provider JSON).
 */
import type { LlmResponseInfo } from './llm-call-types.js';
import { finiteNumber } from './request-info.js';

/** One usage object's counts, as the provider sent them (any may be missing or not a number). */
export interface RawTokenCounts {
  input?: unknown;
  output?: unknown;
  cacheRead?: unknown;
  cacheWrite?: unknown;
  reasoning?: unknown;
}

/** For APIs whose input count already includes the cached tokens (OpenAI): each finite count as given. */
export function mergeTokenUsage(into: LlmResponseInfo, counts: RawTokenCounts): void {
  const input = finiteNumber(counts.input);
  if (input !== undefined) into.inputTokens = input;
  const output = finiteNumber(counts.output);
  if (output !== undefined) into.outputTokens = output;
  const cacheRead = finiteNumber(counts.cacheRead);
  if (cacheRead !== undefined) into.cacheReadInputTokens = cacheRead;
  const cacheWrite = finiteNumber(counts.cacheWrite);
  if (cacheWrite !== undefined) into.cacheWriteInputTokens = cacheWrite;
  const reasoning = finiteNumber(counts.reasoning);
  if (reasoning !== undefined) into.reasoningOutputTokens = reasoning;
}

/**
 * For APIs whose input count excludes cache reads and writes (Anthropic, Bedrock Converse): the GenAI
 * conventions count every input token in `gen_ai.usage.input_tokens`, so input is the sum of the three,
 * the cache parts are also recorded alone. Cache counts merged earlier (a stream's first event) count too.
 */
export function mergeUncachedInputUsage(into: LlmResponseInfo, counts: RawTokenCounts): void {
  const cacheRead = finiteNumber(counts.cacheRead);
  if (cacheRead !== undefined) into.cacheReadInputTokens = cacheRead;
  const cacheWrite = finiteNumber(counts.cacheWrite);
  if (cacheWrite !== undefined) into.cacheWriteInputTokens = cacheWrite;
  const input = finiteNumber(counts.input);
  if (input !== undefined)
    into.inputTokens = input + (into.cacheReadInputTokens ?? 0) + (into.cacheWriteInputTokens ?? 0);
  const output = finiteNumber(counts.output);
  if (output !== undefined) into.outputTokens = output;
}
