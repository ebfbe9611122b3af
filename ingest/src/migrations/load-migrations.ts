/**
 * Reads `migrations/NNNN_name.sql`, in order, with a checksum of each file's text. The checksum covers the
 * template (placeholders unrendered), so changing a cluster name or TTL in config never looks like an
 * edited migration, while editing an applied file does.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { IngestError } from '../errors.js';

export interface Migration {
  /** File name, e.g. `0003_llm_calls.sql`; the key recorded in the migrations table. */
  name: string;
  version: number;
  sql: string;
  /** sha256 of the file text, hex. */
  checksum: string;
}

const MIGRATION_FILE = /^(\d{4})_[a-z0-9_]+\.sql$/;

/**
 * The repository's `migrations/` folder. From src (tsx) and from dist alike it is three levels up from
 * this file: ingest/{src,dist}/migrations/ → repo root.
 */
export function defaultMigrationsDir(): string {
  return fileURLToPath(new URL('../../../migrations/', import.meta.url));
}

export function loadMigrations(dir: string = defaultMigrationsDir()): Migration[] {
  if (!existsSync(dir)) throw new IngestError('MIGRATION_FAILED', `migrations folder not found: ${dir}`);
  const migrations: Migration[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith('.sql')) continue;
    const match = MIGRATION_FILE.exec(name);
    if (!match?.[1]) {
      throw new IngestError('MIGRATION_FAILED', `bad migration file name ${name}: expected NNNN_lower_snake.sql`);
    }
    const sql = readFileSync(`${dir}/${name}`, 'utf8');
    migrations.push({ name, version: Number(match[1]), sql, checksum: createHash('sha256').update(sql).digest('hex') });
  }
  const versions = new Set<number>();
  for (const m of migrations) {
    if (versions.has(m.version)) throw new IngestError('MIGRATION_FAILED', `two migrations share version ${m.version}`);
    versions.add(m.version);
  }
  return migrations;
}
