/**
 * The OTLP/HTTP receiver: POST /v1/traces (protobuf or JSON, optionally gzip/deflate) -> validate ->
 * one Kafka record per trace -> 200 only after Kafka acknowledged. Failures follow the OTLP/HTTP spec:
 * 400 (bad data, not retried), 401, 413, 415, and 503 + Retry-After when Kafka is unavailable (retried by
 * exporters). Error bodies are google.rpc.Status in the request's encoding. Also GET /healthz and /metrics.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { IngestError, errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { OtlpEncoding } from '../names.js';
import { validateTraceRequest } from '../otlp/decode.js';
import { encodeTraceRequest, parseTraceRequest } from '../otlp/parse-request.js';
import { ExportTraceServiceResponseType, RpcStatusType } from '../otlp/proto-types.js';
import { splitByTraceId } from '../otlp/split-by-trace.js';
import { splitWireRequest } from '../otlp/split-wire-request.js';
import type { GatewayMetrics, RejectReason } from './gateway-metrics.js';
import type { SpanPublisher, SpanRecord } from './publish-spans.js';
import { decoderFor, readBody } from './read-body.js';

export interface OtlpHttpHandlerOptions {
  publisher: SpanPublisher;
  metrics: GatewayMetrics;
  logger: Logger;
  maxBodyBytes: number;
  authToken: string | undefined;
  publishTimeoutMs: number;
  retryAfterS: number;
}

/** google.rpc.Code values used in Status bodies. */
const RPC_INVALID_ARGUMENT = 3;
const RPC_NOT_FOUND = 5;
const RPC_RESOURCE_EXHAUSTED = 8;
const RPC_INTERNAL = 13;
const RPC_UNAVAILABLE = 14;
const RPC_UNAUTHENTICATED = 16;

const CONTENT_TYPE_PROTO = 'application/x-protobuf';
const CONTENT_TYPE_JSON = 'application/json';
const EMPTY_PROTO_RESPONSE = ExportTraceServiceResponseType.encode({}).finish();

function mediaType(header: string | undefined): string {
  if (!header) return '';
  const semicolon = header.indexOf(';');
  return (semicolon === -1 ? header : header.slice(0, semicolon)).trim().toLowerCase();
}

function encodingFor(contentType: string): OtlpEncoding | undefined {
  if (contentType === CONTENT_TYPE_PROTO || contentType === 'application/protobuf') return 'otlp_proto';
  if (contentType === CONTENT_TYPE_JSON) return 'otlp_json';
  return undefined;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

interface Failure {
  httpStatus: number;
  rpcCode: number;
  reason: RejectReason;
  message: string;
  headers?: Record<string, string>;
}

/**
 * A request body -> one Kafka record per trace, validated (throws OTLP_DECODE_FAILED / OTLP_INVALID).
 * Protobuf is split at the byte level when it is in the canonical form (splitWireRequest); anything else —
 * OTLP/JSON, rare protobuf forms, invalid spans — is decoded, validated, split and re-encoded by protobufjs.
 */
export function toRecords(
  body: Uint8Array,
  encoding: OtlpEncoding,
): { records: SpanRecord[]; spanCount: number } {
  if (encoding === 'otlp_proto') {
    const split = splitWireRequest(body);
    if (split !== undefined) {
      const records = split.slices.map((slice) => ({ traceId: slice.traceId, value: slice.value }));
      return { records, spanCount: split.spanCount };
    }
  }
  const request = parseTraceRequest(body, encoding);
  const spanCount = validateTraceRequest(request);
  const slices = splitByTraceId(request);
  // One protobuf trace: forward the bytes as received (lossless, no re-encode).
  const records =
    slices.length === 1 && encoding === 'otlp_proto'
      ? [{ traceId: slices[0]!.traceId, value: body }]
      : slices.map((slice) => ({ traceId: slice.traceId, value: encodeTraceRequest(slice.request) }));
  return { records, spanCount };
}

export function createOtlpHttpHandler(
  options: OtlpHttpHandlerOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { publisher, metrics, logger } = options;
  const expectedAuth = options.authToken === undefined ? undefined : sha256(`Bearer ${options.authToken}`);

  function send(
    res: ServerResponse,
    status: number,
    contentType: string,
    body: string | Uint8Array,
    headers: Record<string, string> = {},
  ): void {
    metrics.request(status);
    res.writeHead(status, {
      'Content-Type': contentType,
      'Content-Length': String(Buffer.byteLength(body)),
      ...headers,
    });
    res.end(body);
  }

  function sendFailure(res: ServerResponse, encoding: OtlpEncoding | undefined, failure: Failure): void {
    metrics.reject(failure.reason);
    const status = { code: failure.rpcCode, message: failure.message };
    if (encoding === 'otlp_proto') {
      send(
        res,
        failure.httpStatus,
        CONTENT_TYPE_PROTO,
        RpcStatusType.encode(status).finish(),
        failure.headers,
      );
    } else {
      send(res, failure.httpStatus, CONTENT_TYPE_JSON, JSON.stringify(status), failure.headers);
    }
  }

  function failureFor(error: unknown): Failure {
    const code = error instanceof IngestError ? error.code : undefined;
    switch (code) {
      case 'OTLP_DECODE_FAILED':
        return {
          httpStatus: 400,
          rpcCode: RPC_INVALID_ARGUMENT,
          reason: 'decode_failed',
          message: errorMessage(error),
        };
      case 'OTLP_INVALID':
        return {
          httpStatus: 400,
          rpcCode: RPC_INVALID_ARGUMENT,
          reason: 'invalid',
          message: errorMessage(error),
        };
      case 'PAYLOAD_TOO_LARGE':
        return {
          httpStatus: 413,
          rpcCode: RPC_RESOURCE_EXHAUSTED,
          reason: 'too_large',
          message: errorMessage(error),
          headers: { Connection: 'close' },
        };
      case 'KAFKA_UNAVAILABLE':
      case 'KAFKA_FAILED':
        return {
          httpStatus: 503,
          rpcCode: RPC_UNAVAILABLE,
          reason: 'kafka_unavailable',
          message: `spans not accepted, retry later: ${errorMessage(error)}`,
          headers: { 'Retry-After': String(options.retryAfterS) },
        };
      default:
        return { httpStatus: 500, rpcCode: RPC_INTERNAL, reason: 'internal', message: 'internal error' };
    }
  }

  async function exportTraces(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const contentType = mediaType(req.headers['content-type']);
    const encoding = encodingFor(contentType);
    if (expectedAuth) {
      const given = req.headers.authorization;
      if (given === undefined || !timingSafeEqual(sha256(given), expectedAuth)) {
        sendFailure(res, encoding, {
          httpStatus: 401,
          rpcCode: RPC_UNAUTHENTICATED,
          reason: 'unauthorized',
          message: 'missing or wrong bearer token',
          headers: { 'WWW-Authenticate': 'Bearer', Connection: 'close' },
        });
        return;
      }
    }
    if (!encoding) {
      sendFailure(res, undefined, {
        httpStatus: 415,
        rpcCode: RPC_INVALID_ARGUMENT,
        reason: 'unsupported_media_type',
        message: `unsupported Content-Type ${JSON.stringify(contentType)}; send application/x-protobuf or application/json`,
        headers: { Accept: `${CONTENT_TYPE_PROTO}, ${CONTENT_TYPE_JSON}`, Connection: 'close' },
      });
      return;
    }
    const decoder = decoderFor(req.headers['content-encoding']);
    if (decoder === undefined) {
      sendFailure(res, encoding, {
        httpStatus: 415,
        rpcCode: RPC_INVALID_ARGUMENT,
        reason: 'unsupported_media_type',
        message: `unsupported Content-Encoding ${JSON.stringify(req.headers['content-encoding'])}; use gzip, deflate or none`,
        headers: { 'Accept-Encoding': 'gzip, deflate', Connection: 'close' },
      });
      return;
    }
    const declaredLength = Number(req.headers['content-length']);
    if (decoder === null && Number.isFinite(declaredLength) && declaredLength > options.maxBodyBytes) {
      sendFailure(
        res,
        encoding,
        failureFor(
          new IngestError(
            'PAYLOAD_TOO_LARGE',
            `request body of ${declaredLength} bytes exceeds ${options.maxBodyBytes} bytes`,
          ),
        ),
      );
      return;
    }

    let records: SpanRecord[];
    let spanCount: number;
    let bodyBytes: number;
    let wireBytes: number;
    try {
      const read = await readBody(req, decoder, options.maxBodyBytes);
      bodyBytes = read.body.byteLength;
      wireBytes = read.wireBytes;
      ({ records, spanCount } = toRecords(read.body, encoding));
    } catch (error) {
      const failure = failureFor(error);
      if (failure.reason === 'internal')
        logger.error({ err: error }, 'unexpected error reading an OTLP request');
      else logger.debug({ reason: failure.reason, message: failure.message }, 'rejected OTLP request');
      if (!(error instanceof IngestError) && !res.headersSent && req.complete === false) {
        // The client went away mid-body: nobody to answer.
        res.destroy();
        return;
      }
      sendFailure(res, encoding, failure);
      return;
    }

    if (records.length > 0) {
      const startedAt = performance.now();
      try {
        await publisher.publish(records, options.publishTimeoutMs);
      } catch (error) {
        const failure = failureFor(error);
        logger.warn(
          { reason: failure.reason, spans: spanCount, err: error },
          'could not publish spans to Kafka',
        );
        sendFailure(res, encoding, failure);
        return;
      } finally {
        metrics.publishDuration((performance.now() - startedAt) / 1000);
      }
    }
    metrics.accepted(spanCount, records.length, bodyBytes, wireBytes);
    if (encoding === 'otlp_proto') send(res, 200, CONTENT_TYPE_PROTO, EMPTY_PROTO_RESPONSE);
    else send(res, 200, CONTENT_TYPE_JSON, '{}');
  }

  return async function handle(req, res) {
    const path = (req.url ?? '/').split('?', 1)[0];
    try {
      if (path === '/v1/traces') {
        if (req.method !== 'POST') {
          sendFailure(res, undefined, {
            httpStatus: 405,
            rpcCode: RPC_INVALID_ARGUMENT,
            reason: 'method_not_allowed',
            message: 'use POST',
            headers: { Allow: 'POST' },
          });
          return;
        }
        await exportTraces(req, res);
      } else if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
        const healthy = publisher.isConnected();
        send(res, healthy ? 200 : 503, 'text/plain; charset=utf-8', healthy ? 'ok\n' : 'kafka unavailable\n');
      } else if (path === '/metrics' && req.method === 'GET') {
        send(res, 200, 'text/plain; version=0.0.4; charset=utf-8', metrics.render(publisher.isConnected()));
      } else {
        sendFailure(res, undefined, {
          httpStatus: 404,
          rpcCode: RPC_NOT_FOUND,
          reason: 'not_found',
          message: `no route for ${req.method} ${path}`,
        });
      }
    } catch (error) {
      logger.error({ err: error }, 'gateway request failed');
      if (!res.headersSent) sendFailure(res, undefined, failureFor(error));
      else res.destroy();
    }
  };
}
