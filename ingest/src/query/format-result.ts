/** Prints a QueryResult as a terminal table, JSON (array of objects) or CSV (RFC 4180, header row). */
import Table from 'cli-table3';
import type { Colors } from 'picocolors/types.js';
import type { QueryFormat, QueryResult } from './run-query.js';

const text = (v: unknown): string =>
  v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);

function csvField(v: unknown): string {
  const s = text(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function formatQueryResult(result: QueryResult, format: QueryFormat, colors: Colors): string {
  switch (format) {
    case 'json':
      return JSON.stringify(
        result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c.name, row[i]]))),
        null,
        2,
      );
    case 'csv':
      return [result.columns.map((c) => csvField(c.name)), ...result.rows.map((row) => row.map(csvField))]
        .map((line) => line.join(','))
        .join('\r\n');
    case 'table': {
      if (result.columns.length === 0) return colors.dim('ok (no rows returned)');
      const table = new Table({
        head: result.columns.map((c) => colors.bold(c.name)),
        style: { head: [], border: [] },
      });
      for (const row of result.rows) table.push(row.map(text));
      return `${table.toString()}\n${colors.dim(`${result.rows.length} row${result.rows.length === 1 ? '' : 's'}`)}`;
    }
  }
}
