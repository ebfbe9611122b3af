/**
 * Wires the gateway: Kafka publisher (connected, topic ensured) + OTLP/HTTP server. close() stops taking
 * connections, lets in-flight requests finish (their Kafka acks included), then disconnects from Kafka.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.js';
import type { GatewayConfig } from './config.js';
import { GatewayMetrics } from './gateway-metrics.js';
import { createOtlpHttpHandler } from './otlp-http-server.js';
import { createSpanPublisher } from './publish-spans.js';

export interface RunningGateway {
  /** http://host:port (loopback when bound to all interfaces). */
  url: string;
  port: number;
  /** Drains in-flight requests, then closes the server and the Kafka producer. */
  close(): Promise<void>;
}

/** Extra room over the body cap for the record's own framing. */
const RECORD_OVERHEAD_BYTES = 64 * 1024;

export async function startGateway(
  config: GatewayConfig,
  { logger }: { logger: Logger },
): Promise<RunningGateway> {
  const publisher = createSpanPublisher({
    brokers: config.brokers,
    clientId: config.kafkaClientId,
    topic: config.topic,
    topicPartitions: config.topicPartitions,
    maxRecordBytes: config.maxBodyBytes + RECORD_OVERHEAD_BYTES,
    logger,
  });
  await publisher.start();

  const metrics = new GatewayMetrics();
  const handle = createOtlpHttpHandler({
    publisher,
    metrics,
    logger,
    maxBodyBytes: config.maxBodyBytes,
    authToken: config.authToken,
    publishTimeoutMs: config.publishTimeoutMs,
    retryAfterS: config.retryAfterS,
  });

  const inFlight = new Set<Promise<void>>();
  const server = createServer((req, res) => {
    const done = handle(req, res);
    inFlight.add(done);
    void done.finally(() => inFlight.delete(done));
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await publisher.close().catch(() => undefined);
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const urlHost =
    config.host === '0.0.0.0' || config.host === '::'
      ? '127.0.0.1'
      : config.host.includes(':')
        ? `[${config.host}]`
        : config.host;
  const url = `http://${urlHost}:${port}`;
  logger.info({ url, topic: config.topic, brokers: config.brokers.join(',') }, 'OTLP/HTTP gateway listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    close() {
      closing ??= (async () => {
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await Promise.allSettled([...inFlight]);
        // Keep-alive sockets that became idle after their last response.
        server.closeAllConnections();
        await serverClosed;
        await publisher.close();
        logger.info('OTLP/HTTP gateway stopped');
      })();
      return closing;
    },
  };
}
