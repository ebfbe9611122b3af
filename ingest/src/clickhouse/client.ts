/**
 * The only module that imports @clickhouse/client and chdb. One factory returns the same typed client for
 * both stores, so everything above it (writer, migrations, report, query, dashboards' proofs) runs the same
 * SQL and settings on a ClickHouse server (CLICKHOUSE_URL) and on ClickHouse's engine in-process (chdb).
 */
import { mkdirSync } from 'node:fs';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
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
  const client = createClient({ connection: chdbConnection(config.dataDir) });
  try {
    await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${config.database}` });
    // The chdb connection ignores the client's `database` option; USE sticks to this connection's session,
    // which is the one every later query of this client runs on.
    await client.command({ query: `USE ${config.database}` });
  } catch (error) {
    await client.close().catch(() => undefined);
    unlock();
    throw toIngestError(error, `cannot open the embedded ClickHouse engine at ${config.dataDir}`);
  }
  return handle(
    client,
    config.database,
    'embedded',
    `embedded ClickHouse engine at ${config.dataDir}`,
    unlock,
  );
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
): ClickHouseHandle {
  let closed = false;
  return {
    client,
    database,
    mode,
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
