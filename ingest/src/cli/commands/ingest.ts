/** `modelwatch ingest`: the Kafka → ClickHouse consumer (exactly-once inserts, DLQ for poison messages). */
import { defineCommand } from 'citty';
import { openClickHouse } from '../../clickhouse/client.js';
import { consumerConfigFromEnv } from '../../consumer/config.js';
import { startConsumer } from '../../consumer/run-consumer.js';
import { createLogger } from '../../log.js';
import { runMigrations } from '../../migrations/run-migrations.js';
import { EXIT_OK, EXIT_SERVICE_FAILED } from '../exit-codes.js';
import { listenForShutdown } from '../shutdown-signal.js';
import { err } from '../terminal.js';
import { clickHouseConfigFromFlags, envWithStoreFlags, logLevelFromEnv, storeArgs } from './_shared.js';

export default defineCommand({
  meta: {
    name: 'ingest',
    description:
      'Consume spans from Kafka and write them to ClickHouse (otel_traces, llm_calls, rollups). Runs until Ctrl-C.',
  },
  args: {
    'kafka-brokers': { type: 'string', description: 'host:port list (env KAFKA_BROKERS; required)' },
    topic: { type: 'string', description: 'Kafka topic (env MODELWATCH_TOPIC; default otlp_spans)' },
    group: {
      type: 'string',
      description: 'consumer group (env MODELWATCH_CONSUMER_GROUP; default modelwatch-ingest)',
    },
    'log-level': {
      type: 'string',
      description: 'fatal|error|warn|info|debug|trace|silent (env MODELWATCH_LOG_LEVEL)',
    },
    ...storeArgs,
  },
  async run({ args }) {
    const env = envWithStoreFlags(args, {
      ...process.env,
      ...(args['kafka-brokers'] !== undefined ? { KAFKA_BROKERS: args['kafka-brokers'] } : {}),
      ...(args.topic !== undefined ? { MODELWATCH_TOPIC: args.topic } : {}),
      ...(args.group !== undefined ? { MODELWATCH_CONSUMER_GROUP: args.group } : {}),
      ...(args['log-level'] !== undefined ? { MODELWATCH_LOG_LEVEL: args['log-level'] } : {}),
    });
    const config = consumerConfigFromEnv(env);
    const chConfig = clickHouseConfigFromFlags({}, env);
    const logger = createLogger('ingest', logLevelFromEnv(env));
    // Listening before the slow start: a SIGTERM while migrating or joining the group is a graceful stop.
    const shutdown = listenForShutdown();
    try {
      const clickhouse = await openClickHouse(chConfig);
      try {
        // MODELWATCH_MIGRATE_ON_START=false: the schema is someone else's job (a `modelwatch migrate` step
        // in the deployment, or a DBA); startConsumer checks its state table is there and says so if not.
        if (config.migrateOnStart) await runMigrations(clickhouse, { schema: chConfig, logger });
        const consumer = await startConsumer(config, { clickhouse, logger });
        err(`ingesting Kafka topic ${config.topic} (group ${config.groupId}) into ${clickhouse.describe()}`);
        await Promise.race([shutdown.signalled, consumer.done]);
        // Writes and commits the batches it holds, then leaves the group.
        await consumer.stop();
        if (shutdown.received() === undefined) {
          // done without a signal: kafkajs gave up (its log says why). Non-zero so a supervisor restarts it.
          err('modelwatch: the consumer stopped unexpectedly (see its log)');
          return EXIT_SERVICE_FAILED;
        }
        return EXIT_OK;
      } finally {
        await clickhouse.close();
      }
    } finally {
      shutdown.dispose();
    }
  },
});
