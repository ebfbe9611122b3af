/** OTLP trace decoding: public surface of ingest/src/otlp. */
export { decodeTraceRequest, detectEncoding, toDecodedTraceRequest, validateTraceRequest } from './decode.js';
export { encodeTraceRequest, parseTraceRequest } from './parse-request.js';
export { splitByTraceId, type TraceSlice } from './split-by-trace.js';
export { splitWireRequest, type WireSlice, type WireSplit } from './split-wire-request.js';
export { attrValueToString, attributesToStrings } from './attr-value.js';
export type * from './otlp-types.js';
export { SpanKind, StatusCode } from './otlp-types.js';
export type { RawTraceRequest } from './proto-types.js';
