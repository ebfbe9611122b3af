/**
 * One Kafka record -> encoded rows for both tables, or the reason it is poison. Pure and synchronous: it
 * runs as records arrive so a batch holds compact encoded rows (insert-rows.ts' TABLE_FORMATS), not object
 * graphs.
 */
import { encodeLlmCallRows, encodeTraceRows } from '../clickhouse/insert-rows.js';
import { errorMessage, IngestError } from '../errors.js';
import { HEADER_ENCODING } from '../names.js';
import { decodeTraceRequest, detectEncoding } from '../otlp/decode.js';
import { encodeWireRows } from './encode-wire-rows.js';
import { spanToRows } from './span-to-row.js';

/** A Kafka header value as kafkajs hands it over. */
export type HeaderValue = Buffer | string | (Buffer | string)[] | undefined;
export type RecordHeaders = Record<string, HeaderValue>;

export interface DecodedRecord {
  kind: 'rows';
  /** otel_traces rows, one Native block (empty when none). */
  traces: Buffer;
  traceCount: number;
  /** llm_calls rows, one Native block (empty when none). */
  llmCalls: Buffer;
  llmCallCount: number;
}

export interface PoisonRecord {
  kind: 'poison';
  error: IngestError;
}

export function firstHeader(headers: RecordHeaders | undefined, name: string): Buffer | string | undefined {
  const value = headers?.[name];
  return Array.isArray(value) ? value[0] : value;
}

export function decodeRecord(
  value: Buffer | null,
  headers: RecordHeaders | undefined,
): DecodedRecord | PoisonRecord {
  if (value === null) {
    return {
      kind: 'poison',
      error: new IngestError('OTLP_DECODE_FAILED', 'record has no value (tombstone)'),
    };
  }
  try {
    const encoding = detectEncoding(value, firstHeader(headers, HEADER_ENCODING) ?? null);
    if (encoding === 'otlp_proto') {
      const encoded = encodeWireRows(value);
      if (encoded !== undefined) return { kind: 'rows', ...encoded };
    }
    // OTLP/JSON, and protobuf the wire encoder leaves to protobufjs (rare forms, invalid spans).
    const rows = spanToRows(decodeTraceRequest(value, encoding));
    return {
      kind: 'rows',
      traces: encodeTraceRows(rows.traces),
      traceCount: rows.traces.length,
      llmCalls: encodeLlmCallRows(rows.llmCalls),
      llmCallCount: rows.llmCalls.length,
    };
  } catch (error) {
    // Anything else thrown while turning one record into rows (a normaliser bug included) still must not
    // stop the partition: the record goes to the DLQ with the reason, and the error is logged by the caller.
    const ingestError =
      error instanceof IngestError
        ? error
        : new IngestError('OTLP_INVALID', `cannot convert record to rows: ${errorMessage(error)}`, {
            cause: error,
          });
    return { kind: 'poison', error: ingestError };
  }
}
