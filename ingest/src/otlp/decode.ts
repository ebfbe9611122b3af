/**
 * OTLP trace requests (either encoding) -> DecodedTraceRequest, validated: a message that decodes but
 * breaks the data model (wrong id lengths, end before start) is as unusable as garbage, and the caller
 * (gateway: 400; consumer: dead-letter) needs one readable reason.
 */
import { IngestError } from '../errors.js';
import type { OtlpEncoding } from '../names.js';
import { keyValuesToAttributes } from './attr-value.js';
import { fixed64Difference, fixed64IsZero, fixed64ToDecimal } from './int64.js';
import type {
  DecodedEvent,
  DecodedLink,
  DecodedSpan,
  DecodedTraceRequest,
  SpanKindValue,
  StatusCodeValue,
} from './otlp-types.js';
import { parseTraceRequest } from './parse-request.js';
import type { RawLink, RawSpan, RawTraceRequest } from './proto-types.js';

export type { OtlpEncoding };

const ENCODINGS: ReadonlySet<string> = new Set<OtlpEncoding>(['otlp_proto', 'otlp_json']);

/**
 * The encoding of a Kafka record or request body: the `modelwatch-encoding` header when present, else
 * sniffed (an OTLP protobuf message never starts with '{': that byte is field 15 with a group wire type).
 */
export function detectEncoding(body: Uint8Array, headerValue?: string | Uint8Array | null): OtlpEncoding {
  if (headerValue !== undefined && headerValue !== null) {
    const text = typeof headerValue === 'string' ? headerValue : Buffer.from(headerValue).toString('utf8');
    const trimmed = text.trim();
    if (ENCODINGS.has(trimmed)) return trimmed as OtlpEncoding;
    throw new IngestError(
      'OTLP_DECODE_FAILED',
      `unsupported encoding ${JSON.stringify(text)} (expected otlp_proto or otlp_json)`,
    );
  }
  for (let i = 0; i < body.length; i++) {
    const byte = body[i];
    // JSON whitespace and a UTF-8 byte order mark may precede the object.
    if (
      byte === 0x20 ||
      byte === 0x09 ||
      byte === 0x0a ||
      byte === 0x0d ||
      byte === 0xef ||
      byte === 0xbb ||
      byte === 0xbf
    )
      continue;
    return byte === 0x7b ? 'otlp_json' : 'otlp_proto';
  }
  return 'otlp_proto';
}

/** Decodes and validates one ExportTraceServiceRequest. Throws IngestError OTLP_DECODE_FAILED / OTLP_INVALID. */
export function decodeTraceRequest(body: Uint8Array, encoding: OtlpEncoding): DecodedTraceRequest {
  return toDecodedTraceRequest(parseTraceRequest(body, encoding));
}

// An unset bytes field reads protobufjs' prototype default, which can be a plain empty array: use .length.
function hex(bytes: Uint8Array | undefined): string {
  if (!bytes || bytes.length === 0) return '';
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function isAllZero(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

function checkId(
  bytes: Uint8Array | undefined,
  expectedBytes: number,
  what: string,
  optional: boolean,
): void {
  const length = bytes?.length ?? 0;
  if (length === 0) {
    if (optional) return;
    throw new IngestError('OTLP_INVALID', `${what} is missing`);
  }
  if (length !== expectedBytes) {
    throw new IngestError(
      'OTLP_INVALID',
      `${what} is ${length} bytes, expected ${expectedBytes} (a ${length}-byte id)`,
    );
  }
  if (!optional && isAllZero(bytes as Uint8Array))
    throw new IngestError('OTLP_INVALID', `${what} is all zeroes (invalid)`);
}

/** The checks the data model requires of one span; `index` counts spans across the whole request. */
export function validateSpan(span: RawSpan, index: number): void {
  const where = `span ${index}${span.name ? ` ("${span.name}")` : ''}`;
  checkId(span.traceId, 16, `${where} trace id`, false);
  checkId(span.spanId, 8, `${where} span id`, false);
  checkId(span.parentSpanId, 8, `${where} parent span id`, true);
  if (fixed64IsZero(span.startTimeUnixNano))
    throw new IngestError('OTLP_INVALID', `${where} has no start time`);
  if (fixed64Difference(span.startTimeUnixNano, span.endTimeUnixNano) < 0) {
    throw new IngestError(
      'OTLP_INVALID',
      `${where} ends before it starts (start ${fixed64ToDecimal(span.startTimeUnixNano)} ns, end ${fixed64ToDecimal(span.endTimeUnixNano)} ns)`,
    );
  }
  span.links?.forEach((link, linkIndex) => {
    checkId(link.traceId, 16, `${where} link ${linkIndex} trace id`, false);
    checkId(link.spanId, 8, `${where} link ${linkIndex} span id`, false);
  });
}

/** Validates every span without building the decoded form (the gateway's check); returns the span count. */
export function validateTraceRequest(request: RawTraceRequest): number {
  let index = 0;
  for (const resourceSpans of request.resourceSpans ?? []) {
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      for (const span of scopeSpans.spans ?? []) validateSpan(span, index++);
    }
  }
  return index;
}

function toKind(kind: number | undefined): SpanKindValue {
  return kind !== undefined && kind >= 0 && kind <= 5 ? (kind as SpanKindValue) : 0;
}

function toStatusCode(code: number | undefined): StatusCodeValue {
  return code === 1 || code === 2 ? code : 0;
}

function toLink(link: RawLink): DecodedLink {
  return {
    traceId: hex(link.traceId),
    spanId: hex(link.spanId),
    traceState: link.traceState ?? '',
    attributes: keyValuesToAttributes(link.attributes),
  };
}

function toSpan(span: RawSpan, index: number): DecodedSpan {
  validateSpan(span, index);
  const events: DecodedEvent[] = [];
  for (const event of span.events ?? []) {
    events.push({
      timeUnixNano: fixed64ToDecimal(event.timeUnixNano),
      name: event.name ?? '',
      attributes: keyValuesToAttributes(event.attributes),
    });
  }
  return {
    traceId: hex(span.traceId),
    spanId: hex(span.spanId),
    parentSpanId: hex(span.parentSpanId),
    traceState: span.traceState ?? '',
    flags: span.flags ?? 0,
    name: span.name ?? '',
    kind: toKind(span.kind),
    startTimeUnixNano: fixed64ToDecimal(span.startTimeUnixNano),
    endTimeUnixNano: fixed64ToDecimal(span.endTimeUnixNano),
    durationNs: fixed64Difference(span.startTimeUnixNano, span.endTimeUnixNano),
    attributes: keyValuesToAttributes(span.attributes),
    events,
    links: span.links && span.links.length > 0 ? span.links.map(toLink) : [],
    status: { code: toStatusCode(span.status?.code), message: span.status?.message ?? '' },
  };
}

/** The validated, decoded form of a parsed request (see parseTraceRequest). */
export function toDecodedTraceRequest(request: RawTraceRequest): DecodedTraceRequest {
  let spanCount = 0;
  const resourceSpans = (request.resourceSpans ?? []).map((rs) => ({
    resource: { attributes: keyValuesToAttributes(rs.resource?.attributes) },
    schemaUrl: rs.schemaUrl ?? '',
    scopeSpans: (rs.scopeSpans ?? []).map((ss) => ({
      scope: {
        name: ss.scope?.name ?? '',
        version: ss.scope?.version ?? '',
        attributes: keyValuesToAttributes(ss.scope?.attributes),
      },
      schemaUrl: ss.schemaUrl ?? '',
      spans: (ss.spans ?? []).map((span) => toSpan(span, spanCount++)),
    })),
  }));
  return { resourceSpans, spanCount };
}
