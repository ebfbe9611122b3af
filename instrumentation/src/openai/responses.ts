/**
 * The Responses API (`client.responses.create`, and `responses.stream()` which calls it): params →
 * LlmRequestInfo, a Response object → LlmResponseInfo, and the state of its SSE event stream
 * (`response.created` … `response.output_text.delta` … `response.completed`).
 *
 * The Responses API has no finish reason; we derive one so dashboards can treat both OpenAI APIs alike:
 * 'stop' for a completed response, 'tool_calls' when it ends in a function call, the incomplete reason
 * (e.g. 'max_output_tokens') when cut short.
 */
import type { LlmRequestInfo, LlmResponseInfo } from '../llm-call-types.js';
import { messagesRequestBase, withModelParams, type RequestBase } from '../request-info.js';
import { mergeTokenUsage } from '../token-usage.js';
import type { StreamState } from '../stainless-sdk/observe-api-promise.js';

export interface ResponseCreateParamsLike {
  model?: unknown;
  input?: unknown;
  instructions?: unknown;
  stream?: unknown;
  temperature?: unknown;
  top_p?: unknown;
  max_output_tokens?: unknown;
}

interface ResponseLike {
  id?: string;
  model?: string;
  status?: string;
  error?: { code?: string; message?: string } | null;
  incomplete_details?: { reason?: string } | null;
  output?: Array<{ type?: string }>;
  usage?: {
    input_tokens?: number;
    output_tokens?: number;
    input_tokens_details?: { cached_tokens?: number } | null;
    output_tokens_details?: { reasoning_tokens?: number } | null;
  } | null;
}

export function responsesRequestInfo(params: ResponseCreateParamsLike, base: RequestBase): LlmRequestInfo {
  const info = messagesRequestBase(base, 'chat', params.stream === true, params.input);
  return withModelParams(info, {
    model: params.model,
    systemInstructions: params.instructions ?? undefined,
    temperature: params.temperature,
    topP: params.top_p,
    maxTokens: params.max_output_tokens,
  });
}

function finishReason(response: ResponseLike): string | undefined {
  switch (response.status) {
    case 'completed':
      return response.output?.some((item) => item.type === 'function_call') ? 'tool_calls' : 'stop';
    case 'incomplete':
      return response.incomplete_details?.reason ?? 'incomplete';
    case 'failed':
      return 'error';
    case 'cancelled':
      return 'cancelled';
    default:
      return undefined;
  }
}

export function responsesResponseInfo(result: unknown, captureContent: boolean): LlmResponseInfo {
  const response = (typeof result === 'object' && result !== null ? result : {}) as ResponseLike;
  const info: LlmResponseInfo = {};
  if (typeof response.id === 'string') info.responseId = response.id;
  if (typeof response.model === 'string') info.responseModel = response.model;
  const reason = finishReason(response);
  if (reason !== undefined) info.finishReasons = [reason];
  const usage = response.usage;
  if (usage) {
    mergeTokenUsage(info, {
      input: usage.input_tokens,
      output: usage.output_tokens,
      cacheRead: usage.input_tokens_details?.cached_tokens,
      reasoning: usage.output_tokens_details?.reasoning_tokens,
    });
  }
  if (captureContent && Array.isArray(response.output)) info.outputMessages = response.output;
  return info;
}

/**
 * A `status: 'failed'` response arrives as a 200 (or as a `response.failed` event) rather than an HTTP
 * error; turn it into an error the classifier understands (its `code` is the provider's, e.g.
 * 'server_error', 'rate_limit_exceeded').
 */
export function failedResponseError(result: unknown): Error | undefined {
  const response = result as ResponseLike | null | undefined;
  if (!response || response.status !== 'failed') return undefined;
  const error = new Error(response.error?.message ?? 'response failed');
  error.name = 'ResponseFailedError';
  return Object.assign(error, { code: response.error?.code ?? 'response_failed' });
}

const CONTENT_EVENTS = new Set([
  'response.output_text.delta',
  'response.refusal.delta',
  'response.function_call_arguments.delta',
  'response.reasoning_text.delta',
  'response.reasoning_summary_text.delta',
]);
const TERMINAL_EVENTS = new Set(['response.completed', 'response.incomplete', 'response.failed']);

interface ResponseEventLike {
  type?: string;
  response?: unknown;
}

export class ResponsesStreamState implements StreamState {
  private info: LlmResponseInfo = {};
  private terminal: unknown;

  constructor(private readonly captureContent: boolean) {}

  onChunk(chunk: unknown): boolean {
    const event = chunk as ResponseEventLike | null | undefined;
    const type = event?.type;
    if (type === undefined) return false;
    if (CONTENT_EVENTS.has(type)) return true;
    if (type === 'response.created' && event!.response) {
      this.info = { ...responsesResponseInfo(event!.response, false), finishReasons: undefined };
    } else if (TERMINAL_EVENTS.has(type) && event!.response) {
      this.terminal = event!.response;
      this.info = responsesResponseInfo(event!.response, this.captureContent);
    }
    return false;
  }

  get completed(): boolean {
    return this.terminal !== undefined;
  }

  /** The error for a `response.failed` terminal event, if that is how the stream ended. */
  failure(): Error | undefined {
    return failedResponseError(this.terminal);
  }

  result(): LlmResponseInfo {
    const info = { ...this.info };
    if (info.finishReasons === undefined) delete info.finishReasons;
    return info;
  }
}
