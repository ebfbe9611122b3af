/**
 * Errors carry a stable `code`, a `retriable` flag and the original `cause`. This module decides what is
 * retriable; call sites do not. Programmer errors (TypeError, RangeError, ...) are never retriable.
 */
export type IngestErrorCode =
  | 'CONFIG_INVALID'
  | 'OTLP_DECODE_FAILED'
  | 'OTLP_INVALID'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'UNAUTHORIZED'
  | 'KAFKA_UNAVAILABLE'
  | 'KAFKA_FAILED'
  | 'CLICKHOUSE_UNAVAILABLE'
  | 'CLICKHOUSE_REJECTED'
  | 'MIGRATION_CHECKSUM_MISMATCH'
  | 'MIGRATION_FAILED'
  | 'LOCAL_KAFKA_FAILED'
  | 'SCENARIO_INVALID'
  | 'QUERY_FAILED'
  | 'READ_ONLY_VIOLATION';

const RETRIABLE_BY_DEFAULT: ReadonlySet<IngestErrorCode> = new Set([
  'KAFKA_UNAVAILABLE',
  'CLICKHOUSE_UNAVAILABLE',
]);

export class IngestError extends Error {
  readonly code: IngestErrorCode;
  readonly retriable: boolean;

  constructor(code: IngestErrorCode, message: string, options?: { cause?: unknown; retriable?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'IngestError';
    this.code = code;
    this.retriable = options?.retriable ?? RETRIABLE_BY_DEFAULT.has(code);
  }
}

const PROGRAMMER_ERRORS = [TypeError, RangeError, ReferenceError, SyntaxError, EvalError];

/** True when retrying the operation that threw `error` can help. */
export function isRetriable(error: unknown): boolean {
  if (error instanceof IngestError) return error.retriable;
  if (PROGRAMMER_ERRORS.some((type) => error instanceof type)) return false;
  if (typeof error === 'object' && error !== null && 'retriable' in error) {
    return (error as { retriable: unknown }).retriable === true;
  }
  return true;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
