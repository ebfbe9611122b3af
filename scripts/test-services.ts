// Services for the integration tests, started once per `npm test` by scripts/run-tests.mjs: one real
// Kafka broker (jars fetched with Maven on first use). Prints exactly one JSON line on stdout when ready,
// {"brokers":"127.0.0.1:PORT"}, and stops the broker (deleting its temporary data) when stdin ends — the
// runner closes it when the tests finish, and the OS closes it if the runner dies — or on SIGTERM/SIGINT.
// Progress and errors go to stderr, which the runner passes through.
import { startLocalKafka, type LocalKafka } from '../ingest/src/kafka/local-broker/local-broker.js';

const logger = {
  info: (message: string) => console.error(`[test-services] ${message}`),
  warn: (message: string) => console.error(`[test-services] warning: ${message}`),
};

let starting: Promise<LocalKafka> | undefined;
let stopping = false;

async function shutdown(exitCode: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  try {
    // A broker still starting is waited for, then stopped, so no JVM or temporary data dir is left behind.
    const kafka = await starting?.catch(() => undefined);
    await kafka?.stop({ removeDataDir: true });
  } finally {
    process.exit(exitCode);
  }
}

// Registered before the (slow) start so an early end of stdin or a signal still stops the broker.
process.stdin.on('end', () => void shutdown(0));
process.stdin.on('error', () => void shutdown(0));
process.stdin.resume();
process.on('SIGTERM', () => void shutdown(0));
process.on('SIGINT', () => void shutdown(0));

const givenBrokers = process.env.KAFKA_BROKERS;
if (givenBrokers) {
  // A Kafka given from outside wins (same rule as the CLI); nothing to start or stop.
  process.stdout.write(`${JSON.stringify({ brokers: givenBrokers })}\n`);
} else {
  starting = startLocalKafka({ logger });
  let kafka: LocalKafka;
  try {
    kafka = await starting;
  } catch (error) {
    console.error(
      `[test-services] could not start Kafka: ${error instanceof Error ? error.message : String(error)}`,
    );
    process.exit(1);
  }
  // When stdin ended or a signal came during the start, shutdown() is already stopping this broker.
  if (!stopping) {
    process.stdout.write(`${JSON.stringify({ brokers: kafka.brokers })}\n`);
    void kafka.exited.then((exit) => {
      if (stopping) return;
      console.error(
        `[test-services] Kafka exited unexpectedly (code ${exit.code}, signal ${exit.signal}); log: ${kafka.logFile}`,
      );
      process.exit(1);
    });
  }
}
