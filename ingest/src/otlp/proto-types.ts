/**
 * The OTLP protobuf types, loaded once from the vendored .proto files in ingest/proto/. protobufjs
 * generates each message's encoder/decoder as JS code at first use (reflection + codegen), which measures
 * as fast as a static module here, and keeps the .proto files the single source of truth.
 */
import protobuf from 'protobufjs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** ingest/proto, from ingest/src/otlp (source) and ingest/dist/otlp (build) alike. */
export const PROTO_DIR = fileURLToPath(new URL('../../proto/', import.meta.url));

function loadRoot(): protobuf.Root {
  const root = new protobuf.Root();
  // Imports in the .proto files are relative to the include root, like protoc -I ingest/proto.
  root.resolvePath = (_origin, target) => join(PROTO_DIR, target);
  root.loadSync(['opentelemetry/proto/collector/trace/v1/trace_service.proto', 'google/rpc/status.proto']);
  root.resolveAll();
  return root;
}

const root = loadRoot();

export const ExportTraceServiceRequestType = root.lookupType(
  'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest',
);
export const ExportTraceServiceResponseType = root.lookupType(
  'opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse',
);
export const RpcStatusType = root.lookupType('google.rpc.Status');

/**
 * What protobufjs hands back for an int64/fixed64 field: a `Long` (the `long` package, a protobufjs
 * dependency) or, for values built from JS numbers, a number.
 */
export interface Int64Like {
  low: number;
  high: number;
  unsigned: boolean;
  toString(radix?: number): string;
  toNumber(): number;
}
export type RawInt64 = Int64Like | number;

// Structural views of the decoded protobufjs messages (field names camelCased by protobufjs). Unset scalar
// fields read their proto3 default from the prototype; unset message fields read null.
export interface RawAnyValue {
  /** The oneof member that is set: 'stringValue' | 'boolValue' | ... | undefined. */
  value?: string;
  stringValue?: string;
  boolValue?: boolean;
  intValue?: RawInt64;
  doubleValue?: number;
  arrayValue?: { values?: RawAnyValue[] } | null;
  kvlistValue?: { values?: RawKeyValue[] } | null;
  bytesValue?: Uint8Array;
}
export interface RawKeyValue {
  key?: string;
  value?: RawAnyValue | null;
}
export interface RawEvent {
  timeUnixNano?: RawInt64;
  name?: string;
  attributes?: RawKeyValue[];
  droppedAttributesCount?: number;
}
export interface RawLink {
  traceId?: Uint8Array;
  spanId?: Uint8Array;
  traceState?: string;
  attributes?: RawKeyValue[];
  droppedAttributesCount?: number;
  flags?: number;
}
export interface RawSpan {
  traceId?: Uint8Array;
  spanId?: Uint8Array;
  traceState?: string;
  parentSpanId?: Uint8Array;
  flags?: number;
  name?: string;
  kind?: number;
  startTimeUnixNano?: RawInt64;
  endTimeUnixNano?: RawInt64;
  attributes?: RawKeyValue[];
  droppedAttributesCount?: number;
  events?: RawEvent[];
  droppedEventsCount?: number;
  links?: RawLink[];
  droppedLinksCount?: number;
  status?: { message?: string; code?: number } | null;
}
export interface RawScopeSpans {
  scope?: {
    name?: string;
    version?: string;
    attributes?: RawKeyValue[];
    droppedAttributesCount?: number;
  } | null;
  spans?: RawSpan[];
  schemaUrl?: string;
}
export interface RawResourceSpans {
  resource?: { attributes?: RawKeyValue[]; droppedAttributesCount?: number } | null;
  scopeSpans?: RawScopeSpans[];
  schemaUrl?: string;
}
/** An ExportTraceServiceRequest as protobufjs holds it: lossless, re-encodable with encodeTraceRequest. */
export interface RawTraceRequest {
  resourceSpans?: RawResourceSpans[];
}
