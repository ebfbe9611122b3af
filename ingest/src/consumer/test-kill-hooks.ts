/**
 * TEST ONLY: how the kill tests crash the consumer (MODELWATCH_TEST_CRASH_AFTER_INSERT,
 * MODELWATCH_TEST_KILL_ON_SIGUSR2). Never set in production.
 *
 * Why the kill waits until no engine statement runs: with the embedded engine this process IS the database,
 * and the engine records an insert's deduplication token before the insert (its materialized views' parts
 * included) is committed. A SIGKILL in between leaves the token without the rows (scripts/experiments/
 * chdb-dedup-crash.mjs: 2 of 200 kills during inserts). The consumer puts such rows back when it replays the
 * range (replay-repair.ts), which replay-repair.integration.test.ts checks deterministically. The CI kill test
 * kills at moments no engine statement runs (between steps, during Kafka calls, while batches are cut) so
 * that what it checks does not depend on where a random kill lands; statements that would start after the
 * kill was asked for wait for it. Its stress modes kill from outside (MODELWATCH_TEST_RAW_KILLS, in the test)
 * or inside the next insert (requestInsideNextInsert).
 */
import type { SpanRowWriter } from '../clickhouse/insert-rows.js';
import type { InsertedRangeStore } from './inserted-range-store.js';
import type { RepairStatements } from './replay-repair.js';

export class KillWhenEngineIdle {
  #running = 0;
  #requested = false;
  #insideNextInsert = false;
  readonly #kill: () => void;

  constructor(kill: () => void = () => process.kill(process.pid, 'SIGKILL')) {
    this.#kill = kill;
  }

  /** Kills now if no engine statement runs, else as soon as the running ones finish. */
  request(): void {
    this.#requested = true;
    if (this.#running === 0) this.#kill();
  }

  /**
   * Stress mode (MODELWATCH_TEST_KILL_INSIDE_INSERTS): kills inside the next insert, a random 0-300 ms after
   * it starts (the embedded engine's inserts take tens to hundreds of ms), or wherever the process is by then;
   * at the next idle moment when no insert starts within 2 s.
   */
  requestInsideNextInsert(): void {
    this.#insideNextInsert = true;
    // No insert within 2 s (the consumer caught up): an idle-moment kill, so the kill always comes.
    setTimeout(() => {
      if (this.#insideNextInsert) this.request();
    }, 2000).unref();
  }

  writer(writer: SpanRowWriter): SpanRowWriter {
    return {
      writeEncoded: (...args) => {
        if (this.#insideNextInsert) {
          this.#insideNextInsert = false;
          setTimeout(this.#kill, Math.floor(Math.random() * 300));
        }
        return this.#run(() => writer.writeEncoded(...args));
      },
    };
  }

  store(store: InsertedRangeStore): InsertedRangeStore {
    return {
      load: (key) => this.#run(() => store.load(key)),
      save: (key, range) => this.#run(() => store.save(key, range)),
    };
  }

  statements(statements: RepairStatements): RepairStatements {
    return {
      select: (query, params) => this.#run(() => statements.select(query, params)),
      run: (...args) => this.#run(() => statements.run(...args)),
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
