/**
 * The consumer as a service: environment -> ClickHouse (server or embedded) -> migrations (unless
 * MODELWATCH_MIGRATE_ON_START=false) -> startConsumer; SIGTERM/SIGINT stop it gracefully (write and commit
 * what was taken, leave the group). A bin/ entry or CLI command only needs to call serveConsumer().
 */
import { openClickHouse } from '../clickhouse/client.js';
import { clickHouseConfigFromEnv } from '../clickhouse/config.js';
import { errorMessage } from '../errors.js';
import { createLogger, type LogLevel, type Logger } from '../log.js';
import { runMigrations } from '../migrations/run-migrations.js';
import { consumerConfigFromEnv } from './config.js';
import { startConsumer, type RunningConsumer } from './run-consumer.js';

export interface ServeConsumerOptions {
  logger?: Logger;
  /** Called once consuming started (tests and supervisors use it as the readiness signal). */
  onReady?: (consumer: RunningConsumer) => void;
}

const LOG_LEVELS: ReadonlySet<string> = new Set([
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
]);

/** Runs until a signal or a fatal consumer crash; resolves with the process exit code to use. */
export async function serveConsumer(
  env: NodeJS.ProcessEnv,
  options: ServeConsumerOptions = {},
): Promise<number> {
  const level =
    env.MODELWATCH_LOG_LEVEL && LOG_LEVELS.has(env.MODELWATCH_LOG_LEVEL)
      ? (env.MODELWATCH_LOG_LEVEL as LogLevel)
      : 'info';
  const logger = options.logger ?? createLogger('consumer', level);
  // Both configs are parsed before anything connects, so a bad environment fails fast with every problem named.
  const config = consumerConfigFromEnv(env);
  const clickHouseConfig = clickHouseConfigFromEnv(env);
  const clickhouse = await openClickHouse(clickHouseConfig);
  try {
    logger.info({ clickhouse: clickhouse.describe() }, 'ClickHouse opened');
    if (config.migrateOnStart) {
      const report = await runMigrations(clickhouse, { schema: clickHouseConfig, logger });
      logger.info({ applied: report.applied }, 'migrations checked');
    }
    const consumer = await startConsumer(config, {
      clickhouse,
      logger,
      processMetrics: true,
    });
    let stopRequested = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      stopRequested = true;
      logger.info({ signal }, 'stopping consumer');
      void consumer.stop();
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    options.onReady?.(consumer);
    await consumer.done;
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    // done without stop() means kafkajs gave up: exit non-zero so a supervisor restarts the service.
    return stopRequested ? 0 : 1;
  } catch (error) {
    logger.fatal({ err: errorMessage(error) }, 'consumer failed');
    return 1;
  } finally {
    await clickhouse.close();
  }
}
