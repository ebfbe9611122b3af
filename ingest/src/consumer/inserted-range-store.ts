/**
 * Per-partition record of the last offset range the consumer sent to ClickHouse — the equivalent of the
 * state ClickHouse Kafka Connect keeps in Keeper for exactly-once (see run-consumer.ts for the design).
 *
 * One logical row per (group, topic, partition): the range [from, to] and a phase, written 'before' the
 * range's inserts and 'after' ClickHouse acknowledged them. ReplacingMergeTree keeps the newest version;
 * readers do not rely on merges (ORDER BY Version DESC LIMIT 1). Version = to * 2 + phase, so it only grows
 * as ranges advance and 'after' beats 'before' of the same range — no clocks involved.
 *
 * The table comes from migrations/0006_consumer_state.sql; the consumer only checks that it is there.
 */
import type { ClickHouseHandle } from '../clickhouse/client.js';
import { toIngestError } from '../clickhouse/errors.js';
import { IngestError } from '../errors.js';

export const TABLE_CONSUMER_STATE = 'modelwatch_consumer_state' as const;

export type RangePhase = 'before' | 'after';

export interface InsertedRange {
  /** First Kafka offset of the range (inclusive). */
  from: number;
  /** Last Kafka offset of the range (inclusive). */
  to: number;
  phase: RangePhase;
}

export interface PartitionKey {
  groupId: string;
  topic: string;
  partition: number;
}

/** The state operations the consumer uses; an interface so tests can see or fault them at this boundary. */
export interface InsertedRangeStore {
  load(key: PartitionKey): Promise<InsertedRange | null>;
  save(key: PartitionKey, range: InsertedRange): Promise<void>;
}

export class ClickHouseInsertedRangeStore implements InsertedRangeStore {
  readonly #handle: Pick<ClickHouseHandle, 'client'>;

  constructor(handle: Pick<ClickHouseHandle, 'client'>) {
    this.#handle = handle;
  }

  /**
   * Fails with a clear error when the state table is missing: the migrations were not applied
   * (MODELWATCH_MIGRATE_ON_START=false and no `modelwatch migrate`).
   */
  async checkTable(): Promise<void> {
    let exists: boolean;
    try {
      const result = await this.#handle.client.query({
        query: 'EXISTS TABLE {table:Identifier}',
        query_params: { table: TABLE_CONSUMER_STATE },
        format: 'JSONEachRow',
      });
      const rows = await result.json<{ result: number | string }>();
      exists = Number(rows[0]?.result) === 1;
    } catch (error) {
      throw toIngestError(error, `checking ${TABLE_CONSUMER_STATE}`);
    }
    if (!exists)
      throw new IngestError(
        'MIGRATION_FAILED',
        `table ${TABLE_CONSUMER_STATE} is missing: run \`modelwatch migrate\` (or start the consumer with MODELWATCH_MIGRATE_ON_START=true)`,
      );
  }

  async load(key: PartitionKey): Promise<InsertedRange | null> {
    try {
      const result = await this.#handle.client.query({
        query: `SELECT RangeFrom, RangeTo, Phase FROM ${TABLE_CONSUMER_STATE}
                WHERE ConsumerGroup = {group:String} AND Topic = {topic:String} AND Partition = {partition:UInt32}
                ORDER BY Version DESC LIMIT 1`,
        query_params: { group: key.groupId, topic: key.topic, partition: key.partition },
        format: 'JSONEachRow',
        // Int64 as JSON numbers: offsets stay far below 2^53.
        clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
      });
      const rows = await result.json<{ RangeFrom: number; RangeTo: number; Phase: RangePhase }>();
      const row = rows[0];
      return row === undefined
        ? null
        : { from: Number(row.RangeFrom), to: Number(row.RangeTo), phase: row.Phase };
    } catch (error) {
      throw toIngestError(error, `reading ${TABLE_CONSUMER_STATE} for ${key.topic}[${key.partition}]`);
    }
  }

  async save(key: PartitionKey, range: InsertedRange): Promise<void> {
    const version = BigInt(range.to) * 2n + (range.phase === 'after' ? 1n : 0n);
    try {
      await this.#handle.client.insert({
        table: TABLE_CONSUMER_STATE,
        columns: ['ConsumerGroup', 'Topic', 'Partition', 'RangeFrom', 'RangeTo', 'Phase', 'Version'],
        values: [
          [key.groupId, key.topic, key.partition, range.from, range.to, range.phase, version.toString()],
        ],
        format: 'JSONCompactEachRow',
        // A state row must land every time it is written, even when identical to an earlier one (replicated
        // tables would otherwise drop a repeated block by its hash).
        clickhouse_settings: { insert_deduplicate: 0, async_insert: 0 },
      });
    } catch (error) {
      throw toIngestError(error, `writing ${TABLE_CONSUMER_STATE} for ${key.topic}[${key.partition}]`);
    }
  }
}
