import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clickHouseConfigFromEnv } from '../../../ingest/src/clickhouse/config.js';
import { redactUrl } from '../../../ingest/src/clickhouse/client.js';
import { IngestError } from '../../../ingest/src/errors.js';

test('defaults to the embedded engine under .modelwatch in the working directory', () => {
  const config = clickHouseConfigFromEnv({}, '/srv/app');
  assert.equal(config.url, undefined);
  assert.equal(config.database, 'otel');
  assert.equal(config.dataDir, '/srv/app/.modelwatch/clickhouse');
  assert.equal(config.cluster, undefined);
  assert.deepEqual([config.tracesTtlDays, config.llmCallsTtlDays, config.rollupTtlDays], [30, 90, 400]);
});

test('reads a server URL, credentials, cluster and TTLs; empty strings count as unset', () => {
  const config = clickHouseConfigFromEnv({
    CLICKHOUSE_URL: 'http://ch:8123',
    CLICKHOUSE_USER: 'writer',
    CLICKHOUSE_PASSWORD: 's3cret',
    CLICKHOUSE_DATABASE: 'llm',
    MODELWATCH_CLICKHOUSE_CLUSTER: 'main',
    MODELWATCH_LLM_CALLS_TTL_DAYS: '14',
    MODELWATCH_DATA_DIR: '',
  });
  assert.equal(config.url, 'http://ch:8123');
  assert.equal(config.username, 'writer');
  assert.equal(config.database, 'llm');
  assert.equal(config.cluster, 'main');
  assert.equal(config.llmCallsTtlDays, 14);
});

test('reports every bad variable at once, by name', () => {
  assert.throws(
    () =>
      clickHouseConfigFromEnv({
        CLICKHOUSE_URL: 'ftp://nope',
        CLICKHOUSE_DATABASE: 'bad-name;drop',
        MODELWATCH_TRACES_TTL_DAYS: '-3',
      }),
    (error: unknown) => {
      assert.ok(error instanceof IngestError);
      assert.equal(error.code, 'CONFIG_INVALID');
      assert.match(error.message, /CLICKHOUSE_URL/);
      assert.match(error.message, /CLICKHOUSE_DATABASE/);
      assert.match(error.message, /MODELWATCH_TRACES_TTL_DAYS/);
      return true;
    },
  );
});

test('server descriptions never show credentials', () => {
  assert.equal(redactUrl('http://writer:s3cret@ch:8123/'), 'http://ch:8123');
});
