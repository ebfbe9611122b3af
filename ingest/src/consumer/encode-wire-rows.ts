/**
 * The consumer's fast path: protobuf ExportTraceServiceRequest bytes -> one Native block each for otel_traces
 * and llm_calls (clickhouse/span-blocks.ts) in one walk over the wire format, without protobufjs messages,
 * DecodedSpan objects or row objects for otel_traces. Every column has its own streams, so values are written
 * where they are read: attributes as the walk meets them, the scalar columns once the span is read whole.
 * Ids are hex-encoded into the columns and string attribute values, names and messages are
 * copied from the request's bytes as they are (UTF-8 both sides, checked like WireReader.utf8 checks them);
 * only the attributes the llm_calls row needs become values, and that row is built by span-to-row's
 * toLlmCallRow.
 *
 * Output is byte-identical to decodeTraceRequest -> spanToRows -> encodeTraceRows / encodeLlmCallRows (the
 * reference path, which test/ingest/consumer/encode-wire-rows.test.ts compares against). Whatever could make
 * the two differ — a form WireReader does not take (see wire-reader.ts), an invalid span (the reference
 * path words the error), a repeated attribute key or one a JS object would reorder ('7', '__proto__') —
 * returns undefined, and the caller runs the reference path instead. Measured on the benchmark's spans:
 * see bench/ingest/decode-cpu.bench.ts.
 */
import { RowBinaryWriter } from '../clickhouse/row-binary.js';
import { appendLlmCallFields, LlmCallColumns, TraceColumns } from '../clickhouse/span-blocks.js';
import { attrValueToString } from '../otlp/attr-value.js';
import { int64HalvesToValue } from '../otlp/int64.js';
import type { AttrMap, AttrValue, Attributes, StatusCodeValue } from '../otlp/otlp-types.js';
import {
  NOT_CANONICAL,
  NotCanonicalError,
  WIRE_FIXED32,
  WIRE_FIXED64,
  WIRE_LEN,
  WIRE_VARINT,
  WireReader,
} from '../otlp/wire-reader.js';
import { isValidId, isValidWireSpan, MAX_VALUE_DEPTH, wireDurationNs } from '../otlp/wire-span-checks.js';
import {
  isLlmCallSpan,
  LLM_EVENT_ATTRIBUTE_KEYS,
  LLM_SPAN_ATTRIBUTE_KEYS,
  RESOURCE_ATTRIBUTE_KEYS,
  resourceFacts,
  SPAN_KIND_NAMES,
  STATUS_CODE_NAMES,
  toLlmCallRow,
  type LlmSpanView,
} from './span-to-row.js';

// Module-local on purpose: V8 folds a local const arrow in `case tag(...)` labels, not an imported one
// (measured: splitWireRequest ~10% slower with these imported from wire-reader).
const tag = (field: number, wireType: number) => (field << 3) | wireType;
const fieldMask = (...numbers: number[]) => numbers.reduce((mask, n) => mask | (1 << n), 0);

export interface EncodedRows {
  /** otel_traces rows, one Native block (empty when none). */
  traces: Buffer;
  traceCount: number;
  /** llm_calls rows, one Native block (empty when none). */
  llmCalls: Buffer;
  llmCallCount: number;
}

// Known field numbers per message (ingest/proto); a known field with another wire type is not canonical.
const REQUEST_FIELDS = fieldMask(1);
const RESOURCE_SPANS_FIELDS = fieldMask(1, 2, 3);
const RESOURCE_FIELDS = fieldMask(1, 2, 3);
const SCOPE_SPANS_FIELDS = fieldMask(1, 2, 3);
const SCOPE_FIELDS = fieldMask(1, 2, 3, 4);
const SPAN_FIELDS = fieldMask(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
const EVENT_FIELDS = fieldMask(1, 2, 3, 4);
const LINK_FIELDS = fieldMask(1, 2, 3, 4, 5, 6);
const STATUS_FIELDS = fieldMask(2, 3); // 1 is reserved: unknown, skipped
const KEY_VALUE_FIELDS = fieldMask(1, 2);
const ANY_VALUE_FIELDS = fieldMask(1, 2, 3, 4, 5, 6, 7);
const LIST_FIELDS = fieldMask(1);

/** The SpanKind and StatusCode columns' values, as encoded Strings. */
const KIND_BYTES = SPAN_KIND_NAMES.map(encodedString);
const STATUS_BYTES = STATUS_CODE_NAMES.map(encodedString);

/** A String value as the columns hold it: LEB128 length, then the UTF-8 bytes. */
function encodedString(value: string): Buffer {
  const writer = new RowBinaryWriter(64);
  writer.string(value);
  return writer.toBuffer();
}

// Which fact set a key belongs to (bit per owner), so one lookup serves the map key, the facts and the
// duplicate check.
const SPAN_FACT = 1;
const RESOURCE_FACT = 2;
const EVENT_FACT = 4;

interface KeyInfo {
  key: string;
  /** The key's UTF-8 bytes, to recognise it on the wire without decoding it. */
  bytes: Buffer;
  /** Next key with the same hash. */
  next: KeyInfo | undefined;
  /** The key as an encoded String (length and bytes), copied into every map holding it. */
  encoded: Buffer;
  factMask: number;
  /** False for keys a JS object orders differently from insertion (array indices) or drops ('__proto__'). */
  ordinary: boolean;
  /** The attribute list that last held this key: a repeat within one list is a duplicate key. */
  listStamp: number;
}

/** Keys by a hash of their bytes: attribute keys repeat, so they are recognised, not decoded. */
const KEY_CACHE_LIMIT = 10_000;
const keyInfos = new Map<number, KeyInfo>();
let nextListStamp = 1;

function keyInfoAt(r: WireReader, start: number, end: number): KeyInfo {
  const buf = r.buf;
  // Length and the last 8 bytes (attribute keys share prefixes, not suffixes); a match is compared in full.
  const length = end - start;
  let hash = 0x811c9dc5 ^ length;
  for (let i = end - 1, stop = Math.max(start, end - 8); i >= stop; i--)
    hash = Math.imul(hash ^ (buf[i] as number), 0x01000193);
  const head = keyInfos.get(hash);
  for (let info = head; info !== undefined; info = info.next) {
    const bytes = info.bytes;
    if (bytes.length !== length) continue;
    let i = 0;
    while (i < length && bytes[i] === buf[start + i]) i++;
    if (i === length) return info;
  }
  const key = r.utf8(start, end);
  const info: KeyInfo = {
    key,
    bytes: Buffer.from(buf.subarray(start, end)),
    next: head,
    encoded: encodedString(key),
    factMask:
      (LLM_SPAN_ATTRIBUTE_KEYS.has(key) ? SPAN_FACT : 0) |
      (RESOURCE_ATTRIBUTE_KEYS.has(key) ? RESOURCE_FACT : 0) |
      (LLM_EVENT_ATTRIBUTE_KEYS.has(key) ? EVENT_FACT : 0),
    ordinary: key !== '__proto__' && !/^\d+$/.test(key),
    listStamp: 0,
  };
  keyInfos.set(hash, info);
  return info;
}

// readKeyValue's results (module state instead of a result object per attribute).
let kvKey: KeyInfo | undefined;
let kvValue: AttrValue = null;
/** With `stringsInPlace`: where a value that is just a string lies in the body (kvValue is then unset); else −1. */
let kvStringStart = -1;
let kvStringEnd = -1;

/**
 * One KeyValue into kvKey and kvValue. With `stringsInPlace`, an AnyValue holding a string_value and nothing
 * else (nearly all attribute values) is not decoded: kvStringStart/End say where its bytes are.
 */
function readKeyValue(r: WireReader, depth: number, stringsInPlace: boolean): void {
  const buf = r.buf;
  const outer = r.enter();
  let keyStart = 0;
  let keyEnd = 0;
  let value: AttrValue = null;
  let seenValue = false;
  kvStringStart = -1;
  kvStringEnd = -1;
  while (r.pos < r.limit) {
    const t = r.tag();
    if (t === tag(1, WIRE_LEN)) {
      keyStart = r.skipBytes();
      keyEnd = r.pos;
    } else if (t === tag(2, WIRE_LEN)) {
      if (seenValue) throw NOT_CANONICAL; // protobufjs would merge the two AnyValues
      seenValue = true;
      if (stringsInPlace) {
        const at = r.pos;
        const valueEnd = r.lengthEnd();
        if (r.pos < valueEnd && buf[r.pos] === tag(1, WIRE_LEN)) {
          r.pos++;
          const end = r.lengthEnd();
          if (end === valueEnd) {
            kvStringStart = r.pos;
            kvStringEnd = end;
            r.pos = end;
            continue;
          }
        }
        r.pos = at;
      }
      value = readAnyValue(r, depth);
    } else r.unknown(t, KEY_VALUE_FIELDS);
  }
  r.leave(outer);
  kvKey = keyInfoAt(r, keyStart, keyEnd);
  kvValue = value;
}

/** AnyValue -> AttrValue, as anyValueToAttr(protobufjs message) gives it. */
function readAnyValue(r: WireReader, depth: number): AttrValue {
  if (depth > MAX_VALUE_DEPTH) throw NOT_CANONICAL;
  const outer = r.enter();
  let value: AttrValue = null;
  let seenArray = false;
  let seenMap = false;
  while (r.pos < r.limit) {
    const t = r.tag();
    switch (t) {
      case tag(1, WIRE_LEN):
        value = r.string();
        break;
      case tag(2, WIRE_VARINT):
        r.varint64();
        value = (r.lo | r.hi) !== 0;
        break;
      case tag(3, WIRE_VARINT):
        r.varint64();
        value = int64HalvesToValue(r.hi, r.lo, false);
        break;
      case tag(4, WIRE_FIXED64):
        value = r.double();
        break;
      case tag(5, WIRE_LEN): {
        if (seenArray) throw NOT_CANONICAL;
        seenArray = true;
        const list: AttrValue[] = [];
        const listOuter = r.enter();
        while (r.pos < r.limit) {
          const lt = r.tag();
          if (lt === tag(1, WIRE_LEN)) list.push(readAnyValue(r, depth + 1));
          else r.unknown(lt, LIST_FIELDS);
        }
        r.leave(listOuter);
        value = list;
        break;
      }
      case tag(6, WIRE_LEN): {
        if (seenMap) throw NOT_CANONICAL;
        seenMap = true;
        // Built exactly like keyValuesToAttributes: the same assignments give the same object.
        const map: AttrMap = {};
        const mapOuter = r.enter();
        while (r.pos < r.limit) {
          const mt = r.tag();
          if (mt === tag(1, WIRE_LEN)) {
            readKeyValue(r, depth + 1, false);
            map[(kvKey as KeyInfo).key] = kvValue;
          } else r.unknown(mt, LIST_FIELDS);
        }
        r.leave(mapOuter);
        value = map;
        break;
      }
      case tag(7, WIRE_LEN):
        value = r.bytes();
        break;
      default:
        r.unknown(t, ANY_VALUE_FIELDS);
    }
  }
  r.leave(outer);
  return value;
}

/**
 * Bytes [start, end) of the body, a protobuf string, as an encoded String: copied as they are once checked
 * the way WireReader.string() checks them. The reference path decodes and re-encodes them; valid UTF-8
 * without U+FFFD comes out of that round trip unchanged, so both write the same bytes.
 */
function writeWireString(out: RowBinaryWriter, r: WireReader, start: number, end: number): void {
  const buf = r.buf;
  for (let i = start; i < end; i++) {
    if ((buf[i] as number) >= 0x80) {
      r.utf8(start, end); // throws NOT_CANONICAL where protobufjs would fail or decode differently
      break;
    }
  }
  out.utf8Bytes(buf, start, end);
}

/**
 * One KeyValue of an attribute list -> one entry of a Map(String, String) column: the key into `keys`, the
 * value into `values` (the caller counts the entries); the value is also stored in `facts` when the key is
 * one of the `factBit` set. A value that is just a string (nearly all) is copied from the body without being
 * decoded; others become the Collector's string form (attrValueToString).
 */
function writeAttribute(
  r: WireReader,
  keys: RowBinaryWriter,
  values: RowBinaryWriter,
  listStamp: number,
  factBit: number,
  facts: Attributes | null,
): void {
  readKeyValue(r, 0, true);
  const info = kvKey as KeyInfo;
  if (!info.ordinary || info.listStamp === listStamp) throw NOT_CANONICAL;
  info.listStamp = listStamp;
  keys.bytes(info.encoded);
  const isFact = facts !== null && (info.factMask & factBit) !== 0;
  if (kvStringStart >= 0) {
    if (isFact) {
      facts[info.key] = r.utf8(kvStringStart, kvStringEnd); // checks the bytes too
      values.utf8Bytes(r.buf, kvStringStart, kvStringEnd);
    } else writeWireString(values, r, kvStringStart, kvStringEnd);
  } else {
    const value = kvValue;
    if (isFact) facts[info.key] = value;
    values.string(typeof value === 'string' ? value : attrValueToString(value));
  }
}

/** What every span of one resource shares, encoded once. */
interface ResourceContext {
  serviceName: string;
  environment: string;
  /** ServiceName as an encoded String. */
  serviceNameBytes: Buffer;
  /** ResourceAttributes: how many entries, their keys and their values, encoded. */
  attributeCount: number;
  attributeKeys: Buffer;
  attributeValues: Buffer;
}

/** What every span of one scope shares. */
interface ScopeContext {
  resource: ResourceContext;
  scopeName: string;
  /** ScopeName and ScopeVersion as encoded Strings. */
  nameBytes: Buffer;
  versionBytes: Buffer;
}

interface EventView {
  name: string;
  attributes: Attributes;
}
const NO_EVENTS: readonly EventView[] = [];

/**
 * One request's rows are written into these columns, then taken out as one block per table (the streams
 * are reused for every request). A request the walk gives up on leaves half-written rows behind: every
 * request starts by resetting them.
 */
const traces = new TraceColumns();
const llmCalls = new LlmCallColumns();
/** Where attributes that are read but not stored (the scope's) go. */
const discarded = new RowBinaryWriter();
/** Where a resource's attribute keys and values are put together. */
const resourceKeys = new RowBinaryWriter();
const resourceValues = new RowBinaryWriter();

const INT64_SIGN_BIT = 0x80000000;

function readSpan(r: WireReader, scope: ScopeContext, out: EncodedRows): void {
  const buf = r.buf;
  const outer = r.enter();
  let traceStart = 0;
  let traceEnd = 0;
  let spanStart = 0;
  let spanEnd = 0;
  let parentStart = 0;
  let parentEnd = 0;
  let traceStateStart = 0;
  let traceStateEnd = 0;
  let nameStart = 0;
  let nameEnd = 0;
  let kind = 0;
  let startLo = 0;
  let startHi = 0;
  let endLo = 0;
  let endHi = 0;
  const listStamp = nextListStamp++;
  const facts: Attributes = {};
  let attributeCount = 0;
  const spanAttributes = traces.spanAttributes;
  let eventCount = 0;
  let events: EventView[] | undefined;
  let linkCount = 0;
  let seenStatus = false;
  let statusCode = 0;
  let messageStart = 0;
  let messageEnd = 0;
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
      case tag(3, WIRE_LEN):
        traceStateStart = r.skipBytes();
        traceStateEnd = r.pos;
        break;
      case tag(4, WIRE_LEN):
        parentStart = r.skipBytes();
        parentEnd = r.pos;
        break;
      case tag(5, WIRE_LEN):
        nameStart = r.skipBytes();
        nameEnd = r.pos;
        break;
      case tag(6, WIRE_VARINT):
        kind = r.uint32() | 0;
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
        writeAttribute(r, spanAttributes.keys, spanAttributes.values, listStamp, SPAN_FACT, facts);
        attributeCount++;
        break;
      case tag(10, WIRE_VARINT):
      case tag(12, WIRE_VARINT):
      case tag(14, WIRE_VARINT):
        r.uint32();
        break;
      case tag(11, WIRE_LEN): {
        const eventOuter = r.enter();
        const eventMaps = traces.eventAttributes.maps;
        const eventStamp = nextListStamp++;
        let timeLo = 0;
        let timeHi = 0;
        let eventNameStart = 0;
        let eventNameEnd = 0;
        let members = 0;
        const eventFacts: Attributes = {};
        while (r.pos < r.limit) {
          const et = r.tag();
          if (et === tag(1, WIRE_FIXED64)) {
            r.fixed64();
            timeLo = r.lo;
            timeHi = r.hi;
          } else if (et === tag(2, WIRE_LEN)) {
            eventNameStart = r.skipBytes();
            eventNameEnd = r.pos;
          } else if (et === tag(3, WIRE_LEN)) {
            writeAttribute(r, eventMaps.keys, eventMaps.values, eventStamp, EVENT_FACT, eventFacts);
            members++;
          } else if (et === tag(4, WIRE_VARINT)) r.uint32();
          else r.unknown(et, EVENT_FIELDS);
        }
        r.leave(eventOuter);
        // DateTime64 is an Int64: a later time takes the reference path (which refuses it).
        if (timeHi >= INT64_SIGN_BIT) throw NOT_CANONICAL;
        const eventName = r.utf8(eventNameStart, eventNameEnd);
        traces.eventTimes.values.int64Halves(timeLo, timeHi);
        traces.eventNames.values.utf8Bytes(buf, eventNameStart, eventNameEnd);
        eventMaps.offsets.add(members);
        (events ??= []).push({ name: eventName, attributes: eventFacts });
        eventCount++;
        break;
      }
      case tag(13, WIRE_LEN): {
        const linkOuter = r.enter();
        const linkMaps = traces.linkAttributes.maps;
        const linkStamp = nextListStamp++;
        let linkTraceStart = 0;
        let linkTraceEnd = 0;
        let linkSpanStart = 0;
        let linkSpanEnd = 0;
        let linkStateStart = 0;
        let linkStateEnd = 0;
        let members = 0;
        while (r.pos < r.limit) {
          const lt = r.tag();
          if (lt === tag(1, WIRE_LEN)) {
            linkTraceStart = r.skipBytes();
            linkTraceEnd = r.pos;
          } else if (lt === tag(2, WIRE_LEN)) {
            linkSpanStart = r.skipBytes();
            linkSpanEnd = r.pos;
          } else if (lt === tag(3, WIRE_LEN)) {
            linkStateStart = r.skipBytes();
            linkStateEnd = r.pos;
          } else if (lt === tag(4, WIRE_LEN)) {
            writeAttribute(r, linkMaps.keys, linkMaps.values, linkStamp, 0, null);
            members++;
          } else if (lt === tag(5, WIRE_VARINT)) r.uint32();
          else if (lt === tag(6, WIRE_FIXED32)) r.fixed32();
          else r.unknown(lt, LINK_FIELDS);
        }
        r.leave(linkOuter);
        // An invalid link id: the reference path rejects the request with the right message.
        if (
          !isValidId(buf, linkTraceStart, linkTraceEnd, 16) ||
          !isValidId(buf, linkSpanStart, linkSpanEnd, 8)
        )
          throw NOT_CANONICAL;
        traces.linkTraceIds.values.hexString(buf, linkTraceStart, linkTraceEnd);
        traces.linkSpanIds.values.hexString(buf, linkSpanStart, linkSpanEnd);
        writeWireString(traces.linkStates.values, r, linkStateStart, linkStateEnd);
        linkMaps.offsets.add(members);
        linkCount++;
        break;
      }
      case tag(15, WIRE_LEN): {
        if (seenStatus) throw NOT_CANONICAL; // protobufjs would merge the two
        seenStatus = true;
        const statusOuter = r.enter();
        while (r.pos < r.limit) {
          const st = r.tag();
          if (st === tag(2, WIRE_LEN)) {
            messageStart = r.skipBytes();
            messageEnd = r.pos;
          } else if (st === tag(3, WIRE_VARINT)) statusCode = r.uint32() | 0;
          else r.unknown(st, STATUS_FIELDS);
        }
        r.leave(statusOuter);
        break;
      }
      case tag(16, WIRE_FIXED32):
        r.fixed32();
        break;
      default:
        r.unknown(t, SPAN_FIELDS);
    }
  }
  r.leave(outer);

  // validateSpan's checks; a failure takes the reference path, which throws its exact OTLP_INVALID error.
  const durationNs = wireDurationNs(startLo, startHi, endLo, endHi);
  const parentLength = parentEnd - parentStart;
  if (
    !isValidWireSpan(
      buf,
      traceStart,
      traceEnd,
      spanStart,
      spanEnd,
      parentLength,
      startLo,
      startHi,
      durationNs,
    )
  )
    throw NOT_CANONICAL;
  // Times past Int64 (year 2262) and durations a double cannot count exactly: left to the reference path.
  if (startHi >= INT64_SIGN_BIT || durationNs > Number.MAX_SAFE_INTEGER) throw NOT_CANONICAL;

  const kindIndex = kind >= 0 && kind <= 5 ? kind : 0;
  const status = (statusCode === 1 || statusCode === 2 ? statusCode : 0) as StatusCodeValue;
  const c = traces;
  const resource = scope.resource;
  c.timestamp.int64Halves(startLo, startHi);
  c.traceId.hexString(buf, traceStart, traceEnd);
  c.spanId.hexString(buf, spanStart, spanEnd);
  c.parentSpanId.hexString(buf, parentStart, parentEnd);
  writeWireString(c.traceState, r, traceStateStart, traceStateEnd);
  writeWireString(c.spanName, r, nameStart, nameEnd);
  c.spanKind.bytes(KIND_BYTES[kindIndex] as Buffer);
  c.serviceName.bytes(resource.serviceNameBytes);
  c.resourceAttributes.offsets.add(resource.attributeCount);
  c.resourceAttributes.keys.bytes(resource.attributeKeys);
  c.resourceAttributes.values.bytes(resource.attributeValues);
  c.scopeName.bytes(scope.nameBytes);
  c.scopeVersion.bytes(scope.versionBytes);
  c.spanAttributes.offsets.add(attributeCount);
  c.duration.uint64(durationNs);
  c.statusCode.bytes(STATUS_BYTES[status] as Buffer);
  writeWireString(c.statusMessage, r, messageStart, messageEnd);
  c.eventTimes.offsets.add(eventCount);
  c.eventNames.offsets.add(eventCount);
  c.eventAttributes.offsets.add(eventCount);
  c.linkTraceIds.offsets.add(linkCount);
  c.linkSpanIds.offsets.add(linkCount);
  c.linkStates.offsets.add(linkCount);
  c.linkAttributes.offsets.add(linkCount);
  c.block.rowWritten();
  out.traceCount++;

  if (isLlmCallSpan(facts)) {
    const l = llmCalls;
    // Written from the bytes, as the reference path's decimal and hex strings encode them; the view's copies
    // would only be copied into the row object, so they stay empty.
    l.timestamp.int64Halves(startLo, startHi);
    l.traceId.hexString(buf, traceStart, traceEnd);
    l.spanId.hexString(buf, spanStart, spanEnd);
    const view: LlmSpanView = {
      traceId: '',
      spanId: '',
      startTimeUnixNano: '',
      durationNs,
      attributes: facts,
      status: { code: status, message: r.utf8(messageStart, messageEnd) },
      events: events ?? NO_EVENTS,
    };
    appendLlmCallFields(l, toLlmCallRow(view, resource.serviceName, resource.environment, scope.scopeName));
    out.llmCallCount++;
  }
}

function readScopeSpans(r: WireReader, resource: ResourceContext, out: EncodedRows): void {
  const outer = r.enter();
  let scopeName = '';
  let scopeVersion = '';
  let seenScope = false;
  let context: ScopeContext | undefined;
  while (r.pos < r.limit) {
    const t = r.tag();
    if (t === tag(2, WIRE_LEN)) {
      context ??= {
        resource,
        scopeName,
        nameBytes: encodedString(scopeName),
        versionBytes: encodedString(scopeVersion),
      };
      readSpan(r, context, out);
    } else if (t === tag(1, WIRE_LEN)) {
      // A scope after spans, or twice (protobufjs merges), is not canonical.
      if (seenScope || context !== undefined) throw NOT_CANONICAL;
      seenScope = true;
      const scopeOuter = r.enter();
      const stamp = nextListStamp++;
      discarded.reset();
      while (r.pos < r.limit) {
        const st = r.tag();
        if (st === tag(1, WIRE_LEN)) scopeName = r.string();
        else if (st === tag(2, WIRE_LEN)) scopeVersion = r.string();
        else if (st === tag(3, WIRE_LEN))
          writeAttribute(r, discarded, discarded, stamp, 0, null); // checked, not stored
        else if (st === tag(4, WIRE_VARINT)) r.uint32();
        else r.unknown(st, SCOPE_FIELDS);
      }
      r.leave(scopeOuter);
    } else if (t === tag(3, WIRE_LEN)) r.skipString();
    else r.unknown(t, SCOPE_SPANS_FIELDS);
  }
  r.leave(outer);
}

function readResourceSpans(r: WireReader, out: EncodedRows): void {
  const outer = r.enter();
  let members = 0;
  resourceKeys.reset();
  resourceValues.reset();
  const facts: Attributes = {};
  let seenResource = false;
  let context: ResourceContext | undefined;
  while (r.pos < r.limit) {
    const t = r.tag();
    if (t === tag(2, WIRE_LEN)) {
      if (context === undefined) {
        const { serviceName, environment } = resourceFacts(facts);
        context = {
          serviceName,
          environment,
          serviceNameBytes: encodedString(serviceName),
          attributeCount: members,
          attributeKeys: resourceKeys.toBuffer(),
          attributeValues: resourceValues.toBuffer(),
        };
      }
      readScopeSpans(r, context, out);
    } else if (t === tag(1, WIRE_LEN)) {
      if (seenResource || context !== undefined) throw NOT_CANONICAL;
      seenResource = true;
      const resourceOuter = r.enter();
      const stamp = nextListStamp++;
      while (r.pos < r.limit) {
        const rt = r.tag();
        if (rt === tag(1, WIRE_LEN)) {
          writeAttribute(r, resourceKeys, resourceValues, stamp, RESOURCE_FACT, facts);
          members++;
        } else if (rt === tag(2, WIRE_VARINT)) r.uint32();
        else r.unknown(rt, RESOURCE_FIELDS); // entity_refs (3) included: left to protobufjs
      }
      r.leave(resourceOuter);
    } else if (t === tag(3, WIRE_LEN)) r.skipString();
    else r.unknown(t, RESOURCE_SPANS_FIELDS);
  }
  r.leave(outer);
}

const NO_ROWS = Buffer.alloc(0);

/**
 * Rows for one protobuf ExportTraceServiceRequest, or undefined when the reference path must decide (see the
 * file comment). Never throws for malformed input.
 */
export function encodeWireRows(body: Uint8Array): EncodedRows | undefined {
  // Dropped between requests only: a list's duplicate check relies on its keys' infos staying put.
  if (keyInfos.size >= KEY_CACHE_LIMIT) keyInfos.clear();
  const out: EncodedRows = { traces: NO_ROWS, traceCount: 0, llmCalls: NO_ROWS, llmCallCount: 0 };
  traces.block.reset();
  llmCalls.block.reset();
  const r = new WireReader(body);
  try {
    while (r.pos < r.limit) {
      const t = r.tag();
      if (t === tag(1, WIRE_LEN)) readResourceSpans(r, out);
      else r.unknown(t, REQUEST_FIELDS);
    }
  } catch (error) {
    if (error instanceof NotCanonicalError) return undefined;
    throw error;
  }
  if (out.traceCount > 0) out.traces = traces.block.take();
  if (out.llmCallCount > 0) out.llmCalls = llmCalls.block.take();
  return out;
}
