// runQuery on the real embedded engine: params, formats, read-only enforcement by ClickHouse, and clear
// errors for bad SQL. Writes run first: on the embedded engine a read-only query leaves its session
// read-only (see run-query.ts), exactly as the CLI's one-handle-per-run relies on.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pc from 'picocolors';
import { IngestError } from '../../../ingest/src/errors.js';
import { formatQueryResult } from '../../../ingest/src/query/format-result.js';
import { parseQueryParams } from '../../../ingest/src/query/query-params.js';
import { runQuery } from '../../../ingest/src/query/run-query.js';
import { openMigratedStore, type TestStore } from '../fixtures/embedded-store.js';
import { incidentRows, incidentTimes, insertRows } from '../report/fixtures/seed-llm-calls.js';

const noColors = pc.createColors(false);
let store: TestStore;
const seeded = incidentRows(incidentTimes());

before(async () => {
  store = await openMigratedStore();
  await insertRows(store.handle, seeded);
});
after(async () => store?.close());

describe('runQuery', () => {
  it('writes with write: true (commands return no rows)', async () => {
    const created = await runQuery(store.handle, {
      sql: 'CREATE TABLE scratch (a UInt32, b String) ENGINE = MergeTree ORDER BY a;',
      write: true,
    });
    assert.deepEqual(created, { columns: [], rows: [] });
    await runQuery(store.handle, {
      sql: "INSERT INTO scratch VALUES (1, 'x,y'), (2, 'say \"hi\"')",
      write: true,
    });
  });

  it('runs a SELECT with query params and returns typed columns', async () => {
    const result = await runQuery(store.handle, {
      sql: 'SELECT Provider, count() AS calls FROM llm_calls WHERE Provider = {p:String} GROUP BY Provider',
      params: parseQueryParams(['p=openai']),
    });
    assert.deepEqual(result.columns, [
      { name: 'Provider', type: 'LowCardinality(String)' },
      { name: 'calls', type: 'UInt64' },
    ]);
    assert.equal(Number(result.rows[0]?.[1]), seeded.filter((r) => r.Provider === 'openai').length);
  });

  it('formats table, json and csv', async () => {
    const result = await runQuery(store.handle, { sql: 'SELECT a, b FROM scratch ORDER BY a' });
    assert.equal(formatQueryResult(result, 'csv', noColors), 'a,b\r\n1,"x,y"\r\n2,"say ""hi"""');
    assert.deepEqual(JSON.parse(formatQueryResult(result, 'json', noColors)), [
      { a: 1, b: 'x,y' },
      { a: 2, b: 'say "hi"' },
    ]);
    const table = formatQueryResult(result, 'table', noColors);
    assert.match(table, /│ a │ b/);
    assert.match(table, /2 rows$/);
  });

  it('refuses writes without write: true, with the ClickHouse code and a hint', async () => {
    await assert.rejects(
      runQuery(store.handle, { sql: "INSERT INTO scratch VALUES (3, 'no')" }),
      (error: unknown) =>
        error instanceof IngestError &&
        error.code === 'READ_ONLY_VIOLATION' &&
        /ClickHouse error 164 \(READONLY\).*pass --write/.test(error.message),
    );
    const rows = await runQuery(store.handle, { sql: 'SELECT count() FROM scratch' });
    assert.equal(Number(rows.rows[0]?.[0]), 2);
  });

  it('reports bad SQL as QUERY_FAILED with code and first message line', async () => {
    await assert.rejects(runQuery(store.handle, { sql: 'SELEC 1' }), (error: unknown) => {
      assert.ok(error instanceof IngestError);
      assert.equal(error.code, 'QUERY_FAILED');
      assert.match(error.message, /^ClickHouse error 62 \(SYNTAX_ERROR\): Syntax error/);
      assert.ok(!error.message.includes('\n'));
      return true;
    });
    await assert.rejects(
      runQuery(store.handle, { sql: 'SELECT * FROM no_such_table' }),
      /ClickHouse error 60 \(UNKNOWN_TABLE\)/,
    );
  });

  it('rejects malformed --param flags and empty SQL', async () => {
    assert.throws(() => parseQueryParams(['novalue', '1bad=x']), /--param "novalue".*; --param "1bad=x"/);
    await assert.rejects(runQuery(store.handle, { sql: '  ;' }), /SQL is empty/);
  });
});
