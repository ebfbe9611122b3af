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
import {
  createServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { EventStreamCodec, type MessageHeaders } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import {
  DEFAULT_INPUT_TOKENS,
  DEFAULT_REPLY_TEXT,
  defaultReply,
  errorTypeForStatus,
  estimateTokens,
  simulatedId,
  splitIntoChunks,
  type ErrorReply,
  type Reply,
  type SimulatedErrorType,
  type SimulatedRequest,
  type Simulator,
  type SimulatorOptions,
  type StreamReply,
  type SuccessReply,
} from './reply.js';

const CREDENTIAL_HEADERS = new Set([
  'authorization',
  'x-amz-security-token',
  'cookie',
  'proxy-authorization',
]);
const MODEL_PATH = /^\/model\/([^/]+)\/(converse|converse-stream|invoke|invoke-with-response-stream)$/;
const MAX_BODY_BYTES = 32 * 1024 * 1024;
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
export async function startBedrockSimulator(options: BedrockSimulatorOptions = {}): Promise<Simulator> {
  const respond = options.respond ?? defaultReply;
  const sessions = new Set<Http2Session>();
  let requests = 0;

  const server = createServer((req, res) => {
    requests++;
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        sendError(res, {
          status: 500,
          type: 'InternalServerException',
          message: `simulator error: ${String(error)}`,
        });
      } else res.destroy();
    });
  });
  server.on('session', (session: Http2Session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });

  async function handle(req: Http2ServerRequest, res: Http2ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = (req.url ?? '/').split('?')[0]!;
    const match = MODEL_PATH.exec(path);
    if (req.method !== 'POST' || match === null) {
      sendError(res, {
        status: 404,
        type: 'UnknownOperationException',
        message: `simulator: no route for ${path}`,
      });
      return;
    }
    if (raw === undefined) {
      sendError(res, { status: 400, type: 'ValidationException', message: 'Request body too large' });
      return;
    }
    const operation = match[2] as BedrockOperation;
    const request: SimulatedRequest = {
      method: req.method,
      path,
      model: decodeURIComponent(match[1]!),
      stream: operation === 'converse-stream' || operation === 'invoke-with-response-stream',
      headers: scrubHeaders(req),
      body: parseJson(raw),
    };
    const reply = await respond(request);
    await writeReply(request, operation, reply, res);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    baseURL: `http://${host}:${address.port}`,
    port: address.port,
    get requests() {
      return requests;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // The client keeps its HTTP/2 session open; hanging streams would also hold close() forever.
        for (const session of sessions) session.destroy();
      });
      return closing;
    },
  };
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

async function writeReply(
  request: SimulatedRequest,
  operation: BedrockOperation,
  reply: Reply,
  res: Http2ServerResponse,
): Promise<void> {
  switch (reply.kind) {
    case 'hang':
      return;
    case 'reset':
      if (await waitUnlessClosed(res, reply.delayMs)) resetStream(res);
      return;
    case 'malformed':
      if (!(await waitUnlessClosed(res, reply.delayMs))) return;
      if (request.stream) {
        // A frame whose prelude promises more bytes than follow: the client's decoder fails mid-stream.
        res.writeHead(200, {
          ...baseHeaders(reply.requestId),
          'content-type': 'application/vnd.amazon.eventstream',
        });
        res.end(Buffer.from([0, 0, 0, 200, 0, 0, 0, 0, 1, 2, 3, 4]));
      } else {
        sendJson(res, 200, reply.requestId, '{"output": {"message": {"role": "assistant", "content": [{"te');
      }
      return;
    case 'error':
      if (!(await waitUnlessClosed(res, reply.delayMs))) return;
      sendError(res, bedrockError(reply), reply);
      return;
    case 'success':
      if (!(await waitUnlessClosed(res, reply.delayMs))) return;
      if (operation === 'converse' || operation === 'converse-stream') {
        sendJson(res, 200, reply.requestId, converseBody(request, reply), reply.headers);
      } else {
        const vendor = bedrockVendorOf(request.model ?? '');
        const r = render(request, reply, vendor);
        sendJson(res, 200, reply.requestId, invokeBody(vendor, r), {
          'x-amzn-bedrock-input-token-count': String(r.inputTokens),
          'x-amzn-bedrock-output-token-count': String(r.outputTokens),
          'x-amzn-bedrock-invocation-latency': '1',
          ...reply.headers,
        });
      }
      return;
    case 'stream':
      await writeStream(request, operation, reply, res);
      return;
  }
}

interface Rendered {
  model: string;
  text: string;
  inputTokens: number;
  outputTokens: number;
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
  const text = reply.text ?? DEFAULT_REPLY_TEXT;
  return {
    model: reply.model ?? request.model ?? 'anthropic.claude-3-5-sonnet-20241022-v2:0',
    text,
    inputTokens: reply.inputTokens ?? DEFAULT_INPUT_TOKENS,
    outputTokens: reply.outputTokens ?? estimateTokens(text),
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
      resetStream(res);
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
    resetStream(res);
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

function sendJson(
  res: Http2ServerResponse,
  status: number,
  requestId: string | undefined,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    ...baseHeaders(requestId),
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
    ...lowerCaseKeys(headers),
  });
  res.end(payload);
}

function sendError(res: Http2ServerResponse, error: BedrockError, reply?: ErrorReply): void {
  const headers: Record<string, string> = {
    'x-amzn-errortype': `${error.type}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
  };
  if (reply?.retryAfterS !== undefined) headers['retry-after'] = String(reply.retryAfterS);
  const body = reply?.body ?? { message: error.message };
  sendJson(res, error.status, reply?.requestId, body, { ...headers, ...reply?.headers });
}

/** HTTP/2 header names must be lower-case; scenario headers may not be. */
function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value;
  return out;
}

/**
 * The HTTP/2 analogue of a TCP reset: RST_STREAM with INTERNAL_ERROR on this request's stream, which the
 * client reports as a stream/session error, the way a load balancer dropping the request looks.
 */
function resetStream(res: Http2ServerResponse): void {
  res.stream.close(2 /* NGHTTP2_INTERNAL_ERROR */);
}

function waitUnlessClosed(res: Http2ServerResponse, ms: number | undefined): Promise<boolean> {
  if (res.destroyed || res.writableEnded) return Promise.resolve(false);
  if (ms === undefined || ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onClose = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      res.off('close', onClose);
      resolve(!res.destroyed);
    }, ms);
    res.once('close', onClose);
  });
}

async function readBody(req: Http2ServerRequest): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function scrubHeaders(req: Http2ServerRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith(':') || CREDENTIAL_HEADERS.has(name) || value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}
