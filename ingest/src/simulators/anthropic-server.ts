/**
 * A local server speaking Anthropic's Messages wire format, as `@anthropic-ai/sdk` (0.x and 1.x) parses
 * it: `POST /v1/messages` as JSON, or as the SSE event stream `message_start`, `content_block_start`,
 * `ping`, `content_block_delta`…, `content_block_stop`, `message_delta` (stop_reason, output usage),
 * `message_stop`; mid-stream `event: error`; error bodies `{ type: 'error', error: { type, message } }`
 * (529 for overloaded) and the `request-id`, `anthropic-ratelimit-*-remaining`, `retry-after` headers.
 */
import {
  errorTypeForStatus,
  simulatedId,
  splitIntoChunks,
  replyContent,
  type ErrorReply,
  type ReplyContent,
  type Reply,
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
  sendMalformedJson,
  startSimulatorServer,
  startSse,
  writeSse,
  type Exchange,
  type ReplyWriters,
} from './simulator-http.js';

export function startAnthropicSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  return startSimulatorServer({
    ...options,
    baseURLPath: '',
    routes: { 'POST /v1/messages': (exchange) => dispatchReply(exchange, messages) },
    notFound: (res, method, path) => {
      const requestId = simulatedId('req');
      sendJson(
        res,
        404,
        { 'request-id': requestId },
        {
          type: 'error',
          error: { type: 'not_found_error', message: `Not found: ${method} ${path}` },
          request_id: requestId,
        },
      );
    },
  });
}

/** Anthropic's Messages shapes; the delays, hangs and resets are simulator-http's. */
const messages: ReplyWriters = {
  streamOnlyWhenAsked: true,
  success({ request, res }, reply) {
    sendJson(res, 200, baseHeaders(reply), messageObject(content(request, reply), reply.finishReason));
  },
  stream,
  error({ res }, reply) {
    const headers = errorHeaders(reply);
    sendJson(
      res,
      reply.status,
      headers,
      reply.body ??
        errorBody(reply.errorType ?? errorTypeForStatus(reply.status), reply.message, headers['request-id']),
    );
  },
  malformed({ request, res }, reply) {
    if (request.stream) {
      startSse(res, baseHeaders(reply));
      res.end(
        'event: message_start\ndata: {"type": "message_start", "message": {"id": "msg_broken", "ty\n\n',
      );
    } else {
      sendMalformedJson(res, baseHeaders(reply));
    }
  },
};

function baseHeaders(reply: Exclude<Reply, { kind: 'hang' } | { kind: 'reset' }>): Record<string, string> {
  const headers: Record<string, string> = { 'request-id': reply.requestId ?? simulatedId('req') };
  if (reply.rateLimit?.remainingRequests !== undefined) {
    headers['anthropic-ratelimit-requests-remaining'] = String(reply.rateLimit.remainingRequests);
  }
  if (reply.rateLimit?.remainingTokens !== undefined) {
    headers['anthropic-ratelimit-tokens-remaining'] = String(reply.rateLimit.remainingTokens);
  }
  if (reply.headers) Object.assign(headers, reply.headers);
  return headers;
}

function errorHeaders(reply: ErrorReply): Record<string, string> {
  const headers = baseHeaders(reply);
  if (reply.retryAfterS !== undefined) headers['retry-after'] = String(reply.retryAfterS);
  if (reply.retryAfterMs !== undefined) headers['retry-after-ms'] = String(reply.retryAfterMs);
  return headers;
}

const ANTHROPIC_ERRORS: Record<SimulatedErrorType, [type: string, message: string]> = {
  rate_limit: ['rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit.'],
  overloaded: ['overloaded_error', 'Overloaded'],
  server: ['api_error', 'Internal server error'],
  unavailable: ['api_error', 'Service unavailable'],
  invalid_request: ['invalid_request_error', 'Invalid request.'],
  context_length: ['invalid_request_error', 'prompt is too long: 210412 tokens > 200000 maximum'],
  content_filter: ['invalid_request_error', 'Output blocked by content filtering policy'],
  auth: ['authentication_error', 'invalid x-api-key'],
  permission: ['permission_error', 'Your API key does not have permission to use the specified resource.'],
  not_found: ['not_found_error', 'model: not found'],
};

function errorBody(
  type: SimulatedErrorType,
  message: string | undefined,
  requestId: string | undefined,
): Record<string, unknown> {
  const [errorType, defaultMessage] = ANTHROPIC_ERRORS[type];
  const body: Record<string, unknown> = {
    type: 'error',
    error: { type: errorType, message: message ?? defaultMessage },
  };
  if (requestId !== undefined) body.request_id = requestId;
  return body;
}

type Content = ReplyContent;

function content(request: SimulatedRequest, reply: SuccessReply | StreamReply): Content {
  return replyContent(request, reply, 'claude-sonnet-4-5');
}

function usage(inputTokens: number, outputTokens: number): Record<string, unknown> {
  return {
    input_tokens: inputTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    output_tokens: outputTokens,
    service_tier: 'standard',
  };
}

function messageObject(
  c: Content,
  stopReason: string | undefined,
  id = simulatedId('msg'),
): Record<string, unknown> {
  return {
    id,
    type: 'message',
    role: 'assistant',
    model: c.model,
    content: [{ type: 'text', text: c.text }],
    stop_reason: stopReason ?? 'end_turn',
    stop_sequence: null,
    usage: usage(c.inputTokens, c.outputTokens),
  };
}

async function stream({ request, res }: Exchange, reply: StreamReply): Promise<void> {
  const c = content(request, reply);
  const event = (type: string, data: Record<string, unknown>): void => writeSse(res, { type, ...data }, type);
  startSse(res, baseHeaders(reply));
  event('message_start', {
    message: {
      id: simulatedId('msg'),
      type: 'message',
      role: 'assistant',
      model: c.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: usage(c.inputTokens, 1),
    },
  });
  event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
  event('ping', {});
  const outcome = await playStreamPieces(res, reply, splitIntoChunks(c.text, reply.chunks ?? 4), (piece) =>
    event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: piece } }),
  );
  if (outcome === 'closed') return;
  if (outcome === 'error') {
    // Anthropic reports failures after the 200 as an `error` event; overloaded is the common one.
    const [type, message] = ANTHROPIC_ERRORS[reply.errorType ?? 'overloaded'];
    event('error', { error: { type, message } });
    res.end();
    return;
  }
  event('content_block_stop', { index: 0 });
  event('message_delta', {
    delta: { stop_reason: reply.finishReason ?? 'end_turn', stop_sequence: null },
    usage: { output_tokens: c.outputTokens },
  });
  event('message_stop', {});
  res.end();
}
