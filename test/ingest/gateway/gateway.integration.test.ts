// The gateway against a real Kafka broker: the real OTel JS exporters (JSON and protobuf, with and without
// gzip) post to it; records must land on the topic keyed by trace id, as otlp_proto with the encoding
// header, one record per trace; bad requests get the OTLP/HTTP status codes with google.rpc.Status bodies.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { gatewayConfigFromEnv } from '../../../ingest/src/gateway/config.js';
import { startGateway, type RunningGateway } from '../../../ingest/src/gateway/start-gateway.js';
import { silentLogger } from '../../../ingest/src/log.js';
import { HEADER_ENCODING } from '../../../ingest/src/names.js';
import { decodeTraceRequest } from '../../../ingest/src/otlp/decode.js';
import { RpcStatusType } from '../../../ingest/src/otlp/proto-types.js';
import { makeSpans } from '../otlp/otel-sdk-spans.js';
import {
  recordTopic,
  requireBrokers,
  uniqueName,
  type RecordedMessage,
  type TopicRecorder,
} from './gateway-test-kit.js';

const TOKEN = 'test-token-0123456789abcdef';
const MAX_BODY_BYTES = 1024 * 1024;
const AUTH = { Authorization: `Bearer ${TOKEN}` };

let gateway: RunningGateway;
let recorder: TopicRecorder;
let topic: string;

function exportWith(
  exporter: { export(spans: ReadableSpan[], done: (result: ExportResult) => void): void },
  spans: ReadableSpan[],
): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(spans, resolve));
}

function spanIdsOf(message: RecordedMessage): string[] {
  const decoded = decodeTraceRequest(message.value, 'otlp_proto');
  return decoded.resourceSpans.flatMap((r) =>
    r.scopeSpans.flatMap((s) => s.spans.map((span) => `${span.traceId}/${span.spanId}`)),
  );
}

/** Every span of `spans` must be on the topic, in records keyed by its trace id that hold only that trace. */
async function assertLanded(spans: ReadableSpan[]): Promise<void> {
  const wanted = new Set(spans.map((s) => `${s.spanContext().traceId}/${s.spanContext().spanId}`));
  const traceIds = new Set(spans.map((s) => s.spanContext().traceId));
  const messages = await recorder.waitFor((all) => {
    const seen = new Set(all.filter((m) => traceIds.has(m.key)).flatMap(spanIdsOf));
    return [...wanted].every((id) => seen.has(id));
  });
  for (const message of messages.filter((m) => traceIds.has(m.key))) {
    assert.equal(message.headers[HEADER_ENCODING], 'otlp_proto');
    for (const id of spanIdsOf(message))
      assert.equal(id.split('/')[0], message.key, 'a record holds its key trace only');
  }
  // A trace stays in one partition.
  for (const traceId of traceIds) {
    assert.equal(new Set(messages.filter((m) => m.key === traceId).map((m) => m.partition)).size, 1);
  }
}

interface RpcStatusJson {
  code: number;
  message: string;
}
const statusJson = async (response: Response): Promise<RpcStatusJson> =>
  (await response.json()) as RpcStatusJson;

async function post(
  path: string,
  init: { body?: Uint8Array | string; headers?: Record<string, string>; method?: string },
): Promise<Response> {
  return fetch(`${gateway.url}${path}`, {
    method: init.method ?? 'POST',
    body: init.body,
    headers: init.headers,
  });
}

before(async () => {
  const brokers = requireBrokers();
  topic = uniqueName('otlp_spans_gateway');
  const config = gatewayConfigFromEnv({
    KAFKA_BROKERS: brokers,
    MODELWATCH_GATEWAY_PORT: '0',
    MODELWATCH_TOPIC: topic,
    MODELWATCH_TOPIC_PARTITIONS: '3',
    MODELWATCH_GATEWAY_AUTH_TOKEN: TOKEN,
    MODELWATCH_GATEWAY_MAX_BODY_BYTES: String(MAX_BODY_BYTES),
  });
  gateway = await startGateway(config, { logger: silentLogger });
  recorder = await recordTopic(brokers, topic);
});

after(async () => {
  await recorder?.stop();
  await gateway?.close();
});

describe('gateway: real OTLP exporters -> Kafka', () => {
  it('accepts protobuf from @opentelemetry/exporter-trace-otlp-proto and splits a two-trace export by trace id', async () => {
    const first = await makeSpans(3);
    const second = await makeSpans(2);
    const exporter = new ProtoExporter({ url: `${gateway.url}/v1/traces`, headers: AUTH });
    const spans = [...first.spans, ...second.spans];
    const result = await exportWith(exporter, spans);
    assert.equal(result.code, ExportResultCode.SUCCESS, String(result.error));
    await exporter.shutdown();
    await assertLanded(spans);
  });

  it('accepts JSON from @opentelemetry/exporter-trace-otlp-http and stores it re-encoded as protobuf', async () => {
    const { spans } = await makeSpans(4);
    const exporter = new JsonExporter({ url: `${gateway.url}/v1/traces`, headers: AUTH });
    const result = await exportWith(exporter, spans);
    assert.equal(result.code, ExportResultCode.SUCCESS, String(result.error));
    await exporter.shutdown();
    await assertLanded(spans);
    const record = recorder.messages.find((m) => m.key === spans[0]!.spanContext().traceId)!;
    const decoded = decodeTraceRequest(record.value, 'otlp_proto');
    assert.equal(decoded.resourceSpans[0]!.resource.attributes['service.name'], 'checkout');
  });

  it('accepts gzip from both exporters', async () => {
    const proto = await makeSpans(2);
    const json = await makeSpans(2);
    const protoExporter = new ProtoExporter({
      url: `${gateway.url}/v1/traces`,
      headers: AUTH,
      compression: CompressionAlgorithm.GZIP,
    });
    const jsonExporter = new JsonExporter({
      url: `${gateway.url}/v1/traces`,
      headers: AUTH,
      compression: CompressionAlgorithm.GZIP,
    });
    assert.equal((await exportWith(protoExporter, proto.spans)).code, ExportResultCode.SUCCESS);
    assert.equal((await exportWith(jsonExporter, json.spans)).code, ExportResultCode.SUCCESS);
    await Promise.all([protoExporter.shutdown(), jsonExporter.shutdown()]);
    await assertLanded([...proto.spans, ...json.spans]);
  });

  it('answers 200 with an empty ExportTraceServiceResponse in the request encoding', async () => {
    const { spans } = await makeSpans(1);
    const protoResponse = await post('/v1/traces', {
      body: ProtobufTraceSerializer.serializeRequest(spans)!,
      headers: { ...AUTH, 'Content-Type': 'application/x-protobuf' },
    });
    assert.equal(protoResponse.status, 200);
    assert.equal(protoResponse.headers.get('content-type'), 'application/x-protobuf');
    assert.equal((await protoResponse.arrayBuffer()).byteLength, 0);
    const jsonResponse = await post('/v1/traces', {
      body: JsonTraceSerializer.serializeRequest(spans)!,
      headers: { ...AUTH, 'Content-Type': 'application/json; charset=utf-8' },
    });
    assert.equal(jsonResponse.status, 200);
    assert.deepEqual(await jsonResponse.json(), {});
  });
});

describe('gateway: rejected requests', () => {
  it('401 without or with a wrong bearer token', async () => {
    const { proto } = await makeSpans(1);
    const attempts: Array<Record<string, string>> = [
      {},
      { Authorization: 'Bearer wrong' },
      { Authorization: TOKEN },
    ];
    for (const headers of attempts) {
      const response = await post('/v1/traces', {
        body: proto,
        headers: { ...headers, 'Content-Type': 'application/x-protobuf' },
      });
      assert.equal(response.status, 401);
      assert.equal(response.headers.get('www-authenticate'), 'Bearer');
      const status = RpcStatusType.decode(new Uint8Array(await response.arrayBuffer())) as unknown as {
        code: number;
        message: string;
      };
      assert.equal(status.code, 16);
    }
  });

  it('415 for other content types and content encodings', async () => {
    const response = await post('/v1/traces', {
      body: 'hello',
      headers: { ...AUTH, 'Content-Type': 'text/plain' },
    });
    assert.equal(response.status, 415);
    assert.match((await statusJson(response)).message, /unsupported Content-Type "text\/plain"/);
    const brotli = await post('/v1/traces', {
      body: 'x',
      headers: { ...AUTH, 'Content-Type': 'application/json', 'Content-Encoding': 'br' },
    });
    assert.equal(brotli.status, 415);
  });

  it('400 with a readable google.rpc.Status for undecodable or invalid input, in the request encoding', async () => {
    const garbage = await post('/v1/traces', {
      body: Buffer.from('not a protobuf message \u00ff\u00ff'),
      headers: { ...AUTH, 'Content-Type': 'application/x-protobuf' },
    });
    assert.equal(garbage.status, 400);
    assert.equal(garbage.headers.get('content-type'), 'application/x-protobuf');
    const status = RpcStatusType.decode(new Uint8Array(await garbage.arrayBuffer())) as unknown as {
      code: number;
      message: string;
    };
    assert.equal(status.code, 3);
    assert.match(status.message, /not a protobuf ExportTraceServiceRequest/);

    const badJson = await post('/v1/traces', {
      body: '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"abc","spanId":"0102030405060708"}]}]}]}',
      headers: { ...AUTH, 'Content-Type': 'application/json' },
    });
    assert.equal(badJson.status, 400);
    const body = await statusJson(badJson);
    assert.equal(body.code, 3);
    assert.match(body.message, /span 0 trace id "abc" is not a hex string/);

    const badGzip = await post('/v1/traces', {
      body: Buffer.from('definitely not gzip'),
      headers: { ...AUTH, 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
    });
    assert.equal(badGzip.status, 400);
    assert.match((await statusJson(badGzip)).message, /cannot decompress/);
  });

  it('413 when the body is over the cap, before or after decompression', async () => {
    const big = Buffer.alloc(MAX_BODY_BYTES + 1, 0x20);
    const plain = await post('/v1/traces', {
      body: big,
      headers: { ...AUTH, 'Content-Type': 'application/json' },
    });
    assert.equal(plain.status, 413);
    assert.match((await statusJson(plain)).message, /exceeds 1048576 bytes/);
    // A small gzip that expands past the cap: the limit applies after decompression.
    const bomb = gzipSync(Buffer.alloc(MAX_BODY_BYTES * 4, 0x20));
    assert.ok(bomb.byteLength < 16 * 1024);
    const compressed = await post('/v1/traces', {
      body: bomb,
      headers: { ...AUTH, 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
    });
    assert.equal(compressed.status, 413);
    assert.match((await statusJson(compressed)).message, /after decompression/);
  });

  it('404 / 405 for other routes and methods', async () => {
    assert.equal(
      (await post('/v1/metrics', { body: '{}', headers: { 'Content-Type': 'application/json' } })).status,
      404,
    );
    const get = await fetch(`${gateway.url}/v1/traces`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
  });
});

describe('gateway: health and metrics', () => {
  it('/healthz is 200 while Kafka is connected', async () => {
    const response = await fetch(`${gateway.url}/healthz`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), 'ok\n');
  });

  it('/metrics exposes requests by status, spans, bytes, rejects by reason and the publish histogram', async () => {
    const response = await fetch(`${gateway.url}/metrics`, { signal: AbortSignal.timeout(5_000) });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    const value = (series: string): number => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      assert.ok(line, `${series} present`);
      return Number(line.split(' ')[1]);
    };
    assert.ok(value('modelwatch_gateway_requests_total{status="200"}') >= 6);
    assert.ok(value('modelwatch_gateway_requests_total{status="401"}') >= 3);
    assert.ok(value('modelwatch_gateway_spans_total') >= 15); // 5 + 4 + 2 + 2 + 2 spans exported above
    assert.ok(value('modelwatch_gateway_received_bytes_total') > 0);
    assert.ok(value('modelwatch_gateway_rejected_requests_total{reason="too_large"}') >= 2);
    assert.ok(value('modelwatch_gateway_rejected_requests_total{reason="decode_failed"}') >= 2);
    assert.ok(value('modelwatch_gateway_rejected_requests_total{reason="invalid"}') >= 1);
    assert.ok(value('modelwatch_gateway_kafka_publish_duration_seconds_count') >= 6);
    assert.equal(
      value('modelwatch_gateway_kafka_publish_duration_seconds_bucket{le="+Inf"}'),
      value('modelwatch_gateway_kafka_publish_duration_seconds_count'),
    );
    assert.equal(value('modelwatch_gateway_kafka_connected'), 1);
  });
});
