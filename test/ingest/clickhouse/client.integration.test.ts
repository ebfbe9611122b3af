import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openClickHouse, type ClickHouseHandle } from '../../../ingest/src/clickhouse/client.js';
import { clickHouseConfigFromEnv } from '../../../ingest/src/clickhouse/config.js';

const workDir = mkdtempSync(join(tmpdir(), 'modelwatch-client-'));
let ch: ClickHouseHandle;

before(async () => {
  ch = await openClickHouse(
    clickHouseConfigFromEnv({ MODELWATCH_DATA_DIR: workDir, CLICKHOUSE_DATABASE: 'llm' }),
  );
});
after(async () => {
  await ch.close();
  rmSync(workDir, { recursive: true, force: true });
});

test('the embedded engine opens with the configured database as the default one', async () => {
  assert.equal(ch.mode, 'embedded');
  assert.match(ch.describe(), /embedded ClickHouse engine at .*modelwatch-client-/);
  const [row] = await (
    await ch.client.query({ query: 'SELECT currentDatabase() AS db', format: 'JSONEachRow' })
  ).json<{ db: string }>();
  assert.equal(row?.db, 'llm');
});

test('settings apply to one call, as on a server: a later insert does not inherit a dedup token', async () => {
  await ch.client.command({
    query:
      'CREATE TABLE t (x UInt32) ENGINE = MergeTree ORDER BY x SETTINGS non_replicated_deduplication_window = 100',
  });
  const insert = (values: number[], token?: string) =>
    ch.client.insert({
      table: 't',
      values: values.map((x) => ({ x })),
      format: 'JSONEachRow',
      clickhouse_settings: token === undefined ? {} : { insert_deduplication_token: token },
    });
  await insert([1, 2], 'batch-1');
  await insert([1, 2], 'batch-1'); // a retry: dropped by the token
  await insert([3, 4]); // different rows, no token: must land
  const [row] = await (
    await ch.client.query({ query: 'SELECT count() AS n, sum(x) AS s FROM t', format: 'JSONEachRow' })
  ).json<{ n: string; s: string }>();
  assert.deepEqual([Number(row?.n), Number(row?.s)], [4, 10]);
  const [setting] = await (
    await ch.client.query({
      query: "SELECT getSetting('insert_deduplication_token') AS v",
      format: 'JSONEachRow',
    })
  ).json<{ v: string }>();
  assert.equal(setting?.v, '');
});

test('engine errors become non-retriable CLICKHOUSE_REJECTED with the ClickHouse code', async () => {
  const { toIngestError, clickHouseErrorCode } = await import('../../../ingest/src/clickhouse/errors.js');
  const error = await ch.client.query({ query: 'SELECT missing_column FROM t', format: 'JSONEachRow' }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.equal(clickHouseErrorCode(error), '47');
  const wrapped = toIngestError(error, 'probe');
  assert.equal(wrapped.code, 'CLICKHOUSE_REJECTED');
  assert.equal(wrapped.retriable, false);
  assert.match(wrapped.message, /ClickHouse error 47 \(UNKNOWN_IDENTIFIER\)/);
});
