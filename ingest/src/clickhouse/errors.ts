/**
 * Maps what the ClickHouse client throws to IngestErrors: transport failures (refused, reset, timeouts,
 * server overload) are retriable CLICKHOUSE_UNAVAILABLE; anything the server parsed and refused (bad SQL,
 * type mismatch, unknown table) is a non-retriable CLICKHOUSE_REJECTED carrying the ClickHouse code.
 */
import { ClickHouseError } from '@clickhouse/client';
import { IngestError } from '../errors.js';

/** ClickHouse error codes that mean "try again later", not "your request is wrong". */
const TRANSIENT_CLICKHOUSE_CODES = new Set([
  '159', // TIMEOUT_EXCEEDED
  '164', // READONLY (replica in read-only mode)
  '202', // TOO_MANY_SIMULTANEOUS_QUERIES
  '203', // NO_FREE_CONNECTION
  '209', // SOCKET_TIMEOUT
  '210', // NETWORK_ERROR
  '241', // MEMORY_LIMIT_EXCEEDED
  '242', // TABLE_IS_READ_ONLY
  '252', // TOO_MANY_PARTS
  '285', // TOO_FEW_LIVE_REPLICAS
  '319', // UNKNOWN_STATUS_OF_INSERT
  '425', // SYSTEM_ERROR
  '999', // KEEPER_EXCEPTION
]);

const TRANSIENT_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * The ClickHouse error code ('60', '241', ...) of an error the server or the embedded engine raised.
 * Duck-typed: chdb throws its own copy of ClickHouseError (from @clickhouse/client-common), which is not
 * an instance of the class @clickhouse/client exports.
 */
export function clickHouseErrorCode(error: unknown): string | undefined {
  if (error instanceof ClickHouseError) return error.code;
  if (!(error instanceof Error) || error.constructor.name !== 'ClickHouseError') return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^\d+$/.test(code) ? code : undefined;
}

export function isClickHouseUnavailable(error: unknown): boolean {
  const clickHouseCode = clickHouseErrorCode(error);
  if (clickHouseCode !== undefined) return TRANSIENT_CLICKHOUSE_CODES.has(clickHouseCode);
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== undefined && TRANSIENT_NODE_CODES.has(code)) return true;
  return /timeout|socket hang up|ECONNREFUSED|ECONNRESET|503|502|504/i.test(error.message);
}

export function toIngestError(error: unknown, context: string): IngestError {
  if (error instanceof IngestError) return error;
  const clickHouseCode = clickHouseErrorCode(error);
  const detail =
    clickHouseCode !== undefined && error instanceof Error
      ? `ClickHouse error ${clickHouseCode} (${(error as { type?: string }).type ?? 'unknown'}): ${error.message.trim()}`
      : error instanceof Error
        ? error.message
        : String(error);
  return isClickHouseUnavailable(error)
    ? new IngestError('CLICKHOUSE_UNAVAILABLE', `${context}: ${detail}`, { cause: error })
    : new IngestError('CLICKHOUSE_REJECTED', `${context}: ${detail}`, { cause: error });
}
