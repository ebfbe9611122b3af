/**
 * One assigned Kafka partition: cuts its records into batches, writes each batch exactly once, commits.
 * No kafkajs import: run-consumer.ts hands records in and supplies commit / pause / resume / dead-letter.
 *
 * Per batch, strictly in order and one batch at a time per partition (see run-consumer.ts for why this
 * makes the offset ranges reproducible):
 *   1. dead-letter the poison records of the range            (Kafka, acks=all)
 *   2. state := {range, 'before'}                             (modelwatch_consumer_state)
 *   3. insert otel_traces, then llm_calls, token topic:partition:from-to:table
 *   4. a replayed range only, embedded engine: check its rows are there (replay-repair.ts)
 *   5. state := {range, 'after'}
 *   6. commit offset to+1
 * Every step is idempotent, so a retriable failure retries the step (same token) after a backoff, with the
 * partition paused so nothing more is fetched for it.
 */
import {
  TABLE_FORMATS,
  type EncodedChunk,
  type SpanRowWriter,
  type SpanTable,
} from '../clickhouse/insert-rows.js';
import { errorMessage, IngestError, isRetriable } from '../errors.js';
import type { Logger } from '../log.js';
import { HEADER_DLQ_PAYLOAD, TABLE_LLM_CALLS, TABLE_OTEL_TRACES } from '../names.js';
import { backoffDelayMs, sleep, type BackoffOptions } from './backoff.js';
import type { ConsumerMetrics } from './consumer-metrics.js';
import { decodeRecord, type DecodedRecord, type PoisonRecord, type RecordHeaders } from './decode-record.js';
import type { InsertedRange, InsertedRangeStore, PartitionKey } from './inserted-range-store.js';
import type { MemoryBudget } from './memory-budget.js';
import type { PendingBatches } from './pending-batches.js';
import type { ReplayRepair } from './replay-repair.js';

/** A record as the worker needs it (kafkajs offsets are decimal strings; ours stay below 2^53). */
export interface ConsumedRecord {
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeaders | undefined;
}

/** A record for the dead-letter topic: the original key/value/headers plus why it could not be written. */
export interface DeadLetter {
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeaders | undefined;
  error: IngestError;
}

export interface BatchLimits {
  maxSpans: number;
  maxBytes: number;
  maxWaitMs: number;
  /**
   * A batch with at least this many spans is cut early while an insert slot would otherwise be idle
   * (pending-batches.ts). 0 turns early cuts off.
   */
  minSpansWhenIdle: number;
}

export interface PartitionWorkerDeps {
  key: PartitionKey;
  writer: SpanRowWriter;
  store: InsertedRangeStore;
  budget: MemoryBudget;
  /** Shared by all workers of the consumer: when to cut a batch early. Without it, batches are never cut early. */
  pending?: PendingBatches;
  metrics: ConsumerMetrics;
  logger: Logger;
  limits: BatchLimits;
  backoff: BackoffOptions;
  sendToDlq(letters: readonly DeadLetter[]): Promise<void>;
  /** Commits `nextOffset` (last written offset + 1) for this partition. */
  commit(nextOffset: number): Promise<void>;
  pause(): void;
  resume(): void;
  /**
   * Embedded engine only: after a replayed range (the one recorded 'before' at assignment) was inserted
   * again, puts back rows a crash lost with their token kept (replay-repair.ts).
   */
  replayRepair?: ReplayRepair;
  /** Called once per batch right after ClickHouse acknowledged its inserts, before state/commit (test hook). */
  afterInsert?(): void | Promise<void>;
}

interface Entry {
  offset: number;
  /** Memory this entry holds: the encoded rows, or the copied record for a poison one. */
  bytes: number;
  /** Kept for poison records only (they go to the DLQ as they were); null for decoded ones. */
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeaders | undefined;
  decoded: DecodedRecord | PoisonRecord;
}

interface Batch {
  /** First and last offset of the range (every record in between is in `entries` or was skipped as known). */
  from: number;
  to: number;
  entries: Entry[];
  spans: number;
  /** Memory held (encoded rows + poison records): what the budget counts. */
  bytes: number;
  /** Kafka record bytes: what MODELWATCH_BATCH_MAX_BYTES limits. */
  recordBytes: number;
  openedAtMs: number;
  /** A range re-sent after a restart: it must be cut at exactly `to`, whatever the limits say. */
  replayTo: number | undefined;
  /** Nothing to write, only an offset to commit (records skipped because an earlier run wrote them). */
  commitOnly: boolean;
}

export interface PartitionStats {
  topic: string;
  partition: number;
  /** Next offset to read after the last commit; −1 until known. */
  committedOffset: number;
  /** From the last fetch; −1 until known. */
  highWatermark: number;
  bufferedRecords: number;
  bufferedBytes: number;
  paused: boolean;
  /** Why the partition is paused (empty when it is not): memory, a retried step, or its state not loaded yet. */
  pauseReasons: PauseReason[];
  /** Batches cut and waiting to be written, the one being written included. */
  sealedBatches: number;
}

export type PauseReason = 'memory' | 'retry' | 'state';

/** Thrown inside a batch's steps when the worker was closed (partition revoked, consumer stopped). */
class WorkerClosed extends Error {}

export class PartitionWorker {
  readonly #deps: PartitionWorkerDeps;
  readonly #abort = new AbortController();
  #closed = false;
  #state: 'unloaded' | 'loading' | 'ready' = 'unloaded';
  /** The range an earlier run (or owner) last wrote; consulted until the stream has passed it. */
  #known: InsertedRange | null = null;
  #lastTakenOffset = -1;
  #open: Batch | null = null;
  #openTimer: NodeJS.Timeout | undefined;
  /** Sealed batches; [0] is being written. At most MAX_SEALED, the memory bound per partition. */
  readonly #sealed: Batch[] = [];
  #draining: Promise<void> | null = null;
  readonly #pauses = new Set<PauseReason>();
  #fence: { promise: Promise<void>; release: () => void } | null = null;
  #committedOffset = -1;
  #highWatermark = -1;

  static readonly MAX_SEALED = 2;

  constructor(deps: PartitionWorkerDeps) {
    this.#deps = deps;
  }

  get key(): PartitionKey {
    return this.#deps.key;
  }

  get ready(): boolean {
    return this.#state === 'ready';
  }

  stats(): PartitionStats {
    const batches = [...this.#sealed, ...(this.#open ? [this.#open] : [])];
    return {
      topic: this.#deps.key.topic,
      partition: this.#deps.key.partition,
      committedOffset: this.#committedOffset,
      highWatermark: this.#highWatermark,
      bufferedRecords: batches.reduce((n, b) => n + b.entries.length, 0),
      bufferedBytes: batches.reduce((n, b) => n + b.bytes, 0),
      paused: this.#pauses.size > 0,
      pauseReasons: [...this.#pauses],
      sealedBatches: this.#sealed.length,
    };
  }

  noteHighWatermark(highWatermark: number): void {
    if (highWatermark > this.#highWatermark) this.#highWatermark = highWatermark;
  }

  /**
   * Loads the last written range once per assignment. Returns false when ClickHouse could not be read: the
   * partition is then paused and the load retried in the background; the caller must not resolve offsets.
   */
  async prepare(): Promise<boolean> {
    if (this.#state === 'ready') return true;
    if (this.#state === 'loading') return false;
    this.#state = 'loading';
    try {
      this.#known = await this.#deps.store.load(this.#deps.key);
      this.#state = 'ready';
      return true;
    } catch (error) {
      this.#deps.logger.warn(
        { err: errorMessage(error), ...this.#deps.key },
        'cannot read consumer state; retrying',
      );
      this.#pause('state');
      void this.#loadInBackground();
      return false;
    }
  }

  async #loadInBackground(): Promise<void> {
    for (let attempt = 1; !this.#closed; attempt++) {
      this.#deps.metrics.retried('load');
      if (!(await sleep(backoffDelayMs(attempt, this.#deps.backoff), this.#abort.signal))) return;
      try {
        this.#known = await this.#deps.store.load(this.#deps.key);
        this.#state = 'ready';
        this.#unpause('state');
        return;
      } catch (error) {
        this.#deps.logger.warn(
          { err: errorMessage(error), ...this.#deps.key, attempt },
          'cannot read consumer state; retrying',
        );
      }
    }
  }

  /**
   * Takes records in offset order until back-pressure says stop. Returns how many were taken: the caller
   * resolves exactly those offsets (the rest are fetched again after the partition resumes).
   */
  take(records: readonly ConsumedRecord[]): number {
    if (this.#closed || this.#state !== 'ready') return 0;
    let taken = 0;
    for (const record of records) {
      if (!this.#takeOne(record)) break;
      taken++;
    }
    if (taken < records.length) this.#pause('memory');
    return taken;
  }

  #takeOne(record: ConsumedRecord): boolean {
    const offset = record.offset;
    // kafkajs re-fetches from the committed offset after a rebalance that left us this partition: records
    // we already hold (or wrote) come again and are ignored.
    if (offset <= this.#lastTakenOffset) return true;
    if (this.#committedOffset < 0) this.#committedOffset = offset;

    const known = this.#known;
    if (known !== null) {
      if (offset > known.to) {
        this.#known = null; // the stream has passed the last written range: everything from here is new
        if (this.#open?.replayTo !== undefined && !this.#seal()) return false;
      } else if (offset < known.from || known.phase === 'after') {
        // Written before: below the last range (ranges are written in order), or the last range completed.
        this.#lastTakenOffset = offset;
        if (offset === known.to) return this.#queueCommitOnly(offset);
        return true;
      } else if (this.#open === null && offset > known.from) {
        // Starting inside a range recorded 'before'. One owner commits only at range ends, so this row was
        // written by an owner that lost the partition in a rebalance after the next owner had read the
        // state (the window run-consumer.ts describes), and that next owner cut its own ranges. Whether
        // these records were written is unknown: they are written again under new tokens, which may
        // duplicate, rather than skipped, which may lose them. (Until session 8 they were skipped.)
        this.#deps.logger.warn(
          { ...this.#deps.key, offset, recorded: known },
          'first record is inside a range recorded by an earlier owner; writing from here as new records',
        );
        this.#known = null;
      } else {
        // Inside a range whose inserts may or may not have landed: re-send exactly that range (same token).
        return this.#append(record, known.to);
      }
    }
    if (this.#open !== null && this.#isFull(this.#open) && !this.#seal()) return false;
    if (this.#open === null && this.#sealed.length >= PartitionWorker.MAX_SEALED) return false;
    if (this.#deps.budget.exhausted && this.#open === null) return false;
    return this.#append(record, undefined);
  }

  #append(record: ConsumedRecord, replayTo: number | undefined): boolean {
    if (this.#open === null) {
      if (this.#sealed.length >= PartitionWorker.MAX_SEALED) return false;
      this.#open = {
        from: record.offset,
        to: record.offset,
        entries: [],
        spans: 0,
        bytes: 0,
        recordBytes: 0,
        openedAtMs: Date.now(),
        replayTo,
        commitOnly: false,
      };
      if (replayTo === undefined) this.#armTimer();
    } else if (this.#deps.budget.exhausted) {
      return false;
    }
    const decoded = decodeRecord(record.value, record.headers);
    const open = this.#open;
    // kafkajs' values are slices of the whole fetch response: holding one keeps the response alive. Decoded
    // records keep only their encoded rows; poison ones keep a copy of the record for the DLQ.
    const poison = decoded.kind === 'poison';
    const entry: Entry = {
      offset: record.offset,
      bytes: poison
        ? (record.value?.length ?? 0) + (record.key?.length ?? 0)
        : decoded.traces.length + decoded.llmCalls.length,
      key: poison && record.key ? Buffer.from(record.key) : null,
      value: poison && record.value ? Buffer.from(record.value) : null,
      headers: poison ? record.headers : undefined,
      decoded,
    };
    open.entries.push(entry);
    open.to = record.offset;
    open.bytes += entry.bytes;
    open.recordBytes += (record.value?.length ?? 0) + (record.key?.length ?? 0);
    open.spans += decoded.kind === 'rows' ? decoded.traceCount : 0;
    this.#deps.budget.take(entry.bytes);
    this.#deps.metrics.recordsConsumed(this.#deps.key.topic, 1);
    this.#lastTakenOffset = record.offset;
    if (replayTo !== undefined && record.offset >= replayTo) {
      this.#known = null;
      this.#seal();
    } else if (replayTo === undefined && (this.#isFull(open) || this.#worthCuttingEarly(open))) {
      this.#seal();
    }
    return true;
  }

  /** An insert slot would idle and this batch is worth an insert (see pending-batches.ts). */
  #worthCuttingEarly(batch: Batch): boolean {
    const { pending, limits } = this.#deps;
    return (
      pending !== undefined &&
      limits.minSpansWhenIdle > 0 &&
      batch.replayTo === undefined &&
      batch.spans >= limits.minSpansWhenIdle &&
      this.#sealed.length === 0 &&
      pending.slotFree
    );
  }

  #isFull(batch: Batch): boolean {
    if (batch.replayTo !== undefined) return false;
    const { maxSpans, maxBytes } = this.#deps.limits;
    return batch.spans >= maxSpans || batch.recordBytes >= maxBytes;
  }

  #armTimer(): void {
    clearTimeout(this.#openTimer);
    this.#openTimer = setTimeout(() => {
      this.#openTimer = undefined;
      if (this.#open && this.#open.replayTo === undefined) this.#seal();
    }, this.#deps.limits.maxWaitMs);
  }

  /** Moves the open batch to the write queue; false when the queue is full (it stays open). */
  #seal(): boolean {
    const open = this.#open;
    if (open === null) return true;
    if (this.#sealed.length >= PartitionWorker.MAX_SEALED) return false;
    clearTimeout(this.#openTimer);
    this.#openTimer = undefined;
    // A replayed range keeps the exact bounds it was first written with: they make its token.
    if (open.replayTo !== undefined) open.to = open.replayTo;
    this.#open = null;
    this.#sealed.push(open);
    this.#deps.pending?.sealed();
    this.#kick();
    return true;
  }

  #queueCommitOnly(offset: number): boolean {
    if (this.#open !== null && !this.#seal()) return false;
    if (this.#sealed.length >= PartitionWorker.MAX_SEALED) return false;
    this.#sealed.push({
      from: offset,
      to: offset,
      entries: [],
      spans: 0,
      bytes: 0,
      recordBytes: 0,
      openedAtMs: Date.now(),
      replayTo: undefined,
      commitOnly: true,
    });
    this.#deps.pending?.sealed();
    this.#kick();
    return true;
  }

  #kick(): void {
    if (this.#draining) return;
    this.#draining = this.#drain()
      .catch((error: unknown) => {
        // #write retries every failure itself; reaching this is a bug, and the partition stays paused-looking
        // rather than skipping a batch.
        this.#deps.logger.fatal({ ...this.#deps.key, err: errorMessage(error) }, 'partition writer stopped');
      })
      .finally(() => {
        this.#draining = null;
      });
  }

  async #drain(): Promise<void> {
    while (this.#sealed.length > 0 && !this.#closed) {
      const batch = this.#sealed[0] as Batch;
      try {
        await this.#write(batch);
      } catch (error) {
        if (error instanceof WorkerClosed) return;
        throw error;
      }
      if (this.#closed) return; // close() dropped the queue and released its memory and count
      this.#sealed.shift();
      this.#deps.pending?.finished();
      this.#deps.budget.release(batch.bytes);
      // A batch that filled (or timed out) while the queue was full is cut now, or early if the slot idles.
      if (
        this.#open &&
        (this.#isFull(this.#open) ||
          Date.now() - this.#open.openedAtMs >= this.#deps.limits.maxWaitMs ||
          this.#worthCuttingEarly(this.#open))
      ) {
        if (this.#open.replayTo === undefined) this.#seal();
      }
      this.checkResume();
    }
  }

  /**
   * Called whenever any partition finished a batch: resumes a partition paused for memory once its queue and
   * the shared budget have room again, and cuts the open batch early if an insert slot would idle.
   */
  checkResume(): void {
    if (this.#open !== null && !this.#closed && this.#worthCuttingEarly(this.#open)) this.#seal();
    if (!this.#pauses.has('memory')) return;
    if (this.#sealed.length < PartitionWorker.MAX_SEALED && !this.#deps.budget.exhausted)
      this.#unpause('memory');
  }

  async #write(batch: Batch): Promise<void> {
    const startedMs = performance.now();
    const { key } = this.#deps;
    if (batch.commitOnly) {
      await this.#commit(batch.to + 1);
      return;
    }
    await this.#waitUnfenced();
    const range: InsertedRange = { from: batch.from, to: batch.to, phase: 'before' };
    const poison = batch.entries.filter((e) => e.decoded.kind === 'poison');
    if (poison.length > 0) {
      const letters = poison.map((e) => toLetter(e, (e.decoded as PoisonRecord).error));
      await this.#step('dlq', () => this.#deps.sendToDlq(letters));
      for (const letter of letters) this.#deps.metrics.deadLettered(letter.error.code);
      this.#deps.logger.warn(
        {
          ...key,
          offsets: letters.map((l) => l.offset),
          errors: letters.map((l) => l.error.message).slice(0, 3),
        },
        'dead-lettered records that are not valid OTLP',
      );
    }
    await this.#step('state', () => this.#deps.store.save(key, range));
    const rejected = new Map<number, DeadLetter>();
    const base = `${key.topic}:${key.partition}:${batch.from}-${batch.to}`;
    for (const table of [TABLE_OTEL_TRACES, TABLE_LLM_CALLS] as const) {
      const entries = batch.entries.filter(
        (e) => e.decoded.kind === 'rows' && rowsOf(e.decoded, table).length > 0,
      );
      await this.#step('insert', () => this.#insertBisecting(table, entries, `${base}:${table}`, rejected));
    }
    const replayRepair = this.#deps.replayRepair;
    if (batch.replayTo !== undefined && replayRepair !== undefined) {
      const written = (table: SpanTable) =>
        batch.entries
          .filter((e) => e.decoded.kind === 'rows' && !rejected.has(e.offset))
          .map((e) => rowsOf(e.decoded as DecodedRecord, table));
      const rows = {
        [TABLE_OTEL_TRACES]: written(TABLE_OTEL_TRACES),
        [TABLE_LLM_CALLS]: written(TABLE_LLM_CALLS),
      };
      await this.#step('insert', async () => void (await replayRepair.repair(base, rows)));
    }
    await this.#deps.afterInsert?.();
    if (rejected.size > 0) {
      const letters = [...rejected.values()];
      await this.#step('dlq', () => this.#deps.sendToDlq(letters));
      for (const letter of letters) this.#deps.metrics.deadLettered(letter.error.code);
    }
    await this.#step('state', () => this.#deps.store.save(key, { ...range, phase: 'after' }));
    await this.#commit(batch.to + 1);

    const { metrics } = this.#deps;
    for (const table of [TABLE_OTEL_TRACES, TABLE_LLM_CALLS] as const) {
      let rows = 0;
      for (const e of batch.entries) {
        if (e.decoded.kind === 'rows' && !rejected.has(e.offset)) {
          rows += table === TABLE_OTEL_TRACES ? e.decoded.traceCount : e.decoded.llmCallCount;
        }
      }
      metrics.rowsWritten(table, rows);
    }
    metrics.batchWritten(key.topic, (performance.now() - startedMs) / 1000);
  }

  /**
   * Inserts `entries`' rows of one table with `token`. When ClickHouse rejects the block for its content
   * (not retriable), halves the records and recurses, so the good records still land and exactly the
   * offending records go to the DLQ. Halves get their own range tokens (topic:partition:first-last:table),
   * which a replay reproduces because the rejection is a property of the data: no duplicates either way.
   */
  async #insertBisecting(
    table: SpanTable,
    entries: readonly Entry[],
    token: string,
    rejected: Map<number, DeadLetter>,
  ): Promise<void> {
    if (entries.length === 0) return;
    try {
      await this.#deps.writer.writeEncoded(
        table,
        entries.map((e) => rowsOf(e.decoded as DecodedRecord, table)),
        token,
      );
    } catch (error) {
      if (!(error instanceof IngestError) || error.code !== 'CLICKHOUSE_REJECTED' || error.retriable)
        throw error;
      const { key } = this.#deps;
      if (entries.length === 1) {
        const entry = entries[0] as Entry;
        const reason = new IngestError('CLICKHOUSE_REJECTED', `${table}: ${error.message}`, { cause: error });
        this.#deps.logger.error(
          { ...key, offset: entry.offset, table, err: error.message },
          'ClickHouse rejected a record',
        );
        // The record's raw bytes are not kept (memory); the DLQ gets the rows ClickHouse refused, and the
        // source coordinates headers point at the original record.
        if (!rejected.has(entry.offset)) {
          const rows = Buffer.from(rowsOf(entry.decoded as DecodedRecord, table));
          rejected.set(entry.offset, {
            offset: entry.offset,
            key: null,
            value: rows,
            headers: {
              [HEADER_DLQ_PAYLOAD]: `clickhouse-rows; table=${table}; format=${TABLE_FORMATS[table]}`,
            },
            error: reason,
          });
        }
        return;
      }
      const middle = entries.length >>> 1;
      for (const half of [entries.slice(0, middle), entries.slice(middle)]) {
        const first = (half[0] as Entry).offset;
        const last = (half[half.length - 1] as Entry).offset;
        await this.#insertBisecting(
          table,
          half,
          `${key.topic}:${key.partition}:${first}-${last}:${table}`,
          rejected,
        );
      }
    }
  }

  async #commit(nextOffset: number): Promise<void> {
    const maxAttempts = 5;
    for (let attempt = 1; ; attempt++) {
      if (this.#closed) return;
      try {
        await this.#deps.commit(nextOffset);
        if (nextOffset > this.#committedOffset) this.#committedOffset = nextOffset;
        return;
      } catch (error) {
        // Rows are written and the state row says so: a lost commit costs a re-read, never a duplicate. So
        // give up on rebalance errors (the group moved on) and after a few attempts; the next commit covers it.
        const type = (error as { type?: unknown }).type;
        const rebalance =
          type === 'REBALANCE_IN_PROGRESS' || type === 'ILLEGAL_GENERATION' || type === 'UNKNOWN_MEMBER_ID';
        this.#deps.logger.warn(
          { ...this.#deps.key, nextOffset, err: errorMessage(error), attempt },
          'offset commit failed',
        );
        if (rebalance || attempt >= maxAttempts || !isRetriable(error)) return;
        this.#deps.metrics.retried('commit');
        if (!(await sleep(backoffDelayMs(attempt, this.#deps.backoff), this.#abort.signal))) return;
      }
    }
  }

  /** Runs an idempotent step until it succeeds or the worker closes; the partition is paused meanwhile. */
  async #step(stage: 'dlq' | 'state' | 'insert', run: () => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (this.#closed) throw new WorkerClosed();
      try {
        await run();
        if (attempt > 1) this.#unpause('retry');
        return;
      } catch (error) {
        if (this.#closed) throw new WorkerClosed();
        const retriable = isRetriable(error);
        // Not retriable here means a bug or a misconfiguration (ClickHouse content rejections are bisected
        // before they get here). Dropping the batch would lose data and skipping it would break ordering, so
        // keep retrying at the slowest pace and say so loudly.
        const delayMs = retriable ? backoffDelayMs(attempt, this.#deps.backoff) : this.#deps.backoff.maxMs;
        this.#deps.logger[retriable ? 'warn' : 'error'](
          { ...this.#deps.key, stage, attempt, delayMs, err: errorMessage(error) },
          retriable
            ? 'batch step failed; retrying the same batch'
            : 'batch step failed (not retriable); retrying',
        );
        this.#deps.metrics.retried(stage);
        this.#pause('retry');
        if (!(await sleep(delayMs, this.#abort.signal))) throw new WorkerClosed();
      }
    }
  }

  /** A rebalance started: finish the step in flight but start no new range until unfenced or closed. */
  fence(): void {
    if (this.#fence) return;
    let release!: () => void;
    const promise = new Promise<void>((resolve) => (release = resolve));
    this.#fence = { promise, release };
  }

  unfence(): void {
    this.#fence?.release();
    this.#fence = null;
  }

  async #waitUnfenced(): Promise<void> {
    while (this.#fence && !this.#closed) await this.#fence.promise;
    if (this.#closed) throw new WorkerClosed();
  }

  /**
   * Graceful end: cuts the open batch (unless it is an unfinished replay, which must keep its exact range:
   * it is left to the next run) and waits until every sealed batch is written and committed.
   */
  async flush(): Promise<void> {
    if (this.#open?.replayTo === undefined) {
      while (this.#open !== null && !this.#seal()) await this.#draining;
    }
    while (this.#draining) await this.#draining;
  }

  /** Partition revoked or consumer stopping: drop everything unwritten; nothing more is committed. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    this.#fence?.release();
    clearTimeout(this.#openTimer);
    const held = [...this.#sealed, ...(this.#open ? [this.#open] : [])].reduce((n, b) => n + b.bytes, 0);
    this.#open = null;
    // Every sealed batch, the one being written included (#drain counts nothing once closed).
    this.#deps.pending?.finished(this.#sealed.length);
    this.#sealed.length = 0;
    this.#deps.budget.release(held);
    await this.#draining?.catch(() => undefined);
  }

  #pause(reason: PauseReason): void {
    const wasPaused = this.#pauses.size > 0;
    this.#pauses.add(reason);
    if (!wasPaused && !this.#closed) this.#deps.pause();
  }

  #unpause(reason: PauseReason): void {
    if (!this.#pauses.delete(reason)) return;
    if (this.#pauses.size === 0 && !this.#closed) this.#deps.resume();
  }
}

function rowsOf(decoded: DecodedRecord, table: SpanTable): EncodedChunk {
  return table === TABLE_OTEL_TRACES ? decoded.traces : decoded.llmCalls;
}

function toLetter(entry: Entry, error: IngestError): DeadLetter {
  const headers = { ...entry.headers, [HEADER_DLQ_PAYLOAD]: 'source-record' };
  return { offset: entry.offset, key: entry.key, value: entry.value, headers, error };
}
