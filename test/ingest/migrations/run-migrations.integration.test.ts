import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, appendFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openClickHouse, type ClickHouseHandle } from '../../../ingest/src/clickhouse/client.js';
import { clickHouseConfigFromEnv } from '../../../ingest/src/clickhouse/config.js';
import { ClickHouseInsertedRangeStore } from '../../../ingest/src/consumer/inserted-range-store.js';
import { IngestError } from '../../../ingest/src/errors.js';
import { defaultMigrationsDir } from '../../../ingest/src/migrations/load-migrations.js';
import { runMigrations } from '../../../ingest/src/migrations/run-migrations.js';

// One embedded engine per test file: libchdb binds a single data directory per process.
const workDir = mkdtempSync(join(tmpdir(), 'modelwatch-migrations-'));
const migrationsDir = join(workDir, 'migrations');
const config = clickHouseConfigFromEnv({ MODELWATCH_DATA_DIR: join(workDir, 'data') });
let ch: ClickHouseHandle;

async function rows<T>(query: string): Promise<T[]> {
  return (await ch.client.query({ query, format: 'JSONEachRow' })).json<T>();
}

before(async () => {
  cpSync(defaultMigrationsDir(), migrationsDir, { recursive: true });
  ch = await openClickHouse(config);
});
after(async () => {
  await ch.close();
  rmSync(workDir, { recursive: true, force: true });
});

test('first run applies every migration; the second applies nothing', async () => {
  // Before: the consumer refuses to start, saying what to run, instead of failing on its first state write.
  const stateStore = new ClickHouseInsertedRangeStore(ch);
  await assert.rejects(stateStore.checkTable(), (error: unknown) => {
    assert.ok(error instanceof IngestError);
    assert.equal(error.code, 'MIGRATION_FAILED');
    assert.match(error.message, /modelwatch_consumer_state is missing: run `modelwatch migrate`/);
    return true;
  });
  const first = await runMigrations(ch, { dir: migrationsDir, schema: config });
  await stateStore.checkTable();
  assert.ok(first.applied >= 4);
  assert.ok(first.outcomes.every((o) => o.status === 'applied'));
  const second = await runMigrations(ch, { dir: migrationsDir, schema: config });
  assert.equal(second.applied, 0);
  assert.ok(second.outcomes.every((o) => o.status === 'already-applied'));
  const recorded = await rows<{ n: string }>('SELECT count() AS n FROM modelwatch_migrations FINAL');
  assert.equal(Number(recorded[0]?.n), first.applied);
});

test('otel_traces has the OpenTelemetry Collector exporter columns and types', async () => {
  const columns = await rows<{ name: string; type: string }>(
    "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = 'otel_traces' ORDER BY position",
  );
  const collector: Array<[string, string]> = [
    ['Timestamp', "DateTime64(9)"],
    ['TraceId', 'String'],
    ['SpanId', 'String'],
    ['ParentSpanId', 'String'],
    ['TraceState', 'String'],
    ['SpanName', 'LowCardinality(String)'],
    ['SpanKind', 'LowCardinality(String)'],
    ['ServiceName', 'LowCardinality(String)'],
    ['ResourceAttributes', 'Map(LowCardinality(String), String)'],
    ['ScopeName', 'String'],
    ['ScopeVersion', 'String'],
    ['SpanAttributes', 'Map(LowCardinality(String), String)'],
    ['Duration', 'UInt64'],
    ['StatusCode', 'LowCardinality(String)'],
    ['StatusMessage', 'String'],
    ['Events.Timestamp', 'Array(DateTime64(9))'],
    ['Events.Name', 'Array(LowCardinality(String))'],
    ['Events.Attributes', 'Array(Map(LowCardinality(String), String))'],
    ['Links.TraceId', 'Array(String)'],
    ['Links.SpanId', 'Array(String)'],
    ['Links.TraceState', 'Array(String)'],
    ['Links.Attributes', 'Array(Map(LowCardinality(String), String))'],
  ];
  assert.deepEqual(
    columns.map((c) => [c.name, c.type]),
    collector,
  );
  const lookup = await rows<{ name: string }>(
    "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = 'otel_traces_trace_id_ts' ORDER BY position",
  );
  assert.deepEqual(lookup.map((c) => c.name), ['TraceId', 'Start', 'End']);
});

test('llm_calls feeds the per-minute rollup, and a repeated insert with the same token changes neither', async () => {
  const minute = '2026-11-20 10:00:00';
  const call = (i: number, failureClass: string) => ({
    Timestamp: `${minute}.${String(i).padStart(3, '0')}`,
    TraceId: `t${i}`,
    SpanId: `s${i}`,
    ServiceName: 'checkout',
    Environment: 'prod',
    Provider: 'anthropic',
    Operation: 'chat',
    RequestModel: 'claude-opus-4-7',
    ResponseModel: 'claude-opus-4-7',
    ModelFamily: 'claude-opus',
    ModelVersion: '4.7',
    ModelSnapshot: '',
    StatusCode: failureClass ? 'Error' : 'Ok',
    IsFailure: failureClass ? 1 : 0,
    FailureClass: failureClass,
    FailureOrigin: failureClass === 'bad_request' ? 'client' : failureClass ? 'provider' : '',
    ErrorType: '',
    HttpStatus: failureClass === 'overloaded' ? 529 : failureClass === 'bad_request' ? 400 : 200,
    DurationMs: 100 * (i + 1),
    TimeToFirstTokenMs: i % 2 === 0 ? 40 : 0,
    InputTokens: 10,
    OutputTokens: failureClass ? 0 : 25,
    CacheReadInputTokens: 0,
    CacheWriteInputTokens: 0,
    ReasoningOutputTokens: 0,
    FinishReasons: failureClass ? [] : ['stop'],
    Stream: i % 2 === 0 ? 1 : 0,
    RetryCount: 0,
    ProviderRequestId: '',
    ServerAddress: 'api.anthropic.com',
    ScopeName: 'test',
  });
  const values = [call(0, ''), call(1, ''), call(2, 'overloaded'), call(3, 'overloaded'), call(4, 'bad_request')];
  for (let attempt = 0; attempt < 2; attempt++) {
    await ch.client.insert({
      table: 'llm_calls',
      values,
      format: 'JSONEachRow',
      clickhouse_settings: {
        insert_deduplication_token: 'otlp_spans:0:100-104:llm_calls',
        deduplicate_blocks_in_dependent_materialized_views: 1,
        date_time_input_format: 'best_effort',
      },
    });
  }
  const [raw] = await rows<{ n: string }>('SELECT count() AS n FROM llm_calls');
  assert.equal(Number(raw?.n), 5);
  const [rollup] = await rows<{
    calls: string;
    failures: string;
    provider: string;
    client: string;
    byClass: Record<string, string>;
    p: number[];
    ttft: number[];
    out: string;
  }>(`SELECT sum(Calls) AS calls, sum(Failures) AS failures, sum(ProviderFailures) AS provider,
            sum(ClientFailures) AS client, sumMap(FailuresByClass) AS byClass,
            quantilesTDigestMerge(0.5, 0.95, 0.99)(DurationQuantiles) AS p,
            quantilesTDigestMerge(0.5, 0.95, 0.99)(TtftQuantiles) AS ttft, sum(OutputTokens) AS out
     FROM llm_calls_1m WHERE Minute = '${minute}'`);
  assert.ok(rollup);
  assert.equal(Number(rollup.calls), 5);
  assert.equal(Number(rollup.failures), 3);
  assert.equal(Number(rollup.provider), 2);
  assert.equal(Number(rollup.client), 1);
  assert.equal(Number(rollup.byClass.overloaded), 2);
  assert.equal(Number(rollup.byClass.bad_request), 1);
  assert.equal(Number(rollup.out), 50);
  assert.equal(rollup.p[0], 300);
  assert.deepEqual(rollup.ttft, [40, 40, 40]);
});

test('an applied migration that was edited is refused, naming the file', async () => {
  appendFileSync(join(migrationsDir, '0003_llm_calls.sql'), '\n-- sneaky edit\n');
  await assert.rejects(runMigrations(ch, { dir: migrationsDir, schema: config }), (error: unknown) => {
    assert.ok(error instanceof IngestError);
    assert.equal(error.code, 'MIGRATION_CHECKSUM_MISMATCH');
    assert.match(error.message, /0003_llm_calls\.sql/);
    return true;
  });
  cpSync(join(defaultMigrationsDir(), '0003_llm_calls.sql'), join(migrationsDir, '0003_llm_calls.sql'));
});

test('a new migration file is applied on the next run', async () => {
  writeFileSync(join(migrationsDir, '0099_extra.sql'), 'CREATE TABLE IF NOT EXISTS extra {{ON_CLUSTER}} (x UInt8) ENGINE = {{MERGE_TREE}} ORDER BY x;\n');
  const report = await runMigrations(ch, { dir: migrationsDir, schema: config });
  assert.deepEqual(
    report.outcomes.filter((o) => o.status === 'applied').map((o) => o.name),
    ['0099_extra.sql'],
  );
});

test('a second handle from another process is refused with a clear message', async () => {
  const { spawnSync } = await import('node:child_process');
  const script = `import { openClickHouse } from './ingest/src/clickhouse/client.ts';
    try { await openClickHouse(${JSON.stringify(config)}); console.log('opened'); }
    catch (e) { console.log(e.code, e.message); }`;
  const child = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  assert.match(child.stdout, /CONFIG_INVALID .*in use by process/);
});
