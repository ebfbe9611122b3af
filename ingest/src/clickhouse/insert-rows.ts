/**
 * Idempotent batch inserts of span rows into otel_traces and llm_calls.
 *
 * Format (TABLE_FORMATS), always with an explicit column list: Native blocks for both tables (one block per
 * Kafka record; native-block.ts, span-blocks.ts), the input the engine parses cheapest (a column at a time).
 * The consumer writes them straight from the protobuf (consumer/encode-wire-rows.ts); encodeTraceRows and
 * encodeLlmCallRows are the encoders for rows built as objects. Rows are encoded once, when their Kafka
 * record is decoded (spreading the CPU and holding compact encodings instead of object graphs while a batch
 * fills).
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
import { mergeNativeBlocks, ScratchBuffer } from './merge-native-blocks.js';
import type { LlmCallRow, OtelTraceRow } from './rows.js';
import { encodeLlmCallRows, encodeTraceRows } from './span-blocks.js';

export { encodeLlmCallRows, encodeTraceRows } from './span-blocks.js';

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

/** The rows of one table for one insert: Native blocks, as encodeTraceRows / encodeLlmCallRows make them. */
export type EncodedChunk = Uint8Array;

/** Each table's insert format: what encodeTraceRows and encodeLlmCallRows write (span-blocks.ts). */
export const TABLE_FORMATS = {
  [TABLE_OTEL_TRACES]: 'Native',
  [TABLE_LLM_CALLS]: 'Native',
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

/** The records' blocks as one; a record whose rows are not a block this process wrote is refused like rows
 * ClickHouse cannot parse, so the consumer isolates that record and dead-letters it. */
function mergeRecords(
  table: SpanTable,
  records: readonly EncodedChunk[],
  scratch: ScratchBuffer,
): Uint8Array {
  try {
    return mergeNativeBlocks(records, scratch);
  } catch (error) {
    throw new IngestError(
      'CLICKHOUSE_REJECTED',
      `rows of ${table} are not a valid Native block: ${errorMessage(error)}`,
      { cause: error },
    );
  }
}

/** Names spool files uniquely across every writer of this process (one process owns a data folder). */
let spoolSeq = 0;

/** ClickHouse FILE_DOESNT_EXIST / CANNOT_OPEN_FILE / CANNOT_READ_FROM_FILE_DESCRIPTOR: our spool file, not the rows. */
const SPOOL_FILE_ERROR_CODES = new Set(['107', '76', '74']);

export class ClickHouseSpanWriter implements SpanRowWriter {
  /** Sessions not running an insert right now; an insert takes one and gives it back. */
  readonly #idle: SpanWriterTarget[];
  readonly #waiting: ((target: SpanWriterTarget) => void)[] = [];
  /** Scratch buffers of inserts not running now (one per insert at most in flight). */
  readonly #scratch: ScratchBuffer[] = [];

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

  async writeEncoded(table: SpanTable, records: readonly EncodedChunk[], dedupToken: string): Promise<void> {
    if (records.every((chunk) => chunk.length === 0)) return;
    // One block per insert: the engine's cost per block would otherwise follow how spans were cut into
    // records. Merged into a scratch buffer of this writer's, reused insert after insert and given back once
    // the insert is over (a fresh multi-megabyte buffer per insert made V8 collect garbage more often).
    const scratch = this.#scratch.pop() ?? new ScratchBuffer();
    try {
      await this.#insert(table, mergeRecords(table, records, scratch), dedupToken);
    } finally {
      this.#scratch.push(scratch);
    }
  }

  async #insert(table: SpanTable, block: Uint8Array, dedupToken: string): Promise<void> {
    const chunks = [block];
    const columns = COLUMNS[table].map((c) => `\`${c}\``).join(', ');
    const settings: ClickHouseSettings = {
      insert_deduplication_token: dedupToken,
      // Explicit because a server profile may turn it off; the token means nothing without it.
      insert_deduplicate: 1,
      deduplicate_blocks_in_dependent_materialized_views: 1,
      async_insert: 0,
      // Native blocks carry LowCardinality columns as String: the engine converts them (ClickHouse ≥ 23.3;
      // explicit so an older server refuses the setting by name instead of the rows).
      input_format_native_allow_types_conversion: 1,
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
