/**
 * A local server that speaks the Amazon Bedrock Runtime wire format (REST-JSON + AWS event streams), so the
 * real `BedrockRuntimeClient` can be pointed at it with `endpoint: sim.baseURL`:
 *
 *   POST /model/{modelId}/converse                      → Converse JSON (output.message, stopReason, usage, metrics)
 *   POST /model/{modelId}/converse-stream               → application/vnd.amazon.eventstream: messageStart,
 *                                                         contentBlockDelta…, contentBlockStop, messageStop, metadata
 *   POST /model/{modelId}/invoke                        → the vendor's own JSON body (anthropic, amazon nova /
 *                                                         titan, meta llama, mistral, cohere)
 *   POST /model/{modelId}/invoke-with-response-stream   → event stream of `chunk` events, each `{ bytes: base64 }`
 *
 * Errors are REST-JSON protocol errors: status + `x-amzn-errortype` header + `{ "message" }`, always with an
 * `x-amzn-requestid`. The client's default handler is NodeHttp2Handler, which speaks cleartext HTTP/2 with
 * prior knowledge to an `http:` endpoint, so this server is an HTTP/2 (h2c) server; an HTTP/1.1-only
 * client (`requestHandler: new NodeHttpHandler()`) cannot use it.
 */
import type { Http2ServerResponse } from 'node:http2';
import { EventStreamCodec, type MessageHeaders } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import {
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
  resetConnection,
  sendJson,
  startSimulatorServer,
  waitUnlessClosed,
  type ReplyWriters,
} from './simulator-http.js';

const MODEL_PATH = /^\/model\/([^/]+)\/(converse|converse-stream|invoke|invoke-with-response-stream)$/;
const codec = new EventStreamCodec(toUtf8, fromUtf8);

export type BedrockOperation = 'converse' | 'converse-stream' | 'invoke' | 'invoke-with-response-stream';
/** The body format an InvokeModel model id speaks, from its vendor prefix. */
export type BedrockVendor = 'anthropic' | 'amazon-nova' | 'amazon-titan' | 'meta' | 'mistral' | 'cohere';

interface BedrockError {
  status: number;
  type: string;
  message: string;
}

/** Bedrock's exception names and messages per neutral kind. */
const ERRORS: Readonly<Record<SimulatedErrorType, BedrockError>> = {
  rate_limit: {
    status: 429,
    type: 'ThrottlingException',
    message: 'Too many requests, please wait before trying again.',
  },
  overloaded: {
    status: 503,
    type: 'ServiceUnavailableException',
    message: 'Bedrock is unable to process your request.',
  },
  unavailable: { status: 503, type: 'ServiceUnavailableException', message: 'Service Unavailable' },
  server: {
    status: 500,
    type: 'InternalServerException',
    message: 'The server encountered an internal error.',
  },
  invalid_request: {
    status: 400,
    type: 'ValidationException',
    message: 'Malformed input request, please reformat your input and try again.',
  },
  context_length: {
    status: 400,
    type: 'ValidationException',
    message: 'Input is too long for requested model.',
  },
  content_filter: {
    status: 400,
    type: 'ValidationException',
    message: 'Output blocked by content filtering policy',
  },
  auth: {
    status: 403,
    type: 'UnrecognizedClientException',
    message: 'The security token included in the request is invalid.',
  },
  permission: {
    status: 403,
    type: 'AccessDeniedException',
    message: "You don't have access to the model with the specified model ID.",
  },
  not_found: {
    status: 404,
    type: 'ResourceNotFoundException',
    message: 'The provided model identifier is invalid.',
  },
};

/** Statuses whose Bedrock exception is not implied by a neutral kind. */
const ERRORS_BY_STATUS: Readonly<Record<number, Omit<BedrockError, 'status'>>> = {
  408: {
    type: 'ModelTimeoutException',
    message: 'Model has timed out in processing the request. Try your request again.',
  },
  424: { type: 'ModelErrorException', message: 'The model returned an error.' },
};

export type BedrockSimulatorOptions = SimulatorOptions;

/** Starts the simulator; `baseURL` is the value for the client's `endpoint`. */
export function startBedrockSimulator(options: BedrockSimulatorOptions = {}): Promise<Simulator> {
  return startSimulatorServer({
    ...options,
    protocol: 'h2c',
    baseURLPath: '',
    patternRoutes: [
      {
        method: 'POST',
        pattern: MODEL_PATH,
        fromPath: (match) => ({
          model: decodeURIComponent(match[1]!),
          stream: match[2] === 'converse-stream' || match[2] === 'invoke-with-response-stream',
        }),
        handler: (exchange) => dispatchReply(exchange, writers),
      },
    ],
    notFound: (res, _method, path) =>
      sendError(res, {
        status: 404,
        type: 'UnknownOperationException',
        message: `simulator: no route for ${path}`,
      }),
    tooLarge: (res) =>
      sendError(res, { status: 400, type: 'ValidationException', message: 'Request body too large' }),
    internalError: (res, error) =>
      sendError(res, {
        status: 500,
        type: 'InternalServerException',
        message: `simulator error: ${String(error)}`,
      }),
  });
}

/** The InvokeModel body format of a model id: inference-profile prefixes and ARNs are looked through. */
export function bedrockVendorOf(modelId: string): BedrockVendor {
  const id = modelId.slice(modelId.lastIndexOf('/') + 1).toLowerCase();
  if (id.includes('anthropic.')) return 'anthropic';
  if (id.includes('amazon.nova')) return 'amazon-nova';
  if (id.includes('amazon.titan')) return 'amazon-titan';
  if (id.includes('meta.')) return 'meta';
  if (id.includes('mistral.')) return 'mistral';
  if (id.includes('cohere.')) return 'cohere';
  return 'anthropic';
}

/** Bedrock's shapes; the delays, hangs and resets are simulator-http's. */
const writers: ReplyWriters<Http2ServerResponse> = {
  success({ request, res }, reply) {
    const operation = operationOf(request);
    if (operation === 'converse' || operation === 'converse-stream') {
      sendBedrockJson(res, 200, reply.requestId, converseBody(request, reply), reply.headers);
    } else {
      const vendor = bedrockVendorOf(request.model ?? '');
      const r = render(request, reply, vendor);
      sendBedrockJson(res, 200, reply.requestId, invokeBody(vendor, r), {
        'x-amzn-bedrock-input-token-count': String(r.inputTokens),
        'x-amzn-bedrock-output-token-count': String(r.outputTokens),
        'x-amzn-bedrock-invocation-latency': '1',
        ...reply.headers,
      });
    }
  },
  stream: ({ request, res }, reply) => writeStream(request, operationOf(request), reply, res),
  error: ({ res }, reply) => sendError(res, bedrockError(reply), reply),
  malformed({ request, res }, reply) {
    if (request.stream) {
      // A frame whose prelude promises more bytes than follow: the client's decoder fails mid-stream.
      res.writeHead(200, {
        ...baseHeaders(reply.requestId),
        'content-type': 'application/vnd.amazon.eventstream',
      });
      res.end(Buffer.from([0, 0, 0, 200, 0, 0, 0, 0, 1, 2, 3, 4]));
    } else {
      sendBedrockJson(
        res,
        200,
        reply.requestId,
        '{"output": {"message": {"role": "assistant", "content": [{"te',
      );
    }
  },
};

/** The route matched MODEL_PATH, so the operation is always there. */
function operationOf(request: SimulatedRequest): BedrockOperation {
  return MODEL_PATH.exec(request.path)![2] as BedrockOperation;
}

interface Rendered extends ReplyContent {
  finishReason: string;
}

/** Native stop reasons differ per format; a reply without one gets the format's normal end. */
const DEFAULT_FINISH: Readonly<Record<BedrockVendor | 'converse', string>> = {
  converse: 'end_turn',
  anthropic: 'end_turn',
  'amazon-nova': 'end_turn',
  'amazon-titan': 'FINISH',
  meta: 'stop',
  mistral: 'stop',
  cohere: 'COMPLETE',
};

function render(
  request: SimulatedRequest,
  reply: SuccessReply | StreamReply,
  format: BedrockVendor | 'converse',
): Rendered {
  return {
    ...replyContent(request, reply, 'anthropic.claude-3-5-sonnet-20241022-v2:0'),
    finishReason: reply.finishReason ?? DEFAULT_FINISH[format],
  };
}

function converseBody(request: SimulatedRequest, reply: SuccessReply): Record<string, unknown> {
  const r = render(request, reply, 'converse');
  return {
    output: { message: { role: 'assistant', content: [{ text: r.text }] } },
    stopReason: r.finishReason,
    usage: {
      inputTokens: r.inputTokens,
      outputTokens: r.outputTokens,
      totalTokens: r.inputTokens + r.outputTokens,
    },
    metrics: { latencyMs: 1 },
  };
}

/** The InvokeModel response body each vendor's models return. */
function invokeBody(vendor: BedrockVendor, r: Rendered): Record<string, unknown> {
  const finish = r.finishReason;
  switch (vendor) {
    case 'anthropic':
      return {
        id: simulatedId('msg_bdrk'),
        type: 'message',
        role: 'assistant',
        model: anthropicModelName(r.model),
        content: [{ type: 'text', text: r.text }],
        stop_reason: finish === 'FINISH' || finish === 'stop' ? 'end_turn' : finish,
        stop_sequence: null,
        usage: { input_tokens: r.inputTokens, output_tokens: r.outputTokens },
      };
    case 'amazon-nova':
      return {
        output: { message: { role: 'assistant', content: [{ text: r.text }] } },
        stopReason: finish,
        usage: {
          inputTokens: r.inputTokens,
          outputTokens: r.outputTokens,
          totalTokens: r.inputTokens + r.outputTokens,
        },
      };
    case 'amazon-titan':
      return {
        inputTextTokenCount: r.inputTokens,
        results: [{ tokenCount: r.outputTokens, outputText: r.text, completionReason: finish }],
      };
    case 'meta':
      return {
        generation: r.text,
        prompt_token_count: r.inputTokens,
        generation_token_count: r.outputTokens,
        stop_reason: finish,
      };
    case 'mistral':
      return { outputs: [{ text: r.text, stop_reason: finish }] };
    case 'cohere':
      return {
        response_id: simulatedId('cohere'),
        text: r.text,
        generation_id: simulatedId('gen'),
        finish_reason: finish,
      };
  }
}

/** Anthropic's body names the model without Bedrock's vendor prefix and `-v1:0` suffix. */
function anthropicModelName(modelId: string): string {
  const id = modelId.slice(modelId.lastIndexOf('/') + 1);
  const at = id.indexOf('anthropic.');
  return (at === -1 ? id : id.slice(at + 'anthropic.'.length)).replace(/-v\d+(:\d+)?$/, '');
}

async function writeStream(
  request: SimulatedRequest,
  operation: BedrockOperation,
  reply: StreamReply,
  res: Http2ServerResponse,
): Promise<void> {
  const converse = operation === 'converse' || operation === 'converse-stream';
  const vendor = bedrockVendorOf(request.model ?? '');
  const r = render(request, reply, converse ? 'converse' : vendor);
  if (!(await waitUnlessClosed(res, reply.firstTokenDelayMs))) return;
  res.writeHead(200, {
    ...baseHeaders(reply.requestId),
    'content-type': 'application/vnd.amazon.eventstream',
    ...reply.headers,
  });
  const events = converse ? converseStreamEvents(r) : invokeStreamEvents(vendor, r);
  const write = (event: StreamEvent): void => {
    res.write(
      converse
        ? encodeEvent(event.type, event.body)
        : encodeEvent('chunk', { bytes: base64Json(event.body) }),
    );
  };
  for (const event of events.head) write(event);
  const pieces = splitIntoChunks(r.text, reply.chunks ?? 4);
  for (let i = 0; i < pieces.length; i++) {
    if (reply.errorAfterChunks !== undefined && i >= reply.errorAfterChunks) break;
    if (reply.resetAfterChunks !== undefined && i >= reply.resetAfterChunks) {
      resetConnection(res);
      return;
    }
    if (i > 0 && !(await waitUnlessClosed(res, reply.chunkDelayMs))) return;
    write(events.delta(pieces[i]!));
  }
  if (reply.errorAfterChunks !== undefined) {
    const kind = reply.errorType ?? 'overloaded';
    const error = ERRORS[kind];
    res.end(encodeException(error.type, error.message));
    return;
  }
  if (reply.resetAfterChunks !== undefined) {
    resetConnection(res);
    return;
  }
  for (const event of events.tail) write(event);
  res.end();
}

interface StreamEvent {
  type: string;
  body: unknown;
}

interface StreamPlan {
  head: StreamEvent[];
  delta: (text: string) => StreamEvent;
  tail: StreamEvent[];
}

function converseStreamEvents(r: Rendered): StreamPlan {
  return {
    head: [{ type: 'messageStart', body: { role: 'assistant' } }],
    delta: (text) => ({ type: 'contentBlockDelta', body: { contentBlockIndex: 0, delta: { text } } }),
    tail: [
      { type: 'contentBlockStop', body: { contentBlockIndex: 0 } },
      { type: 'messageStop', body: { stopReason: r.finishReason } },
      {
        type: 'metadata',
        body: {
          usage: {
            inputTokens: r.inputTokens,
            outputTokens: r.outputTokens,
            totalTokens: r.inputTokens + r.outputTokens,
          },
          metrics: { latencyMs: 1 },
        },
      },
    ],
  };
}

/** Bedrock appends its own metrics to the last chunk of every vendor's stream. */
function invocationMetrics(r: Rendered): Record<string, unknown> {
  return {
    'amazon-bedrock-invocationMetrics': {
      inputTokenCount: r.inputTokens,
      outputTokenCount: r.outputTokens,
      invocationLatency: 1,
      firstByteLatency: 1,
    },
  };
}

function invokeStreamEvents(vendor: BedrockVendor, r: Rendered): StreamPlan {
  const chunk = (body: unknown): StreamEvent => ({ type: 'chunk', body });
  switch (vendor) {
    case 'anthropic':
      return {
        head: [
          chunk({
            type: 'message_start',
            message: {
              id: simulatedId('msg_bdrk'),
              type: 'message',
              role: 'assistant',
              model: anthropicModelName(r.model),
              content: [],
              stop_reason: null,
              usage: { input_tokens: r.inputTokens, output_tokens: 1 },
            },
          }),
          chunk({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
        ],
        delta: (text) =>
          chunk({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } }),
        tail: [
          chunk({ type: 'content_block_stop', index: 0 }),
          chunk({
            type: 'message_delta',
            delta: { stop_reason: r.finishReason, stop_sequence: null },
            usage: { output_tokens: r.outputTokens },
          }),
          chunk({ type: 'message_stop', ...invocationMetrics(r) }),
        ],
      };
    case 'amazon-nova':
      return {
        head: [chunk({ messageStart: { role: 'assistant' } })],
        delta: (text) => chunk({ contentBlockDelta: { delta: { text }, contentBlockIndex: 0 } }),
        tail: [
          chunk({ contentBlockStop: { contentBlockIndex: 0 } }),
          chunk({ messageStop: { stopReason: r.finishReason } }),
          chunk({
            metadata: { usage: { inputTokens: r.inputTokens, outputTokens: r.outputTokens } },
            ...invocationMetrics(r),
          }),
        ],
      };
    case 'amazon-titan':
      return {
        head: [],
        delta: (text) =>
          chunk({
            outputText: text,
            index: 0,
            totalOutputTextTokenCount: null,
            completionReason: null,
            inputTextTokenCount: r.inputTokens,
          }),
        tail: [
          chunk({
            outputText: '',
            index: 0,
            totalOutputTextTokenCount: r.outputTokens,
            completionReason: r.finishReason,
            ...invocationMetrics(r),
          }),
        ],
      };
    case 'meta':
      return {
        head: [],
        delta: (text) =>
          chunk({ generation: text, prompt_token_count: null, generation_token_count: 1, stop_reason: null }),
        tail: [
          chunk({
            generation: '',
            prompt_token_count: r.inputTokens,
            generation_token_count: r.outputTokens,
            stop_reason: r.finishReason,
            ...invocationMetrics(r),
          }),
        ],
      };
    case 'mistral':
      return {
        head: [],
        delta: (text) => chunk({ outputs: [{ text, stop_reason: null }] }),
        tail: [chunk({ outputs: [{ text: '', stop_reason: r.finishReason }], ...invocationMetrics(r) })],
      };
    case 'cohere':
      return {
        head: [],
        delta: (text) => chunk({ is_finished: false, event_type: 'text-generation', text }),
        tail: [
          chunk({
            is_finished: true,
            event_type: 'stream-end',
            finish_reason: r.finishReason,
            ...invocationMetrics(r),
          }),
        ],
      };
  }
}

function stringHeader(value: string): { type: 'string'; value: string } {
  return { type: 'string', value };
}

function encodeEvent(eventType: string, body: unknown): Uint8Array {
  const headers: MessageHeaders = {
    ':event-type': stringHeader(eventType),
    ':content-type': stringHeader('application/json'),
    ':message-type': stringHeader('event'),
  };
  return codec.encode({ headers, body: fromUtf8(JSON.stringify(body)) });
}

/** A modeled mid-stream exception: the union member is the exception name with a lower-case first letter. */
function encodeException(exceptionType: string, message: string): Uint8Array {
  const member = exceptionType.charAt(0).toLowerCase() + exceptionType.slice(1);
  const headers: MessageHeaders = {
    ':exception-type': stringHeader(member),
    ':content-type': stringHeader('application/json'),
    ':message-type': stringHeader('exception'),
  };
  return codec.encode({ headers, body: fromUtf8(JSON.stringify({ message })) });
}

function base64Json(body: unknown): string {
  return Buffer.from(JSON.stringify(body)).toString('base64');
}

function bedrockError(reply: ErrorReply): BedrockError {
  const byStatus = reply.errorType === undefined ? ERRORS_BY_STATUS[reply.status] : undefined;
  const known = byStatus ?? ERRORS[reply.errorType ?? errorTypeForStatus(reply.status)];
  return { status: reply.status, type: known.type, message: reply.message ?? known.message };
}

function baseHeaders(requestId: string | undefined): Record<string, string> {
  return { 'x-amzn-requestid': requestId ?? simulatedId('req') };
}

function sendBedrockJson(
  res: Http2ServerResponse,
  status: number,
  requestId: string | undefined,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { ...baseHeaders(requestId), ...lowerCaseKeys(headers) }, body);
}

function sendError(res: Http2ServerResponse, error: BedrockError, reply?: ErrorReply): void {
  const headers: Record<string, string> = {
    'x-amzn-errortype': `${error.type}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
  };
  if (reply?.retryAfterS !== undefined) headers['retry-after'] = String(reply.retryAfterS);
  const body = reply?.body ?? { message: error.message };
  sendBedrockJson(res, error.status, reply?.requestId, body, { ...headers, ...reply?.headers });
}

/** HTTP/2 header names must be lower-case; scenario headers may not be. */
function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value;
  return out;
}
