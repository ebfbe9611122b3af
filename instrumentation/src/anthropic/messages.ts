/**
 * Anthropic Messages (`client.messages.create`, `client.beta.messages.create`, and `messages.stream()`,
 * whose MessageStream calls `create({ stream: true })` on the same instance): params → LlmRequestInfo, a
 * Message → LlmResponseInfo, and the state of the SSE event stream.
 *
 * Anthropic's `input_tokens` excludes cache reads and writes; the GenAI conventions count every input
 * token in `gen_ai.usage.input_tokens`, so the three are added up and the cache parts also recorded alone.
 */
import type { LlmRequestInfo, LlmResponseInfo } from '../llm-call-types.js';
import { messagesRequestBase, withModelParams, type RequestBase } from '../request-info.js';
import { mergeUncachedInputUsage } from '../token-usage.js';
import type { StreamState } from '../stainless-sdk/observe-api-promise.js';

export interface MessageCreateParamsLike {
  model?: unknown;
  messages?: unknown;
  system?: unknown;
  stream?: unknown;
  max_tokens?: unknown;
  temperature?: unknown;
  top_p?: unknown;
  top_k?: unknown;
  stop_sequences?: unknown;
}

interface UsageLike {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
}

interface MessageLike {
  id?: string;
  model?: string;
  stop_reason?: string | null;
  content?: unknown;
  usage?: UsageLike | null;
}

export function messagesRequestInfo(params: MessageCreateParamsLike, base: RequestBase): LlmRequestInfo {
  const info = messagesRequestBase(base, 'chat', params.stream === true, params.messages);
  return withModelParams(info, {
    model: params.model,
    systemInstructions: params.system ?? undefined,
    maxTokens: params.max_tokens,
    temperature: params.temperature,
    topP: params.top_p,
    topK: params.top_k,
    stopSequences: params.stop_sequences,
  });
}

/** Token fields of a usage object (message, message_start or message_delta), merged into `into`. */
function mergeUsage(usage: UsageLike | null | undefined, into: LlmResponseInfo): void {
  if (!usage) return;
  mergeUncachedInputUsage(into, {
    input: usage.input_tokens,
    output: usage.output_tokens,
    cacheRead: usage.cache_read_input_tokens,
    cacheWrite: usage.cache_creation_input_tokens,
  });
}

export function messageResponseInfo(result: unknown, captureContent: boolean): LlmResponseInfo {
  const message = (typeof result === 'object' && result !== null ? result : {}) as MessageLike;
  const info: LlmResponseInfo = {};
  if (typeof message.id === 'string') info.responseId = message.id;
  if (typeof message.model === 'string') info.responseModel = message.model;
  if (typeof message.stop_reason === 'string') info.finishReasons = [message.stop_reason];
  mergeUsage(message.usage, info);
  if (captureContent) info.outputMessages = [{ role: 'assistant', content: message.content }];
  return info;
}

interface StreamEventLike {
  type?: string;
  message?: MessageLike;
  delta?: { type?: string; text?: string; stop_reason?: string | null };
  usage?: UsageLike | null;
}

const CONTENT_DELTAS = new Set(['text_delta', 'input_json_delta', 'thinking_delta', 'citations_delta']);

export class MessageStreamState implements StreamState {
  private readonly info: LlmResponseInfo = {};
  private text: string | undefined;
  private stopped = false;

  constructor(captureContent: boolean) {
    if (captureContent) this.text = '';
  }

  onChunk(chunk: unknown): boolean {
    const event = chunk as StreamEventLike | null | undefined;
    switch (event?.type) {
      case 'content_block_delta': {
        const delta = event.delta;
        if (this.text !== undefined && delta?.type === 'text_delta' && typeof delta.text === 'string')
          this.text += delta.text;
        return delta?.type !== undefined && CONTENT_DELTAS.has(delta.type);
      }
      case 'message_start': {
        const message = event.message;
        if (message) {
          if (typeof message.id === 'string') this.info.responseId = message.id;
          if (typeof message.model === 'string') this.info.responseModel = message.model;
          mergeUsage(message.usage, this.info);
        }
        return false;
      }
      case 'message_delta':
        if (typeof event.delta?.stop_reason === 'string') this.info.finishReasons = [event.delta.stop_reason];
        // message_delta usage is cumulative; newer API versions repeat the input counts here too.
        mergeUsage(event.usage, this.info);
        return false;
      case 'message_stop':
        this.stopped = true;
        return false;
      default:
        return false;
    }
  }

  get completed(): boolean {
    return this.stopped || this.info.finishReasons !== undefined;
  }

  result(): LlmResponseInfo {
    const info = { ...this.info };
    if (this.text !== undefined) info.outputMessages = [{ role: 'assistant', content: this.text }];
    return info;
  }
}
