/**
 * Idempotent batch inserts of span rows into otel_traces and llm_calls.
 *
 * Format (TABLE_FORMATS), always with an explicit column list: RowBinary for both tables (row-binary.ts), the
 * cheapest input for the engine to parse (no tokenising, no unescaping) and the most compact to hold. The
 * consumer writes otel_traces rows straight from the protobuf (consumer/encode-wire-rows.ts); writeTraceRow
 * and writeLlmCallRow below are the encoders for rows built as objects. Rows are encoded once, when their
 * Kafka record is decoded (spreading the CPU and holding compact encodings instead of object graphs while a
 * batch fills).
 *
 * How the body reaches the engine depends on where it runs:
 * - ClickHouse server (CLICKHOUSE_URL): streamed as the HTTP request body with `exec`, which passes the
 *   pre-encoded chunks through as is (`insert` would re-serialize); the server parses the stream natively.
 * - Embedded engine (chdb): its connection glues the body onto the SQL text (`INSERT … FORMAT X\n<body>`),
 *   so every insert copies the whole batch into one JS string, converts it to UTF-8 for the native call and
 *   makes the SQL front end split a multi-megabyte "query". Instead the chunks are written to a file in the
 *   handle's spool folder and the engine reads it with `INSERT INTO t (…) FROM INFILE '<file>' FORMAT X`,
 *   through its native file parser (and a body with binary bytes never passes through a JS string). Measured,
 *   12k spans (8 MB of JSONCompactEachRow, the format then) into otel_traces: inline ~340 ms, from file
 *   ~230 ms; into a Null table (parse only) 176 ms vs 88 ms. insert_deduplication_token applies
 *   to INSERT … FROM INFILE exactly as to an inline body, materialized views included (proven by
 *   test/ingest/clickhouse/insert-rows.integration.test.ts).
 *
 * Every insert carries `insert_deduplication_token`: re-sending the same rows with the same token after a
 * crash or retry is a no-op in the table and in its materialized views
 * (`deduplicate_blocks_in_dependent_materialized_views`). `async_insert = 0` because the acknowledgement must
 * mean "written", not "queued" — offsets are committed on it.
 */
import { unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ClickHouseSettings } from '@clickhouse/client';
import { TABLE_LLM_CALLS, TABLE_OTEL_TRACES } from '../names.js';
import type { ClickHouseHandle } from './client.js';
import { errorMessage, IngestError } from '../errors.js';
import { clickHouseErrorCode, toIngestError } from './errors.js';
import { RowBinaryWriter } from './row-binary.js';
import type { LlmCallRow, OtelTraceRow } from './rows.js';

export type SpanTable = typeof TABLE_OTEL_TRACES | typeof TABLE_LLM_CALLS;

/** otel_traces columns in the order encodeTraceRows writes them. */
export const OTEL_TRACES_COLUMNS = [
  'Timestamp',
  'TraceId',
  'SpanId',
  'ParentSpanId',
  'TraceState',
  'SpanName',
  'SpanKind',
  'ServiceName',
  'ResourceAttributes',
  'ScopeName',
  'ScopeVersion',
  'SpanAttributes',
  'Duration',
  'StatusCode',
  'StatusMessage',
  'Events.Timestamp',
  'Events.Name',
  'Events.Attributes',
  'Links.TraceId',
  'Links.SpanId',
  'Links.TraceState',
  'Links.Attributes',
] as const satisfies readonly (keyof OtelTraceRow)[];

/** llm_calls columns in the order encodeLlmCallRows writes them. */
export const LLM_CALLS_COLUMNS = [
  'Timestamp',
  'TraceId',
  'SpanId',
  'ServiceName',
  'Environment',
  'Provider',
  'Operation',
  'RequestModel',
  'ResponseModel',
  'ModelFamily',
  'ModelVersion',
  'ModelSnapshot',
  'StatusCode',
  'IsFailure',
  'FailureClass',
  'FailureOrigin',
  'ErrorType',
  'HttpStatus',
  'DurationMs',
  'TimeToFirstTokenMs',
  'InputTokens',
  'OutputTokens',
  'CacheReadInputTokens',
  'CacheWriteInputTokens',
  'ReasoningOutputTokens',
  'FinishReasons',
  'Stream',
  'RetryCount',
  'ProviderRequestId',
  'ServerAddress',
  'ScopeName',
] as const satisfies readonly (keyof LlmCallRow)[];

const COLUMNS: Record<SpanTable, readonly string[]> = {
  [TABLE_OTEL_TRACES]: OTEL_TRACES_COLUMNS,
  [TABLE_LLM_CALLS]: LLM_CALLS_COLUMNS,
};

/** A Map(LowCardinality(String), String) value: its size, then key and value of each entry in order. */
function writeStringMap(out: RowBinaryWriter, map: Readonly<Record<string, string>>): void {
  const keys = Object.keys(map);
  out.varUInt(keys.length);
  for (const key of keys) {
    out.string(key);
    out.string(map[key] as string);
  }
}

/**
 * One otel_traces row in RowBinary (OTEL_TRACES_COLUMNS order) appended to `out`: the reference encoding,
 * for rows built as objects (OTLP/JSON input, and the protobuf the wire walk leaves to protobufjs). The
 * consumer's wire walk (consumer/encode-wire-rows.ts) writes the same bytes straight from the protobuf;
 * test/ingest/consumer/encode-wire-rows.test.ts compares the two. Nested columns are one array per
 * sub-column. Throws RangeError for a time past Int64 or a duration past UInt64.
 */
export function writeTraceRow(out: RowBinaryWriter, row: OtelTraceRow): void {
  out.int64Decimal(row.Timestamp);
  out.string(row.TraceId);
  out.string(row.SpanId);
  out.string(row.ParentSpanId);
  out.string(row.TraceState);
  out.string(row.SpanName);
  out.string(row.SpanKind);
  out.string(row.ServiceName);
  writeStringMap(out, row.ResourceAttributes);
  out.string(row.ScopeName);
  out.string(row.ScopeVersion);
  writeStringMap(out, row.SpanAttributes);
  out.uint64Decimal(row.Duration);
  out.string(row.StatusCode);
  out.string(row.StatusMessage);
  out.varUInt(row['Events.Timestamp'].length);
  for (const time of row['Events.Timestamp']) out.int64Decimal(time);
  out.stringArray(row['Events.Name']);
  out.varUInt(row['Events.Attributes'].length);
  for (const map of row['Events.Attributes']) writeStringMap(out, map);
  out.stringArray(row['Links.TraceId']);
  out.stringArray(row['Links.SpanId']);
  out.stringArray(row['Links.TraceState']);
  out.varUInt(row['Links.Attributes'].length);
  for (const map of row['Links.Attributes']) writeStringMap(out, map);
}

/** RowBinary rows in OTEL_TRACES_COLUMNS order (empty when `rows` is). */
export function encodeTraceRows(rows: readonly OtelTraceRow[]): Buffer {
  return encodeRows(rows, writeTraceRow, 1024);
}

function encodeRows<Row>(
  rows: readonly Row[],
  write: (out: RowBinaryWriter, row: Row) => void,
  bytesPerRow: number,
): Buffer {
  const out = new RowBinaryWriter(rows.length * bytesPerRow + 16);
  for (const row of rows) write(out, row);
  return out.toBuffer();
}

/**
 * One llm_calls row in RowBinary (LLM_CALLS_COLUMNS order) appended to `out`. llm_calls is all scalars and
 * short strings: writing them costs about what one JSON.stringify of the values array did (~1.5-1.9 µs per
 * row; bench/ingest/decode-cpu.bench.ts shows no change), and the engine reads them for less (see
 * row-binary.ts). The numbers are already within their column types (span-to-row.ts clamps counts and
 * status codes), so no write here can overflow.
 */
export function writeLlmCallRow(out: RowBinaryWriter, row: LlmCallRow): void {
  out.int64Decimal(row.Timestamp);
  out.string(row.TraceId);
  out.string(row.SpanId);
  out.string(row.ServiceName);
  out.string(row.Environment);
  out.string(row.Provider);
  out.string(row.Operation);
  out.string(row.RequestModel);
  out.string(row.ResponseModel);
  out.string(row.ModelFamily);
  out.string(row.ModelVersion);
  out.string(row.ModelSnapshot);
  out.string(row.StatusCode);
  out.uint8(row.IsFailure);
  out.string(row.FailureClass);
  out.string(row.FailureOrigin);
  out.string(row.ErrorType);
  out.uint16(row.HttpStatus);
  out.float64(row.DurationMs);
  out.float64(row.TimeToFirstTokenMs);
  out.uint32(row.InputTokens);
  out.uint32(row.OutputTokens);
  out.uint32(row.CacheReadInputTokens);
  out.uint32(row.CacheWriteInputTokens);
  out.uint32(row.ReasoningOutputTokens);
  out.stringArray(row.FinishReasons);
  out.uint8(row.Stream);
  out.uint16(row.RetryCount);
  out.string(row.ProviderRequestId);
  out.string(row.ServerAddress);
  out.string(row.ScopeName);
}

/** RowBinary rows in LLM_CALLS_COLUMNS order (empty when `rows` is). */
export function encodeLlmCallRows(rows: readonly LlmCallRow[]): Buffer {
  return encodeRows(rows, writeLlmCallRow, 256);
}

/** The rows of one table for one insert, as encodeTraceRows / encodeLlmCallRows made them (RowBinary). */
export type EncodedChunk = Uint8Array;

/** Each table's insert format: what encodeTraceRows and encodeLlmCallRows write. */
export const TABLE_FORMATS = {
  [TABLE_OTEL_TRACES]: 'RowBinary',
  [TABLE_LLM_CALLS]: 'RowBinary',
} as const satisfies Record<SpanTable, string>;

/**
 * What the consumer needs from a writer: one idempotent insert of pre-encoded rows into one table. An
 * interface so tests can inject faults at this boundary (e.g. "the first K inserts fail as unavailable").
 * Throws IngestError CLICKHOUSE_UNAVAILABLE (retriable) or CLICKHOUSE_REJECTED (not retriable).
 */
export interface SpanRowWriter {
  /** `chunks` are encodeTraceRows / encodeLlmCallRows outputs, concatenated in order. */
  writeEncoded(table: SpanTable, chunks: readonly EncodedChunk[], dedupToken: string): Promise<void>;
}

export interface SpanRowBatch {
  traces: readonly OtelTraceRow[];
  llmCalls: readonly LlmCallRow[];
}

/** What the writer needs of a ClickHouseHandle (tests and the benchmark pass real handles). */
export type SpanWriterTarget = Pick<ClickHouseHandle, 'client'> &
  Partial<Pick<ClickHouseHandle, 'insertSpoolDir'>>;

/**
 * Engine settings for inserts into the embedded engine, given explicitly per insert. The consumer runs its
 * inserts concurrently on separate sessions (engine-sessions.ts) beside its own JS thread, on a host it
 * shares: one thread per insert is enough, and the file parser's parallel mode (a reader thread cutting
 * segments for parser threads) then only adds work. Measured, 12k spans into both tables, merges stopped,
 * alternating runs on the 2-core box: default ~160-200 ms CPU per batch, these ~140-177 ms (−10-13 %), wall
 * time lower too.
 */
const EMBEDDED_INSERT_SETTINGS: ClickHouseSettings = {
  input_format_parallel_parsing: 0,
  max_threads: 1,
  max_insert_threads: '1',
};

/** Names spool files uniquely across every writer of this process (one process owns a data folder). */
let spoolSeq = 0;

/** ClickHouse FILE_DOESNT_EXIST / CANNOT_OPEN_FILE / CANNOT_READ_FROM_FILE_DESCRIPTOR: our spool file, not the rows. */
const SPOOL_FILE_ERROR_CODES = new Set(['107', '76', '74']);

export class ClickHouseSpanWriter implements SpanRowWriter {
  /** Sessions not running an insert right now; an insert takes one and gives it back. */
  readonly #idle: SpanWriterTarget[];
  readonly #waiting: ((target: SpanWriterTarget) => void)[] = [];

  /**
   * One target, or several sessions of the same store (engine-sessions.ts): concurrent inserts each run on
   * a session of their own, because the embedded engine serialises the statements of one connection.
   */
  constructor(targets: SpanWriterTarget | readonly SpanWriterTarget[]) {
    this.#idle = Array.isArray(targets) ? [...targets] : [targets as SpanWriterTarget];
    if (this.#idle.length === 0) throw new TypeError('ClickHouseSpanWriter needs at least one target');
  }

  async #take(): Promise<SpanWriterTarget> {
    return this.#idle.pop() ?? new Promise<SpanWriterTarget>((resolve) => this.#waiting.push(resolve));
  }

  #give(target: SpanWriterTarget): void {
    const next = this.#waiting.shift();
    if (next) next(target);
    else this.#idle.push(target);
  }

  /**
   * Inserts both tables; table T gets token `${dedupTokenBase}:${T}`. Re-running with the same base and
   * rows writes nothing new (a crash between the two inserts is healed by re-running both).
   */
  async writeBatch(batch: SpanRowBatch, dedupTokenBase: string): Promise<void> {
    if (batch.traces.length > 0) {
      await this.writeEncoded(
        TABLE_OTEL_TRACES,
        [encodeTraceRows(batch.traces)],
        `${dedupTokenBase}:${TABLE_OTEL_TRACES}`,
      );
    }
    if (batch.llmCalls.length > 0) {
      await this.writeEncoded(
        TABLE_LLM_CALLS,
        [encodeLlmCallRows(batch.llmCalls)],
        `${dedupTokenBase}:${TABLE_LLM_CALLS}`,
      );
    }
  }

  async writeEncoded(table: SpanTable, chunks: readonly EncodedChunk[], dedupToken: string): Promise<void> {
    if (chunks.every((chunk) => chunk.length === 0)) return;
    const columns = COLUMNS[table].map((c) => `\`${c}\``).join(', ');
    const settings: ClickHouseSettings = {
      insert_deduplication_token: dedupToken,
      // Explicit because a server profile may turn it off; the token means nothing without it.
      insert_deduplicate: 1,
      deduplicate_blocks_in_dependent_materialized_views: 1,
      async_insert: 0,
    };
    const target = await this.#take();
    try {
      if (target.insertSpoolDir !== undefined)
        await this.#insertFromFile(target, target.insertSpoolDir, table, columns, chunks, settings);
      else await this.#insertStreamed(target, table, columns, chunks, settings);
    } catch (error) {
      throw toIngestError(error, `insert into ${table} (token ${dedupToken})`);
    } finally {
      this.#give(target);
    }
  }

  async #insertStreamed(
    target: SpanWriterTarget,
    table: SpanTable,
    columns: string,
    chunks: readonly EncodedChunk[],
    settings: ClickHouseSettings,
  ): Promise<void> {
    const result = await target.client.exec({
      query: `INSERT INTO ${table} (${columns}) FORMAT ${TABLE_FORMATS[table]}`,
      values: Readable.from(chunks, { objectMode: false }),
      clickhouse_settings: settings,
    });
    // An INSERT answers with an empty body; drain it so the HTTP socket goes back to the pool.
    result.stream.resume();
    await new Promise<void>((resolve, reject) => {
      result.stream.once('end', resolve).once('close', resolve).once('error', reject);
    });
  }

  async #insertFromFile(
    target: SpanWriterTarget,
    spoolDir: string,
    table: SpanTable,
    columns: string,
    chunks: readonly EncodedChunk[],
    settings: ClickHouseSettings,
  ): Promise<void> {
    // One file per insert (inserts may overlap); the spool folder is emptied whenever the engine is opened,
    // so a crash between write and unlink leaves nothing behind for long.
    const path = join(spoolDir, `${table}-${process.pid}-${++spoolSeq}.rows`);
    try {
      await writeFile(path, chunks);
    } catch (error) {
      // A full or missing disk is not the rows' fault: retriable, never a reason to dead-letter records.
      await unlink(path).catch(() => undefined);
      throw new IngestError(
        'CLICKHOUSE_UNAVAILABLE',
        `writing insert spool file ${path}: ${errorMessage(error)}`,
        { cause: error },
      );
    }
    try {
      await target.client.command({
        query: `INSERT INTO ${table} (${columns}) FROM INFILE '${path.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}' FORMAT ${TABLE_FORMATS[table]}`,
        clickhouse_settings: { ...settings, ...EMBEDDED_INSERT_SETTINGS },
      });
    } catch (error) {
      const code = clickHouseErrorCode(error);
      if (code !== undefined && SPOOL_FILE_ERROR_CODES.has(code)) {
        throw new IngestError(
          'CLICKHOUSE_UNAVAILABLE',
          `engine could not read ${path}: ${errorMessage(error)}`,
          { cause: error },
        );
      }
      throw error;
    } finally {
      await unlink(path).catch(() => undefined);
    }
  }
}
