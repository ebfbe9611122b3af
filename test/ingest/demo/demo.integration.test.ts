// The demo end to end with the default scenario at double speed: real Kafka (KAFKA_BROKERS from the test
// runner), the gateway and consumer in-process, the embedded engine in a temp dir, the real SDKs against
// the simulators. Asserts the report flags exactly claude-opus 4.7 and 4.8 as version-specific provider
// infrastructure, blames checkout's 400s on the client, and that ClickHouse holds one row per call.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { drainPending } from 'chdb';
import { openClickHouse } from '../../../ingest/src/clickhouse/client.js';
import { clickHouseConfigFromEnv } from '../../../ingest/src/clickhouse/config.js';
import { DEFAULT_SCENARIO_PATH, runDemo, type DemoResult } from '../../../ingest/src/demo/run-demo.js';

const brokers = process.env.KAFKA_BROKERS;
let dataDir: string;
let result: DemoResult;

describe(
  'modelwatch demo (default scenario, speed 2)',
  { skip: brokers ? false : 'KAFKA_BROKERS not set (run through scripts/run-tests.mjs)' },
  () => {
    before(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'modelwatch-demo-test-'));
      result = await runDemo({
        scenario: DEFAULT_SCENARIO_PATH,
        speed: 2,
        env: { KAFKA_BROKERS: brokers, MODELWATCH_DATA_DIR: dataDir },
      });
    });
    after(async () => {
      await drainPending();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    });

    it('writes exactly one llm_calls row per call the traffic generator made', async () => {
      assert.ok(result.traffic.calls > 200, `only ${result.traffic.calls} calls`);
      assert.equal(result.traffic.skipped, 0);
      assert.equal(result.gatewaySpans, result.traffic.calls);
      assert.equal(result.rows, result.traffic.calls);
      // Counted again, independently of the demo's own query: the data dir holds only this run.
      await drainPending();
      const handle = await openClickHouse(clickHouseConfigFromEnv({ MODELWATCH_DATA_DIR: dataDir }));
      try {
        const rows = await handle.client.query({
          query: 'SELECT count() AS n, countIf(IsFailure = 1) AS failed FROM llm_calls',
          format: 'JSONEachRow',
        });
        const [row] = await rows.json<{ n: string; failed: string }>();
        assert.equal(Number(row?.n), result.traffic.calls);
        assert.equal(Number(row?.failed), result.traffic.failedCalls);
      } finally {
        await handle.close();
      }
    });

    it('flags claude-opus 4.7 and 4.8 and nothing else on the provider side', () => {
      // On a loaded machine every call may get slower at once; the report then says so (localSlowdown)
      // instead of blaming versions, and the provider-side flags below must still be exactly the two.
      const flagged = result.report.versions
        .filter((v) => v.signals.some((s) => s !== 'client'))
        .map((v) => `${v.provider} ${v.family} ${v.version}`);
      assert.deepEqual(
        flagged,
        ['anthropic claude-opus 4.7', 'anthropic claude-opus 4.8'],
        JSON.stringify(result.report.versions.map((v) => [v.family, v.version, v.signals])),
      );
    });

    it('calls it version-specific provider infrastructure', () => {
      assert.equal(result.report.providerVerdicts.length, 1);
      const verdict = result.report.providerVerdicts[0];
      assert.equal(verdict?.provider, 'anthropic');
      assert.equal(verdict?.scope, 'versions');
      assert.ok(verdict?.signals.includes('infrastructure'));
      assert.deepEqual(verdict?.healthy.map((v) => v.family).sort(), ['claude-haiku', 'claude-sonnet']);
      assert.match(
        verdict?.text ?? '',
        /^anthropic claude-opus 4\.7 and 4\.8: provider infrastructure \(overloaded [\d.]+%, server_error [\d.]+%\).* since \d\d:\d\d:\d\d, other anthropic versions normal — disable these versions, not the provider$/,
      );
      const incident = result.traffic.phases.find((p) => p.name === 'opus-degraded');
      // Since when: within the incident phase (bucketed to 5 s).
      assert.ok(
        verdict?.sinceMs !== undefined &&
          incident &&
          verdict.sinceMs >= incident.startMs - 5_000 &&
          verdict.sinceMs < incident.endMs,
      );
    });

    it("blames checkout's bad requests on the client, not on openai", () => {
      assert.equal(result.report.clientVerdicts.length, 1);
      const client = result.report.clientVerdicts[0];
      assert.deepEqual(
        [client?.provider, client?.family, client?.services[0]],
        ['openai', 'gpt-4o', 'checkout'],
      );
      assert.deepEqual(client?.failureClasses, ['bad_request']);
      assert.match(client?.text ?? '', /openai itself is healthy$/);
    });
  },
);
