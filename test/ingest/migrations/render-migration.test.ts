import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadMigrations } from '../../../ingest/src/migrations/load-migrations.js';
import { renderMigration, splitStatements } from '../../../ingest/src/migrations/render-migration.js';

const ttl = { tracesTtlDays: 7, llmCallsTtlDays: 30, rollupTtlDays: 365 };

test('single-server rendering uses plain MergeTree engines and no ON CLUSTER', () => {
  for (const migration of loadMigrations()) {
    const sql = renderMigration(migration.sql, ttl);
    assert.doesNotMatch(sql, /\{\{|ON CLUSTER|Replicated/, migration.name);
  }
});

test('cluster rendering targets the cluster with Replicated engines', () => {
  const all = loadMigrations()
    .map((m) => renderMigration(m.sql, { ...ttl, cluster: 'prod' }))
    .join('\n');
  assert.match(all, /CREATE TABLE IF NOT EXISTS llm_calls ON CLUSTER 'prod'/);
  assert.match(all, /ENGINE = ReplicatedMergeTree/);
  assert.match(all, /ENGINE = ReplicatedAggregatingMergeTree/);
  assert.match(all, /ENGINE = ReplicatedReplacingMergeTree\(Version\)/);
  assert.doesNotMatch(all, /ENGINE = (MergeTree|AggregatingMergeTree|ReplacingMergeTree)\b/);
  assert.match(all, /toIntervalDay\(30\)/);
});

test('unknown placeholders are an error, not silent text', () => {
  assert.throws(() => renderMigration('CREATE TABLE {{NOPE}}', ttl), /NOPE/);
});

test('statements split at end-of-line semicolons and drop comment lines', () => {
  const statements = splitStatements('-- header; with a semicolon\nCREATE TABLE a (x UInt8);\n\nCREATE VIEW b AS SELECT \';\' AS s;\n');
  assert.deepEqual(statements, ['CREATE TABLE a (x UInt8)', "CREATE VIEW b AS SELECT ';' AS s"]);
});

test('migration files are numbered without gaps in version order', () => {
  const versions = loadMigrations().map((m) => m.version);
  assert.deepEqual(versions, versions.map((_, i) => i + 1));
});
