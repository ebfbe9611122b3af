/**
 * Bedrock `InvokeModelCommand` / `InvokeModelWithResponseStreamCommand`: the request and response bodies
 * are each model vendor's own JSON. Rather than one parser per vendor, fields are read by the names the
 * vendors use (first present wins), so one reader covers:
 *
 *   anthropic (Messages API)  max_tokens, temperature, top_p, top_k, stop_sequences, messages, system →
 *                             id, model, stop_reason, usage.{input_tokens, output_tokens, cache_*}
 *   amazon nova               inferenceConfig.{max_new_tokens, temperature, top_p, top_k, stopSequences} →
 *                             stopReason, usage.{inputTokens, outputTokens, cache*InputTokenCount}
 *   amazon titan text         textGenerationConfig.{maxTokenCount, temperature, topP, stopSequences}, inputText →
 *                             inputTextTokenCount, results[].{tokenCount, completionReason}
 *   meta llama                max_gen_len, temperature, top_p, prompt → prompt_token_count, generation_token_count, stop_reason
 *   mistral                   max_tokens, temperature, top_p, top_k, stop, prompt → outputs[].stop_reason | choices[].finish_reason
 *   cohere command            max_tokens, temperature, p, k, stop_sequences, message → finish_reason, generation_id
 *
 * Streams add `amazon-bedrock-invocationMetrics` ({inputTokenCount, outputTokenCount}) to the last chunk
 * for every vendor; those counts win, since they are what Bedrock bills.
 */
import type { LlmRequestInfo, LlmResponseInfo } from '../llm-call-types.js';
import { finiteNumber } from '../request-info.js';

type Json = Record<string, unknown>;

/** The fields of InvokeModelRequest we read. */
export interface InvokeModelInputLike {
  modelId?: unknown;
  body?: unknown;
}

/** The fields of InvokeModelResponse we read. */
export interface InvokeModelOutputLike {
  body?: unknown;
}

/** One InvokeModelWithResponseStream event: `{ chunk: { bytes } }` (exceptions are thrown by the iterator). */
export interface InvokeStreamEventLike {
  chunk?: { bytes?: unknown } | null;
}

const decoder = new TextDecoder();

const str = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

function obj(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

function firstOf<T>(read: (value: unknown) => T | undefined, ...values: unknown[]): T | undefined {
  for (const value of values) {
    const result = read(value);
    if (result !== undefined) return result;
  }
  return undefined;
}

function firstElement(value: unknown): Json | undefined {
  return Array.isArray(value) ? obj(value[0]) : undefined;
}

/** A body given as string, bytes (Uint8Array / Buffer / the SDK's Uint8ArrayBlobAdapter) → parsed JSON object. */
export function parseJsonBody(body: unknown): Json | undefined {
  try {
    const text =
      typeof body === 'string' ? body : body instanceof Uint8Array ? decoder.decode(body) : undefined;
    return text === undefined ? undefined : obj(JSON.parse(text));
  } catch {
    return undefined;
  }
}

export function invokeModelRequestInfo(
  input: InvokeModelInputLike,
  base: Pick<LlmRequestInfo, 'provider' | 'serverAddress' | 'serverPort'> & { stream: boolean },
): LlmRequestInfo {
  const body = parseJsonBody(input.body) ?? {};
  // Prompt-style bodies (titan, llama, mistral/cohere completions) are text completion; the rest is chat.
  const completion = body.prompt !== undefined || body.inputText !== undefined;
  const info: LlmRequestInfo = {
    provider: base.provider,
    operation: completion ? 'text_completion' : 'chat',
    serverAddress: base.serverAddress,
    serverPort: base.serverPort,
    stream: base.stream,
    inputMessages: body.messages ?? body.prompt ?? body.inputText ?? body.message,
  };
  if (typeof input.modelId === 'string') info.requestModel = input.modelId;
  if (body.system !== undefined) info.systemInstructions = body.system;
  const nova = obj(body.inferenceConfig);
  const titan = obj(body.textGenerationConfig);
  const maxTokens = firstOf(
    finiteNumber,
    body.max_tokens,
    body.max_gen_len,
    nova?.max_new_tokens,
    nova?.maxTokens,
    titan?.maxTokenCount,
  );
  if (maxTokens !== undefined) info.maxTokens = maxTokens;
  const temperature = firstOf(finiteNumber, body.temperature, nova?.temperature, titan?.temperature);
  if (temperature !== undefined) info.temperature = temperature;
  const topP = firstOf(finiteNumber, body.top_p, body.p, nova?.top_p, nova?.topP, titan?.topP);
  if (topP !== undefined) info.topP = topP;
  const topK = firstOf(finiteNumber, body.top_k, body.k, nova?.top_k, nova?.topK);
  if (topK !== undefined) info.topK = topK;
  const stop = body.stop_sequences ?? body.stop ?? nova?.stopSequences ?? titan?.stopSequences;
  if (Array.isArray(stop)) info.stopSequences = stop.filter((s): s is string => typeof s === 'string');
  return info;
}

/** Finish reason of a complete (or final-chunk) vendor body, whatever the vendor calls it. */
function finishReasonOf(body: Json): string | undefined {
  return firstOf(
    str,
    body.stop_reason,
    body.stopReason,
    body.finish_reason,
    body.completionReason,
    obj(body.delta)?.stop_reason, // anthropic message_delta
    obj(body.messageStop)?.stopReason, // nova stream
    firstElement(body.results)?.completionReason, // titan
    firstElement(body.outputs)?.stop_reason, // mistral completions
    firstElement(body.choices)?.finish_reason, // mistral chat
    firstElement(body.choices)?.stop_reason,
    firstElement(body.generations)?.finish_reason, // cohere generate
  );
}

/** Merges what one body (or stream chunk) says into `into`; later chunks overwrite earlier values. */
function mergeBody(body: Json, into: LlmResponseInfo): void {
  const message = obj(body.message); // anthropic message_start
  const id = firstOf(str, body.id, message?.id, body.generation_id, body.response_id);
  if (id !== undefined) into.responseId = id;
  const model = firstOf(str, body.model, message?.model);
  if (model !== undefined) into.responseModel = model;
  const finish = finishReasonOf(body);
  if (finish !== undefined) into.finishReasons = [finish];

  const usage = obj(body.usage) ?? obj(message?.usage) ?? obj(obj(body.metadata)?.usage);
  const cacheRead = firstOf(
    finiteNumber,
    usage?.cache_read_input_tokens,
    usage?.cacheReadInputTokenCount,
    usage?.cacheReadInputTokens,
  );
  const cacheWrite = firstOf(
    finiteNumber,
    usage?.cache_creation_input_tokens,
    usage?.cacheWriteInputTokenCount,
    usage?.cacheWriteInputTokens,
  );
  // Anthropic and Nova report input without the cached part; the conventions count cached tokens as input.
  const input = firstOf(
    finiteNumber,
    usage?.input_tokens,
    usage?.inputTokens,
    usage?.prompt_tokens,
    body.prompt_token_count,
    body.inputTextTokenCount,
  );
  if (input !== undefined) into.inputTokens = input + (cacheRead ?? 0) + (cacheWrite ?? 0);
  const titanOutput = Array.isArray(body.results)
    ? (body.results as unknown[]).reduce<number | undefined>((sum, r) => {
        const n = finiteNumber(obj(r)?.tokenCount);
        return n === undefined ? sum : (sum ?? 0) + n;
      }, undefined)
    : undefined;
  const output = firstOf(
    finiteNumber,
    usage?.output_tokens,
    usage?.outputTokens,
    usage?.completion_tokens,
    body.generation_token_count,
    body.totalOutputTextTokenCount,
    titanOutput,
  );
  if (output !== undefined) into.outputTokens = output;
  if (cacheRead !== undefined) into.cacheReadInputTokens = cacheRead;
  if (cacheWrite !== undefined) into.cacheWriteInputTokens = cacheWrite;

  const metrics = obj(body['amazon-bedrock-invocationMetrics']);
  const billedInput = finiteNumber(metrics?.inputTokenCount);
  if (billedInput !== undefined) into.inputTokens = billedInput + (cacheRead ?? 0) + (cacheWrite ?? 0);
  const billedOutput = finiteNumber(metrics?.outputTokenCount);
  if (billedOutput !== undefined) into.outputTokens = billedOutput;
}

export function invokeModelResponseInfo(output: InvokeModelOutputLike | undefined): LlmResponseInfo {
  const info: LlmResponseInfo = {};
  const body = parseJsonBody(output?.body);
  if (!body) return info;
  mergeBody(body, info);
  const content =
    body.content ??
    obj(body.output)?.message ??
    body.results ??
    body.generation ??
    body.outputs ??
    body.choices ??
    body.text;
  if (content !== undefined) info.outputMessages = content;
  return info;
}

/** Text a stream chunk adds, in any vendor's shape ('' when the chunk has none). */
function chunkText(body: Json): string {
  const delta = obj(body.delta);
  const nova = obj(obj(body.contentBlockDelta)?.delta);
  const text = firstOf(
    str,
    delta?.text, // anthropic content_block_delta (text_delta)
    delta?.partial_json, // anthropic tool input
    delta?.thinking,
    nova?.text,
    body.outputText, // titan
    body.generation, // llama
    firstElement(body.outputs)?.text, // mistral completions
    obj(firstElement(body.choices)?.delta)?.content, // mistral chat
    body.text, // cohere
  );
  return text ?? '';
}

/** Accumulates an InvokeModelWithResponseStream, chunk by chunk. */
export class InvokeStreamState {
  private readonly info: LlmResponseInfo = {};
  private readonly texts: string[] = [];

  /** Returns true when the chunk carries generated text (the first one is the time to first token). */
  add(event: InvokeStreamEventLike): boolean {
    const body = parseJsonBody(event?.chunk?.bytes);
    if (!body) return false;
    mergeBody(body, this.info);
    const text = chunkText(body);
    if (text === '') return false;
    this.texts.push(text);
    return true;
  }

  responseInfo(): LlmResponseInfo {
    const info: LlmResponseInfo = { ...this.info };
    if (this.texts.length > 0) info.outputMessages = [{ role: 'assistant', content: this.texts.join('') }];
    return info;
  }
}
