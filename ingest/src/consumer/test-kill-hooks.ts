/**
 * TEST ONLY: how the kill tests crash the consumer (MODELWATCH_TEST_CRASH_AFTER_INSERT,
 * MODELWATCH_TEST_KILL_ON_SIGUSR2). Never set in production.
 *
 * Why the kill waits until no engine statement runs: with the embedded engine this process IS the database,
 * and the engine records an insert's deduplication token before the insert (its materialized views' parts
 * included) is committed. A SIGKILL in between leaves the token without the rows, and the replay of that
 * range is then dropped as a duplicate: measured with the engine alone (scripts/experiments/
 * chdb-dedup-crash.mjs), 2 of 200 kills that landed during inserts lost a block. That window belongs to the
 * engine (a ClickHouse server does not die with the consumer); the kill tests check the consumer's own crash
 * points, so they kill at any moment when no engine statement is running: between steps, during Kafka
 * calls, while batches are cut. Statements that would start after the kill was asked for wait for it.
 */
import type { SpanRowWriter } from '../clickhouse/insert-rows.js';
import type { InsertedRangeStore } from './inserted-range-store.js';

export class KillWhenEngineIdle {
  #running = 0;
  #requested = false;
  readonly #kill: () => void;

  constructor(kill: () => void = () => process.kill(process.pid, 'SIGKILL')) {
    this.#kill = kill;
  }

  /** Kills now if no engine statement runs, else as soon as the running ones finish. */
  request(): void {
    this.#requested = true;
    if (this.#running === 0) this.#kill();
  }

  writer(writer: SpanRowWriter): SpanRowWriter {
    return { writeEncoded: (...args) => this.#run(() => writer.writeEncoded(...args)) };
  }

  store(store: InsertedRangeStore): InsertedRangeStore {
    return {
      load: (key) => this.#run(() => store.load(key)),
      save: (key, range) => this.#run(() => store.save(key, range)),
    };
  }

  async #run<T>(statement: () => Promise<T>): Promise<T> {
    if (this.#requested) await new Promise<never>(() => undefined); // the kill comes first
    this.#running++;
    try {
      return await statement();
    } finally {
      this.#running--;
      if (this.#requested && this.#running === 0) this.#kill();
    }
  }
}
