// Stand-in entry point until the `modelwatch kafka …` citty commands exist (they will call the same
// functions): node --import tsx ingest/src/kafka/local-broker/main.ts start|stop|fetch
import { runKafkaFetch, runKafkaStart, runKafkaStop } from './kafka-cli.js';
import { LocalKafkaError } from './local-kafka-error.js';

const commands = { start: runKafkaStart, stop: runKafkaStop, fetch: runKafkaFetch } as const;

const name = process.argv[2];
if (name === undefined || !Object.hasOwn(commands, name)) {
  console.error(`usage: main.ts ${Object.keys(commands).join('|')}`);
  process.exit(2);
}
try {
  process.exitCode = await commands[name as keyof typeof commands]();
} catch (error) {
  // Our own errors already say what to do; anything else is a bug worth a stack trace.
  console.error(error instanceof LocalKafkaError ? `error: ${error.message}` : error);
  process.exitCode = 1;
}
