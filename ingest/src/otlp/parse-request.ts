/**
 * Bytes <-> the lossless protobufjs form of an ExportTraceServiceRequest, for both OTLP encodings. JSON
 * follows the OTLP/JSON mapping: lowerCamelCase keys (what protobufjs uses too), hex trace/span ids, enums
 * as integers (names are tolerated), int64 as decimal strings or numbers, bytes values as base64.
 */
import type { OtlpEncoding } from '../names.js';
import { IngestError, errorMessage } from '../errors.js';
import { ExportTraceServiceRequestType, type RawTraceRequest } from './proto-types.js';

const HEX = /^[0-9a-fA-F]*$/;

export function parseTraceRequest(body: Uint8Array, encoding: OtlpEncoding): RawTraceRequest {
  return encoding === 'otlp_json' ? parseJson(body) : parseProtobuf(body);
}

export function encodeTraceRequest(request: RawTraceRequest): Uint8Array {
  return ExportTraceServiceRequestType.encode(request).finish();
}

function parseProtobuf(body: Uint8Array): RawTraceRequest {
  try {
    return ExportTraceServiceRequestType.decode(body) as RawTraceRequest;
  } catch (error) {
    throw new IngestError(
      'OTLP_DECODE_FAILED',
      `not a protobuf ExportTraceServiceRequest (${body.byteLength} bytes): ${errorMessage(error)}`,
      { cause: error },
    );
  }
}

function parseJson(body: Uint8Array): RawTraceRequest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch (error) {
    throw new IngestError(
      'OTLP_DECODE_FAILED',
      `not valid JSON (${body.byteLength} bytes): ${errorMessage(error)}`,
      {
        cause: error,
      },
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new IngestError('OTLP_INVALID', 'OTLP/JSON body must be an object with "resourceSpans"');
  }
  hexIdsToBytes(parsed as JsonRequest);
  try {
    return ExportTraceServiceRequestType.fromObject(parsed) as RawTraceRequest;
  } catch (error) {
    // protobufjs names the path, e.g. ".opentelemetry.proto.trace.v1.ResourceSpans.scopeSpans: array expected".
    throw new IngestError(
      'OTLP_INVALID',
      `OTLP/JSON does not match ExportTraceServiceRequest: ${errorMessage(error)}`,
      {
        cause: error,
      },
    );
  }
}

interface JsonIds {
  traceId?: unknown;
  spanId?: unknown;
  parentSpanId?: unknown;
  links?: unknown;
}
interface JsonRequest {
  resourceSpans?: unknown;
}

function listOf(value: unknown, what: string): Record<string, unknown>[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new IngestError('OTLP_INVALID', `OTLP/JSON ${what} must be an array`);
  return value as Record<string, unknown>[];
}

/** OTLP/JSON ids are hex, protobufjs expects bytes (it would read a string as base64). */
function hexIdsToBytes(request: JsonRequest): void {
  let spanIndex = 0;
  for (const resourceSpans of listOf(request.resourceSpans, 'resourceSpans')) {
    for (const scopeSpans of listOf(resourceSpans?.scopeSpans, 'scopeSpans')) {
      for (const span of listOf(scopeSpans?.spans, 'spans')) {
        if (typeof span !== 'object' || span === null) {
          throw new IngestError('OTLP_INVALID', `span ${spanIndex} is not an object`);
        }
        const ids = span as JsonIds;
        const where = `span ${spanIndex}`;
        ids.traceId = hexToBytes(ids.traceId, `${where} trace id`);
        ids.spanId = hexToBytes(ids.spanId, `${where} span id`);
        ids.parentSpanId = hexToBytes(ids.parentSpanId, `${where} parent span id`);
        listOf(ids.links, `${where} links`).forEach((link, linkIndex) => {
          const linkIds = link as JsonIds;
          linkIds.traceId = hexToBytes(linkIds.traceId, `${where} link ${linkIndex} trace id`);
          linkIds.spanId = hexToBytes(linkIds.spanId, `${where} link ${linkIndex} span id`);
        });
        spanIndex++;
      }
    }
  }
}

function hexToBytes(value: unknown, what: string): Buffer | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' || value.length % 2 !== 0 || !HEX.test(value)) {
    throw new IngestError(
      'OTLP_INVALID',
      `${what} ${JSON.stringify(value)} is not a hex string (OTLP/JSON ids are hex)`,
    );
  }
  return Buffer.from(value, 'hex');
}
