/**
 * The consumer's Prometheus metrics (prom-client), one Registry per consumer instance so two instances in
 * one process (tests, the demo) do not share counters. Rates (rows/s) are `rate()` of the counters.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface PartitionLag {
  topic: string;
  partition: number;
  /** High watermark − committed offset; −1 when unknown yet. */
  lag: number;
}

/** Plain running totals, readable synchronously by stats(). */
export interface ConsumerTotals {
  recordsConsumed: number;
  tracesWritten: number;
  llmCallsWritten: number;
  batchesWritten: number;
  dlqRecords: number;
  retries: number;
  /** Rows the embedded engine had lost in a crash, put back when their range was replayed (replay-repair.ts). */
  rowsRestored: number;
  /** llm_calls_1m minutes rebuilt from llm_calls after a crash (replay-repair.ts). */
  rollupGroupsRebuilt: number;
}

export type RetryStage = 'dlq' | 'state' | 'insert' | 'commit' | 'load';

export class ConsumerMetrics {
  readonly registry = new Registry();
  readonly totals: ConsumerTotals = {
    recordsConsumed: 0,
    tracesWritten: 0,
    llmCallsWritten: 0,
    batchesWritten: 0,
    dlqRecords: 0,
    retries: 0,
    rowsRestored: 0,
    rollupGroupsRebuilt: 0,
  };
  readonly #recordsConsumed: Counter<'topic'>;
  readonly #rowsWritten: Counter<'table'>;
  readonly #batchesWritten: Counter<'topic'>;
  readonly #batchDuration: Histogram<'topic'>;
  readonly #dlqRecords: Counter<'error_code'>;
  readonly #retries: Counter<'stage'>;
  readonly #rowsRestored: Counter<'table'>;
  readonly #rollupGroupsRebuilt: Counter;

  constructor(
    sources: { lag: () => PartitionLag[]; bufferedBytes: () => number; pausedPartitions: () => number },
    options: { defaultMetrics?: boolean } = {},
  ) {
    const registers = [this.registry];
    this.#recordsConsumed = new Counter({
      name: 'modelwatch_consumer_records_consumed_total',
      help: 'Kafka records taken into batches.',
      labelNames: ['topic'],
      registers,
    });
    this.#rowsWritten = new Counter({
      name: 'modelwatch_consumer_rows_written_total',
      help: 'Rows acknowledged by ClickHouse (including re-sends deduplicated by token).',
      labelNames: ['table'],
      registers,
    });
    this.#batchesWritten = new Counter({
      name: 'modelwatch_consumer_batches_written_total',
      help: 'Batches written and committed.',
      labelNames: ['topic'],
      registers,
    });
    this.#batchDuration = new Histogram({
      name: 'modelwatch_consumer_batch_duration_seconds',
      help: 'From a batch being cut to its offsets being committed (DLQ, state, inserts, commit; retries included).',
      labelNames: ['topic'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.#dlqRecords = new Counter({
      name: 'modelwatch_consumer_dlq_records_total',
      help: 'Records sent to the dead-letter topic, by error code.',
      labelNames: ['error_code'],
      registers,
    });
    this.#retries = new Counter({
      name: 'modelwatch_consumer_retries_total',
      help: 'Retries after a retriable failure, by stage (dlq, state, insert, commit, load).',
      labelNames: ['stage'],
      registers,
    });
    this.#rowsRestored = new Counter({
      name: 'modelwatch_consumer_rows_restored_total',
      help: 'Rows the embedded engine lost in a crash (its deduplication token stored, the rows not), written again when their range was replayed.',
      labelNames: ['table'],
      registers,
    });
    this.#rollupGroupsRebuilt = new Counter({
      name: 'modelwatch_consumer_rollup_groups_rebuilt_total',
      help: 'llm_calls_1m rows (minute x provider x model x service x environment) rebuilt from llm_calls after the embedded engine lost their part in a crash.',
      registers,
    });
    new Gauge({
      name: 'modelwatch_consumer_buffered_bytes',
      help: 'Kafka record bytes held in open, queued and in-flight batches.',
      registers,
      collect() {
        this.set(sources.bufferedBytes());
      },
    });
    new Gauge({
      name: 'modelwatch_consumer_paused_partitions',
      help: 'Partitions paused for back-pressure (memory bound, state reads or ClickHouse retries).',
      registers,
      collect() {
        this.set(sources.pausedPartitions());
      },
    });
    new Gauge({
      name: 'modelwatch_consumer_lag_records',
      help: 'Per partition: high watermark minus committed offset.',
      labelNames: ['topic', 'partition'],
      registers,
      collect() {
        this.reset();
        for (const { topic, partition, lag } of sources.lag()) {
          if (lag >= 0) this.set({ topic, partition: String(partition) }, lag);
        }
      },
    });
    if (options.defaultMetrics)
      collectDefaultMetrics({ register: this.registry, prefix: 'modelwatch_consumer_' });
  }

  recordsConsumed(topic: string, count: number): void {
    this.totals.recordsConsumed += count;
    this.#recordsConsumed.inc({ topic }, count);
  }

  rowsWritten(table: 'otel_traces' | 'llm_calls', count: number): void {
    if (table === 'otel_traces') this.totals.tracesWritten += count;
    else this.totals.llmCallsWritten += count;
    this.#rowsWritten.inc({ table }, count);
  }

  batchWritten(topic: string, durationSeconds: number): void {
    this.totals.batchesWritten++;
    this.#batchesWritten.inc({ topic });
    this.#batchDuration.observe({ topic }, durationSeconds);
  }

  deadLettered(errorCode: string): void {
    this.totals.dlqRecords++;
    this.#dlqRecords.inc({ error_code: errorCode });
  }

  rowsRestored(table: 'otel_traces' | 'llm_calls', count: number): void {
    this.totals.rowsRestored += count;
    this.#rowsRestored.inc({ table }, count);
  }

  rollupGroupsRebuilt(count: number): void {
    this.totals.rollupGroupsRebuilt += count;
    this.#rollupGroupsRebuilt.inc(count);
  }

  retried(stage: RetryStage): void {
    this.totals.retries++;
    this.#retries.inc({ stage });
  }
}
