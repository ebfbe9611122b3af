// The gateway while its Kafka broker goes away and comes back: it must answer 503 + Retry-After (which OTLP
// exporters retry) within its publish timeout rather than hang or claim success, report unhealthy, and
// accept spans again once the broker is back. Uses its own broker (stop/restart on the same ports and data).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { gatewayConfigFromEnv } from '../../../ingest/src/gateway/config.js';
import { startGateway, type RunningGateway } from '../../../ingest/src/gateway/start-gateway.js';
import { startLocalKafka, type LocalKafka } from '../../../ingest/src/kafka/local-broker/local-broker.js';
import { silentLogger } from '../../../ingest/src/log.js';
import { makeSpans } from '../otlp/otel-sdk-spans.js';
import { recordTopic, uniqueName } from './gateway-test-kit.js';

const PUBLISH_TIMEOUT_MS = 3_000;
let kafka: LocalKafka | undefined;
let gateway: RunningGateway | undefined;
let dataDir: string;
const topic = uniqueName('otlp_spans_restart');

async function postSpans(body: Uint8Array): Promise<Response> {
  return fetch(`${gateway!.url}/v1/traces`, {
    method: 'POST',
    body,
    headers: { 'Content-Type': 'application/x-protobuf' },
    signal: AbortSignal.timeout(PUBLISH_TIMEOUT_MS * 4),
  });
}

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'modelwatch-gateway-restart-'));
  kafka = await startLocalKafka({ dataDir });
  gateway = await startGateway(
    gatewayConfigFromEnv({
      KAFKA_BROKERS: kafka.brokers,
      MODELWATCH_GATEWAY_PORT: '0',
      MODELWATCH_TOPIC: topic,
      MODELWATCH_GATEWAY_PUBLISH_TIMEOUT_MS: String(PUBLISH_TIMEOUT_MS),
      MODELWATCH_GATEWAY_RETRY_AFTER_S: '2',
    }),
    { logger: silentLogger },
  );
});

after(async () => {
  await gateway?.close();
  await kafka?.stop();
  // Also when the test failed between stop and restart (no running broker owns the dir then).
  await rm(dataDir, { recursive: true, force: true });
});

it(
  'answers 503 + Retry-After while Kafka is down, and 200 again after it restarts',
  { timeout: 180_000 },
  async () => {
    const before = await makeSpans(2);
    assert.equal((await postSpans(before.proto)).status, 200);

    const { port, controllerPort } = kafka!;
    await kafka!.stop();
    kafka = undefined;

    const during = await makeSpans(2);
    const startedAt = Date.now();
    const down = await postSpans(during.proto);
    assert.equal(down.status, 503);
    assert.equal(down.headers.get('retry-after'), '2');
    assert.ok(Date.now() - startedAt < PUBLISH_TIMEOUT_MS + 2_000, 'bounded wait');
    assert.equal((await fetch(`${gateway!.url}/healthz`)).status, 503);

    kafka = await startLocalKafka({ dataDir, port, controllerPort });
    // What an exporter does: retry until accepted.
    const deadline = Date.now() + 90_000;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await postSpans(during.proto)).status;
      if (status === 200) break;
      assert.equal(status, 503);
      await sleep(1_000);
    }
    assert.equal(status, 200, 'accepted after the broker came back');
    assert.equal((await fetch(`${gateway!.url}/healthz`)).status, 200);

    // Both exports are on the topic (the broker kept its data across the restart).
    const recorder = await recordTopic(kafka.brokers, topic);
    try {
      const traceIds = [before, during].map((made) => made.spans[0]!.spanContext().traceId);
      await recorder.waitFor((messages) => traceIds.every((id) => messages.some((m) => m.key === id)));
    } finally {
      await recorder.stop();
    }
  },
);
