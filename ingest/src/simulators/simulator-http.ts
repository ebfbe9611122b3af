/**
 * The node:http plumbing every provider simulator shares: listening, reading the JSON body, scrubbing
 * credentials before a scenario sees the request, delays that stop when the client goes away, SSE
 * writing, connection resets and shutdown that also ends hanging requests. Provider files only map a
 * `Reply` to their wire format.
 */
import {
  createServer as createHttp1Server,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import {
  createServer as createH2cServer,
  Http2ServerResponse,
  type Http2ServerRequest,
  type Http2Session,
} from 'node:http2';
import type { AddressInfo, Server, Socket } from 'node:net';
import {
  defaultReply,
  type ErrorReply,
  type MalformedReply,
  type Reply,
  type RespondFn,
  type SimulatedRequest,
  type Simulator,
  type StreamReply,
  type SuccessReply,
} from './reply.js';

/** Headers a scenario must never see (and that the simulators never log). */
const CREDENTIAL_HEADERS = new Set([
  'authorization',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
  'x-amz-security-token',
  'cookie',
  'proxy-authorization',
]);
/** Bodies above this are refused: real APIs cap them too, and a simulator must not buffer without bound. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

/** A response of either protocol; the writers that take it use only what both have. */
export type SimulatorResponse = ServerResponse | Http2ServerResponse;

/** A provider's request handler: it gets the request already parsed and the scenario's reply. */
export type ProviderHandler<R extends SimulatorResponse = ServerResponse> = (
  exchange: Exchange<R>,
) => Promise<void>;

export interface Exchange<R extends SimulatorResponse = ServerResponse> {
  request: SimulatedRequest;
  reply: Reply;
  res: R;
}

/** A route for APIs that put the model (and streaming) in the path: Gemini, Bedrock. */
export interface PatternRoute<R extends SimulatorResponse = ServerResponse> {
  method: string;
  pattern: RegExp;
  /** Model and stream flag read from the path's match; what it leaves undefined is read from the body. */
  fromPath(match: RegExpExecArray): { model?: string; stream?: boolean };
  handler: ProviderHandler<R>;
}

interface ServerOptions<R extends SimulatorResponse> {
  respond?: RespondFn;
  port?: number;
  host?: string;
  /** Appended to `http://host:port` to form the SDK's base URL (OpenAI: '/v1'; Anthropic: ''). */
  baseURLPath: string;
  /** Routes by exact `METHOD path`, the model and stream flag read from the JSON body. */
  routes?: Readonly<Record<string, ProviderHandler<R>>>;
  /** Tried in order when no exact route matches. */
  patternRoutes?: ReadonlyArray<PatternRoute<R>>;
  /** Writes the provider's 404 body. */
  notFound: (res: R, method: string, path: string) => void;
  /** Writes the provider's answer to a body over the limit (default: 413, OpenAI's error shape). */
  tooLarge?: (res: R) => void;
  /** Writes the provider's answer when a scenario function threw (default: 500, OpenAI's error shape). */
  internalError?: (res: R, error: unknown) => void;
}

/** HTTP/1.1, what the OpenAI, Anthropic and Gemini SDKs speak. */
export interface SimulatorServerOptions extends ServerOptions<ServerResponse> {
  protocol?: 'http/1.1';
}

/**
 * Cleartext HTTP/2 with prior knowledge (h2c): the AWS SDK's default NodeHttp2Handler speaks it to an
 * `http:` endpoint.
 */
export interface H2cSimulatorServerOptions extends ServerOptions<Http2ServerResponse> {
  protocol: 'h2c';
}

/** The listener plus what close() must also end: sockets (HTTP/1.1 keep-alive) or sessions (HTTP/2). */
interface Listener {
  server: Server;
  destroyConnections(): void;
}

type RequestLike = (IncomingMessage | Http2ServerRequest) & AsyncIterable<unknown>;

export function startSimulatorServer(options: SimulatorServerOptions): Promise<Simulator>;
export function startSimulatorServer(options: H2cSimulatorServerOptions): Promise<Simulator>;
export async function startSimulatorServer(
  options: SimulatorServerOptions | H2cSimulatorServerOptions,
): Promise<Simulator> {
  // The two option types differ only in the response class their callbacks take.
  const opts = options as ServerOptions<SimulatorResponse>;
  const respond = opts.respond ?? defaultReply;
  const internalError = opts.internalError ?? defaultInternalError;
  const tooLarge = opts.tooLarge ?? defaultTooLarge;
  let requests = 0;

  const onRequest = (req: RequestLike, res: SimulatorResponse): void => {
    requests++;
    handle(req, res).catch((error: unknown) => {
      // A scenario function threw: answer like a broken upstream rather than leaving the client hanging.
      if (!res.headersSent && !res.destroyed) internalError(res, error);
      else res.destroy();
    });
  };
  const listener = options.protocol === 'h2c' ? h2cListener(onRequest) : http1Listener(onRequest);

  async function handle(req: RequestLike, res: SimulatorResponse): Promise<void> {
    const rawBody = await readBody(req);
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const path = queryAt === -1 ? url : url.slice(0, queryAt);
    const method = req.method ?? 'GET';
    const route = findRoute(opts, method, path);
    if (route === undefined) {
      opts.notFound(res, method, path);
      return;
    }
    if (rawBody === undefined) {
      tooLarge(res);
      return;
    }
    const body = parseJsonOrUndefined(rawBody);
    const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    const request: SimulatedRequest = {
      method,
      path,
      model: route.fromPath.model ?? (typeof fields.model === 'string' ? fields.model : undefined),
      stream: route.fromPath.stream ?? fields.stream === true,
      headers: scrubHeaders(req.rawHeaders),
      body,
    };
    const reply = await respond(request);
    await route.handler({ request, reply, res });
  }

  const { server } = listener;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const baseURL = `http://${host}:${address.port}${opts.baseURLPath}`;

  let closing: Promise<void> | undefined;
  return {
    baseURL,
    port: address.port,
    get requests() {
      return requests;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Hanging requests and idle keep-alive sockets (or the client's HTTP/2 session) would otherwise
        // hold close() (and the process) open.
        listener.destroyConnections();
      });
      return closing;
    },
  };
}

function findRoute(
  options: ServerOptions<SimulatorResponse>,
  method: string,
  path: string,
):
  | { handler: ProviderHandler<SimulatorResponse>; fromPath: { model?: string; stream?: boolean } }
  | undefined {
  const exact = options.routes?.[`${method} ${path}`];
  if (exact !== undefined) return { handler: exact, fromPath: {} };
  for (const route of options.patternRoutes ?? []) {
    if (route.method !== method) continue;
    const match = route.pattern.exec(path);
    if (match !== null) return { handler: route.handler, fromPath: route.fromPath(match) };
  }
  return undefined;
}

function http1Listener(onRequest: (req: RequestLike, res: ServerResponse) => void): Listener {
  const sockets = new Set<Socket>();
  const server = createHttp1Server({ keepAlive: true }, onRequest);
  // Clients keep connections alive for a few seconds; outlast them so a reused socket is never closed
  // under an in-flight request (which clients would report as a reset that the scenario did not ask for).
  server.keepAliveTimeout = 30_000;
  server.headersTimeout = 60_000;
  server.requestTimeout = 0;
  server.on('connection', (socket: Socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return {
    server,
    destroyConnections: () => {
      for (const socket of sockets) socket.destroy();
    },
  };
}

function h2cListener(onRequest: (req: RequestLike, res: Http2ServerResponse) => void): Listener {
  const sessions = new Set<Http2Session>();
  const server = createH2cServer(onRequest);
  server.on('session', (session: Http2Session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  return {
    server,
    destroyConnections: () => {
      for (const session of sessions) session.destroy();
    },
  };
}

function defaultInternalError(res: SimulatorResponse, error: unknown): void {
  sendJson(
    res,
    500,
    {},
    { error: { message: `simulator error: ${String(error)}`, type: 'simulator_error' } },
  );
}

function defaultTooLarge(res: SimulatorResponse): void {
  sendJson(res, 413, {}, { error: { message: 'request body too large', type: 'invalid_request_error' } });
}

async function readBody(req: AsyncIterable<unknown>): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(buffer);
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}

function parseJsonOrUndefined(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** The request's headers without credentials (nor HTTP/2's `:method`-style pseudo-headers). */
function scrubHeaders(raw: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (!CREDENTIAL_HEADERS.has(name) && !name.startsWith(':')) out[name] = raw[i + 1]!;
  }
  return out;
}

/** What waitUnlessClosed needs of a response (both protocols' have it). */
interface ClosableResponse {
  readonly destroyed: boolean;
  readonly writableEnded: boolean;
  once(event: 'close', listener: () => void): unknown;
  off(event: 'close', listener: () => void): unknown;
}

/** What sendJson needs of a response (both protocols' have it). */
interface JsonWritable {
  writeHead(status: number, headers: OutgoingHttpHeaders): unknown;
  end(payload: string): unknown;
}

/**
 * Waits `ms`, but gives up as soon as the client disconnects (timeout, abort) so no timer outlives its
 * request. Resolves true when the full delay elapsed and the response can still be written.
 */
export function waitUnlessClosed(res: ClosableResponse, ms: number | undefined): Promise<boolean> {
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

export function sendJson(
  res: JsonWritable,
  status: number,
  headers: Record<string, string>,
  body: unknown,
): void {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
  });
  res.end(payload);
}

/** A 200 whose body claims to be JSON but is cut off mid-object. */
export function sendMalformedJson(res: ServerResponse, headers: Record<string, string>): void {
  sendJson(res, 200, headers, '{"id": "broken", "object": "chat.completion", "choices": [{"index": 0, "mess');
}

export function startSse(res: ServerResponse, headers: Record<string, string>): void {
  res.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
  });
  res.flushHeaders();
}

/** Writes one SSE event; `event` adds the `event:` line the Anthropic and Responses formats use. */
export function writeSse(res: ServerResponse, data: unknown, event?: string): void {
  const json = typeof data === 'string' ? data : JSON.stringify(data);
  res.write(event === undefined ? `data: ${json}\n\n` : `event: ${event}\ndata: ${json}\n\n`);
}

/**
 * Ends the connection abruptly: a TCP RST where the platform supports it, so clients see ECONNRESET. On
 * HTTP/2 the analogue is RST_STREAM with INTERNAL_ERROR on this request's stream, which the client reports
 * as a stream error, the way a load balancer dropping the request looks.
 */
export function resetConnection(res: SimulatorResponse): void {
  if (res instanceof Http2ServerResponse) {
    res.stream.close(2 /* NGHTTP2_INTERNAL_ERROR */);
    return;
  }
  const socket = res.socket;
  if (socket === null) return;
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

/** Holds the request open with no answer until the client gives up or the simulator closes. */
export function hang(_res: ServerResponse): Promise<void> {
  return Promise.resolve();
}

/**
 * A provider's wire format for each reply kind that has a body. `dispatchReply` has already waited the
 * reply's `delayMs` (and given up if the client left) before calling `success`, `error` or `malformed`;
 * `stream` plays its own delays.
 */
export interface ReplyWriters<R extends SimulatorResponse = ServerResponse> {
  success(exchange: Exchange<R>, reply: SuccessReply): void;
  stream(exchange: Exchange<R>, reply: StreamReply): Promise<void>;
  error(exchange: Exchange<R>, reply: ErrorReply): void;
  malformed(exchange: Exchange<R>, reply: MalformedReply): void;
  /**
   * Answer a scripted stream to a request that did not ask to stream as a success (after the stream's
   * first-token delay), in the shape the client asked for. Set where the body's `stream` flag, not the
   * path, picks the shape (OpenAI, Anthropic).
   */
  streamOnlyWhenAsked?: boolean;
}

/** Plays one reply: its delay, then the provider's writer, a connection reset, or no answer at all. */
export async function dispatchReply<R extends SimulatorResponse>(
  exchange: Exchange<R>,
  writers: ReplyWriters<R>,
): Promise<void> {
  const { reply, res } = exchange;
  switch (reply.kind) {
    case 'hang':
      return; // the client's timeout or abort ends it; close() destroys the connection otherwise
    case 'reset':
      if (await waitUnlessClosed(res, reply.delayMs)) resetConnection(res);
      return;
    case 'stream':
      if (writers.streamOnlyWhenAsked === true && !exchange.request.stream) {
        const success: SuccessReply = { ...reply, kind: 'success', delayMs: reply.firstTokenDelayMs };
        return dispatchReply({ ...exchange, reply: success }, writers);
      }
      await writers.stream(exchange, reply);
      return;
    case 'success':
      if (await waitUnlessClosed(res, reply.delayMs)) writers.success(exchange, reply);
      return;
    case 'error':
      if (await waitUnlessClosed(res, reply.delayMs)) writers.error(exchange, reply);
      return;
    case 'malformed':
      if (await waitUnlessClosed(res, reply.delayMs)) writers.malformed(exchange, reply);
      return;
  }
}

/** How a simulated stream ended, so the provider can write its closing events (or not). */
export type StreamOutcome = 'completed' | 'error' | 'closed';

/**
 * Plays the content pieces of a stream reply with its delays: `firstTokenDelayMs` before the first piece,
 * `chunkDelayMs` between pieces. Stops early for `errorAfterChunks` ('error': the provider writes its
 * error event), `resetAfterChunks` (connection destroyed) or a client that went away ('closed').
 */
export async function playStreamPieces(
  res: ServerResponse,
  reply: StreamReply,
  pieces: readonly string[],
  writePiece: (piece: string, index: number) => void,
): Promise<StreamOutcome> {
  for (let i = 0; i < pieces.length; i++) {
    if (reply.errorAfterChunks !== undefined && i >= reply.errorAfterChunks) return 'error';
    if (reply.resetAfterChunks !== undefined && i >= reply.resetAfterChunks) {
      resetConnection(res);
      return 'closed';
    }
    if (!(await waitUnlessClosed(res, i === 0 ? reply.firstTokenDelayMs : reply.chunkDelayMs)))
      return 'closed';
    writePiece(pieces[i]!, i);
  }
  if (
    reply.errorAfterChunks !== undefined &&
    reply.errorAfterChunks >= 0 &&
    reply.errorAfterChunks >= pieces.length
  ) {
    return 'error';
  }
  if (reply.resetAfterChunks !== undefined && reply.resetAfterChunks >= pieces.length) {
    resetConnection(res);
    return 'closed';
  }
  return res.destroyed ? 'closed' : 'completed';
}
