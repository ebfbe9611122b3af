// `modelwatch gateway` and `modelwatch ingest` as the services they are: two child processes on the real
// Kafka broker (KAFKA_BROKERS from the test runner) and an embedded store in a temp dir. One OTLP/JSON LLM
// span goes in over HTTP; SIGTERM stops both cleanly (exit 0), the consumer writing the batch it holds
// before it leaves (its batch wait is a minute, so only the shutdown drain can write it) and committing
// its offsets; `modelwatch query` then finds the row. Also: MODELWATCH_MIGRATE_ON_START=false is honoured,
// and bad configuration stops either command with exit 78 naming every bad variable.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { EXIT_SERVICE_FAILED } from '../../../ingest/src/cli/exit-codes.js';
import {
  eventually,
  isListening,
  killAll,
  runModelwatch,
  startModelwatch,
  type ModelwatchProcess,
} from './fixtures/modelwatch-process.js';

const brokers = process.env.KAFKA_BROKERS ?? '';
const runId = randomBytes(4).toString('hex');
const topic = `modelwatch-cli-${runId}`;
const group = `modelwatch-cli-${runId}`;
let scratch: string;

const traceId = randomBytes(16).toString('hex');
const spanId = randomBytes(8).toString('hex');

/** One LLM call span as an OTLP/JSON exporter sends it (hex ids, nanosecond strings, typed attribute values). */
function otlpJsonBody(): string {
  const endNs = BigInt(Date.now()) * 1_000_000n;
  const startNs = endNs - 1_250_000_000n;
  const attr = (key: string, value: string | number) => ({
    key,
    value: typeof value === 'string' ? { stringValue: value } : { intValue: String(value) },
  });
  return JSON.stringify({
    resourceSpans: [
      {
        resource: {
          attributes: [attr('service.name', 'cli-test'), attr('deployment.environment.name', 'test')],
        },
        scopeSpans: [
          {
            scope: { name: 'cli-test' },
            spans: [
              {
                traceId,
                spanId,
                name: 'chat claude-opus-4-7',
                kind: 3,
                startTimeUnixNano: startNs.toString(),
                endTimeUnixNano: endNs.toString(),
                attributes: [
                  attr('gen_ai.operation.name', 'chat'),
                  attr('gen_ai.provider.name', 'anthropic'),
                  attr('gen_ai.request.model', 'claude-opus-4-7'),
                  attr('gen_ai.usage.input_tokens', 12),
                  attr('gen_ai.usage.output_tokens', 34),
                ],
                status: {},
              },
            ],
          },
        ],
      },
    ],
  });
}

async function metricValue(port: number, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

const exists = (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false,
  );

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'modelwatch-services-cli-'));
});
after(async () => {
  await killAll();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe(
  'modelwatch gateway + ingest as processes',
  { skip: brokers ? false : 'KAFKA_BROKERS not set (run through scripts/run-tests.mjs)' },
  () => {
    let dataDir: string;
    let gateway: ModelwatchProcess;
    let ingest: ModelwatchProcess;

    before(() => {
      dataDir = join(scratch, 'clickhouse');
    });

    it('carries one OTLP/JSON span to ClickHouse, and both stop cleanly on SIGTERM after draining', async () => {
      const serviceEnv = { KAFKA_BROKERS: brokers, MODELWATCH_TOPIC: topic, MODELWATCH_LOG_LEVEL: 'info' };
      gateway = startModelwatch(['gateway'], {
        ...serviceEnv,
        MODELWATCH_GATEWAY_PORT: '0',
        MODELWATCH_TOPIC_PARTITIONS: '2',
      });
      // The gateway creates the topic, which the consumer subscribes to: it goes first.
      const [, url = '', port = ''] = await gateway.waitFor(
        /gateway listening on (http:\/\/127\.0\.0\.1:(\d+))/,
        60_000,
      );

      ingest = startModelwatch(['ingest'], {
        ...serviceEnv,
        MODELWATCH_CONSUMER_GROUP: group,
        MODELWATCH_DATA_DIR: dataDir,
        MODELWATCH_CONSUMER_METRICS_PORT: '0',
        MODELWATCH_CONSUMER_METRICS_HOST: '127.0.0.1',
        // Longer than the test waits: only the shutdown drain writes the batch.
        MODELWATCH_BATCH_MAX_WAIT_MS: '60000',
      });
      await ingest.waitFor(/ingesting Kafka topic \S+ \(group \S+\) into embedded ClickHouse/, 60_000);
      const [, metricsPort = ''] = await ingest.waitFor(/"metricsPort":(\d+)/, 10_000);
      // Migrations ran first (MODELWATCH_MIGRATE_ON_START defaults to true).
      assert.match(ingest.stdout(), /"migration":"0003_llm_calls\.sql".*"msg":"migration applied"/);

      const response = await fetch(`${url}/v1/traces`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: otlpJsonBody(),
      });
      assert.equal(response.status, 200, await response.text());

      // The consumer took the record into a batch, and has not written it yet.
      await eventually(
        'record consumed',
        async () =>
          (await metricValue(
            Number(metricsPort),
            'modelwatch_consumer_records_consumed_total',
            `topic="${topic}"`,
          )) >= 1
            ? true
            : undefined,
        60_000,
      );
      assert.equal(
        await metricValue(Number(metricsPort), 'modelwatch_consumer_rows_written_total', 'table="llm_calls"'),
        0,
      );

      ingest.signal('SIGTERM');
      const ingestRun = await ingest.exited(60_000);
      assert.equal(ingestRun.code, 0, ingestRun.stderr);
      const stopped = ingestRun.stdout.split('\n').find((line) => line.includes('"msg":"consumer stopped"'));
      assert.ok(stopped, ingestRun.stdout);
      const totals = JSON.parse(stopped) as { recordsConsumed: number; llmCallsWritten: number };
      assert.deepEqual([totals.recordsConsumed, totals.llmCallsWritten], [1, 1]);
      assert.equal(await isListening(Number(metricsPort)), false);
      assert.equal(await exists(join(dataDir, '.modelwatch.lock')), false, 'data dir lock released');

      gateway.signal('SIGTERM');
      const gatewayRun = await gateway.exited(30_000);
      assert.equal(gatewayRun.code, 0, gatewayRun.stderr);
      assert.match(gatewayRun.stdout, /"msg":"OTLP\/HTTP gateway stopped"/);
      assert.equal(await isListening(Number(port)), false);

      // Drained: the group committed every offset the gateway produced.
      const admin = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      try {
        const ends = await admin.fetchTopicOffsets(topic);
        const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
        const committedOf = new Map(committed?.partitions.map((p) => [p.partition, p.offset]));
        assert.equal(
          ends.reduce((sum, p) => sum + Number(p.high), 0),
          1,
          'the gateway produced one record',
        );
        // A partition that never held a record has nothing to commit (-1).
        for (const { partition, high } of ends.filter((p) => Number(p.high) > 0))
          assert.equal(committedOf.get(partition), high, `partition ${partition} committed to its end`);
      } finally {
        await admin.disconnect();
      }

      const query = await runModelwatch(
        [
          'query',
          'SELECT ServiceName, Environment, Provider, ModelFamily, ModelVersion, InputTokens, OutputTokens, DurationMs FROM llm_calls WHERE TraceId = {t:String}',
          '--param',
          `t=${traceId}`,
          '--format',
          'json',
        ],
        { MODELWATCH_DATA_DIR: dataDir },
      );
      assert.equal(query.code, 0, query.stderr);
      assert.deepEqual(JSON.parse(query.stdout), [
        {
          ServiceName: 'cli-test',
          Environment: 'test',
          Provider: 'anthropic',
          ModelFamily: 'claude-opus',
          ModelVersion: '4.7',
          InputTokens: 12,
          OutputTokens: 34,
          DurationMs: 1250,
        },
      ]);
    });

    it('ingest with MODELWATCH_MIGRATE_ON_START=false leaves the schema alone and says to migrate', async () => {
      const freshDir = join(scratch, 'unmigrated');
      const run = await runModelwatch(['ingest'], {
        KAFKA_BROKERS: brokers,
        MODELWATCH_TOPIC: topic,
        MODELWATCH_CONSUMER_GROUP: `${group}-nomigrate`,
        MODELWATCH_DATA_DIR: freshDir,
        MODELWATCH_CONSUMER_METRICS_PORT: 'off',
        MODELWATCH_MIGRATE_ON_START: 'false',
      });
      assert.equal(run.code, EXIT_SERVICE_FAILED, run.stderr);
      assert.match(run.stderr, /modelwatch_consumer_state is missing: run `modelwatch migrate`/);
      assert.doesNotMatch(run.stdout, /migration applied/);

      const tables = await runModelwatch(
        [
          'query',
          'SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name',
          '--format',
          'csv',
        ],
        { MODELWATCH_DATA_DIR: freshDir },
      );
      assert.equal(tables.code, 0, tables.stderr);
      const names = tables.stdout.trim().split(/\r?\n/).slice(1);
      for (const table of [
        'modelwatch_migrations',
        'modelwatch_consumer_state',
        'otel_traces',
        'llm_calls',
        'llm_calls_1m',
      ])
        assert.ok(!names.includes(table), `${table} exists: ${names.join(', ')}`);
    });
  },
);

describe('modelwatch gateway / ingest with bad configuration', () => {
  it('gateway exits 78 naming every bad variable, before connecting to anything', async () => {
    const run = await runModelwatch(['gateway'], { MODELWATCH_GATEWAY_PORT: 'abc' });
    assert.equal(run.code, 78, run.stderr);
    assert.match(run.stderr, /CONFIG_INVALID: .*MODELWATCH_GATEWAY_PORT/s);
    assert.match(run.stderr, /KAFKA_BROKERS: is required/);
    assert.doesNotMatch(run.stderr, /\n\s+at /);
  });

  it('ingest exits 78 naming every bad variable, before opening the store', async () => {
    const dataDir = join(scratch, 'never-created');
    const run = await runModelwatch(['ingest'], {
      MODELWATCH_DATA_DIR: dataDir,
      MODELWATCH_MIGRATE_ON_START: 'maybe',
      MODELWATCH_BATCH_MAX_SPANS: '-1',
    });
    assert.equal(run.code, 78, run.stderr);
    assert.match(run.stderr, /CONFIG_INVALID: .*MODELWATCH_MIGRATE_ON_START: must be true or false/s);
    assert.match(run.stderr, /MODELWATCH_BATCH_MAX_SPANS/);
    assert.equal(await exists(dataDir), false);
  });
});
