/**
 * The node:http plumbing every provider simulator shares: listening, reading the JSON body, scrubbing
 * credentials before a scenario sees the request, delays that stop when the client goes away, SSE
 * writing, connection resets and shutdown that also ends hanging requests. Provider files only map a
 * `Reply` to their wire format.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  defaultReply,
  type Reply,
  type RespondFn,
  type SimulatedRequest,
  type Simulator,
  type StreamReply,
} from './reply.js';

/** Headers a scenario must never see (and that the simulators never log). */
const CREDENTIAL_HEADERS = new Set([
  'authorization',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
  'cookie',
  'proxy-authorization',
]);
/** Bodies above this are refused: real APIs cap them too, and a simulator must not buffer without bound. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

/** A provider's request handler: it gets the request already parsed and the scenario's reply. */
export type ProviderHandler = (exchange: Exchange) => Promise<void>;

export interface Exchange {
  request: SimulatedRequest;
  reply: Reply;
  res: ServerResponse;
}

export interface SimulatorServerOptions {
  respond?: RespondFn;
  port?: number;
  host?: string;
  /** Appended to `http://host:port` to form the SDK's base URL (OpenAI: '/v1'; Anthropic: ''). */
  baseURLPath: string;
  /** Routes by exact `METHOD path`; anything else gets `notFound`. */
  routes: Readonly<Record<string, ProviderHandler>>;
  /** Writes the provider's 404 body. */
  notFound: (res: ServerResponse, method: string, path: string) => void;
}

export async function startSimulatorServer(options: SimulatorServerOptions): Promise<Simulator> {
  const respond = options.respond ?? defaultReply;
  const sockets = new Set<Socket>();
  let requests = 0;

  const server = createServer({ keepAlive: true }, (req, res) => {
    requests++;
    handle(req, res).catch((error: unknown) => {
      // A scenario function threw: answer 500 like a broken upstream rather than leaving the client hanging.
      if (!res.headersSent && !res.destroyed) {
        sendJson(
          res,
          500,
          {},
          { error: { message: `simulator error: ${String(error)}`, type: 'simulator_error' } },
        );
      } else {
        res.destroy();
      }
    });
  });
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

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawBody = await readBody(req);
    if (rawBody === undefined) {
      sendJson(res, 413, {}, { error: { message: 'request body too large', type: 'invalid_request_error' } });
      return;
    }
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const path = queryAt === -1 ? url : url.slice(0, queryAt);
    const method = req.method ?? 'GET';
    const route = options.routes[`${method} ${path}`];
    if (route === undefined) {
      options.notFound(res, method, path);
      return;
    }
    const body = parseJsonOrUndefined(rawBody);
    const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    const request: SimulatedRequest = {
      method,
      path,
      model: typeof fields.model === 'string' ? fields.model : undefined,
      stream: fields.stream === true,
      headers: scrubHeaders(req),
      body,
    };
    const reply = await respond(request);
    await route({ request, reply, res });
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
  const baseURL = `http://${host}:${address.port}${options.baseURLPath}`;

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
        // Hanging requests and idle keep-alive sockets would otherwise hold close() (and the process) open.
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
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

function scrubHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (!CREDENTIAL_HEADERS.has(name)) out[name] = raw[i + 1]!;
  }
  return out;
}

/**
 * Waits `ms`, but gives up as soon as the client disconnects (timeout, abort) so no timer outlives its
 * request. Resolves true when the full delay elapsed and the response can still be written.
 */
export function waitUnlessClosed(res: ServerResponse, ms: number | undefined): Promise<boolean> {
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
  res: ServerResponse,
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

/** Ends the connection abruptly: a TCP RST where the platform supports it, so clients see ECONNRESET. */
export function resetConnection(res: ServerResponse): void {
  const socket = res.socket;
  if (socket === null) return;
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

/** Holds the request open with no answer until the client gives up or the simulator closes. */
export function hang(_res: ServerResponse): Promise<void> {
  return Promise.resolve();
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
