/**
 * A local server that speaks the Gemini API (generativelanguage.googleapis.com) wire format, so the real
 * `@google/genai` client can be pointed at it with `httpOptions: { baseUrl: sim.baseURL }`:
 *
 *   POST /{apiVersion}/models/{model}:generateContent              → GenerateContentResponse JSON
 *   POST /{apiVersion}/models/{model}:streamGenerateContent?alt=sse → `data: {GenerateContentResponse}` events
 *
 * Vertex AI paths (`/v1beta1/projects/{p}/locations/{l}/publishers/google/models/{model}:…`) are accepted
 * too, so a `vertexai: true` client with a custom base URL works. Errors use Google's RPC shape
 * `{ "error": { "code", "message", "status" } }`. A content filter is not an HTTP error on this API: a
 * `content_filter` error reply becomes a 200 whose prompt was blocked (`promptFeedback.blockReason`), and a
 * success/stream reply with `finishReason: 'SAFETY'` ends its candidate that way.
 *
 * Gemini puts the model in the path, so this file routes with a pattern route of `simulator-http.ts`.
 */
import type { ServerResponse } from 'node:http';
import {
  DEFAULT_INPUT_TOKENS,
  errorTypeForStatus,
  simulatedId,
  splitIntoChunks,
  replyContent,
  type ErrorReply,
  type ReplyContent,
  type SimulatedErrorType,
  type SimulatedRequest,
  type Simulator,
  type SimulatorOptions,
  type StreamReply,
  type SuccessReply,
} from './reply.js';
import {
  dispatchReply,
  playStreamPieces,
  sendJson,
  startSimulatorServer,
  startSse,
  waitUnlessClosed,
  writeSse,
  type ReplyWriters,
} from './simulator-http.js';

/** `…/models/{model}:{method}`; the model segment never contains '/' or ':' on either backend. */
const GENERATE_PATH = /\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;

/** google.rpc.Code names by HTTP status, as the Gemini API reports them in `error.status`. */
const RPC_STATUS_BY_HTTP: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  408: 'DEADLINE_EXCEEDED',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'NOT_IMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

/** Messages close to what the Gemini API returns for each kind. */
const DEFAULT_MESSAGES: Readonly<Record<SimulatedErrorType, string>> = {
  rate_limit: 'Resource has been exhausted (e.g. check quota).',
  overloaded: 'The model is overloaded. Please try again later.',
  unavailable: 'The service is currently unavailable.',
  server:
    'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  invalid_request: 'Request contains an invalid argument.',
  context_length: 'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).',
  content_filter: 'The prompt was blocked for safety reasons.',
  auth: 'API key not valid. Please pass a valid API key.',
  permission: 'The caller does not have permission.',
  not_found: 'models/unknown is not found for API version v1beta, or is not supported for generateContent.',
};

export type GoogleGenAISimulatorOptions = SimulatorOptions;

/** Starts the simulator; `baseURL` is the value for `httpOptions.baseUrl` (no trailing API version). */
export function startGoogleGenAISimulator(options: GoogleGenAISimulatorOptions = {}): Promise<Simulator> {
  return startSimulatorServer({
    ...options,
    baseURLPath: '',
    patternRoutes: [
      {
        method: 'POST',
        pattern: GENERATE_PATH,
        fromPath: (match) => ({
          model: decodeURIComponent(match[1]!),
          stream: match[2] === 'streamGenerateContent',
        }),
        handler: (exchange) => dispatchReply(exchange, writers),
      },
    ],
    notFound: (res, method, path) =>
      sendGoogleError(res, 404, 'NOT_FOUND', `simulator: no route for ${method} ${path}`),
    tooLarge: (res) =>
      sendGoogleError(res, 400, 'INVALID_ARGUMENT', 'Request payload size exceeds the limit.'),
    internalError: (res, error) => sendGoogleError(res, 500, 'INTERNAL', `simulator error: ${String(error)}`),
  });
}

/** Gemini's shapes; the delays, hangs and resets are simulator-http's. */
const writers: ReplyWriters = {
  success({ request, res }, reply) {
    sendJson(res, 200, reply.headers ?? {}, fullResponse(request, reply));
  },
  stream: ({ request, res }, reply) => writeStream(request, reply, res),
  error: ({ request, res }, reply) => writeError(request, reply, res),
  malformed({ request, res }, reply) {
    if (request.stream) {
      startSse(res, reply.headers ?? {});
      writeSse(res, '{"candidates": [{"content": {"parts": [{"text": "cut');
      res.end();
    } else {
      sendJson(res, 200, reply.headers ?? {}, '{"candidates": [{"content": {"role": "model", "parts": [{"te');
    }
  },
};

interface Rendered extends ReplyContent {
  finishReason: string;
  responseId: string;
}

function render(request: SimulatedRequest, reply: SuccessReply | StreamReply): Rendered {
  return {
    ...replyContent(request, reply, 'gemini-2.5-flash'),
    finishReason: reply.finishReason ?? 'STOP',
    // Gemini has no request-id header; the body's responseId is the id users quote in support requests.
    responseId: reply.requestId ?? simulatedId('resp'),
  };
}

function usageMetadata(inputTokens: number, outputTokens: number | undefined): Record<string, unknown> {
  return {
    promptTokenCount: inputTokens,
    ...(outputTokens === undefined ? {} : { candidatesTokenCount: outputTokens }),
    totalTokenCount: inputTokens + (outputTokens ?? 0),
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: inputTokens }],
  };
}

/** A SAFETY stop carries no text, as on the real API (the blocked part is withheld). */
function candidate(text: string, finishReason: string | undefined): Record<string, unknown> {
  const blocked =
    finishReason === 'SAFETY' || finishReason === 'PROHIBITED_CONTENT' || finishReason === 'BLOCKLIST';
  return {
    ...(blocked ? {} : { content: { role: 'model', parts: [{ text }] } }),
    ...(finishReason === undefined ? {} : { finishReason }),
    ...(blocked
      ? {
          safetyRatings: [
            { category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH', blocked: true },
          ],
        }
      : {}),
    index: 0,
  };
}

function fullResponse(request: SimulatedRequest, reply: SuccessReply): Record<string, unknown> {
  const r = render(request, reply);
  return {
    candidates: [candidate(r.text, r.finishReason)],
    usageMetadata: usageMetadata(r.inputTokens, r.outputTokens),
    modelVersion: r.model,
    responseId: r.responseId,
  };
}

async function writeStream(
  request: SimulatedRequest,
  reply: StreamReply,
  res: ServerResponse,
): Promise<void> {
  const r = render(request, reply);
  // Headers go out with the first chunk, as the real API does (errors before that are plain HTTP errors).
  if (!(await waitUnlessClosed(res, reply.firstTokenDelayMs))) return;
  startSse(res, reply.headers ?? {});
  const pieces = splitIntoChunks(r.text, reply.chunks ?? 4);
  const last = pieces.length - 1;
  const outcome = await playStreamPieces(res, { ...reply, firstTokenDelayMs: 0 }, pieces, (piece, i) => {
    // Every chunk carries usage so far; the last one carries the finish reason and the final counts.
    const final = i === last;
    writeSse(res, {
      candidates: [candidate(piece, final ? r.finishReason : undefined)],
      usageMetadata: usageMetadata(r.inputTokens, final ? r.outputTokens : undefined),
      modelVersion: r.model,
      responseId: r.responseId,
    });
  });
  if (outcome === 'error') {
    const errorType = reply.errorType ?? 'overloaded';
    const status = errorType === 'rate_limit' ? 429 : errorType === 'server' ? 500 : 503;
    writeSse(res, errorBody(status, errorType, undefined));
    res.end();
    return;
  }
  if (outcome === 'completed') res.end();
}

function writeError(request: SimulatedRequest, reply: ErrorReply, res: ServerResponse): void {
  const errorType = reply.errorType ?? errorTypeForStatus(reply.status);
  const headers = { ...(reply.headers ?? {}) };
  if (reply.body !== undefined) {
    sendJson(res, reply.status, headers, reply.body);
    return;
  }
  if (errorType === 'content_filter') {
    // The Gemini API answers a blocked prompt with 200 and no candidates.
    const inputTokens = DEFAULT_INPUT_TOKENS;
    const blocked = {
      promptFeedback: {
        blockReason: 'SAFETY',
        safetyRatings: [{ category: 'HARM_CATEGORY_HARASSMENT', probability: 'HIGH', blocked: true }],
      },
      usageMetadata: usageMetadata(inputTokens, undefined),
      modelVersion: request.model,
      responseId: reply.requestId ?? simulatedId('resp'),
    };
    if (request.stream) {
      startSse(res, headers);
      writeSse(res, blocked);
      res.end();
    } else sendJson(res, 200, headers, blocked);
    return;
  }
  sendJson(res, reply.status, headers, errorBody(reply.status, errorType, reply.message, reply.retryAfterS));
}

function errorBody(
  status: number,
  errorType: SimulatedErrorType,
  message: string | undefined,
  retryAfterS?: number,
): Record<string, unknown> {
  const details =
    retryAfterS === undefined
      ? undefined
      : [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${retryAfterS}s` }];
  return {
    error: {
      code: status,
      message: message ?? DEFAULT_MESSAGES[errorType],
      status: RPC_STATUS_BY_HTTP[status] ?? (status >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT'),
      ...(details === undefined ? {} : { details }),
    },
  };
}

function sendGoogleError(res: ServerResponse, code: number, status: string, message: string): void {
  sendJson(res, code, {}, { error: { code, message, status } });
}
