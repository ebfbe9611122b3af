import assert from 'node:assert/strict';
import { test } from 'node:test';
import { consumerConfigFromEnv } from '../../../ingest/src/consumer/config.js';
import { IngestError } from '../../../ingest/src/errors.js';

test('defaults', () => {
  const config = consumerConfigFromEnv({});
  assert.deepEqual(config.brokers, ['localhost:9092']);
  assert.equal(config.topic, 'otlp_spans');
  assert.equal(config.groupId, 'modelwatch-ingest');
  assert.equal(config.batchMaxSpans, 20_000);
  assert.equal(config.batchMaxBytes, 32 * 1024 * 1024);
  assert.equal(config.batchMaxWaitMs, 1000);
  assert.equal(config.metricsPort, 9464);
  assert.equal(config.migrateOnStart, true);
  assert.equal(config.testCrashAfterInsert, undefined);
});

test('values from the environment; empty strings count as unset', () => {
  const config = consumerConfigFromEnv({
    KAFKA_BROKERS: 'a:9092, b:9093',
    MODELWATCH_TOPIC: '',
    MODELWATCH_CONSUMER_METRICS_PORT: 'off',
    MODELWATCH_MIGRATE_ON_START: 'false',
    MODELWATCH_BATCH_MAX_WAIT_MS: '250',
  });
  assert.deepEqual(config.brokers, ['a:9092', 'b:9093']);
  assert.equal(config.topic, 'otlp_spans');
  assert.equal(config.metricsPort, null);
  assert.equal(config.migrateOnStart, false);
  assert.equal(config.batchMaxWaitMs, 250);
});

test('every bad variable is named in one error', () => {
  assert.throws(
    () =>
      consumerConfigFromEnv({
        KAFKA_BROKERS: 'no-port',
        MODELWATCH_BATCH_MAX_SPANS: '-5',
        MODELWATCH_CONSUMER_METRICS_PORT: 'nope',
        MODELWATCH_CONSUMER_RETRY_MIN_MS: '5000',
        MODELWATCH_CONSUMER_RETRY_MAX_MS: '100',
      }),
    (error: unknown) => {
      assert.ok(error instanceof IngestError);
      assert.equal(error.code, 'CONFIG_INVALID');
      for (const name of [
        'KAFKA_BROKERS',
        'MODELWATCH_BATCH_MAX_SPANS',
        'MODELWATCH_CONSUMER_METRICS_PORT',
      ]) {
        assert.match(error.message, new RegExp(name));
      }
      return true;
    },
  );
});
