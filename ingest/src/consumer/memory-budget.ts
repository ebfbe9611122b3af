/**
 * Kafka record bytes held by all partition workers of one consumer. Workers stop taking records (and pause
 * their partition) while it is exhausted; every release lets paused workers check again.
 */
export class MemoryBudget {
  readonly maxBytes: number;
  #usedBytes = 0;
  readonly #listeners = new Set<() => void>();

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  get usedBytes(): number {
    return this.#usedBytes;
  }

  get exhausted(): boolean {
    return this.#usedBytes >= this.maxBytes;
  }

  take(bytes: number): void {
    this.#usedBytes += bytes;
  }

  release(bytes: number): void {
    if (bytes === 0) return;
    this.#usedBytes = Math.max(0, this.#usedBytes - bytes);
    for (const listener of this.#listeners) listener();
  }

  onRelease(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
