/**
 * `modelwatch query` as a function: runs one SQL statement against the configured store (embedded engine
 * or server) with `query_params`, read-only unless asked to write.
 *
 * Read-only is enforced by ClickHouse itself: the statement runs with the setting `readonly = 2` (reads
 * only; other settings may still be changed, which the client itself needs on HTTP). The embedded engine
 * honours it — but its connection turns per-query settings into session `SET`s, so after a read-only query
 * that embedded session stays read-only (`readonly` cannot be lowered again). The CLI opens one handle per
 * run, so this only matters to a long-lived caller, which should run writes first or use its own handle.
 */
import type { ClickHouseHandle } from '../clickhouse/client.js';
import { IngestError } from '../errors.js';

export type QueryFormat = 'table' | 'json' | 'csv';

export interface QueryOptions {
  sql: string;
  params?: Record<string, string>;
  /** Allow INSERT/CREATE/ALTER/... @default false */
  write?: boolean;
}

export interface QueryColumn {
  name: string;
  type: string;
}

/** Rows as arrays in column order; values as ClickHouse's JSON gives them (64-bit integers as strings). */
export interface QueryResult {
  columns: QueryColumn[];
  rows: unknown[][];
}

/** Statements that return rows; anything else (only allowed with write) runs as a command. */
const RETURNS_ROWS = /^\s*(\(|SELECT\b|WITH\b|SHOW\b|DESC\b|DESCRIBE\b|EXPLAIN\b|EXISTS\b|CHECK\b)/i;

/** Trailing semicolons are common in pasted SQL but the client appends FORMAT after the statement. */
export function normaliseSql(sql: string): string {
  return sql.trim().replace(/;+\s*$/, '');
}

/**
 * ClickHouse's own errors, recognised by shape: the embedded engine's connection throws the ClickHouseError
 * of its own copy of @clickhouse/client-common, so `instanceof` against the client's class misses them.
 */
function isClickHouseError(error: unknown): error is Error & { code: string; type?: string } {
  const code: unknown = error instanceof Error ? (error as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^\d+$/.test(code);
}

function toQueryError(error: unknown, write: boolean): IngestError {
  if (isClickHouseError(error)) {
    const detail = `ClickHouse error ${error.code} (${error.type ?? 'unknown'}): ${error.message.trim().split('\n')[0]}`;
    if (error.code === '164' && !write) {
      return new IngestError(
        'READ_ONLY_VIOLATION',
        `${detail} — the query is read-only; pass --write to change data`,
        { cause: error },
      );
    }
    return new IngestError('QUERY_FAILED', detail, { cause: error });
  }
  if (error instanceof IngestError) return error;
  return new IngestError('QUERY_FAILED', error instanceof Error ? error.message : String(error), {
    cause: error,
  });
}

export async function runQuery(ch: ClickHouseHandle, options: QueryOptions): Promise<QueryResult> {
  const sql = normaliseSql(options.sql);
  if (sql === '') throw new IngestError('CONFIG_INVALID', 'query: the SQL is empty');
  const write = options.write === true;
  const settings = write ? {} : { readonly: '2' as const };
  try {
    if (write && !RETURNS_ROWS.test(sql)) {
      await ch.client.command({
        query: sql,
        query_params: options.params ?? {},
        clickhouse_settings: settings,
      });
      return { columns: [], rows: [] };
    }
    const result = await ch.client.query({
      query: sql,
      query_params: options.params ?? {},
      clickhouse_settings: settings,
      format: 'JSONCompact',
    });
    // JSONCompact: { meta: [{ name, type }], data: [[...], ...] }; rows arrive as arrays.
    const body = await result.json<unknown[]>();
    return { columns: body.meta ?? [], rows: body.data };
  } catch (error) {
    throw toQueryError(error, write);
  }
}
