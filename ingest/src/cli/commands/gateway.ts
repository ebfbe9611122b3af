/** `modelwatch gateway`: the OTLP/HTTP receiver that publishes spans to Kafka (answers 2xx after Kafka acked). */
import { defineCommand } from 'citty';
import { gatewayConfigFromEnv } from '../../gateway/config.js';
import { startGateway } from '../../gateway/start-gateway.js';
import { createLogger } from '../../log.js';
import { listenForShutdown } from '../shutdown-signal.js';
import { err } from '../terminal.js';

export default defineCommand({
  meta: {
    name: 'gateway',
    description:
      'Receive OTLP/HTTP spans (POST /v1/traces, protobuf or JSON) and publish them to Kafka. Runs until Ctrl-C.',
  },
  args: {
    host: { type: 'string', description: 'listen address (env MODELWATCH_GATEWAY_HOST; default 127.0.0.1)' },
    port: { type: 'string', description: 'listen port (env MODELWATCH_GATEWAY_PORT; default 4318)' },
    'kafka-brokers': { type: 'string', description: 'host:port list (env KAFKA_BROKERS; required)' },
    topic: { type: 'string', description: 'Kafka topic (env MODELWATCH_TOPIC; default otlp_spans)' },
    'log-level': {
      type: 'string',
      description: 'fatal|error|warn|info|debug|trace|silent (env MODELWATCH_LOG_LEVEL)',
    },
  },
  async run({ args }) {
    const config = gatewayConfigFromEnv({
      ...process.env,
      ...(args.host !== undefined ? { MODELWATCH_GATEWAY_HOST: args.host } : {}),
      ...(args.port !== undefined ? { MODELWATCH_GATEWAY_PORT: args.port } : {}),
      ...(args['kafka-brokers'] !== undefined ? { KAFKA_BROKERS: args['kafka-brokers'] } : {}),
      ...(args.topic !== undefined ? { MODELWATCH_TOPIC: args.topic } : {}),
      ...(args['log-level'] !== undefined ? { MODELWATCH_LOG_LEVEL: args['log-level'] } : {}),
    });
    const shutdown = listenForShutdown();
    try {
      const gateway = await startGateway(config, { logger: createLogger('gateway', config.logLevel) });
      err(
        `gateway listening on ${gateway.url} (OTEL_EXPORTER_OTLP_ENDPOINT=${gateway.url}) → Kafka topic ${config.topic}`,
      );
      await shutdown.signalled;
      // Drains: requests in flight still get Kafka's ack (or a 503) before the producer disconnects.
      await gateway.close();
    } finally {
      shutdown.dispose();
    }
    return 0;
  },
});
