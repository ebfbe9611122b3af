/**
 * The only module that imports @clickhouse/client and chdb. One factory returns the same typed client for
 * both stores, so everything above it (writer, migrations, report, query, dashboards' proofs) runs the same
 * SQL and settings on a ClickHouse server (CLICKHOUSE_URL) and on ClickHouse's engine in-process (chdb).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { Session } from 'chdb';
import { createChdbConnection } from 'chdb/connection';
import type { ClickHouseConfig } from './config.js';
import { lockDataDir } from './data-dir-lock.js';
import { toIngestError } from './errors.js';
import { withPerCallSettings } from './per-call-settings.js';

export type { ClickHouseClient } from '@clickhouse/client';
export { ClickHouseError } from '@clickhouse/client';

export interface ClickHouseHandle {
  readonly client: ClickHouseClient;
  /** The database every unqualified table name resolves to. */
  readonly database: string;
  readonly mode: 'embedded' | 'server';
  /**
   * Embedded engine only: a folder for insert bodies the engine reads with INSERT … FROM INFILE (far cheaper
   * than the connection's inline body; see insert-rows.ts). Emptied on open. Undefined for a server.
   */
  readonly insertSpoolDir: string | undefined;
  /**
   * Embedded engine only: another client on the same engine and database, with its own chdb connection.
   * The engine runs one connection's statements one after another, different connections' in parallel
   * (engine-sessions.ts); the caller closes it. Undefined for a server, whose client already runs
   * concurrent requests in parallel.
   */
  readonly openSession: (() => Promise<ClickHouseClient>) | undefined;
  /** Where the data lives, for people ("embedded engine at /abs/path"); never includes a password. */
  describe(): string;
  close(): Promise<void>;
}

export async function openClickHouse(config: ClickHouseConfig): Promise<ClickHouseHandle> {
  return config.url === undefined ? openEmbedded(config) : openServer(config, config.url);
}

async function openEmbedded(config: ClickHouseConfig): Promise<ClickHouseHandle> {
  mkdirSync(config.dataDir, { recursive: true });
  const unlock = lockDataDir(config.dataDir);
  // Under the data folder so it shares its disk and owner; leftovers of a crashed run are dropped here.
  const insertSpoolDir = join(config.dataDir, 'insert-spool');
  rmSync(insertSpoolDir, { recursive: true, force: true });
  mkdirSync(insertSpoolDir, { recursive: true });
  let engine: Session;
  try {
    engine = bootEngine(config.dataDir);
  } catch (error) {
    unlock();
    throw toIngestError(error, `cannot start the embedded ClickHouse engine at ${config.dataDir}`);
  }
  const closeEngine = () => {
    engine.close();
    unlock();
  };
  const client = createClient({ connection: chdbConnection(config.dataDir) });
  // The chdb connection ignores the client's `database` option; USE sticks to the connection's session,
  // which is the one every later query of that client runs on.
  const useDatabase = (c: ClickHouseClient) => c.command({ query: `USE ${config.database}` });
  const openSession = async (): Promise<ClickHouseClient> => {
    const session = createClient({ connection: chdbConnection(config.dataDir) });
    try {
      await useDatabase(session);
      return session;
    } catch (error) {
      await session.close().catch(() => undefined);
      throw toIngestError(
        error,
        `cannot open another connection to the embedded engine at ${config.dataDir}`,
      );
    }
  };
  try {
    await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${config.database}` });
    await useDatabase(client);
  } catch (error) {
    await client.close().catch(() => undefined);
    closeEngine();
    throw toIngestError(error, `cannot open the embedded ClickHouse engine at ${config.dataDir}`);
  }
  return handle(
    client,
    config.database,
    'embedded',
    `embedded ClickHouse engine at ${config.dataDir}`,
    closeEngine,
    { insertSpoolDir, openSession },
  );
}

/**
 * The engine's server-wide limits. A ClickHouse server sizes its caches for a dedicated host (5 GiB mark
 * and primary-index caches, 90 % of RAM as the memory limit); in-process, next to the consumer or a CLI,
 * that is far too much. The caches only speed repeated reads of the same parts, so small ones cost little;
 * the memory limit makes a runaway query or merge fail (MEMORY_LIMIT_EXCEEDED, retried by the consumer)
 * instead of taking the host down. Server settings are engine arguments, not SETtable: they are given to
 * the first connection, which starts the engine for this data folder; later connections share it.
 */
const ENGINE_ARGS = [
  '--max_server_memory_usage=1073741824', // 1 GiB
  '--mark_cache_size=67108864', // 64 MiB
  '--index_mark_cache_size=16777216',
  '--primary_index_cache_size=33554432',
  '--index_uncompressed_cache_size=16777216',
  '--query_condition_cache_size=16777216',
  '--compiled_expression_cache_size=33554432',
];

function bootEngine(path: string): Session {
  return new Session(path, { connectionArgs: ENGINE_ARGS });
}

type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

function chdbConnection(path: string): ClientConnection {
  // chdb declares its Connection against @clickhouse/client-common, while @clickhouse/client 1.23 ships its
  // own copy of those declarations; the runtime shapes are the same (chdb runs the client's parity tests),
  // only the two declaration files differ, hence the cast.
  return withPerCallSettings(createChdbConnection({ path })) as unknown as ClientConnection;
}

async function openServer(config: ClickHouseConfig, url: string): Promise<ClickHouseHandle> {
  // The database may not exist yet: create it through a client without one, then bind the real client to it.
  const bootstrap = createClient({
    url,
    username: config.username,
    password: config.password,
    request_timeout: config.requestTimeoutMs,
  });
  try {
    await bootstrap.command({
      query: `CREATE DATABASE IF NOT EXISTS ${config.database}${config.cluster ? ` ON CLUSTER '${config.cluster}'` : ''}`,
    });
  } catch (error) {
    throw toIngestError(error, `cannot reach ClickHouse at ${redactUrl(url)}`);
  } finally {
    await bootstrap.close().catch(() => undefined);
  }
  const client = createClient({
    url,
    username: config.username,
    password: config.password,
    database: config.database,
    request_timeout: config.requestTimeoutMs,
  });
  return handle(
    client,
    config.database,
    'server',
    `ClickHouse server ${redactUrl(url)} (database ${config.database})`,
  );
}

function handle(
  client: ClickHouseClient,
  database: string,
  mode: ClickHouseHandle['mode'],
  description: string,
  onClose: () => void = () => undefined,
  embedded?: Pick<ClickHouseHandle, 'insertSpoolDir' | 'openSession'>,
): ClickHouseHandle {
  let closed = false;
  return {
    client,
    database,
    mode,
    insertSpoolDir: embedded?.insertSpoolDir,
    openSession: embedded?.openSession,
    describe: () => description,
    close: async () => {
      if (closed) return;
      closed = true;
      try {
        await client.close();
      } finally {
        onClose();
      }
    },
  };
}

/** Drops credentials from a URL before it is shown or logged. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '<invalid url>';
  }
}
