/**
 * The two tables' rows as Native blocks (native-block.ts): the streams of every otel_traces and llm_calls
 * column, and the reference encoders that fill them from row objects. The consumer's protobuf walk
 * (consumer/encode-wire-rows.ts) fills the same streams straight from the request's bytes; its output is
 * byte-identical to these encoders' (test/ingest/consumer/encode-wire-rows.test.ts), and both read back
 * through the real engine exactly like rows inserted by @clickhouse/client
 * (test/ingest/clickhouse/span-blocks.integration.test.ts).
 *
 * Types are the tables' with LowCardinality(String) sent as String (the engine converts); DateTime64(9) is
 * an Int64 of nanoseconds; a Nested column is one Array column per sub-column.
 */
import { NativeBlock, OffsetsWriter, type NativeColumn } from './native-block.js';
import { RowBinaryWriter } from './row-binary.js';
import type { LlmCallRow, OtelTraceRow } from './rows.js';

const writer = () => new RowBinaryWriter(4096);
const offsets = () => new OffsetsWriter(1024);
const column = (name: string, type: string, ...streams: RowBinaryWriter[]): NativeColumn => ({
  name,
  type,
  streams,
});
const MAP = 'Map(String, String)';

/** A Map(String, String) column: per row its entry count, then all keys, then all values. */
export class MapColumn {
  readonly offsets = offsets();
  readonly keys = writer();
  readonly values = writer();
  get streams(): RowBinaryWriter[] {
    return [this.offsets, this.keys, this.values];
  }
}

/** An Array(Map(String, String)) column: per row its map count, then the maps as a MapColumn. */
export class MapArrayColumn {
  readonly offsets = offsets();
  readonly maps = new MapColumn();
  get streams(): RowBinaryWriter[] {
    return [this.offsets, ...this.maps.streams];
  }
}

/** An Array(T) column: per row its element count, then all elements. */
export class ArrayColumn {
  readonly offsets = offsets();
  readonly values = writer();
  get streams(): RowBinaryWriter[] {
    return [this.offsets, this.values];
  }
}

/** otel_traces (OTEL_TRACES_COLUMNS), column by column; `block` takes them out as one Native block. */
export class TraceColumns {
  readonly timestamp = writer();
  readonly traceId = writer();
  readonly spanId = writer();
  readonly parentSpanId = writer();
  readonly traceState = writer();
  readonly spanName = writer();
  readonly spanKind = writer();
  readonly serviceName = writer();
  readonly resourceAttributes = new MapColumn();
  readonly scopeName = writer();
  readonly scopeVersion = writer();
  readonly spanAttributes = new MapColumn();
  readonly duration = writer();
  readonly statusCode = writer();
  readonly statusMessage = writer();
  readonly eventTimes = new ArrayColumn();
  readonly eventNames = new ArrayColumn();
  readonly eventAttributes = new MapArrayColumn();
  readonly linkTraceIds = new ArrayColumn();
  readonly linkSpanIds = new ArrayColumn();
  readonly linkStates = new ArrayColumn();
  readonly linkAttributes = new MapArrayColumn();
  readonly block = new NativeBlock([
    column('Timestamp', 'DateTime64(9)', this.timestamp),
    column('TraceId', 'String', this.traceId),
    column('SpanId', 'String', this.spanId),
    column('ParentSpanId', 'String', this.parentSpanId),
    column('TraceState', 'String', this.traceState),
    column('SpanName', 'String', this.spanName),
    column('SpanKind', 'String', this.spanKind),
    column('ServiceName', 'String', this.serviceName),
    column('ResourceAttributes', MAP, ...this.resourceAttributes.streams),
    column('ScopeName', 'String', this.scopeName),
    column('ScopeVersion', 'String', this.scopeVersion),
    column('SpanAttributes', MAP, ...this.spanAttributes.streams),
    column('Duration', 'UInt64', this.duration),
    column('StatusCode', 'String', this.statusCode),
    column('StatusMessage', 'String', this.statusMessage),
    column('Events.Timestamp', 'Array(DateTime64(9))', ...this.eventTimes.streams),
    column('Events.Name', 'Array(String)', ...this.eventNames.streams),
    column('Events.Attributes', `Array(${MAP})`, ...this.eventAttributes.streams),
    column('Links.TraceId', 'Array(String)', ...this.linkTraceIds.streams),
    column('Links.SpanId', 'Array(String)', ...this.linkSpanIds.streams),
    column('Links.TraceState', 'Array(String)', ...this.linkStates.streams),
    column('Links.Attributes', `Array(${MAP})`, ...this.linkAttributes.streams),
  ]);
}

/** llm_calls (LLM_CALLS_COLUMNS), column by column; `block` takes them out as one Native block. */
export class LlmCallColumns {
  readonly timestamp = writer();
  readonly traceId = writer();
  readonly spanId = writer();
  readonly serviceName = writer();
  readonly environment = writer();
  readonly provider = writer();
  readonly operation = writer();
  readonly requestModel = writer();
  readonly responseModel = writer();
  readonly modelFamily = writer();
  readonly modelVersion = writer();
  readonly modelSnapshot = writer();
  readonly statusCode = writer();
  readonly isFailure = writer();
  readonly failureClass = writer();
  readonly failureOrigin = writer();
  readonly errorType = writer();
  readonly httpStatus = writer();
  readonly durationMs = writer();
  readonly timeToFirstTokenMs = writer();
  readonly inputTokens = writer();
  readonly outputTokens = writer();
  readonly cacheReadInputTokens = writer();
  readonly cacheWriteInputTokens = writer();
  readonly reasoningOutputTokens = writer();
  readonly finishReasons = new ArrayColumn();
  readonly stream = writer();
  readonly retryCount = writer();
  readonly providerRequestId = writer();
  readonly serverAddress = writer();
  readonly scopeName = writer();
  readonly block = new NativeBlock([
    column('Timestamp', 'DateTime64(9)', this.timestamp),
    column('TraceId', 'String', this.traceId),
    column('SpanId', 'String', this.spanId),
    column('ServiceName', 'String', this.serviceName),
    column('Environment', 'String', this.environment),
    column('Provider', 'String', this.provider),
    column('Operation', 'String', this.operation),
    column('RequestModel', 'String', this.requestModel),
    column('ResponseModel', 'String', this.responseModel),
    column('ModelFamily', 'String', this.modelFamily),
    column('ModelVersion', 'String', this.modelVersion),
    column('ModelSnapshot', 'String', this.modelSnapshot),
    column('StatusCode', 'String', this.statusCode),
    column('IsFailure', 'UInt8', this.isFailure),
    column('FailureClass', 'String', this.failureClass),
    column('FailureOrigin', 'String', this.failureOrigin),
    column('ErrorType', 'String', this.errorType),
    column('HttpStatus', 'UInt16', this.httpStatus),
    column('DurationMs', 'Float64', this.durationMs),
    column('TimeToFirstTokenMs', 'Float64', this.timeToFirstTokenMs),
    column('InputTokens', 'UInt32', this.inputTokens),
    column('OutputTokens', 'UInt32', this.outputTokens),
    column('CacheReadInputTokens', 'UInt32', this.cacheReadInputTokens),
    column('CacheWriteInputTokens', 'UInt32', this.cacheWriteInputTokens),
    column('ReasoningOutputTokens', 'UInt32', this.reasoningOutputTokens),
    column('FinishReasons', 'Array(String)', ...this.finishReasons.streams),
    column('Stream', 'UInt8', this.stream),
    column('RetryCount', 'UInt16', this.retryCount),
    column('ProviderRequestId', 'String', this.providerRequestId),
    column('ServerAddress', 'String', this.serverAddress),
    column('ScopeName', 'String', this.scopeName),
  ]);
}

/** A Map(String, String) value from an object, into a MapColumn (the reference encoders' order: key order). */
function appendStringMap(out: MapColumn, map: Readonly<Record<string, string>>): void {
  const keys = Object.keys(map);
  out.offsets.add(keys.length);
  for (const key of keys) {
    out.keys.string(key);
    out.values.string(map[key] as string);
  }
}

function appendStrings(out: ArrayColumn, values: readonly string[]): void {
  out.offsets.add(values.length);
  for (const value of values) out.values.string(value);
}

function appendMaps(out: MapArrayColumn, maps: readonly Readonly<Record<string, string>>[]): void {
  out.offsets.add(maps.length);
  for (const map of maps) appendStringMap(out.maps, map);
}

/**
 * One otel_traces row from an object: the reference encoding (OTLP/JSON input, and the protobuf the wire
 * walk leaves to protobufjs). Throws RangeError for a time past Int64 or a duration past UInt64 (the
 * half-written block is then dropped with the record).
 */
export function appendTraceRow(c: TraceColumns, row: OtelTraceRow): void {
  c.timestamp.int64Decimal(row.Timestamp);
  c.traceId.string(row.TraceId);
  c.spanId.string(row.SpanId);
  c.parentSpanId.string(row.ParentSpanId);
  c.traceState.string(row.TraceState);
  c.spanName.string(row.SpanName);
  c.spanKind.string(row.SpanKind);
  c.serviceName.string(row.ServiceName);
  appendStringMap(c.resourceAttributes, row.ResourceAttributes);
  c.scopeName.string(row.ScopeName);
  c.scopeVersion.string(row.ScopeVersion);
  appendStringMap(c.spanAttributes, row.SpanAttributes);
  c.duration.uint64Decimal(row.Duration);
  c.statusCode.string(row.StatusCode);
  c.statusMessage.string(row.StatusMessage);
  c.eventTimes.offsets.add(row['Events.Timestamp'].length);
  for (const time of row['Events.Timestamp']) c.eventTimes.values.int64Decimal(time);
  appendStrings(c.eventNames, row['Events.Name']);
  appendMaps(c.eventAttributes, row['Events.Attributes']);
  appendStrings(c.linkTraceIds, row['Links.TraceId']);
  appendStrings(c.linkSpanIds, row['Links.SpanId']);
  appendStrings(c.linkStates, row['Links.TraceState']);
  appendMaps(c.linkAttributes, row['Links.Attributes']);
  c.block.rowWritten();
}

/**
 * One llm_calls row. The numbers are already within their column types (span-to-row.ts clamps counts and
 * status codes), so no write here can overflow.
 */
export function appendLlmCallRow(c: LlmCallColumns, row: LlmCallRow): void {
  c.timestamp.int64Decimal(row.Timestamp);
  c.traceId.string(row.TraceId);
  c.spanId.string(row.SpanId);
  appendLlmCallFields(c, row);
}

/** Every llm_calls column after Timestamp, TraceId and SpanId (which the wire walk writes from the bytes). */
export function appendLlmCallFields(c: LlmCallColumns, row: LlmCallRow): void {
  c.serviceName.string(row.ServiceName);
  c.environment.string(row.Environment);
  c.provider.string(row.Provider);
  c.operation.string(row.Operation);
  c.requestModel.string(row.RequestModel);
  c.responseModel.string(row.ResponseModel);
  c.modelFamily.string(row.ModelFamily);
  c.modelVersion.string(row.ModelVersion);
  c.modelSnapshot.string(row.ModelSnapshot);
  c.statusCode.string(row.StatusCode);
  c.isFailure.uint8(row.IsFailure);
  c.failureClass.string(row.FailureClass);
  c.failureOrigin.string(row.FailureOrigin);
  c.errorType.string(row.ErrorType);
  c.httpStatus.uint16(row.HttpStatus);
  c.durationMs.float64(row.DurationMs);
  c.timeToFirstTokenMs.float64(row.TimeToFirstTokenMs);
  c.inputTokens.uint32(row.InputTokens);
  c.outputTokens.uint32(row.OutputTokens);
  c.cacheReadInputTokens.uint32(row.CacheReadInputTokens);
  c.cacheWriteInputTokens.uint32(row.CacheWriteInputTokens);
  c.reasoningOutputTokens.uint32(row.ReasoningOutputTokens);
  appendStrings(c.finishReasons, row.FinishReasons);
  c.stream.uint8(row.Stream);
  c.retryCount.uint16(row.RetryCount);
  c.providerRequestId.string(row.ProviderRequestId);
  c.serverAddress.string(row.ServerAddress);
  c.scopeName.string(row.ScopeName);
  c.block.rowWritten();
}

/** One Native block of otel_traces rows (empty when `rows` is). Throws RangeError as appendTraceRow does. */
export function encodeTraceRows(rows: readonly OtelTraceRow[]): Buffer {
  const columns = new TraceColumns();
  for (const row of rows) appendTraceRow(columns, row);
  return columns.block.take();
}

/** One Native block of llm_calls rows (empty when `rows` is). */
export function encodeLlmCallRows(rows: readonly LlmCallRow[]): Buffer {
  const columns = new LlmCallColumns();
  for (const row of rows) appendLlmCallRow(columns, row);
  return columns.block.take();
}
