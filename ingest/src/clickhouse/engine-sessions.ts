/**
 * Several clients on one ClickHouse handle, for statements that must run at the same time.
 *
 * Why: the embedded engine runs the statements of ONE chdb connection strictly one after another (each
 * connection carries its own session state, so the native side serialises it), while statements on
 * different connections to the same data folder run in parallel on libuv worker threads. A handle has one
 * connection, so every insert and every consumer-state write queued behind the one before it:
 * MODELWATCH_CONSUMER_MAX_CONCURRENT_INSERTS = 2 meant one engine statement at a time, and the consumer's
 * small state writes waited behind 300 ms inserts. Measured (bench/ingest, 2-core box): two concurrent
 * SELECTs on one connection take 2× as long as one; on two connections, 1×.
 *
 * A ClickHouse server (CLICKHOUSE_URL) already runs concurrent requests in parallel (the HTTP client keeps
 * a socket pool), so there the handle's own client is returned for every slot.
 */
import type { ClickHouseClient, ClickHouseHandle } from './client.js';

/** What a writer or the consumer-state store needs of a handle (see insert-rows.ts). */
export interface EngineSession {
  readonly client: ClickHouseClient;
  readonly insertSpoolDir: string | undefined;
}

export interface EngineSessions {
  /** `count` sessions; [0] is the handle's own client. */
  readonly sessions: readonly EngineSession[];
  /** Closes the sessions this call opened (never the handle's own client). */
  close(): Promise<void>;
}

/**
 * Opens `count` sessions on `handle` (at least 1). Embedded: `count - 1` extra chdb connections
 * (`handle.openSession`). The engine itself was started (with its memory and cache limits) when the handle
 * was opened; these share it.
 */
export async function openEngineSessions(handle: ClickHouseHandle, count: number): Promise<EngineSessions> {
  const own: EngineSession = { client: handle.client, insertSpoolDir: handle.insertSpoolDir };
  const openSession = handle.openSession;
  if (openSession === undefined || count <= 1) {
    return { sessions: Array.from({ length: Math.max(1, count) }, () => own), close: async () => undefined };
  }
  const opened: ClickHouseClient[] = [];
  const close = async () => {
    await Promise.allSettled(opened.map((client) => client.close()));
  };
  try {
    for (let i = 1; i < count; i++) opened.push(await openSession());
  } catch (error) {
    await close();
    throw error;
  }
  const extra = opened.map((client): EngineSession => ({ client, insertSpoolDir: handle.insertSpoolDir }));
  return { sessions: [own, ...extra], close };
}
