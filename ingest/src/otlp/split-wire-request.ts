/**
 * The gateway's fast path for protobuf requests: validate and split one ExportTraceServiceRequest by trace id
 * at the byte level. Every field is walked and checked the way protobufjs decodes it (WireReader's canonical
 * form), spans are checked like validateSpan, and each trace's request is spliced together from the input's
 * own bytes (resource, scope and span fields copied as they are) in splitByTraceId's order — instead of a
 * protobufjs decode, an object split and a re-encode per trace.
 *
 * Returns undefined whenever the reference path (parseTraceRequest + validateTraceRequest + splitByTraceId)
 * must decide: input outside the canonical form, or an invalid span (the reference path words the error).
 */
import {
  NOT_CANONICAL,
  NotCanonicalError,
  WIRE_FIXED32,
  WIRE_FIXED64,
  WIRE_LEN,
  WIRE_VARINT,
  WireReader,
} from './wire-reader.js';
import { isValidId, isValidWireSpan, MAX_VALUE_DEPTH, wireDurationNs } from './wire-span-checks.js';

// Module-local on purpose: V8 folds a local const arrow in `case tag(...)` labels, not an imported one
// (measured: splitWireRequest ~10% slower with these imported from wire-reader).
const tag = (field: number, wireType: number) => (field << 3) | wireType;
const fieldMask = (...numbers: number[]) => numbers.reduce((mask, n) => mask | (1 << n), 0);

export interface WireSlice {
  /** 32 lowercase hex characters. */
  traceId: string;
  /** A protobuf ExportTraceServiceRequest holding that trace's spans only. */
  value: Uint8Array;
  spanCount: number;
}

export interface WireSplit {
  slices: WireSlice[];
  spanCount: number;
}

/** A byte range [start, end) of the input. */
type Range = [start: number, end: number];

function skimString(r: WireReader): void {
  r.skipString();
}

function skimKeyValue(r: WireReader, depth: number): void {
  const outer = r.enter();
  let seenValue = false;
  while (r.pos < r.limit) {
    const t = r.tag();
    if (t === tag(1, WIRE_LEN)) skimString(r);
    else if (t === tag(2, WIRE_LEN)) {
      if (seenValue) throw NOT_CANONICAL;
      seenValue = true;
      skimAnyValue(r, depth);
    } else r.unknown(t, fieldMask(1, 2));
  }
  r.leave(outer);
}

function skimAnyValue(r: WireReader, depth: number): void {
  if (depth > MAX_VALUE_DEPTH) throw NOT_CANONICAL;
  const outer = r.enter();
  let seenArray = false;
  let seenMap = false;
  while (r.pos < r.limit) {
    const t = r.tag();
    switch (t) {
      case tag(1, WIRE_LEN):
        skimString(r);
        break;
      case tag(2, WIRE_VARINT):
      case tag(3, WIRE_VARINT):
        r.varint64();
        break;
      case tag(4, WIRE_FIXED64):
        r.skip(WIRE_FIXED64);
        break;
      case tag(5, WIRE_LEN):
      case tag(6, WIRE_LEN): {
        const isArray = t === tag(5, WIRE_LEN);
        if (isArray ? seenArray : seenMap) throw NOT_CANONICAL;
        if (isArray) seenArray = true;
        else seenMap = true;
        const listOuter = r.enter();
        while (r.pos < r.limit) {
          const lt = r.tag();
          if (lt !== tag(1, WIRE_LEN)) r.unknown(lt, fieldMask(1));
          else if (isArray) skimAnyValue(r, depth + 1);
          else skimKeyValue(r, depth + 1);
        }
        r.leave(listOuter);
        break;
      }
      case tag(7, WIRE_LEN):
        r.skip(WIRE_LEN);
        break;
      default:
        r.unknown(t, fieldMask(1, 2, 3, 4, 5, 6, 7));
    }
  }
  r.leave(outer);
}

/** A message of strings, KeyValue lists and uint32/fixed32 scalars (Resource, InstrumentationScope, Event, Status). */
function skimFlat(
  r: WireReader,
  strings: number,
  keyValues: number,
  varints: number,
  fixed64s: number,
  fixed32s: number,
): void {
  const outer = r.enter();
  while (r.pos < r.limit) {
    const t = r.tag();
    const field = t >>> 3;
    const bit = field < 31 ? 1 << field : 0;
    const wireType = t & 7;
    if (wireType === WIRE_LEN && (strings & bit) !== 0) skimString(r);
    else if (wireType === WIRE_LEN && (keyValues & bit) !== 0) skimKeyValue(r, 0);
    else if (wireType === WIRE_VARINT && (varints & bit) !== 0) r.uint32();
    else if (wireType === WIRE_FIXED64 && (fixed64s & bit) !== 0) r.skip(WIRE_FIXED64);
    else if (wireType === WIRE_FIXED32 && (fixed32s & bit) !== 0) r.skip(WIRE_FIXED32);
    else r.unknown(t, strings | keyValues | varints | fixed64s | fixed32s);
  }
  r.leave(outer);
}

/** Walks one Span; returns its trace id's byte range after validateSpan's checks (else NOT_CANONICAL). */
function skimSpan(r: WireReader): Range {
  const buf = r.buf;
  const outer = r.enter();
  let traceStart = 0;
  let traceEnd = 0;
  let spanStart = 0;
  let spanEnd = 0;
  let parentStart = 0;
  let parentEnd = 0;
  let startLo = 0;
  let startHi = 0;
  let endLo = 0;
  let endHi = 0;
  let seenStatus = false;
  while (r.pos < r.limit) {
    const t = r.tag();
    switch (t) {
      case tag(1, WIRE_LEN):
        traceStart = r.skipBytes();
        traceEnd = r.pos;
        break;
      case tag(2, WIRE_LEN):
        spanStart = r.skipBytes();
        spanEnd = r.pos;
        break;
      case tag(4, WIRE_LEN):
        parentStart = r.skipBytes();
        parentEnd = r.pos;
        break;
      case tag(3, WIRE_LEN):
      case tag(5, WIRE_LEN):
        skimString(r);
        break;
      case tag(6, WIRE_VARINT):
      case tag(10, WIRE_VARINT):
      case tag(12, WIRE_VARINT):
      case tag(14, WIRE_VARINT):
        r.uint32();
        break;
      case tag(7, WIRE_FIXED64):
        r.fixed64();
        startLo = r.lo;
        startHi = r.hi;
        break;
      case tag(8, WIRE_FIXED64):
        r.fixed64();
        endLo = r.lo;
        endHi = r.hi;
        break;
      case tag(9, WIRE_LEN):
        skimKeyValue(r, 0);
        break;
      case tag(11, WIRE_LEN):
        skimFlat(r, fieldMask(2), fieldMask(3), fieldMask(4), fieldMask(1), 0); // Event
        break;
      case tag(13, WIRE_LEN): {
        const linkOuter = r.enter();
        let linkTrace: Range = [0, 0];
        let linkSpan: Range = [0, 0];
        while (r.pos < r.limit) {
          const lt = r.tag();
          if (lt === tag(1, WIRE_LEN)) linkTrace = [r.skipBytes(), r.pos];
          else if (lt === tag(2, WIRE_LEN)) linkSpan = [r.skipBytes(), r.pos];
          else if (lt === tag(3, WIRE_LEN)) skimString(r);
          else if (lt === tag(4, WIRE_LEN)) skimKeyValue(r, 0);
          else if (lt === tag(5, WIRE_VARINT)) r.uint32();
          else if (lt === tag(6, WIRE_FIXED32)) r.skip(WIRE_FIXED32);
          else r.unknown(lt, fieldMask(1, 2, 3, 4, 5, 6));
        }
        r.leave(linkOuter);
        if (!isValidId(buf, linkTrace[0], linkTrace[1], 16) || !isValidId(buf, linkSpan[0], linkSpan[1], 8))
          throw NOT_CANONICAL;
        break;
      }
      case tag(15, WIRE_LEN):
        if (seenStatus) throw NOT_CANONICAL;
        seenStatus = true;
        skimFlat(r, fieldMask(2), 0, fieldMask(3), 0, 0); // Status (field 1 is reserved: unknown)
        break;
      case tag(16, WIRE_FIXED32):
        r.skip(WIRE_FIXED32);
        break;
      default:
        r.unknown(t, fieldMask(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16));
    }
  }
  r.leave(outer);
  const durationNs = wireDurationNs(startLo, startHi, endLo, endHi);
  if (
    !isValidWireSpan(
      buf,
      traceStart,
      traceEnd,
      spanStart,
      spanEnd,
      parentEnd - parentStart,
      startLo,
      startHi,
      durationNs,
    )
  )
    throw NOT_CANONICAL;
  return [traceStart, traceEnd];
}

/** An input ResourceSpans' or ScopeSpans' own fields (tag included), copied as they are into every trace. */
interface GroupFields {
  /** The resource / scope field. */
  head: Range | undefined;
  /** schema_url: the last one, as protobufjs keeps. */
  schemaUrl: Range | undefined;
}
// The output tree, per trace: ResourceSpans groups holding ScopeSpans groups holding span fields.
interface ScopeGroup {
  input: GroupFields;
  spans: Range[];
}
interface ResourceGroup {
  input: GroupFields;
  scopes: ScopeGroup[];
}
interface Trace {
  traceId: string;
  resources: ResourceGroup[];
  spanCount: number;
}

function varintLength(value: number): number {
  let length = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    length++;
  }
  return length;
}

function writeVarint(out: Buffer, pos: number, value: number): number {
  while (value >= 0x80) {
    out[pos++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  out[pos++] = value;
  return pos;
}

const rangeLength = (range: Range | undefined) => (range === undefined ? 0 : range[1] - range[0]);
/** A length-delimited field of `length` bytes with a one-byte tag. */
const fieldLength = (length: number) => 1 + varintLength(length) + length;

function scopeLength(scope: ScopeGroup): number {
  let length = rangeLength(scope.input.head) + rangeLength(scope.input.schemaUrl);
  for (const span of scope.spans) length += span[1] - span[0];
  return length;
}

function resourceLength(resource: ResourceGroup): number {
  let length = rangeLength(resource.input.head) + rangeLength(resource.input.schemaUrl);
  for (const scope of resource.scopes) length += fieldLength(scopeLength(scope));
  return length;
}

function copy(input: Buffer, range: Range | undefined, out: Buffer, pos: number): number {
  if (range === undefined) return pos;
  return pos + input.copy(out, pos, range[0], range[1]);
}

function encodeTrace(input: Buffer, trace: Trace): Buffer {
  let total = 0;
  for (const resource of trace.resources) total += fieldLength(resourceLength(resource));
  const out = Buffer.allocUnsafe(total);
  let pos = 0;
  for (const resource of trace.resources) {
    out[pos++] = tag(1, WIRE_LEN);
    pos = writeVarint(out, pos, resourceLength(resource));
    pos = copy(input, resource.input.head, out, pos);
    for (const scope of resource.scopes) {
      out[pos++] = tag(2, WIRE_LEN);
      pos = writeVarint(out, pos, scopeLength(scope));
      pos = copy(input, scope.input.head, out, pos);
      for (const span of scope.spans) pos = copy(input, span, out, pos);
      pos = copy(input, scope.input.schemaUrl, out, pos);
    }
    pos = copy(input, resource.input.schemaUrl, out, pos);
  }
  return out;
}

function readScopeSpans(
  r: WireReader,
  traces: Map<string, Trace>,
  resourceFor: Map<Trace, ResourceGroup>,
  resourceFields: GroupFields,
): void {
  const outer = r.enter();
  const scopeFields: GroupFields = { head: undefined, schemaUrl: undefined };
  const scopeFor = new Map<Trace, ScopeGroup>();
  while (r.pos < r.limit) {
    const fieldStart = r.pos;
    const t = r.tag();
    if (t === tag(2, WIRE_LEN)) {
      const [traceStart, traceEnd] = skimSpan(r);
      const traceId = r.hex(traceStart, traceEnd);
      let trace = traces.get(traceId);
      if (trace === undefined) {
        trace = { traceId, resources: [], spanCount: 0 };
        traces.set(traceId, trace);
      }
      let scope = scopeFor.get(trace);
      if (scope === undefined) {
        let resource = resourceFor.get(trace);
        if (resource === undefined) {
          resource = { input: resourceFields, scopes: [] };
          resourceFor.set(trace, resource);
          trace.resources.push(resource);
        }
        scope = { input: scopeFields, spans: [] };
        scopeFor.set(trace, scope);
        resource.scopes.push(scope);
      }
      scope.spans.push([fieldStart, r.pos]);
      trace.spanCount++;
    } else if (t === tag(1, WIRE_LEN)) {
      if (scopeFields.head !== undefined) throw NOT_CANONICAL; // twice: protobufjs merges them
      skimFlat(r, fieldMask(1, 2), fieldMask(3), fieldMask(4), 0, 0); // InstrumentationScope
      scopeFields.head = [fieldStart, r.pos];
    } else if (t === tag(3, WIRE_LEN)) {
      skimString(r);
      scopeFields.schemaUrl = [fieldStart, r.pos];
    } else r.unknown(t, fieldMask(1, 2, 3));
  }
  r.leave(outer);
}

function readResourceSpans(r: WireReader, traces: Map<string, Trace>): void {
  const outer = r.enter();
  const resourceFields: GroupFields = { head: undefined, schemaUrl: undefined };
  const resourceFor = new Map<Trace, ResourceGroup>();
  while (r.pos < r.limit) {
    const fieldStart = r.pos;
    const t = r.tag();
    if (t === tag(2, WIRE_LEN)) readScopeSpans(r, traces, resourceFor, resourceFields);
    else if (t === tag(1, WIRE_LEN)) {
      if (resourceFields.head !== undefined) throw NOT_CANONICAL; // twice: protobufjs merges them
      skimFlat(r, 0, fieldMask(1), fieldMask(2), 0, 0); // Resource; entity_refs (3) is left to protobufjs
      resourceFields.head = [fieldStart, r.pos];
    } else if (t === tag(3, WIRE_LEN)) {
      skimString(r);
      resourceFields.schemaUrl = [fieldStart, r.pos];
    } else r.unknown(t, fieldMask(1, 2, 3));
  }
  r.leave(outer);
}

/** Validated per-trace requests of a protobuf body, or undefined when the reference path must decide. */
export function splitWireRequest(body: Uint8Array): WireSplit | undefined {
  const r = new WireReader(body);
  const traces = new Map<string, Trace>();
  try {
    while (r.pos < r.limit) {
      const t = r.tag();
      if (t === tag(1, WIRE_LEN)) readResourceSpans(r, traces);
      else r.unknown(t, fieldMask(1));
    }
  } catch (error) {
    if (error instanceof NotCanonicalError) return undefined;
    throw error;
  }
  let spanCount = 0;
  const slices: WireSlice[] = [];
  for (const trace of traces.values()) {
    spanCount += trace.spanCount;
    slices.push({
      traceId: trace.traceId,
      // One trace: the body as received (what the gateway always forwarded for single-trace requests).
      value: traces.size === 1 ? body : encodeTrace(r.buf, trace),
      spanCount: trace.spanCount,
    });
  }
  return { slices, spanCount };
}
