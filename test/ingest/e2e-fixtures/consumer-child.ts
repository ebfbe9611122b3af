// Child-process entry for the consumer kill tests: runs the real service wiring (serveConsumer: env ->
// embedded ClickHouse at MODELWATCH_DATA_DIR -> migrations -> consumer) and prints one JSON line on stdout
// when ready. Warnings and errors go to stderr (inherited by the test), so a child that dies early says why.
// The parent SIGKILLs it at arbitrary moments, or sets MODELWATCH_TEST_CRASH_AFTER_INSERT (test-only hook).
import { pino } from 'pino';
import { serveConsumer } from '../../../ingest/src/consumer/serve-consumer.js';

const logger = pino(
  { name: 'consumer-child', level: process.env.CHILD_LOG_LEVEL ?? 'warn' },
  pino.destination(2),
);
process.exitCode = await serveConsumer(process.env, {
  logger,
  onReady: () => process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid })}\n`),
});
