// One instrumented `openai` client call per outcome, through the whole pipeline: the real SDK against the
// OpenAI simulator → @modelwatch/instrumentation span → OTLP/HTTP exporter → gateway → real Kafka →
// consumer → embedded ClickHouse. Asserts the llm_calls rows and their provider/model/version/failure columns.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import * as openaiModule from 'openai';
import { drainPending } from 'chdb';
import { OpenAIInstrumentation } from '@modelwatch/instrumentation';
import { openClickHouse, type ClickHouseHandle } from '../../ingest/src/clickhouse/client.js';
import { clickHouseConfigFromEnv } from '../../ingest/src/clickhouse/config.js';
import { consumerConfigFromEnv } from '../../ingest/src/consumer/config.js';
import { startConsumer, type RunningConsumer } from '../../ingest/src/consumer/run-consumer.js';
import {
  createServiceTracing,
  withService,
  type ServiceTracing,
} from '../../ingest/src/demo/service-tracing.js';
import { gatewayConfigFromEnv } from '../../ingest/src/gateway/config.js';
import { startGateway, type RunningGateway } from '../../ingest/src/gateway/start-gateway.js';
import { silentLogger } from '../../ingest/src/log.js';
import { runMigrations } from '../../ingest/src/migrations/run-migrations.js';
import { startOpenAISimulator } from '../../ingest/src/simulators/openai-server.js';
import type { Reply, Simulator } from '../../ingest/src/simulators/reply.js';

const brokers = process.env.KAFKA_BROKERS;

/** What the simulator answers, chosen by the request's `user` field so each call's outcome is explicit. */
const REPLIES: Record<string, Reply> = {
  ok: { kind: 'success', model: 'gpt-4o-2024-08-06', outputTokens: 42, finishReason: 'stop' },
  streamed: { kind: 'stream', model: 'gpt-4o-2024-08-06', outputTokens: 7, chunks: 3 },
  overloaded: { kind: 'error', status: 503 },
  bad: { kind: 'error', status: 400, message: 'messages: field required' },
};

interface Row {
  ServiceName: string;
  Environment: string;
  Provider: string;
  RequestModel: string;
  ResponseModel: string;
  ModelFamily: string;
  ModelVersion: string;
  ModelSnapshot: string;
  IsFailure: number;
  FailureClass: string;
  FailureOrigin: string;
  HttpStatus: number;
  OutputTokens: number;
  Stream: number;
}

describe(
  'SDK call → ClickHouse row',
  { skip: brokers ? false : 'KAFKA_BROKERS not set (run through scripts/run-tests.mjs)' },
  () => {
    let dataDir: string;
    let clickhouse: ClickHouseHandle;
    let gateway: RunningGateway;
    let consumer: RunningConsumer;
    let simulator: Simulator;
    let tracing: ServiceTracing;
    const instrumentation = new OpenAIInstrumentation();
    const runTopic = `e2e-${process.pid}-${Date.now()}`;

    before(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'modelwatch-e2e-'));
      const chConfig = clickHouseConfigFromEnv({ MODELWATCH_DATA_DIR: dataDir });
      clickhouse = await openClickHouse(chConfig);
      await runMigrations(clickhouse, { schema: chConfig });
      const env = {
        KAFKA_BROKERS: brokers,
        MODELWATCH_TOPIC: runTopic,
        MODELWATCH_TOPIC_PARTITIONS: '1',
        MODELWATCH_GATEWAY_PORT: '0',
        MODELWATCH_CONSUMER_GROUP: runTopic,
        MODELWATCH_CONSUMER_METRICS_PORT: 'off',
        MODELWATCH_BATCH_MAX_WAIT_MS: '200',
      };
      gateway = await startGateway(gatewayConfigFromEnv(env), { logger: silentLogger });
      consumer = await startConsumer(consumerConfigFromEnv(env), { clickhouse, logger: silentLogger });
      simulator = await startOpenAISimulator({
        respond: (request) =>
          REPLIES[String((request.body as { user?: unknown }).user)] ?? { kind: 'success' },
      });
      tracing = createServiceTracing({
        services: ['e2e-service'],
        tracesUrl: `${gateway.url}/v1/traces`,
        resourceAttributes: { 'deployment.environment.name': 'e2e' },
      });
      instrumentation.setTracerProvider(tracing.router);
      instrumentation.enable();
      instrumentation.manuallyInstrument(openaiModule);
    });

    after(async () => {
      instrumentation.manuallyUninstrument(openaiModule);
      instrumentation.disable();
      await tracing?.shutdown();
      await simulator?.close();
      await gateway?.close();
      await consumer?.stop();
      await clickhouse?.close();
      await drainPending();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    });

    it('writes one typed row per call with provider, model version and failure columns', async () => {
      const client = new OpenAI({ apiKey: 'test-key', baseURL: simulator.baseURL, maxRetries: 0 });
      const messages = [{ role: 'user' as const, content: 'hi' }];
      await withService('e2e-service', async () => {
        await client.chat.completions.create({ model: 'gpt-4o', messages, user: 'ok' });
        const stream = await client.chat.completions.create({
          model: 'gpt-4o',
          messages,
          user: 'streamed',
          stream: true,
          stream_options: { include_usage: true },
        });
        for await (const _chunk of stream) {
          // drain
        }
        await assert.rejects(
          client.chat.completions.create({ model: 'gpt-4o-mini', messages, user: 'overloaded' }),
          { status: 503 },
        );
        await assert.rejects(client.chat.completions.create({ model: 'gpt-4o', messages, user: 'bad' }), {
          status: 400,
        });
      });
      await tracing.forceFlush();
      assert.ok(await consumer.waitUntilCaughtUp(30_000), 'consumer did not catch up');

      const result = await clickhouse.client.query({
        query: `SELECT ServiceName, Environment, Provider, RequestModel, ResponseModel, ModelFamily, ModelVersion, ModelSnapshot,
                     IsFailure, FailureClass, FailureOrigin, HttpStatus, OutputTokens, Stream
              FROM llm_calls ORDER BY Timestamp`,
        format: 'JSONEachRow',
      });
      const rows = await result.json<Row>();
      assert.equal(rows.length, 4);
      for (const row of rows) {
        assert.equal(row.ServiceName, 'e2e-service');
        assert.equal(row.Environment, 'e2e');
        assert.equal(row.Provider, 'openai');
      }
      const [ok, streamed, overloaded, bad] = rows;
      assert.deepEqual(
        [
          ok?.RequestModel,
          ok?.ResponseModel,
          ok?.ModelFamily,
          ok?.ModelVersion,
          ok?.ModelSnapshot,
          ok?.IsFailure,
          ok?.OutputTokens,
          ok?.Stream,
        ],
        ['gpt-4o', 'gpt-4o-2024-08-06', 'gpt-4o', '4o', '2024-08-06', 0, 42, 0],
      );
      assert.deepEqual(
        [streamed?.Stream, streamed?.IsFailure, streamed?.OutputTokens, streamed?.ModelSnapshot],
        [1, 0, 7, '2024-08-06'],
      );
      assert.deepEqual(
        [overloaded?.ModelFamily, overloaded?.IsFailure, overloaded?.FailureOrigin, overloaded?.HttpStatus],
        ['gpt-4o-mini', 1, 'provider', 503],
      );
      assert.ok(
        ['overloaded', 'server_error'].includes(overloaded?.FailureClass ?? ''),
        overloaded?.FailureClass,
      );
      assert.deepEqual(
        [bad?.IsFailure, bad?.FailureClass, bad?.FailureOrigin, bad?.HttpStatus],
        [1, 'bad_request', 'client', 400],
      );
    });
  },
);
