/**
 * Batches sealed and not yet written, across all partition workers of one consumer, against the number of
 * inserts that can run at once. While fewer batches wait than there are insert slots, the engine is about to
 * sit idle: a worker then cuts its open batch early (once it holds a worthwhile number of spans) instead of
 * waiting for it to fill or for its timer. At start-up that saves most of the batch window (every partition
 * fills at once, so none filled before its timer), and below capacity it shortens freshness; at capacity
 * batches wait in the queue, so they keep their full size.
 */
export class PendingBatches {
  readonly slots: number;
  #count = 0;

  constructor(slots: number) {
    this.slots = slots;
  }

  get count(): number {
    return this.#count;
  }

  /** True while a sealed batch would find an insert slot free. */
  get slotFree(): boolean {
    return this.#count < this.slots;
  }

  sealed(): void {
    this.#count++;
  }

  /** A batch was written (or dropped when its partition was revoked). */
  finished(count = 1): void {
    this.#count = Math.max(0, this.#count - count);
  }
}
