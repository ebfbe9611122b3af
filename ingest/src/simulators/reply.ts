/**
 * The scriptable reply model every provider simulator speaks (OpenAI, Anthropic, and later Google and
 * Bedrock). A scenario (a test, the benchmark, `modelwatch demo`) decides per request *what* happens;
 * each provider server decides *how* that looks on its wire format. Keeping the two apart is what lets one
 * traffic script drive every provider.
 */

/** Provider-neutral error kinds; each server maps them to its own body `type`/`code` and default status. */
export type SimulatedErrorType =
  | 'rate_limit'
  | 'overloaded'
  | 'server'
  | 'unavailable'
  | 'invalid_request'
  | 'context_length'
  | 'content_filter'
  | 'auth'
  | 'permission'
  | 'not_found';

/** Rate-limit budget left, sent in the provider's own header names. */
export interface SimulatedRateLimit {
  remainingRequests?: number;
  remainingTokens?: number;
}

interface ReplyCommon {
  /** Extra response headers (sent as given, after the provider's own). */
  headers?: Record<string, string>;
  rateLimit?: SimulatedRateLimit;
  /** Provider request id header value; a fresh one is generated when absent. */
  requestId?: string;
}

interface ContentReply extends ReplyCommon {
  /** Response model; defaults to the request's model (real APIs often answer with a dated snapshot). */
  model?: string;
  /** Completion text; defaults to a short fixed sentence. */
  text?: string;
  inputTokens?: number;
  outputTokens?: number;
  /** Provider-native finish/stop reason, e.g. 'stop', 'length', 'content_filter', 'end_turn', 'max_tokens'. */
  finishReason?: string;
}

export interface SuccessReply extends ContentReply {
  kind: 'success';
  /** Time before the response headers are sent. */
  delayMs?: number;
}

export interface StreamReply extends ContentReply {
  kind: 'stream';
  /** Time before the headers and the first content chunk. */
  firstTokenDelayMs?: number;
  /** Time between content chunks. */
  chunkDelayMs?: number;
  /** Number of content chunks the text is split into (default 4, at least 1). */
  chunks?: number;
  /** After this many content chunks, send the provider's mid-stream error event instead of finishing. */
  errorAfterChunks?: number;
  /** Error kind for `errorAfterChunks` (default 'overloaded'). */
  errorType?: SimulatedErrorType;
  /** After this many content chunks, destroy the connection (the client sees a broken stream). */
  resetAfterChunks?: number;
}

export interface ErrorReply extends ReplyCommon {
  kind: 'error';
  status: number;
  /** Replaces the provider-shaped error body entirely (any JSON value; a string is sent verbatim). */
  body?: unknown;
  /** Defaults from the status: 429 rate_limit, 529 overloaded, 503 unavailable, 5xx server, 401 auth, ... */
  errorType?: SimulatedErrorType;
  message?: string;
  /** Provider error `code` where the wire format has one (OpenAI), e.g. 'context_length_exceeded'. */
  code?: string;
  /** `retry-after` header, seconds (fractions allowed: the SDKs parse it as a float). */
  retryAfterS?: number;
  /** `retry-after-ms` header, honoured by the Stainless-generated SDKs before `retry-after`. */
  retryAfterMs?: number;
  delayMs?: number;
}

/** Never answers; the client's own timeout (or abort) ends the call. */
export interface HangReply {
  kind: 'hang';
}

/** A 200 whose body is not valid JSON (or, for streaming requests, an SSE stream with a broken event). */
export interface MalformedReply extends ReplyCommon {
  kind: 'malformed';
  delayMs?: number;
}

/** Destroys the connection without an HTTP response (the client sees ECONNRESET / "other side closed"). */
export interface ResetReply {
  kind: 'reset';
  delayMs?: number;
}

export type Reply = SuccessReply | StreamReply | ErrorReply | HangReply | MalformedReply | ResetReply;

/** What a scenario sees of each request. Credentials are removed before it gets here. */
export interface SimulatedRequest {
  method: string;
  /** URL path without the query string, e.g. '/v1/chat/completions'. */
  path: string;
  model: string | undefined;
  stream: boolean;
  /** Lower-case request headers without authorization, API-key or cookie headers. */
  headers: Readonly<Record<string, string>>;
  /** The parsed JSON body (undefined when the body is empty or not JSON). */
  body: unknown;
}

export type RespondFn = (request: SimulatedRequest) => Reply | Promise<Reply>;

export interface SimulatorOptions {
  /** Decides each reply; defaults to a plain success (streaming when the request asks for it). */
  respond?: RespondFn;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
}

export interface Simulator {
  /** The base URL to give the SDK client (`new OpenAI({ baseURL })`). */
  readonly baseURL: string;
  readonly port: number;
  /** Requests received so far, retries included. */
  readonly requests: number;
  /** Stops listening and destroys open connections (hanging requests included). */
  close(): Promise<void>;
}

export const DEFAULT_REPLY_TEXT = 'The quick brown fox jumps over the lazy dog.';
export const DEFAULT_INPUT_TOKENS = 12;

/** The reply used when a scenario gives none: stream if the request streams. */
export function defaultReply(request: SimulatedRequest): Reply {
  return request.stream ? { kind: 'stream' } : { kind: 'success' };
}

/** What a success or stream reply says, with the defaults filled in. */
export interface ReplyContent {
  model: string;
  text: string;
  inputTokens: number;
  outputTokens: number;
}

/** The reply's content; the model defaults to the request's, then to the provider's `defaultModel`. */
export function replyContent(
  request: SimulatedRequest,
  reply: SuccessReply | StreamReply,
  defaultModel: string,
): ReplyContent {
  const text = reply.text ?? DEFAULT_REPLY_TEXT;
  return {
    model: reply.model ?? request.model ?? defaultModel,
    text,
    inputTokens: reply.inputTokens ?? DEFAULT_INPUT_TOKENS,
    outputTokens: reply.outputTokens ?? estimateTokens(text),
  };
}

/** Roughly one token per word, as a stand-in when a scenario does not fix the count. */
export function estimateTokens(text: string): number {
  let words = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const space = text.charCodeAt(i) <= 32;
    if (!space && !inWord) words++;
    inWord = !space;
  }
  return Math.max(1, words);
}

/** Splits text into `count` non-empty pieces of similar length (fewer when the text is shorter). */
export function splitIntoChunks(text: string, count: number): string[] {
  const n = Math.max(1, Math.min(Math.floor(count), text.length || 1));
  const size = Math.ceil(text.length / n);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length > 0 ? out : [''];
}

/** The neutral error kind for a status when the scenario did not name one. */
export function errorTypeForStatus(status: number): SimulatedErrorType {
  if (status === 429) return 'rate_limit';
  if (status === 529) return 'overloaded';
  if (status === 503) return 'unavailable';
  if (status >= 500) return 'server';
  if (status === 401) return 'auth';
  if (status === 403) return 'permission';
  if (status === 404) return 'not_found';
  return 'invalid_request';
}

let idCounter = 0;
const idPrefix = Math.floor(Math.random() * 0xffffff)
  .toString(16)
  .padStart(6, '0');

/** Unique, cheap ids (`<prefix>_<random><counter>`); crypto-random ids are not needed for a simulator. */
export function simulatedId(prefix: string): string {
  idCounter = (idCounter + 1) % Number.MAX_SAFE_INTEGER;
  return `${prefix}_${idPrefix}${idCounter.toString(36).padStart(8, '0')}`;
}
