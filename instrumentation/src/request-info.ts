/**
 * Building an LlmRequestInfo from an SDK's request params, shared by every patcher. Each API names its
 * sampling params differently (`top_p`, `topP`, `inferenceConfig.topP`, …); the patcher picks the values,
 * these helpers keep only the well-formed ones. Params are caller input and may hold anything.
 */
import type { LlmRequestInfo } from './llm-call-types.js';

/** Where the call goes, as the instrumentation resolved it (not read from the params). */
export type RequestBase = Pick<LlmRequestInfo, 'provider' | 'serverAddress' | 'serverPort'>;

/** A finite number, else undefined. */
export const finiteNumber = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;

/** The model params as the caller passed them: each is recorded only when it is well-formed. */
export interface RawModelParams {
  /** Recorded when a string. */
  model?: unknown;
  /** Recorded unless undefined (map null to undefined where the API uses null for "none"). */
  systemInstructions?: unknown;
  /** Numbers below are recorded when finite. */
  temperature?: unknown;
  topP?: unknown;
  topK?: unknown;
  maxTokens?: unknown;
  frequencyPenalty?: unknown;
  presencePenalty?: unknown;
  seed?: unknown;
  choiceCount?: unknown;
  /** Recorded when an array (its strings only). */
  stopSequences?: unknown;
}

/** The request of a call that sends messages: provider, server, stream flag and the raw input. */
export function messagesRequestBase(
  base: RequestBase,
  operation: string,
  stream: boolean,
  inputMessages: unknown,
): LlmRequestInfo {
  return {
    provider: base.provider,
    operation,
    serverAddress: base.serverAddress,
    serverPort: base.serverPort,
    stream,
    inputMessages,
  };
}

const NUMERIC_PARAMS = [
  'temperature',
  'topP',
  'topK',
  'maxTokens',
  'frequencyPenalty',
  'presencePenalty',
  'seed',
  'choiceCount',
] as const;

/** Sets on `info` each of `params` that is well-formed; returns `info`. */
export function withModelParams(info: LlmRequestInfo, params: RawModelParams): LlmRequestInfo {
  if (typeof params.model === 'string') info.requestModel = params.model;
  if (params.systemInstructions !== undefined) info.systemInstructions = params.systemInstructions;
  for (const key of NUMERIC_PARAMS) {
    const value = finiteNumber(params[key]);
    if (value !== undefined) info[key] = value;
  }
  if (Array.isArray(params.stopSequences))
    info.stopSequences = params.stopSequences.filter((s): s is string => typeof s === 'string');
  return info;
}
