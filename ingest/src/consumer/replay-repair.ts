/**
 * Putting back what the embedded engine lost in a crash, when the consumer replays the range it was writing.
 *
 * The embedded engine stores an insert's deduplication token before the insert's parts (its materialized
 * views' included) are committed (docs/design-notes.md, "The embedded engine is not crash-atomic under a
 * token"). A SIGKILL in between leaves the token without the rows; the replay of that range, sent with the
 * same token, is then dropped as a duplicate. Measured with the engine alone: 2 of 200 kills during inserts.
 * So after a replayed range was inserted again, this module checks that its rows are really there:
 *  - otel_traces and llm_calls: the span keys (TraceId, SpanId) of every record of the range are looked up;
 *    records with a key missing are inserted again under a fresh token. Their views run with them.
 *  - otel_traces_trace_id_ts (min/max per trace, so writing a trace again changes nothing): the range's
 *    traces are derived again from otel_traces with the view's own query.
 *  - llm_calls_1m (sums, so writing twice counts twice): for each minute x provider x model x service x
 *    environment the range touched, the rollup's call count is compared with llm_calls'. A short one had
 *    its view part lost with llm_calls' part kept; it is deleted and rebuilt from llm_calls with the view's
 *    own query. This runs with the InsertGate held alone, so no llm_calls insert is between its two parts.
 *    Only a short rollup is rebuilt: a longer one means llm_calls lost rows to its shorter TTL.
 * Only replays are checked (a range recorded 'before' when the partition was assigned): that is the one
 * range per partition a crash can have interrupted. A ClickHouse server does not die with the consumer,
 * so this runs for the embedded engine only.
 */
import { randomUUID } from 'node:crypto';
import { TupleParam, type ClickHouseClient } from '@clickhouse/client';
import { toIngestError } from '../clickhouse/errors.js';
import type { EncodedChunk, SpanRowWriter, SpanTable } from '../clickhouse/insert-rows.js';
import { readStringColumns } from '../clickhouse/native-block-columns.js';
import { errorMessage, IngestError } from '../errors.js';
import type { Logger } from '../log.js';
import {
  TABLE_LLM_CALLS,
  TABLE_LLM_CALLS_1M,
  TABLE_OTEL_TRACES,
  TABLE_OTEL_TRACES_TRACE_ID_TS,
} from '../names.js';
import type { ConsumerMetrics } from './consumer-metrics.js';
import type { InsertGate } from './insert-gate.js';

/** Per table, the rows of each record of the replayed range (records ClickHouse refused left out). */
export type ReplayedRows = Readonly<Record<SpanTable, readonly EncodedChunk[]>>;

export interface ReplayRepairResult {
  rowsRestored: Record<SpanTable, number>;
  rollupGroupsRebuilt: number;
}

/** What the partition worker calls after a replayed range's inserts; an interface so tests can see it. */
export interface ReplayRepair {
  /** Idempotent: run it again after a failure and it checks again. */
  repair(tokenBase: string, rows: ReplayedRows): Promise<ReplayRepairResult>;
}

/** The engine statements the checks run; an interface so the kill tests can see each one run. */
export interface RepairStatements {
  select<T>(query: string, params: Record<string, unknown>): Promise<T[]>;
  run(query: string, params: Record<string, unknown>, settings?: Record<string, string>): Promise<void>;
}

/** RepairStatements on an engine session. */
export function clientStatements(client: ClickHouseClient): RepairStatements {
  return {
    async select<T>(query: string, params: Record<string, unknown>): Promise<T[]> {
      try {
        const result = await client.query({ query, query_params: params, format: 'JSONEachRow' });
        return await result.json<T>();
      } catch (error) {
        throw toIngestError(error, 'checking a replayed range');
      }
    },
    async run(query, params, settings = {}) {
      try {
        await client.command({
          query,
          query_params: params,
          // Derived rows are written as they are: no token to collide with the views' own.
          clickhouse_settings: { insert_deduplicate: 0, ...settings },
        });
      } catch (error) {
        throw toIngestError(error, 'repairing a replayed range');
      }
    },
  };
}

/** A view this module re-runs: where it writes and the query it runs on each insert. */
interface ViewQuery {
  select: string;
  /** The columns the select produces, which the view writes to its target by name. */
  columns: string[];
}

const VIEW_OF: Readonly<Record<string, string>> = {
  [TABLE_OTEL_TRACES_TRACE_ID_TS]: 'otel_traces_trace_id_ts_mv',
  [TABLE_LLM_CALLS_1M]: 'llm_calls_1m_mv',
};

/** The rollup's grouping: its ORDER BY without the minute (migrations/0004_llm_calls_1m.sql). */
const ROLLUP_GROUP = ['Provider', 'ModelFamily', 'ModelVersion', 'ServiceName', 'Environment'] as const;

interface GroupCount {
  Minute: string;
  Provider: string;
  ModelFamily: string;
  ModelVersion: string;
  ServiceName: string;
  Environment: string;
  Calls: number | string;
}

/** How long a check waits for a mutation left by an earlier crash before it gives up and is retried. */
const MUTATION_WAIT_MS = 30_000;

/** A group's minute and grouping columns, in the rollup's key order. */
const groupValues = (row: GroupCount): string[] => [row.Minute, ...ROLLUP_GROUP.map((column) => row[column])];
const groupKey = (row: GroupCount): string => JSON.stringify(groupValues(row));
/** Groups as the `{groups:Array(Tuple(…))}` query parameter. */
const groupsParam = (rows: readonly GroupCount[]): TupleParam[] =>
  rows.map((row) => new TupleParam(groupValues(row)));

export class EmbeddedReplayRepair implements ReplayRepair {
  readonly #statements: RepairStatements;
  readonly #writer: SpanRowWriter;
  readonly #gate: InsertGate;
  readonly #logger: Logger;
  readonly #metrics: ConsumerMetrics | undefined;
  readonly #views = new Map<string, Promise<ViewQuery>>();

  /**
   * `statements`: an engine session's (clientStatements). `writer`: the consumer's writer, its llm_calls
   * inserts gated by `gate` (gateLlmCallInserts).
   */
  constructor(options: {
    statements: RepairStatements;
    writer: SpanRowWriter;
    gate: InsertGate;
    logger: Logger;
    metrics?: ConsumerMetrics;
  }) {
    this.#statements = options.statements;
    this.#writer = options.writer;
    this.#gate = options.gate;
    this.#logger = options.logger;
    this.#metrics = options.metrics;
  }

  async repair(tokenBase: string, rows: ReplayedRows): Promise<ReplayRepairResult> {
    const result: ReplayRepairResult = {
      rowsRestored: { [TABLE_OTEL_TRACES]: 0, [TABLE_LLM_CALLS]: 0 },
      rollupGroupsRebuilt: 0,
    };
    const traceIds: Record<SpanTable, string[]> = { [TABLE_OTEL_TRACES]: [], [TABLE_LLM_CALLS]: [] };
    for (const table of [TABLE_OTEL_TRACES, TABLE_LLM_CALLS] as const) {
      const restored = await this.#restoreMissing(table, rows[table], tokenBase, traceIds[table]);
      result.rowsRestored[table] = restored;
      if (restored > 0) this.#metrics?.rowsRestored(table, restored);
    }
    if (traceIds[TABLE_OTEL_TRACES].length > 0) await this.#rederiveTraceWindows(traceIds[TABLE_OTEL_TRACES]);
    if (traceIds[TABLE_LLM_CALLS].length > 0) {
      result.rollupGroupsRebuilt = await this.#gate.exclusive(() =>
        this.#rebuildShortRollup(traceIds[TABLE_LLM_CALLS]),
      );
      if (result.rollupGroupsRebuilt > 0) this.#metrics?.rollupGroupsRebuilt(result.rollupGroupsRebuilt);
    }
    const { rowsRestored, rollupGroupsRebuilt } = result;
    if (rowsRestored.otel_traces + rowsRestored.llm_calls + rollupGroupsRebuilt > 0) {
      this.#logger.warn(
        { range: tokenBase, rowsRestored, rollupGroupsRebuilt },
        'the embedded engine had lost rows of the replayed range in a crash; written again',
      );
    }
    return result;
  }

  /** Inserts again the records of `records` with a row missing from `table`; returns the rows written. */
  async #restoreMissing(
    table: SpanTable,
    records: readonly EncodedChunk[],
    tokenBase: string,
    traceIdsOut: string[],
  ): Promise<number> {
    const withRows = records.filter((record) => record.length > 0);
    if (withRows.length === 0) return 0;
    const keysByRecord = withRows.map((record) => this.#spanKeys(table, record, tokenBase));
    const traceIds = [...new Set(keysByRecord.flatMap((keys) => keys.map(([traceId]) => traceId as string)))];
    traceIdsOut.push(...traceIds);
    const present = new Set(
      (
        await this.#select<{ TraceId: string; SpanId: string }>(
          `SELECT TraceId, SpanId FROM {table:Identifier} WHERE TraceId IN {traceIds:Array(String)}`,
          { table, traceIds },
        )
      ).map((row) => `${row.TraceId}/${row.SpanId}`),
    );
    const missing: EncodedChunk[] = [];
    let rowsMissing = 0;
    keysByRecord.forEach((keys, index) => {
      if (keys.every(([traceId, spanId]) => present.has(`${traceId}/${spanId}`))) return;
      missing.push(withRows[index] as EncodedChunk);
      rowsMissing += keys.length;
    });
    if (missing.length === 0) return 0;
    // A fresh token: if this insert is lost the same way, the next replay's check finds the rows missing
    // again, and a repeated token would be dropped again.
    try {
      await this.#writer.writeEncoded(table, missing, `${tokenBase}:${table}:restore:${randomUUID()}`);
    } catch (error) {
      if (error instanceof IngestError && !error.retriable) {
        // The same rows went in before (their token is there), so this is not about the rows; retrying
        // would not help either. Say so and leave the range as it is.
        this.#logger.error(
          { range: tokenBase, table, err: error.message },
          'could not write again rows the embedded engine lost',
        );
        return 0;
      }
      throw error;
    }
    return rowsMissing;
  }

  /**
   * The record's (TraceId, SpanId) pairs. A block that cannot be read back (not one of ours; it was inserted,
   * so the engine could parse it) is not checked, and says so: holding the partition on it would stop the
   * partition for good.
   */
  #spanKeys(table: SpanTable, record: EncodedChunk, tokenBase: string): string[][] {
    try {
      return readStringColumns(record, ['TraceId', 'SpanId']);
    } catch (error) {
      this.#logger.error(
        { range: tokenBase, table, err: errorMessage(error) },
        'cannot read the span keys of a replayed record; its rows are not checked',
      );
      return [];
    }
  }

  /** Re-runs the trace-window view for `traceIds`: min/max per trace, so existing rows are harmless. */
  async #rederiveTraceWindows(traceIds: readonly string[]): Promise<void> {
    const view = await this.#view(TABLE_OTEL_TRACES_TRACE_ID_TS);
    await this.#run(
      `INSERT INTO ${TABLE_OTEL_TRACES_TRACE_ID_TS} (${view.columns.join(', ')})
       SELECT * FROM (${view.select}) WHERE TraceId IN {traceIds:Array(String)}`,
      { traceIds },
    );
  }

  /**
   * Compares llm_calls_1m with llm_calls for the groups the traces touched; rebuilds the short ones.
   * Returns how many were rebuilt. Runs with the insert gate held alone.
   */
  async #rebuildShortRollup(traceIds: readonly string[]): Promise<number> {
    // A rebuild killed inside its delete left the mutation to finish after the restart, in the background:
    // comparing before it finished would pass a rollup the mutation then cuts short.
    await this.#waitForMutations(TABLE_LLM_CALLS_1M);
    const group = `toStartOfMinute(Timestamp) AS Minute, ${ROLLUP_GROUP.join(', ')}`;
    const touched = await this.#select<GroupCount>(
      `SELECT ${group}, count() AS Calls FROM ${TABLE_LLM_CALLS}
       WHERE (toStartOfMinute(Timestamp), ${ROLLUP_GROUP.join(', ')}) IN (
         SELECT DISTINCT ${group} FROM ${TABLE_LLM_CALLS} WHERE TraceId IN {traceIds:Array(String)})
       GROUP BY Minute, ${ROLLUP_GROUP.join(', ')}`,
      { traceIds },
    );
    if (touched.length === 0) return 0;
    const groupFilter = `(Minute, ${ROLLUP_GROUP.join(', ')}) IN {groups:Array(Tuple(DateTime, String, String, String, String, String))}`;
    const rolledUp = new Map(
      (
        await this.#select<GroupCount>(
          `SELECT Minute, ${ROLLUP_GROUP.join(', ')}, sum(Calls) AS Calls FROM ${TABLE_LLM_CALLS_1M}
           WHERE ${groupFilter} GROUP BY Minute, ${ROLLUP_GROUP.join(', ')}`,
          { groups: groupsParam(touched) },
        )
      ).map((row) => [groupKey(row), Number(row.Calls)]),
    );
    const short = touched.filter((row) => (rolledUp.get(groupKey(row)) ?? 0) < Number(row.Calls));
    if (short.length === 0) return 0;
    await this.#run(
      `ALTER TABLE ${TABLE_LLM_CALLS_1M} DELETE WHERE ${groupFilter}`,
      { groups: groupsParam(short) },
      {
        mutations_sync: '1',
      },
    );
    const view = await this.#view(TABLE_LLM_CALLS_1M);
    await this.#run(
      `INSERT INTO ${TABLE_LLM_CALLS_1M} (${view.columns.join(', ')})
       SELECT * FROM (${view.select}) WHERE ${groupFilter}`,
      { groups: groupsParam(short) },
    );
    return short.length;
  }

  async #waitForMutations(table: string): Promise<void> {
    const deadline = Date.now() + MUTATION_WAIT_MS;
    for (;;) {
      const [row] = await this.#select<{ pending: number | string }>(
        `SELECT count() AS pending FROM system.mutations
         WHERE database = currentDatabase() AND table = {table:String} AND is_done = 0`,
        { table },
      );
      if (Number(row?.pending ?? 0) === 0) return;
      if (Date.now() > deadline)
        throw new IngestError(
          'CLICKHOUSE_UNAVAILABLE',
          `${table} has mutations still running; retrying the check`,
        );
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** The view's query as the engine stores it, so a later migration's change to the view is followed. */
  #view(target: string): Promise<ViewQuery> {
    let view = this.#views.get(target);
    if (view === undefined) {
      view = this.#loadView(VIEW_OF[target] as string);
      view.catch(() => this.#views.delete(target)); // read again on the next attempt
      this.#views.set(target, view);
    }
    return view;
  }

  async #loadView(name: string): Promise<ViewQuery> {
    const [row] = await this.#select<{ as_select: string }>(
      'SELECT as_select FROM system.tables WHERE database = currentDatabase() AND name = {name:String}',
      { name },
    );
    if (row === undefined || row.as_select === '')
      throw new IngestError(
        'MIGRATION_FAILED',
        `materialized view ${name} is missing: run \`modelwatch migrate\``,
      );
    const columns = await this.#select<{ name: string }>(`DESCRIBE (${row.as_select})`, {});
    return { select: row.as_select, columns: columns.map((column) => `\`${column.name}\``) };
  }

  #select<T>(query: string, params: Record<string, unknown>): Promise<T[]> {
    return this.#statements.select<T>(query, params);
  }

  #run(query: string, params: Record<string, unknown>, settings?: Record<string, string>): Promise<void> {
    return this.#statements.run(query, params, settings);
  }
}
