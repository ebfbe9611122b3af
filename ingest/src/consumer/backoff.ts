/**
 * Exponential backoff with full jitter (delay uniform in [0, min(max, min·2^attempt)]), so consumers that
 * failed together do not retry together against a recovering ClickHouse.
 */
export interface BackoffOptions {
  minMs: number;
  maxMs: number;
}

export function backoffDelayMs(
  attempt: number,
  { minMs, maxMs }: BackoffOptions,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.max(minMs / 2, Math.round(random() * ceiling));
}

/** Resolves after `ms`, or early (false) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
