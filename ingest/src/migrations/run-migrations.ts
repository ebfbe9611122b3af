/**
 * Applies the numbered migrations in order and records each (name, checksum) in `modelwatch_migrations`.
 *
 * Safe to run twice and from two processes at once: every statement is `IF NOT EXISTS`, so a migration
 * applied concurrently (or half-applied before a crash) converges when re-run; its record is inserted with
 * `insert_deduplication_token = name:checksum`, so concurrent runners leave one record. A file edited after
 * it was applied is refused (MIGRATION_CHECKSUM_MISMATCH) before anything runs: the fix is a new migration.
 */
import type { ClickHouseHandle } from '../clickhouse/client.js';
import type { ClickHouseConfig } from '../clickhouse/config.js';
import { toIngestError } from '../clickhouse/errors.js';
import { IngestError } from '../errors.js';
import type { Logger } from '../log.js';
import { TABLE_MIGRATIONS } from '../names.js';
import { loadMigrations, type Migration } from './load-migrations.js';
import { renderMigration, splitStatements } from './render-migration.js';

export interface RunMigrationsOptions {
  /** Folder of NNNN_name.sql files. @default the repository's migrations/ */
  dir?: string;
  schema: Pick<ClickHouseConfig, 'cluster' | 'tracesTtlDays' | 'llmCallsTtlDays' | 'rollupTtlDays'>;
  logger?: Logger;
  /** Report what would run without running it. */
  dryRun?: boolean;
}

export interface MigrationOutcome {
  name: string;
  status: 'applied' | 'already-applied' | 'pending';
  durationMs: number;
}

export interface MigrationReport {
  outcomes: MigrationOutcome[];
  applied: number;
}

export async function runMigrations(
  handle: ClickHouseHandle,
  options: RunMigrationsOptions,
): Promise<MigrationReport> {
  const migrations = loadMigrations(options.dir);
  const cluster = options.schema.cluster;
  await command(
    handle,
    `CREATE TABLE IF NOT EXISTS ${TABLE_MIGRATIONS} ${cluster ? `ON CLUSTER '${cluster}'` : ''} (
       Name String, Version UInt32, Checksum String, AppliedAt DateTime64(3), DurationMs UInt32
     ) ENGINE = ${cluster ? 'ReplicatedReplacingMergeTree' : 'ReplacingMergeTree'}(AppliedAt)
     ORDER BY Name
     SETTINGS non_replicated_deduplication_window = 1000`,
    'create the migrations table',
  );
  const applied = await appliedChecksums(handle);
  verifyUnchanged(migrations, applied);

  const outcomes: MigrationOutcome[] = [];
  for (const migration of migrations) {
    if (applied.has(migration.name)) {
      outcomes.push({ name: migration.name, status: 'already-applied', durationMs: 0 });
      continue;
    }
    if (options.dryRun) {
      outcomes.push({ name: migration.name, status: 'pending', durationMs: 0 });
      continue;
    }
    const startedMs = performance.now();
    for (const statement of splitStatements(renderMigration(migration.sql, options.schema))) {
      await command(handle, statement, `migration ${migration.name}`);
    }
    const durationMs = Math.round(performance.now() - startedMs);
    await record(handle, migration, durationMs);
    options.logger?.info({ migration: migration.name, durationMs }, 'migration applied');
    outcomes.push({ name: migration.name, status: 'applied', durationMs });
  }
  return { outcomes, applied: outcomes.filter((o) => o.status === 'applied').length };
}

async function appliedChecksums(handle: ClickHouseHandle): Promise<Map<string, string>> {
  const result = await handle.client.query({
    query: `SELECT Name, argMax(Checksum, AppliedAt) AS Checksum FROM ${TABLE_MIGRATIONS} GROUP BY Name`,
    format: 'JSONEachRow',
  });
  const rows = await result.json<{ Name: string; Checksum: string }>();
  return new Map(rows.map((row) => [row.Name, row.Checksum]));
}

function verifyUnchanged(migrations: readonly Migration[], applied: ReadonlyMap<string, string>): void {
  const edited = migrations.filter((m) => applied.has(m.name) && applied.get(m.name) !== m.checksum);
  if (edited.length === 0) return;
  const details = edited
    .map((m) => `${m.name} (applied checksum ${applied.get(m.name)?.slice(0, 12)}…, file now ${m.checksum.slice(0, 12)}…)`)
    .join(', ');
  throw new IngestError(
    'MIGRATION_CHECKSUM_MISMATCH',
    `applied migration file(s) were edited: ${details}. Migrations are append-only: restore the file and add a new one.`,
  );
}

async function record(handle: ClickHouseHandle, migration: Migration, durationMs: number): Promise<void> {
  try {
    await handle.client.insert({
      table: TABLE_MIGRATIONS,
      values: [
        {
          Name: migration.name,
          Version: migration.version,
          Checksum: migration.checksum,
          AppliedAt: new Date().toISOString(),
          DurationMs: durationMs,
        },
      ],
      format: 'JSONEachRow',
      clickhouse_settings: {
        insert_deduplication_token: `${migration.name}:${migration.checksum}`,
        date_time_input_format: 'best_effort',
      },
    });
  } catch (error) {
    throw toIngestError(error, `recording migration ${migration.name}`);
  }
}

async function command(handle: ClickHouseHandle, query: string, context: string): Promise<void> {
  try {
    await handle.client.command({ query });
  } catch (error) {
    const wrapped = toIngestError(error, context);
    throw new IngestError('MIGRATION_FAILED', wrapped.message, { cause: error, retriable: wrapped.retriable });
  }
}
