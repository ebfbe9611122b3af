// deploy/clickhouse/users.sql on ClickHouse's own engine, as far as the embedded engine allows: chdb has
// only the read-only users.xml access storage, so CREATE USER / ROLE / GRANT cannot take effect here.
// Every statement is therefore (1) parsed by the real engine's parser (EXPLAIN AST — a typo or an unknown
// privilege fails), and (2) executed: it must either succeed or be refused only for lack of writable
// access storage / the missing role, never for its syntax.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { openMigratedEngine, type Engine } from './fixtures/clickhouse-engine.js';

const usersSql = readFileSync(
  fileURLToPath(new URL('../../deploy/clickhouse/users.sql', import.meta.url)),
  'utf8',
);
const statements = usersSql
  .split('\n')
  .filter((line) => !line.trimStart().startsWith('--'))
  .join('\n')
  .split(';')
  .map((s) => s.trim())
  .filter(Boolean);

/** ClickHouse error codes meaning "understood, but no writable user directory / role here". */
const ACCESS_STORAGE_CODES = new Set(['497', '511', '514']);

let engine: Engine;
before(async () => {
  engine = await openMigratedEngine();
});
after(async () => {
  await engine?.close();
});

describe('deploy/clickhouse/users.sql', () => {
  test('every statement parses on the engine', async () => {
    assert.ok(statements.length >= 10);
    for (const statement of statements) {
      await engine.handle.client
        .query({ query: `EXPLAIN AST ${statement}`, format: 'TabSeparated' })
        .then((r) => r.text());
    }
  });

  test('the parser check is real: a bad privilege is rejected', async () => {
    await assert.rejects(
      engine.handle.client.query({
        query: 'EXPLAIN AST GRANT SELEKT ON otel.* TO modelwatch_reader',
        format: 'TabSeparated',
      }),
      /Syntax error|SYNTAX_ERROR|UNKNOWN/,
    );
  });

  test('executing: succeeds or is refused only for access storage', async () => {
    for (const statement of statements) {
      try {
        await engine.handle.client.command({ query: statement });
      } catch (error) {
        const code = String((error as { code?: unknown }).code);
        assert.ok(ACCESS_STORAGE_CODES.has(code), `${statement}\n→ ${(error as Error).message}`);
      }
    }
  });

  test('Grafana’s role can only read; ingest’s role can write and own the schema', () => {
    const grants = (role: string) =>
      statements
        .filter((s) => new RegExp(`^GRANT .+ TO ${role}$`).test(s))
        .map((s) => /^GRANT (.+) ON/.exec(s)?.[1] ?? '');
    const reader = grants('modelwatch_reader').join(', ');
    assert.match(reader, /SELECT/);
    assert.doesNotMatch(reader, /INSERT|ALTER|CREATE|DROP|OPTIMIZE/);
    const writer = grants('modelwatch_ingest').join(', ');
    for (const privilege of ['INSERT', 'SELECT', 'CREATE TABLE', 'CREATE VIEW'])
      assert.ok(writer.includes(privilege), privilege);
    assert.match(usersSql, /grafana_reader .* SETTINGS readonly = 2/);
  });
});
