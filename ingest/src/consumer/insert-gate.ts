/**
 * Keeps the rollup check of a replayed range (replay-repair.ts) apart from llm_calls inserts: every
 * llm_calls insert passes the gate shared, the check holds it alone. An insert into llm_calls commits its
 * own part first and its view's llm_calls_1m part after; a check in between would read a minute whose
 * rollup is short by that insert, rebuild it, and then count the insert twice when its view part lands.
 *
 * Only for the embedded engine, where one process holds every writer (the data-folder lock). A waiting
 * check blocks new inserts, so a steady stream of them cannot starve it.
 *
 * Written by hand (~40 lines): async-mutex, the usual library, has a mutex and a semaphore but no
 * readers-writer lock.
 */
import type { SpanRowWriter } from '../clickhouse/insert-rows.js';
import { TABLE_LLM_CALLS } from '../names.js';

export class InsertGate {
  #shared = 0;
  #exclusive = false;
  /** Exclusive holders waiting; shared ones queue behind them. */
  readonly #exclusiveWaiters: (() => void)[] = [];
  readonly #sharedWaiters: (() => void)[] = [];

  async shared<T>(run: () => Promise<T>): Promise<T> {
    while (this.#exclusive || this.#exclusiveWaiters.length > 0) {
      await new Promise<void>((resolve) => this.#sharedWaiters.push(resolve));
    }
    this.#shared++;
    try {
      return await run();
    } finally {
      this.#shared--;
      this.#wake();
    }
  }

  async exclusive<T>(run: () => Promise<T>): Promise<T> {
    if (this.#exclusive || this.#shared > 0 || this.#exclusiveWaiters.length > 0) {
      // #wake hands the gate over (sets #exclusive) before resolving: nobody slips in between.
      await new Promise<void>((resolve) => this.#exclusiveWaiters.push(resolve));
    } else {
      this.#exclusive = true;
    }
    try {
      return await run();
    } finally {
      this.#exclusive = false;
      this.#wake();
    }
  }

  #wake(): void {
    if (this.#exclusive || this.#shared > 0) return;
    const next = this.#exclusiveWaiters.shift();
    if (next) {
      this.#exclusive = true;
      next();
      return;
    }
    // Shared waiters re-check on waking: another exclusive holder may have queued meanwhile.
    for (const resume of this.#sharedWaiters.splice(0)) resume();
  }
}

/** `writer` with its llm_calls inserts passing `gate` shared (otel_traces inserts do not touch the rollup). */
export function gateLlmCallInserts(writer: SpanRowWriter, gate: InsertGate): SpanRowWriter {
  return {
    writeEncoded: (table, chunks, token) =>
      table === TABLE_LLM_CALLS
        ? gate.shared(() => writer.writeEncoded(table, chunks, token))
        : writer.writeEncoded(table, chunks, token),
  };
}
