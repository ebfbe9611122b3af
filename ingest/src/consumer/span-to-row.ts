/**
 * Pure and on the hot path: one decoded OTLP request -> otel_traces rows (every span, written exactly as
 * the OpenTelemetry Collector's ClickHouse exporter writes them) and llm_calls rows (one per LLM call span,
 * normalised across GenAI conventions). No regex is compiled and no unchanged string re-serialised per span;
 * model ids are parsed once per (id, provider).
 */
import {
  ATTR_DEPLOYMENT_ENVIRONMENT,
  ATTR_DEPLOYMENT_ENVIRONMENT_NAME,
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_MODELWATCH_FAILURE_CLASS,
  ATTR_MODELWATCH_FAILURE_ORIGIN,
  ATTR_MODELWATCH_MODEL_FAMILY,
  ATTR_MODELWATCH_MODEL_SNAPSHOT,
  ATTR_MODELWATCH_MODEL_VERSION,
  ATTR_MODELWATCH_PROVIDER_REQUEST_ID,
  ATTR_MODELWATCH_RETRY_COUNT,
  ATTR_MODELWATCH_TIME_TO_FIRST_TOKEN_MS,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVICE_NAME,
} from '@modelwatch/instrumentation';
import type { LlmCallRow, OtelTraceRow } from '../clickhouse/rows.js';
import { attributesToStrings, attrValueToString } from '../otlp/attr-value.js';
import type {
  Attributes,
  DecodedSpan,
  DecodedTraceRequest,
  StatusCodeValue,
  UnixNanos,
} from '../otlp/otlp-types.js';
import { classifyFromAttributes } from './classify-from-attributes.js';
import {
  asCount,
  asFlag,
  asNumber,
  asString,
  asStringList,
  CACHE_READ_KEYS,
  CACHE_WRITE_KEYS,
  first,
  INPUT_TOKEN_KEYS,
  normalizeOperation,
  normalizeProvider,
  OPERATION_KEYS,
  OUTPUT_TOKEN_KEYS,
  PROVIDER_KEYS,
  REASONING_TOKEN_KEYS,
  REQUEST_MODEL_KEYS,
  resolveModel,
  RESPONSE_MODEL_KEYS,
  STREAM_KEYS,
} from './normalize-genai.js';

export interface SpanRows {
  traces: OtelTraceRow[];
  llmCalls: LlmCallRow[];
}

/** ptrace.SpanKind.String() / StatusCode.String() in the Collector, indexed by the OTLP enum number. */
export const SPAN_KIND_NAMES = [
  'Unspecified',
  'Internal',
  'Server',
  'Client',
  'Producer',
  'Consumer',
] as const;
export const STATUS_CODE_NAMES = ['Unset', 'Ok', 'Error'] as const;
const STATUS_ERROR = 2;

const ATTR_EXCEPTION_TYPE = 'exception.type';
const ATTR_EXCEPTION_MESSAGE = 'exception.message';

/**
 * What toLlmCallRow reads of a span: a DecodedSpan, or the wire encoder's view whose `attributes` hold only
 * LLM_SPAN_ATTRIBUTE_KEYS and whose events' attributes only LLM_EVENT_ATTRIBUTE_KEYS.
 */
export interface LlmSpanView {
  traceId: string;
  spanId: string;
  startTimeUnixNano: UnixNanos;
  durationNs: number;
  attributes: Attributes;
  status: { code: StatusCodeValue; message: string };
  events: readonly { name: string; attributes: Attributes }[];
}

/** Every span attribute isLlmCallSpan and toLlmCallRow read; keep in step with them. */
export const LLM_SPAN_ATTRIBUTE_KEYS: ReadonlySet<string> = new Set([
  ...PROVIDER_KEYS,
  ...OPERATION_KEYS,
  ...REQUEST_MODEL_KEYS,
  ...RESPONSE_MODEL_KEYS,
  ...INPUT_TOKEN_KEYS,
  ...OUTPUT_TOKEN_KEYS,
  ...CACHE_READ_KEYS,
  ...CACHE_WRITE_KEYS,
  ...REASONING_TOKEN_KEYS,
  ...STREAM_KEYS,
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_MODELWATCH_FAILURE_CLASS,
  ATTR_MODELWATCH_FAILURE_ORIGIN,
  ATTR_MODELWATCH_MODEL_FAMILY,
  ATTR_MODELWATCH_MODEL_SNAPSHOT,
  ATTR_MODELWATCH_MODEL_VERSION,
  ATTR_MODELWATCH_PROVIDER_REQUEST_ID,
  ATTR_MODELWATCH_RETRY_COUNT,
  ATTR_MODELWATCH_TIME_TO_FIRST_TOKEN_MS,
  ATTR_SERVER_ADDRESS,
]);
/** Every event attribute toLlmCallRow reads. */
export const LLM_EVENT_ATTRIBUTE_KEYS: ReadonlySet<string> = new Set([
  ATTR_EXCEPTION_TYPE,
  ATTR_EXCEPTION_MESSAGE,
]);
/** Every resource attribute resourceFacts reads. */
export const RESOURCE_ATTRIBUTE_KEYS: ReadonlySet<string> = new Set([
  ATTR_SERVICE_NAME,
  ATTR_DEPLOYMENT_ENVIRONMENT_NAME,
  ATTR_DEPLOYMENT_ENVIRONMENT,
]);

const UINT16_MAX = 65_535;
const UINT32_MAX = 4_294_967_295;

function stringAttr(attributes: Attributes, key: string): string {
  const value = attributes[key];
  if (value === undefined) return '';
  return typeof value === 'string' ? value : attrValueToString(value);
}

function toTraceRow(
  span: DecodedSpan,
  serviceName: string,
  resourceAttributes: Record<string, string>,
  scopeName: string,
  scopeVersion: string,
): OtelTraceRow {
  const eventCount = span.events.length;
  const linkCount = span.links.length;
  const eventTimes = new Array<string>(eventCount);
  const eventNames = new Array<string>(eventCount);
  const eventAttributes = new Array<Record<string, string>>(eventCount);
  for (let i = 0; i < eventCount; i++) {
    const event = span.events[i]!;
    eventTimes[i] = event.timeUnixNano;
    eventNames[i] = event.name;
    eventAttributes[i] = attributesToStrings(event.attributes);
  }
  const linkTraceIds = new Array<string>(linkCount);
  const linkSpanIds = new Array<string>(linkCount);
  const linkStates = new Array<string>(linkCount);
  const linkAttributes = new Array<Record<string, string>>(linkCount);
  for (let i = 0; i < linkCount; i++) {
    const link = span.links[i]!;
    linkTraceIds[i] = link.traceId;
    linkSpanIds[i] = link.spanId;
    linkStates[i] = link.traceState;
    linkAttributes[i] = attributesToStrings(link.attributes);
  }
  return {
    Timestamp: span.startTimeUnixNano,
    TraceId: span.traceId,
    SpanId: span.spanId,
    ParentSpanId: span.parentSpanId,
    TraceState: span.traceState,
    SpanName: span.name,
    SpanKind: SPAN_KIND_NAMES[span.kind],
    ServiceName: serviceName,
    ResourceAttributes: resourceAttributes,
    ScopeName: scopeName,
    ScopeVersion: scopeVersion,
    SpanAttributes: attributesToStrings(span.attributes),
    Duration: String(span.durationNs),
    StatusCode: STATUS_CODE_NAMES[span.status.code],
    StatusMessage: span.status.message,
    'Events.Timestamp': eventTimes,
    'Events.Name': eventNames,
    'Events.Attributes': eventAttributes,
    'Links.TraceId': linkTraceIds,
    'Links.SpanId': linkSpanIds,
    'Links.TraceState': linkStates,
    'Links.Attributes': linkAttributes,
  };
}

/**
 * An LLM call span names a GenAI operation or provider (current or deprecated convention) and a model.
 * Tool-execution and agent spans carry gen_ai.operation.name too but no model, so they stay trace-only.
 */
export function isLlmCallSpan(attributes: Attributes): boolean {
  return (
    (first(attributes, PROVIDER_KEYS) !== undefined || first(attributes, OPERATION_KEYS) !== undefined) &&
    (first(attributes, REQUEST_MODEL_KEYS) !== undefined ||
      first(attributes, RESPONSE_MODEL_KEYS) !== undefined)
  );
}

/** error.type, else the type of the span's first `exception` event. */
function errorTypeOf(span: LlmSpanView): string {
  const errorType = asString(span.attributes[ATTR_ERROR_TYPE]);
  if (errorType !== '') return errorType;
  for (const event of span.events) {
    if (event.name === 'exception') return asString(event.attributes[ATTR_EXCEPTION_TYPE]);
  }
  return '';
}

function exceptionMessageOf(span: LlmSpanView): string {
  for (const event of span.events) {
    if (event.name === 'exception') return asString(event.attributes[ATTR_EXCEPTION_MESSAGE]);
  }
  return '';
}

/** ServiceName and Environment from a resource's attributes (the full set or just RESOURCE_ATTRIBUTE_KEYS). */
export function resourceFacts(attributes: Attributes): { serviceName: string; environment: string } {
  return {
    serviceName: stringAttr(attributes, ATTR_SERVICE_NAME),
    environment:
      stringAttr(attributes, ATTR_DEPLOYMENT_ENVIRONMENT_NAME) ||
      stringAttr(attributes, ATTR_DEPLOYMENT_ENVIRONMENT),
  };
}

export function toLlmCallRow(
  span: LlmSpanView,
  serviceName: string,
  environment: string,
  scopeName: string,
): LlmCallRow {
  const attributes = span.attributes;
  const provider = normalizeProvider(asString(first(attributes, PROVIDER_KEYS)));
  const requestModel = asString(first(attributes, REQUEST_MODEL_KEYS));
  const responseModel = asString(first(attributes, RESPONSE_MODEL_KEYS));

  let family = asString(attributes[ATTR_MODELWATCH_MODEL_FAMILY]);
  let version: string;
  let snapshot: string;
  if (family !== '') {
    // Our instrumentation already parsed (with the SDK's context); trust it over re-parsing here.
    version = asString(attributes[ATTR_MODELWATCH_MODEL_VERSION]);
    snapshot = asString(attributes[ATTR_MODELWATCH_MODEL_SNAPSHOT]);
  } else {
    const parsed = resolveModel(requestModel, responseModel, provider);
    family = parsed.family;
    version = parsed.version;
    snapshot = parsed.snapshot;
  }

  const httpStatusValue = asNumber(attributes[ATTR_HTTP_RESPONSE_STATUS_CODE]);
  const httpStatus =
    httpStatusValue !== undefined && httpStatusValue > 0 && httpStatusValue <= UINT16_MAX
      ? Math.trunc(httpStatusValue)
      : 0;
  const errorType = errorTypeOf(span);
  let failureClass = asString(attributes[ATTR_MODELWATCH_FAILURE_CLASS]);
  let failureOrigin = asString(attributes[ATTR_MODELWATCH_FAILURE_ORIGIN]);
  const isFailure =
    span.status.code === STATUS_ERROR || failureClass !== '' || errorType !== '' || httpStatus >= 400;
  if (isFailure && failureClass === '') {
    const classified = classifyFromAttributes({
      errorType,
      httpStatus,
      message: span.status.message || exceptionMessageOf(span),
    });
    failureClass = classified.failureClass;
    failureOrigin = classified.failureOrigin;
  } else if (!isFailure) {
    failureOrigin = '';
  }

  let ttftMs = asNumber(attributes[ATTR_MODELWATCH_TIME_TO_FIRST_TOKEN_MS]);
  if (ttftMs === undefined) {
    const seconds = asNumber(attributes[ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK]);
    ttftMs = seconds === undefined ? 0 : seconds * 1000;
  }

  return {
    Timestamp: span.startTimeUnixNano,
    TraceId: span.traceId,
    SpanId: span.spanId,
    ServiceName: serviceName,
    Environment: environment,
    Provider: provider,
    Operation: normalizeOperation(asString(first(attributes, OPERATION_KEYS))),
    RequestModel: requestModel,
    ResponseModel: responseModel,
    ModelFamily: family,
    ModelVersion: version,
    ModelSnapshot: snapshot,
    StatusCode: STATUS_CODE_NAMES[span.status.code],
    IsFailure: isFailure ? 1 : 0,
    FailureClass: isFailure ? failureClass : '',
    FailureOrigin: failureOrigin,
    ErrorType: errorType,
    HttpStatus: httpStatus,
    DurationMs: span.durationNs / 1e6,
    TimeToFirstTokenMs: ttftMs > 0 ? ttftMs : 0,
    InputTokens: asCount(first(attributes, INPUT_TOKEN_KEYS), UINT32_MAX),
    OutputTokens: asCount(first(attributes, OUTPUT_TOKEN_KEYS), UINT32_MAX),
    CacheReadInputTokens: asCount(first(attributes, CACHE_READ_KEYS), UINT32_MAX),
    CacheWriteInputTokens: asCount(first(attributes, CACHE_WRITE_KEYS), UINT32_MAX),
    ReasoningOutputTokens: asCount(first(attributes, REASONING_TOKEN_KEYS), UINT32_MAX),
    FinishReasons: asStringList(attributes[ATTR_GEN_AI_RESPONSE_FINISH_REASONS]),
    Stream: asFlag(first(attributes, STREAM_KEYS)),
    RetryCount: asCount(attributes[ATTR_MODELWATCH_RETRY_COUNT], UINT16_MAX),
    ProviderRequestId: asString(attributes[ATTR_MODELWATCH_PROVIDER_REQUEST_ID]),
    ServerAddress: asString(attributes[ATTR_SERVER_ADDRESS]),
    ScopeName: scopeName,
  };
}

/** All rows for one decoded request: one otel_traces row per span, one llm_calls row per LLM call span. */
export function spanToRows(decoded: DecodedTraceRequest): SpanRows {
  const traces: OtelTraceRow[] = [];
  const llmCalls: LlmCallRow[] = [];
  for (const resourceSpans of decoded.resourceSpans) {
    const resourceAttributes = resourceSpans.resource.attributes;
    const resourceStrings = attributesToStrings(resourceAttributes);
    const { serviceName, environment } = resourceFacts(resourceAttributes);
    for (const scopeSpans of resourceSpans.scopeSpans) {
      const { name: scopeName, version: scopeVersion } = scopeSpans.scope;
      for (const span of scopeSpans.spans) {
        // The resource map is shared by this resource's rows: rows are serialised, never mutated.
        traces.push(toTraceRow(span, serviceName, resourceStrings, scopeName, scopeVersion));
        if (isLlmCallSpan(span.attributes))
          llmCalls.push(toLlmCallRow(span, serviceName, environment, scopeName));
      }
    }
  }
  return { traces, llmCalls };
}
