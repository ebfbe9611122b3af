/**
 * Decoded OTLP traces as the rest of ingest sees them: ids as lowercase hex, times as decimal-string
 * nanoseconds (they do not fit a JS number), attributes as flat records. Produced by decodeTraceRequest.
 */

/**
 * An attribute value. int64 values are numbers when they fit exactly, else bigint; bytes stay bytes;
 * arrays and key/value lists nest. `null` is an empty AnyValue.
 */
export type AttrValue = string | number | boolean | bigint | Uint8Array | null | AttrValue[] | AttrMap;
export interface AttrMap {
  [key: string]: AttrValue;
}
export type Attributes = Record<string, AttrValue>;

/** OTLP Span.SpanKind numbers. */
export const SpanKind = {
  UNSPECIFIED: 0,
  INTERNAL: 1,
  SERVER: 2,
  CLIENT: 3,
  PRODUCER: 4,
  CONSUMER: 5,
} as const;
export type SpanKindValue = (typeof SpanKind)[keyof typeof SpanKind];

/** OTLP Status.StatusCode numbers. */
export const StatusCode = { UNSET: 0, OK: 1, ERROR: 2 } as const;
export type StatusCodeValue = (typeof StatusCode)[keyof typeof StatusCode];

/** Decimal string of nanoseconds since the UNIX epoch (fixed64 on the wire). */
export type UnixNanos = string;

export interface DecodedEvent {
  timeUnixNano: UnixNanos;
  name: string;
  attributes: Attributes;
}

export interface DecodedLink {
  traceId: string;
  spanId: string;
  traceState: string;
  attributes: Attributes;
}

export interface DecodedSpan {
  /** 32 lowercase hex characters. */
  traceId: string;
  /** 16 lowercase hex characters. */
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  traceState: string;
  flags: number;
  name: string;
  kind: SpanKindValue;
  startTimeUnixNano: UnixNanos;
  endTimeUnixNano: UnixNanos;
  /** end − start in nanoseconds (exact below 2^53 ns, i.e. ~104 days). */
  durationNs: number;
  attributes: Attributes;
  events: DecodedEvent[];
  links: DecodedLink[];
  status: { code: StatusCodeValue; message: string };
}

export interface DecodedScopeSpans {
  scope: { name: string; version: string; attributes: Attributes };
  schemaUrl: string;
  spans: DecodedSpan[];
}

export interface DecodedResourceSpans {
  resource: { attributes: Attributes };
  schemaUrl: string;
  scopeSpans: DecodedScopeSpans[];
}

export interface DecodedTraceRequest {
  resourceSpans: DecodedResourceSpans[];
  /** Spans in the whole request. */
  spanCount: number;
}
