/**
 * The contract between the SDK patchers (openai/, anthropic/, google-genai/, bedrock/, the manual API) and
 * the one module that turns a call into a span (`llm-call.ts`). Patchers only translate SDK shapes into
 * these types; naming, parsing, classification, content capture and ending the span live in one place.
 */
import type { Span } from '@opentelemetry/api';

export interface LlmRequestInfo {
  /** gen_ai.provider.name, e.g. 'openai', 'anthropic', 'aws.bedrock', 'gcp.gemini'. */
  provider: string;
  /** gen_ai.operation.name, e.g. 'chat', 'generate_content', 'embeddings'. */
  operation: string;
  requestModel?: string;
  stream?: boolean;
  serverAddress?: string;
  serverPort?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  maxTokens?: number;
  frequencyPenalty?: number;
  presencePenalty?: number;
  stopSequences?: readonly string[];
  seed?: number;
  choiceCount?: number;
  /** Raw input messages and system instructions; recorded only when content capture is enabled. */
  inputMessages?: unknown;
  systemInstructions?: unknown;
}

export interface LlmResponseInfo {
  responseModel?: string;
  responseId?: string;
  finishReasons?: readonly string[];
  inputTokens?: number;
  outputTokens?: number;
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
  reasoningOutputTokens?: number;
  /** Raw output messages; recorded only when content capture is enabled. */
  outputMessages?: unknown;
}

/** Transport facts known from the HTTP response (success or failure). */
export interface LlmHttpInfo {
  statusCode?: number;
  /** Response headers: request id, rate-limit remaining, retry-after are read from them. Never recorded whole. */
  headers?: Headers | Readonly<Record<string, string | string[] | undefined>>;
  requestId?: string;
  retryCount?: number;
}

/** Reads a result object of one API into response facts (one implementation per API). */
export interface LlmResultReader {
  responseInfo(result: unknown, captureContent: boolean): LlmResponseInfo;
  /** A success status that still means failure (e.g. a Responses object with `status: 'failed'`). */
  failureOf?(result: unknown): Error | undefined;
}

/** One in-flight LLM call. Every method is safe to call in any order and never throws. */
export interface LlmCall {
  readonly span: Span;
  /** Marks the first streamed chunk that carries content; only the first call counts. */
  firstToken(): void;
  /** Merges response facts (may be called several times while a stream progresses). */
  response(info: LlmResponseInfo): void;
  http(info: LlmHttpInfo): void;
  /** Classifies the error, records it on the span and ends the span. */
  fail(error: unknown): void;
  /** Ends the span as a success. Only the first end()/fail() has an effect. */
  end(): void;
  /**
   * Ends the call with its result object, read by `reader` when the span is finished (after the caller's
   * turn, off its critical path): response facts, and a failure if `reader.failureOf` finds one.
   */
  endWithResult(result: unknown, reader: LlmResultReader): void;
}
